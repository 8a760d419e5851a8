"""DLQ discovery against moto (mock_aws): every failure-target kind, every partition, depth = visible +
in flight + delayed, queue URLs built from ARNs on AWS's own endpoints (no GetQueueUrl per queue),
and a destination whose queue is gone is reported, not fatal.

moto accepts DeadLetterConfig but never returns it from GetFunction/ListFunctions, so the kinds that need it are
given to :func:`region_dlqs` as the inventory would have read them from ListFunctions."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.dlq.discovery import NOT_RETAINED, discover_dlqs, function_depths, region_dlqs
from lambdaops.models import EventSource, FunctionInfo
from lambdaops.aws.queues import is_sqs_arn, partition_of_region, queue_arn, queue_url_from_arn
from tests.helpers import handler_zip

KW = {"region_name": "us-east-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"}
ACCOUNT = "123456789012"


@pytest.fixture
def aws_endpoints(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fleet(aws_endpoints):
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
    assert by["gone-failures"].depth is None
    assert found.errors == []
    calls = fleet.calls.snapshot()
    assert "sqs.GetQueueUrl" not in calls
    assert "lambda.GetFunction" not in calls  # discovery never asks for reserved concurrency


def test_an_endpoint_url_gets_urls_in_its_own_form_without_get_queue_url(fleet, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "https://sqs.us-east-1.amazonaws.com/")
    found = discover_dlqs(fleet, ages=False)
    assert {q.name: q.visible for q in found.queues if q.visible is not None} == {"orders-dlq": 3, "worker-failures": 1}
    by = {q.name: q for q in found.queues}
    account = by["orders-dlq"].arn.split(":")[4]
    assert by["orders-dlq"].url == f"https://sqs.us-east-1.amazonaws.com/{account}/orders-dlq"
    assert by["gone-failures"].depth is None and "does not exist" in by["gone-failures"].note
    assert "sqs.GetQueueUrl" not in fleet.calls.snapshot()


def test_a_custom_endpoint_url_is_the_base_of_built_queue_urls():
    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.aws.dlq import known_queue_url

    ctx = AwsContext(regions=["us-east-1"], endpoint_url="http://127.0.0.1:4566/",
                     credentials=StaticCredentials("demo", "demo"))
    assert known_queue_url(ctx, "arn:aws:sqs:us-east-1:123456789012:orders-dlq") == \
        "http://127.0.0.1:4566/123456789012/orders-dlq"
    assert ctx.calls.total == 0


def test_other_partitions_have_their_domain():
    assert queue_url_from_arn("arn:aws-cn:sqs:cn-north-1:123456789012:q") == \
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"
    assert queue_url_from_arn("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q") == \
        "https://sqs.us-gov-west-1.amazonaws.com/123456789012/q"
    assert queue_url_from_arn("arn:aws:sqs:eu-west-1:123456789012:q") == \
        "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    assert all(is_sqs_arn(f"arn:{p}:sqs:r:1:q") for p in ("aws", "aws-cn", "aws-us-gov"))
    assert not is_sqs_arn("arn:aws-cn:sns:cn-north-1:1:t") and not is_sqs_arn(None)
    assert [partition_of_region(r) for r in ("cn-northwest-1", "us-gov-east-1", "ap-northeast-3")] == \
        ["aws-cn", "aws-us-gov", "aws"]
    assert queue_arn("cn-north-1", ACCOUNT, "q") == f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:q"


# --------------------------------------------------------------------------------------------
# every kind, from functions as the inventory reads them


def _fn(name: str, region: str = "us-east-1", **kw) -> FunctionInfo:
    return FunctionInfo(name=name, region=region, arn=f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
                        runtime="python3.12", architecture="x86_64", memory_mb=128, timeout_s=3, last_modified=None, **kw)


def _queue(sqs, name, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.mark.parametrize("region", ["us-east-1", "cn-north-1", "us-gov-west-1"])
def test_every_kind_in_every_partition(aws_endpoints, region):
    partition = partition_of_region(region)
    with mock_aws():
        kw = dict(KW, region_name=region)
        sqs, sns = boto3.client("sqs", **kw), boto3.client("sns", **kw)
        arn = lambda service, rest: f"arn:{partition}:{service}:{region}:{ACCOUNT}:{rest}"  # noqa: E731
        dlq_url, dlq_arn = _queue(sqs, "plain-dlq")
        topic = sns.create_topic(Name="alerts-dlq")["TopicArn"]
        assert topic.startswith(f"arn:{partition}:sns:")
        sub_urls = []
        for name in ("alerts-archive", "alerts-audit"):
            url, qarn = _queue(sqs, name)
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
            sub_urls.append(url)
        lonely = sns.create_topic(Name="lonely-dlq")["TopicArn"]
        src_dlq_url, src_dlq_arn = _queue(sqs, "src-dlq")
        _, src_arn = _queue(sqs, "src", RedrivePolicy=json.dumps({"deadLetterTargetArn": src_dlq_arn,
                                                                  "maxReceiveCount": "2"}))
        stream_fail_url, stream_fail_arn = _queue(sqs, "stream-failures")
        sqs.send_message(QueueUrl=dlq_url, MessageBody="a")
        sns.publish(TopicArn=topic, Message="b")  # lands in both subscribed queues
        sqs.send_message(QueueUrl=src_dlq_url, MessageBody="c")
        sqs.send_message(QueueUrl=stream_fail_url, MessageBody="d")
        kinesis_arn = arn("kinesis", "stream/clicks")
        fns = [
            _fn("plain", region, dead_letter_target=dlq_arn),
            _fn("via-topic", region, dead_letter_target=topic),
            _fn("also-topic", region, dead_letter_target=topic),
            _fn("lonely", region, dead_letter_target=lonely),
            _fn("to-lambda", region, on_failure_destination=arn("lambda", "function:handler")),
            _fn("to-bus", region, on_failure_destination=arn("events", "event-bus/default")),
            _fn("to-bucket", region, on_failure_destination=f"arn:{partition}:s3:::failed-events"),
            _fn("consumer", region, event_sources=[EventSource("u1", "sqs", src_arn, "Enabled")]),
            _fn("streamer", region, event_sources=[EventSource("u2", "kinesis", kinesis_arn, "Enabled",
                                                               on_failure=stream_fail_arn)]),
        ]
        ctx = AwsContext(regions=[region], credentials=StaticCredentials("a", "b"))
        found = {q.name: q for q in region_dlqs(ctx, region, fns)}
        calls = ctx.calls.snapshot()

    assert set(found) == {"plain-dlq", "alerts-archive", "alerts-audit", "lonely-dlq", "handler", "default",
                          "failed-events", "src-dlq", "stream-failures"}
    assert (found["plain-dlq"].kind, found["plain-dlq"].depth, found["plain-dlq"].functions) == ("function-dlq", 1, ["plain"])
    for name in ("alerts-archive", "alerts-audit"):
        q = found[name]
        assert q.kind == "sns-dlq" and q.depth == 1 and q.sources == ["alerts-dlq"]
        assert sorted(q.functions) == ["also-topic", "via-topic"]
        assert q.url == queue_url_from_arn(q.arn) and q.url.startswith(f"https://sqs.{region}.")
    assert found["lonely-dlq"].depth is None and found["lonely-dlq"].note == NOT_RETAINED
    assert "messages are not retained" in found["lonely-dlq"].note
    for name, what in (("handler", "Lambda function"), ("default", "EventBridge"), ("failed-events", "S3 bucket")):
        assert found[name].kind == "on-failure" and found[name].depth is None and what in found[name].note
        assert found[name].url is None
    assert (found["src-dlq"].kind, found["src-dlq"].depth, found["src-dlq"].functions) == ("source-dlq", 1, ["consumer"])
    assert "src" in found["src-dlq"].sources
    assert (found["stream-failures"].kind, found["stream-failures"].sources) == ("stream-on-failure", ["clicks"])
    if partition == "aws-cn":
        assert found["plain-dlq"].url.endswith(f".amazonaws.com.cn/{ACCOUNT}/plain-dlq")
    # frugal: one listing per topic however many functions use it, no per-subscription lookups,
    # one GetQueueAttributes per source queue and per target queue
    assert calls["sns.ListSubscriptionsByTopic"] == 2
    assert "sns.GetSubscriptionAttributes" not in calls and "sqs.GetQueueUrl" not in calls
    assert calls["sqs.GetQueueAttributes"] == 1 + 5
    depths = function_depths(found.values(), fns)
    assert depths["via-topic"].depth == 2 and depths["plain"].depth == 1  # both subscribed queues count
    assert depths["lonely"].depth is None and "not retained" in depths["lonely"].note
    assert depths["to-bus"].depth is None and "EventBridge" in depths["to-bus"].note
    assert depths["consumer"].depth == 1 and depths["streamer"].depth == 1


def test_depth_counts_in_flight_and_delayed_messages(aws_endpoints):
    with mock_aws():
        sqs = boto3.client("sqs", **KW)
        url, arn = _queue(sqs, "busy-dlq")
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(5)])
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=3600)["Messages"]
        assert len(got) == 2
        fns = [_fn("worker", dead_letter_target=arn)]
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        (info,) = region_dlqs(ctx, "us-east-1", fns)
    assert (info.visible, info.in_flight, info.delayed, info.depth) == (3, 2, 1, 6)
    row = info.to_row()
    assert (row["depth"], row["visible"], row["in_flight"], row["delayed"]) == (6, 3, 2, 1)
    d = function_depths([info], fns)["worker"]
    assert (d.depth, d.in_flight, d.delayed) == (6, 2, 1)


def test_a_function_depth_is_unknown_when_one_of_its_queues_cannot_be_read(aws_endpoints):
    with mock_aws():
        sqs = boto3.client("sqs", **KW)
        url, arn = _queue(sqs, "ok-dlq")
        sqs.send_message(QueueUrl=url, MessageBody="x")
        gone = f"arn:aws:sqs:us-east-1:{ACCOUNT}:never-created"
        fns = [_fn("both", dead_letter_target=arn, on_failure_destination=gone), _fn("fine", dead_letter_target=arn),
               _fn("bus-too", dead_letter_target=arn,
                   on_failure_destination=f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/b")]
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        depths = function_depths(region_dlqs(ctx, "us-east-1", fns), fns)
    assert depths["both"].depth is None and "never-created" in depths["both"].note  # never 0
    assert depths["fine"].depth == 1 and depths["fine"].note is None
    # a bus holds nothing to count: the queue's depth stands, and the note names the bus
    assert depths["bus-too"].depth == 1 and "EventBridge" in depths["bus-too"].note


def test_a_queue_that_refuses_to_be_read_costs_only_its_own_depth(aws_endpoints):
    from lambdaops.errors import ServiceError

    with mock_aws():
        sqs = boto3.client("sqs", **KW)
        ok_url, ok_arn = _queue(sqs, "ok-dlq")
        _, locked_arn = _queue(sqs, "locked-dlq")
        sqs.send_message(QueueUrl=ok_url, MessageBody="x")
        fns = [_fn("a", dead_letter_target=ok_arn), _fn("b", dead_letter_target=locked_arn)]
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        real = ctx.call

        def call(service, region, op, **params):
            if op == "get_queue_attributes" and params.get("QueueUrl", "").endswith("/locked-dlq"):
                raise ServiceError("AccessDenied: not authorized to perform sqs:GetQueueAttributes",
                                   code="AccessDenied", operation="GetQueueAttributes")
            return real(service, region, op, **params)

        ctx.call = call
        found = {q.name: q for q in region_dlqs(ctx, "us-east-1", fns)}
        depths = function_depths(found.values(), fns)
    assert found["ok-dlq"].depth == 1 and depths["a"].depth == 1
    assert found["locked-dlq"].depth is None and "AccessDenied" in found["locked-dlq"].note
    assert depths["b"].depth is None and "AccessDenied" in depths["b"].note


def test_a_source_queue_whose_redrive_policy_is_refused_leaves_only_its_functions_unknown(aws_endpoints):
    from lambdaops.errors import ServiceError

    with mock_aws():
        sqs = boto3.client("sqs", **KW)
        dlq_url, dlq_arn = _queue(sqs, "fine-dlq")
        sqs.send_message(QueueUrl=dlq_url, MessageBody="x")
        _, other_src = _queue(sqs, "partner-queue")
        fns = [_fn("fine", dead_letter_target=dlq_arn),
               _fn("consumer", event_sources=[EventSource("u", "sqs", other_src, "Enabled")])]
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        real = ctx.call

        def call(service, region, op, **params):
            if params.get("AttributeNames") == ["RedrivePolicy"]:
                raise ServiceError("AccessDenied: the queue belongs to another account", code="AccessDenied")
            return real(service, region, op, **params)

        ctx.call = call
        found = {q.name: q for q in region_dlqs(ctx, "us-east-1", fns)}
        depths = function_depths(found.values(), fns)
    assert depths["fine"].depth == 1
    assert found["partner-queue"].depth is None and not found["partner-queue"].resolved
    assert depths["consumer"].depth is None and "RedrivePolicy could not be read" in depths["consumer"].note


def test_a_kept_redrive_policy_spares_its_read_and_depths_are_read_every_time(fleet, tmp_path):
    from lambdaops.aws.inventory import DetailsCache, InventoryOptions, fleet_inventory

    fns = fleet_inventory(fleet, opts=InventoryOptions(concurrency=False, control_plane_rps=10_000)).functions
    kept = DetailsCache(tmp_path, "t")
    before = fleet.calls.snapshot().get("sqs.GetQueueAttributes", 0)
    first = {q.name: q.depth for q in region_dlqs(fleet, "us-east-1", fns, sources=False, kept=kept)}
    cold = fleet.calls.snapshot()["sqs.GetQueueAttributes"] - before
    boto3.client("sqs", **KW).send_message(QueueUrl=queue_url_from_arn(queue_arn("us-east-1", ACCOUNT, "orders-dlq")),
                                           MessageBody="z")
    again = {q.name: q.depth for q in region_dlqs(fleet, "us-east-1", fns, sources=False, kept=kept)}
    warm = fleet.calls.snapshot()["sqs.GetQueueAttributes"] - before - cold
    assert warm == cold - 1  # the source queue's RedrivePolicy, and nothing else
    assert first["orders-dlq"] == 3 and again["orders-dlq"] == 4  # the depth is the queue as it is now
    assert set(again) == set(first)


def test_a_topics_kept_subscriptions_spare_listing_them_again(aws_endpoints, tmp_path):
    from lambdaops.aws.inventory import DetailsCache

    with mock_aws():
        sqs, sns = boto3.client("sqs", **KW), boto3.client("sns", **KW)
        topic = sns.create_topic(Name="alerts-dlq")["TopicArn"]
        lonely = sns.create_topic(Name="lonely-dlq")["TopicArn"]
        _, qarn = _queue(sqs, "alerts-archive")
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
        sns.publish(TopicArn=topic, Message="b")
        fns = [_fn("via-topic", "us-east-1", dead_letter_target=topic),
               _fn("lonely", "us-east-1", dead_letter_target=lonely)]
        kept = DetailsCache(tmp_path, "t")
        runs = []
        for _ in range(2):
            ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
            runs.append(({q.name: (q.depth, q.note) for q in region_dlqs(ctx, "us-east-1", fns, kept=kept)},
                         ctx.calls.snapshot().get("sns.ListSubscriptionsByTopic", 0)))
    (first, listed), (again, relisted) = runs
    assert first == again and first["alerts-archive"] == (1, None) and first["lonely-dlq"][1] == NOT_RETAINED
    assert listed == 2 and relisted == 0
