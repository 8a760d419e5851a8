"""DLQ discovery against moto (mock_aws): on AWS's own endpoints queue URLs are built from ARNs
(no GetQueueUrl per queue), and a destination whose queue is gone is reported, not fatal."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.aws.dlq import discover_dlqs
from lambdaops.aws.queues import queue_url_from_arn
from tests.aws.helpers import handler_zip

KW = {"region_name": "us-east-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"}


@pytest.fixture
def fleet(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        iam, lam, sqs = (boto3.client(s, **KW) for s in ("iam", "lambda", "sqs"))
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

        def queue(name, **attrs):
            url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
            return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        dlq_url, dlq_arn = queue("orders-dlq")
        src_url, src_arn = queue("orders", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn,
                                                                      "maxReceiveCount": "3"}))
        fail_url, fail_arn = queue("worker-failures")
        gone_url, gone_arn = queue("gone-failures")
        for name in ("consumer", "worker", "stale"):
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": handler_zip()})
        lam.create_event_source_mapping(FunctionName="consumer", EventSourceArn=src_arn)
        lam.put_function_event_invoke_config(FunctionName="worker", DestinationConfig={"OnFailure": {"Destination": fail_arn}})
        lam.put_function_event_invoke_config(FunctionName="stale", DestinationConfig={"OnFailure": {"Destination": gone_arn}})
        sqs.send_message_batch(QueueUrl=dlq_url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(3)])
        sqs.send_message(QueueUrl=fail_url, MessageBody="y")
        sqs.delete_queue(QueueUrl=gone_url)
        yield AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))


def test_queue_urls_are_built_from_arns_on_aws_endpoints(fleet):
    found = discover_dlqs(fleet, ages=False)
    by = {q.name: q for q in found.queues}
    assert by["orders-dlq"].visible == 3 and by["orders-dlq"].kind == "source-dlq"
    assert by["worker-failures"].visible == 1 and by["worker-failures"].kind == "on-failure"
    assert by["orders-dlq"].url == queue_url_from_arn(by["orders-dlq"].arn)
    assert by["gone-failures"].url is None and "does not exist" in by["gone-failures"].note
    assert found.errors == []
    assert "sqs.GetQueueUrl" not in fleet.calls.snapshot()


def test_an_endpoint_url_asks_for_the_url(fleet, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "https://sqs.us-east-1.amazonaws.com")
    found = discover_dlqs(fleet, ages=False)
    assert {q.name: q.visible for q in found.queues if q.url} == {"orders-dlq": 3, "worker-failures": 1}
    assert fleet.calls.snapshot()["sqs.GetQueueUrl"] >= 3


def test_other_partitions_have_their_domain():
    assert queue_url_from_arn("arn:aws-cn:sqs:cn-north-1:123456789012:q") == \
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"
    assert queue_url_from_arn("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q") == \
        "https://sqs.us-gov-west-1.amazonaws.com/123456789012/q"
