"""The calls the DLQ seeding makes, answered by moto's backends in this process instead of over HTTP.

Each method takes a boto3 client method's parameters and does what moto's request handler for that
operation does with them (``moto/<service>/responses.py``, moto 5.2), returning the fields of the
answer the seeding reads. Seeding through the endpoint cost a boto3 client per service and region
(service models and endpoint rules loaded again) and a request, a parse and a serialisation on both
sides per call; a --demo command paid that on every start, holding the GIL its own requests wait on.
The queues' contents are the same either way: the same backend calls with the same arguments (message
ids, MD5s, receive counts, FIFO sequence numbers, Kinesis and DynamoDB stream sequence numbers are
moto's), and what the gateway adds to an SQS send over HTTP (the queue each message was sent to,
move_tasks.MessageOrigins) is recorded here too.
"""

from __future__ import annotations

import base64
from urllib.parse import urlparse

from lambdaops.demo.fleet import ACCOUNT_ID


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class SqsBackendClient:
    def __init__(self, region: str, endpoint: str, origins=None) -> None:
        from moto.sqs.models import sqs_backends

        self.region = region
        self.backend = sqs_backends[ACCOUNT_ID][region]
        self.base = urlparse(endpoint)
        self.origins = origins  # move_tasks.MessageOrigins, as the gateway's SendMessage post-processing

    def _sent(self, name: str, message_ids: list[str]) -> None:
        if self.origins is not None:
            arn = f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"
            for message_id in message_ids:
                self.origins.record(message_id, arn)

    def create_queue(self, QueueName: str, Attributes: dict | None = None) -> dict:
        return {"QueueUrl": self.backend.create_queue(QueueName, {}, **(Attributes or {})).url(self.base)}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict:
        attrs = self.backend.get_queue_attributes(_queue_name(QueueUrl), AttributeNames)
        return {"Attributes": {k: str(v) for k, v in attrs.items() if v is not None}}

    def set_queue_attributes(self, QueueUrl: str, Attributes: dict) -> dict:
        self.backend.set_queue_attributes(_queue_name(QueueUrl), Attributes)
        return {}

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: dict | None = None,
                     MessageGroupId: str | None = None, MessageDeduplicationId: str | None = None) -> dict:
        from moto.sqs.utils import validate_message_attributes

        validate_message_attributes(MessageAttributes or {})
        name = _queue_name(QueueUrl)
        msg = self.backend.send_message(name, MessageBody, message_attributes=MessageAttributes or {},
                                        delay_seconds=None, deduplication_id=MessageDeduplicationId,
                                        group_id=MessageGroupId, system_attributes=None)
        self._sent(name, [msg.id])
        return {"MessageId": msg.id}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        from moto.sqs.utils import validate_message_attributes

        entries = {}
        for idx, entry in enumerate(Entries):
            entry = dict(entry)
            validate_message_attributes(entry.setdefault("MessageAttributes", {}))
            entry.setdefault("DelaySeconds", None)
            entries[str(idx)] = entry
        name = _queue_name(QueueUrl)
        messages, failed = self.backend.send_message_batch(name, entries)
        self._sent(name, [m.id for m in messages])
        return {"Successful": [{"Id": m.user_id, "MessageId": m.id} for m in messages], "Failed": failed}

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int = 1, VisibilityTimeout: int | None = None) -> dict:
        name = _queue_name(QueueUrl)
        queue = self.backend.get_queue(name)
        visibility = queue.visibility_timeout if VisibilityTimeout is None else VisibilityTimeout
        got = self.backend.receive_message(name, MaxNumberOfMessages, int(queue.receive_message_wait_time_seconds),
                                           visibility, [])
        return {"Messages": [{"MessageId": m.id, "ReceiptHandle": m.receipt_handle, "Body": m.body} for m in got]}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        success, failed = self.backend.change_message_visibility_batch(_queue_name(QueueUrl), Entries)
        return {"Successful": [{"Id": i} for i in success], "Failed": failed}


class SnsBackendClient:
    def __init__(self, region: str) -> None:
        from moto.sns.models import sns_backends

        self.backend = sns_backends[ACCOUNT_ID][region]

    def subscribe(self, TopicArn: str, Protocol: str, Endpoint: str, Attributes: dict | None = None) -> dict:
        sub = self.backend.subscribe(TopicArn, Endpoint, Protocol)
        for name, value in (Attributes or {}).items():
            self.backend.set_subscription_attributes(sub.arn, name, value)
        return {"SubscriptionArn": sub.arn}

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict]) -> dict:
        from moto.sns.responses import SNSResponse

        entries = []
        for entry in PublishBatchRequestEntries:
            entry = dict(entry)
            if "MessageAttributes" in entry:  # SNS's key names (Type, Value), as the handler converts them
                entry["MessageAttributes"] = SNSResponse._transform_message_attributes(None, entry["MessageAttributes"])
            entries.append(entry)
        successful, failed = self.backend.publish_batch(topic_arn=TopicArn, publish_batch_request_entries=entries)
        return {"Successful": successful, "Failed": failed}


class KinesisBackendClient:
    def __init__(self, region: str) -> None:
        from moto.kinesis.models import kinesis_backends

        self.backend = kinesis_backends[ACCOUNT_ID][region]

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        # Blobs travel base64-encoded in Kinesis' JSON protocol, and moto keeps them as they came.
        records = [dict(r, Data=base64.b64encode(r["Data"]).decode()) for r in Records]
        return self.backend.put_records(None, StreamName, records)


class DynamoDbBackendClient:
    def __init__(self, region: str) -> None:
        from moto.dynamodb.models import dynamodb_backends

        self.backend = dynamodb_backends[ACCOUNT_ID][region]

    def batch_write_item(self, RequestItems: dict) -> dict:
        for table, requests in RequestItems.items():
            for request in requests:
                self.backend.put_item(table, request["PutRequest"]["Item"])
        return {"UnprocessedItems": {}}


class DynamoDbStreamsBackendClient:
    def __init__(self, region: str) -> None:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        self.backend = dynamodbstreams_backends[ACCOUNT_ID][region]

    def describe_stream(self, StreamArn: str) -> dict:
        return {"StreamDescription": self.backend.describe_stream(StreamArn)}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> dict:
        return {"ShardIterator": self.backend.get_shard_iterator(StreamArn, ShardId, ShardIteratorType).arn}

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict:
        return self.backend.get_records(ShardIterator, Limit)


class BackendClients:
    """``clients(service, region)``: one in-process client per service and region, for one account."""

    _MAKERS = {"sns": SnsBackendClient, "kinesis": KinesisBackendClient, "dynamodb": DynamoDbBackendClient,
               "dynamodbstreams": DynamoDbStreamsBackendClient}

    def __init__(self, endpoint: str, origins=None) -> None:
        self.endpoint = endpoint
        self.origins = origins
        self._made: dict[tuple[str, str], object] = {}

    def __call__(self, service: str, region: str):
        key = (service, region)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = (SqsBackendClient(region, self.endpoint, self.origins) if service == "sqs"
                                      else self._MAKERS[service](region))
        return made
