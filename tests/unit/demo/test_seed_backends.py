"""seed_backends: the DLQ seeding's calls answered by moto's backends in process leave what the same
calls over the API leave (read back with boto3 under mock_aws). No server."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from lambdaops.demo.move_tasks import MessageOrigins
from lambdaops.demo.seed_backends import BackendClients

REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


ATTRS = {"RequestID": {"DataType": "String", "StringValue": "r-1"},
         "ErrorCode": {"DataType": "Number", "StringValue": "200"}}


def _received(sqs, url, n):
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"]).get("Messages", [])
    assert len(got) == n
    return got


def test_a_batch_sent_in_process_reads_back_as_one_sent_over_the_api(aws):
    sqs = aws("sqs")
    api_url = sqs.create_queue(QueueName="via-api")["QueueUrl"]
    direct_url = sqs.create_queue(QueueName="in-process")["QueueUrl"]
    entries = [{"MessageBody": json.dumps({"n": n}), "MessageAttributes": ATTRS} for n in range(3)]
    sqs.send_message_batch(QueueUrl=api_url, Entries=[dict(e, Id=str(i)) for i, e in enumerate(entries)])
    origins = MessageOrigins()
    out = BackendClients(ENDPOINT, origins)("sqs", REGION).send_message_batch(
        QueueUrl=direct_url, Entries=[dict(e, Id=str(i)) for i, e in enumerate(entries)])
    assert [e["Id"] for e in out["Successful"]] == ["0", "1", "2"] and not out["Failed"]
    for a, b in zip(_received(sqs, api_url, 3), _received(sqs, direct_url, 3)):
        for key in ("Body", "MD5OfBody", "MessageAttributes", "MD5OfMessageAttributes"):
            assert a[key] == b[key]
        assert a["Attributes"]["ApproximateReceiveCount"] == b["Attributes"]["ApproximateReceiveCount"] == "1"
    # the queue each message was sent to, as the gateway records it for a send over HTTP
    arn = f"arn:aws:sqs:{REGION}:123456789012:in-process"
    assert [origins.get(e["MessageId"]) for e in out["Successful"]] == [arn] * 3


def test_receives_past_max_receive_count_move_messages_to_the_dlq_with_their_receive_counts(aws):
    sqs = aws("sqs")
    dlq = sqs.create_queue(QueueName="src-dlq")["QueueUrl"]
    src = sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:123456789012:src-dlq", "maxReceiveCount": "2"})})["QueueUrl"]
    client = BackendClients(ENDPOINT)("sqs", REGION)
    sent = client.send_message(QueueUrl=src, MessageBody="boom", MessageAttributes=ATTRS)["MessageId"]
    for n in range(3):  # the third receive finds it past maxReceiveCount: moto moves it
        time.sleep(0.002)  # visible again after a VisibilityTimeout of 0 once the millisecond has passed
        got = client.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
        assert [m["MessageId"] for m in got] == ([sent] if n < 2 else [])
    assert client.get_queue_attributes(QueueUrl=src, AttributeNames=["ApproximateNumberOfMessages"]) == {
        "Attributes": {"ApproximateNumberOfMessages": "0"}}
    [moved] = _received(sqs, dlq, 1)
    assert moved["MessageId"] == sent and moved["Attributes"]["ApproximateReceiveCount"] == "3"


def test_sns_raw_delivery_puts_the_attributes_on_the_archive_queue(aws):
    sqs, sns = aws("sqs"), aws("sns")
    topic = sns.create_topic(Name="dlq-topic")["TopicArn"]
    clients = BackendClients(ENDPOINT)
    url = clients("sqs", REGION).create_queue(QueueName="dlq-archive")["QueueUrl"]
    assert url.endswith("/123456789012/dlq-archive")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    clients("sns", REGION).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                     Attributes={"RawMessageDelivery": "true"})
    out = clients("sns", REGION).publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "0", "Message": '{"order": 1}', "MessageAttributes": ATTRS}])
    assert not out["Failed"]
    [msg] = _received(sqs, url, 1)
    assert msg["Body"] == '{"order": 1}'
    assert {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()} == {"RequestID": "r-1", "ErrorCode": "200"}


def test_kinesis_records_read_back_as_put_and_ddb_stream_records_are_listed(aws):
    kinesis, ddb = aws("kinesis"), aws("dynamodb")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    clients = BackendClients(ENDPOINT)
    placed = clients("kinesis", REGION).put_records(StreamName="orders", Records=[
        {"Data": b"\x00\x01frame", "PartitionKey": "k"}, {"Data": b'{"a": 1}', "PartitionKey": "k"}])
    assert placed["FailedRecordCount"] == 0
    it = kinesis.get_shard_iterator(StreamName="orders", ShardId=placed["Records"][0]["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got = kinesis.get_records(ShardIterator=it)["Records"]
    assert [r["Data"] for r in got] == [b"\x00\x01frame", b'{"a": 1}']
    assert [r["SequenceNumber"] for r in got] == [r["SequenceNumber"] for r in placed["Records"]]

    arn = ddb.create_table(TableName="inv", KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST",
                           StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                           )["TableDescription"]["LatestStreamArn"]
    clients("dynamodb", REGION).batch_write_item(RequestItems={"inv": [
        {"PutRequest": {"Item": {"sku": {"S": f"SKU-{n}"}, "qty": {"N": str(n)}}}} for n in range(3)]})
    assert ddb.scan(TableName="inv")["Count"] == 3
    ds = clients("dynamodbstreams", REGION)
    [shard] = ds.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    it = ds.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = ds.get_records(ShardIterator=it, Limit=1000)["Records"]
    assert [r["dynamodb"]["Keys"]["sku"]["S"] for r in records] == ["SKU-0", "SKU-1", "SKU-2"]
    assert all(isinstance(r["dynamodb"]["SequenceNumber"], str) for r in records)
