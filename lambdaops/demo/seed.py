"""Create the demo fleet's resources through the demo endpoint, with plain boto3, as a team's IaC would.

Going through the API (not into moto's backends) keeps the account consistent: every resource the
product later reads was created by the same requests AWS would have seen.
"""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
import botocore.config

from lambdaops.demo.fleet import ACCOUNT_ID, FunctionSpec, queue_names

ROLE_NAME = "lambdaops-demo-execution"


def _code_zip(fn: FunctionSpec) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if fn.runtime.startswith("python"):
            z.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
        elif fn.runtime.startswith("nodejs"):
            z.writestr("index.js", "exports.handler = async (event) => ({ ok: true });\n")
        elif fn.runtime.startswith("java"):
            z.writestr("com/example/Handler.class", b"\xca\xfe\xba\xbe")
        else:
            z.writestr("bootstrap", "#!/bin/sh\n")
    return buf.getvalue()


_HANDLER = {"python": "app.handler", "nodejs": "index.handler", "java": "com.example.Handler::handleRequest",
            "provided": "bootstrap"}


@dataclass
class SeededRegion:
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)  # kinesis stream / dynamodb table -> stream ARN
    topic_arns: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # function -> published version


# Marks the seeding's own requests: they pass the gate that holds other clients until the traffic exists.
SEED_AGENT = "lambdaops-demo-seed"


def client(endpoint: str, service: str, region: str):
    return boto3.client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id="demo",
                        aws_secret_access_key="demo",
                        config=botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=20,
                                                      user_agent_extra=SEED_AGENT))


def seed_account(endpoint: str, fleet: list[FunctionSpec]) -> dict[str, SeededRegion]:
    iam = client(endpoint, "iam", "us-east-1")
    role_arn = iam.create_role(
        RoleName=ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    regions = sorted({fn.region for fn in fleet})
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        results = pool.map(lambda r: (r, _seed_region(endpoint, r, [f for f in fleet if f.region == r], role_arn)),
                           regions)
        return dict(results)


def _seed_region(endpoint: str, region: str, fleet: list[FunctionSpec], role_arn: str) -> SeededRegion:
    out = SeededRegion()
    sqs = client(endpoint, "sqs", region)
    lam = client(endpoint, "lambda", region)
    logs = client(endpoint, "logs", region)

    # Queues: DLQs and failure targets first, then sources that redrive into them.
    names = queue_names(fleet).get(region, set())
    source_dlq = {fn.source.name: fn.source for fn in fleet if fn.source and fn.source.kind.startswith("sqs")}
    for name in sorted(names, key=lambda n: n in source_dlq):
        attrs = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        if name in source_dlq and source_dlq[name].dlq:
            src = source_dlq[name]
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": out.queue_arns[src.dlq],
                                                 "maxReceiveCount": str(src.max_receive_count)})
            attrs["VisibilityTimeout"] = "60"
        else:
            attrs["MessageRetentionPeriod"] = str(14 * 86400)
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        out.queue_urls[name] = url
        out.queue_arns[name] = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"

    sns = None
    for fn in fleet:
        if fn.dlq and fn.dlq_kind == "sns":
            sns = sns or client(endpoint, "sns", region)
            out.topic_arns[fn.dlq] = sns.create_topic(Name=fn.dlq)["TopicArn"]

    kinesis = ddb = None
    for fn in fleet:
        if not fn.source:
            continue
        if fn.source.kind == "kinesis":
            kinesis = kinesis or client(endpoint, "kinesis", region)
            kinesis.create_stream(StreamName=fn.source.name, ShardCount=2)
            out.stream_arns[fn.source.name] = f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{fn.source.name}"
        elif fn.source.kind == "dynamodb":
            ddb = ddb or client(endpoint, "dynamodb", region)
            table = ddb.create_table(
                TableName=fn.source.name, KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
            out.stream_arns[fn.source.name] = table["TableDescription"]["LatestStreamArn"]

    def target_arn(name: str) -> str:
        return out.topic_arns.get(name) or out.queue_arns[name]

    for fn in fleet:
        family = next(k for k in _HANDLER if fn.runtime.startswith(k))
        params = dict(
            FunctionName=fn.name, Runtime=fn.runtime, Role=role_arn, Handler=_HANDLER[family],
            Code={"ZipFile": _code_zip(fn)}, MemorySize=fn.memory_mb, Timeout=fn.timeout_s,
            Architectures=[fn.architecture], Tags=dict(fn.tags),
            LoggingConfig={"LogFormat": fn.log_format, "LogGroup": fn.log_group_name},
            TracingConfig={"Mode": "Active" if fn.tracing else "PassThrough"},
            Description=f"demo {fn.traffic} function",
        )
        if fn.dlq:
            params["DeadLetterConfig"] = {"TargetArn": target_arn(fn.dlq)}
        if fn.snapstart:
            params["SnapStart"] = {"ApplyOn": "PublishedVersions"}
        lam.create_function(**params)
        logs.create_log_group(logGroupName=fn.log_group_name)
        logs.put_retention_policy(logGroupName=fn.log_group_name, retentionInDays=30)
        if fn.aliases:
            version = lam.publish_version(FunctionName=fn.name, Description="release")["Version"]
            out.versions[fn.name] = version
            for alias in fn.aliases:
                lam.create_alias(FunctionName=fn.name, Name=alias, FunctionVersion=version)
        if fn.reserved_concurrency is not None:
            lam.put_function_concurrency(FunctionName=fn.name, ReservedConcurrentExecutions=fn.reserved_concurrency)
        if fn.is_async:
            cfg = {"FunctionName": fn.name, "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600}
            if fn.on_failure:
                cfg["DestinationConfig"] = {"OnFailure": {"Destination": target_arn(fn.on_failure)}}
            lam.put_function_event_invoke_config(**cfg)
        if fn.source:
            esm = {"FunctionName": fn.name, "BatchSize": fn.source.batch_size, "Enabled": True}
            if fn.source.kind.startswith("sqs"):
                esm["EventSourceArn"] = out.queue_arns[fn.source.name]
            else:
                esm["EventSourceArn"] = out.stream_arns[fn.source.name]
                esm["StartingPosition"] = "LATEST"
                if fn.source.on_failure:
                    esm["DestinationConfig"] = {"OnFailure": {"Destination": out.queue_arns[fn.source.on_failure]}}
            lam.create_event_source_mapping(**esm)
    return out
