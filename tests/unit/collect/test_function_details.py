"""The function screen reads the details the fleet collection left unread (reserved concurrency,
async destinations): one call each, for that function only. moto (mock_aws)."""

from __future__ import annotations

import boto3
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.aws.inventory import DESTINATIONS, RESERVED, region_functions
from lambdaops.collect.function import details
from tests.helpers import handler_zip


def _client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


def test_unread_details_are_read_for_the_one_function(tmp_path):
    with mock_aws():
        role = _client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam, sqs = _client("lambda"), _client("sqs")
        qarn = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="q")["QueueUrl"],
                                        AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for name in ("api", "other"):
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": handler_zip()})
        lam.put_function_concurrency(FunctionName="api", ReservedConcurrentExecutions=100)
        lam.put_function_event_invoke_config(FunctionName="api", DestinationConfig={"OnFailure": {"Destination": qarn}})
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        fns = {f.name: f for f in region_functions(ctx, "us-east-1")}
        api = fns["api"]
        assert {RESERVED, DESTINATIONS} <= set(api.details_unread)  # listing only: nothing read yet
        before = ctx.calls.snapshot()

        details(ctx, api, tmp_path)
        assert api.reserved_concurrency == 100 and api.on_failure_destination == qarn
        assert not api.details_unread and not api.details_error
        calls = {k: v - before.get(k, 0) for k, v in ctx.calls.snapshot().items() if v != before.get(k, 0)}
        assert calls == {"lambda.GetFunction": 1, "lambda.GetFunctionEventInvokeConfig": 1}

        details(ctx, api, tmp_path)  # nothing left unread: no call
        assert ctx.calls.snapshot() == {**before, **{k: before.get(k, 0) + v for k, v in calls.items()}}

        fresh = {f.name: f for f in region_functions(ctx, "us-east-1")}["api"]  # a later run: the cache answers
        made = ctx.calls.snapshot()
        details(ctx, fresh, tmp_path)
        assert fresh.reserved_concurrency == 100 and ctx.calls.snapshot() == made
