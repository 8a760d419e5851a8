"""Create the demo fleet's resources in moto's backends, with the request bodies a team's IaC would send.

The resources go straight into the backends that moto's request handlers call (see
:func:`seed_account`: start-up time), and so does everything after them (DLQ messages, stream records:
dlq_seed through seed_backends). :func:`client` makes the boto3 clients the demo's own later work
(SQS message move tasks) sends through the endpoint.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from dataclasses import dataclass, field

import boto3
import botocore.config

from lambdaops.demo.fleet import ACCOUNT_ID, FunctionSpec, queue_names
from lambdaops.demo.log_groups import set_log_group_class

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


_clients: dict[tuple[str, str, str], object] = {}
_clients_lock = threading.Lock()


def client(endpoint: str, service: str, region: str):
    """One client per endpoint, service and region, shared by the seeding threads (botocore clients are
    thread-safe; making one loads its service model again, and the default session is not safe to make
    them from several threads: "Multithreading or multiprocessing with resources", boto3 guide)."""
    key = (endpoint, service, region)
    with _clients_lock:
        made = _clients.get(key)
        if made is None:
            made = _clients[key] = boto3.client(
                service, region_name=region, endpoint_url=endpoint, aws_access_key_id="demo",
                aws_secret_access_key="demo",
                config=botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=20,
                                              user_agent_extra=SEED_AGENT))
        return made


def forget_clients(endpoint: str) -> None:
    """Drop the clients of an account that stopped (their pools point at a closed port)."""
    with _clients_lock:
        for key in [k for k in _clients if k[0] == endpoint]:
            del _clients[key]


def seed_account(endpoint: str, fleet: list[FunctionSpec], overlay=None) -> dict[str, SeededRegion]:
    """Create the fleet's resources in moto's backends, as the API would (the same backend calls
    moto's request handlers make, with the bodies boto3 would send). Going through HTTP made the
    demo's start wait on a request per resource (client and server loading the same service models,
    parsing, serialising), and the TUI waits for it before it can list anything."""
    import base64
    from urllib.parse import urlparse

    from moto.iam.models import iam_backends

    role_arn = iam_backends[ACCOUNT_ID]["aws"].create_role(
        ROLE_NAME,
        json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        "/", None, "", [], "3600",
    ).arn
    base = urlparse(endpoint)
    zips = {fn.name: base64.b64encode(_code_zip(fn)).decode() for fn in fleet}
    return {region: _seed_region(region, [f for f in fleet if f.region == region], role_arn, base, zips, overlay)
            for region in sorted({fn.region for fn in fleet})}


def _seed_region(region: str, fleet: list[FunctionSpec], role_arn: str, base, zips: dict[str, str],
                 overlay) -> SeededRegion:
    from moto.awslambda.utils import get_backend as lambda_backend  # Docker or not, as the server chose
    from moto.logs.models import logs_backends
    from moto.sqs.models import sqs_backends

    out = SeededRegion()
    sqs = sqs_backends[ACCOUNT_ID][region]
    lam = lambda_backend(ACCOUNT_ID, region)
    logs = logs_backends[ACCOUNT_ID][region]

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
        out.queue_urls[name] = sqs.create_queue(name, {}, **attrs).url(base)
        out.queue_arns[name] = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"

    for fn in fleet:
        if fn.dlq and fn.dlq_kind == "sns":
            from moto.sns.models import sns_backends

            out.topic_arns[fn.dlq] = sns_backends[ACCOUNT_ID][region].create_topic(fn.dlq, {}, {}).arn

    for fn in fleet:
        if not fn.source:
            continue
        if fn.source.kind == "kinesis":
            from moto.kinesis.models import kinesis_backends

            kinesis_backends[ACCOUNT_ID][region].create_stream(fn.source.name, 2)
            out.stream_arns[fn.source.name] = f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{fn.source.name}"
        elif fn.source.kind == "dynamodb":
            from moto.dynamodb.models import dynamodb_backends

            table = dynamodb_backends[ACCOUNT_ID][region].create_table(
                fn.source.name, schema=[{"AttributeName": "sku", "KeyType": "HASH"}], throughput=None,
                attr=[{"AttributeName": "sku", "AttributeType": "S"}], global_indexes=None, indexes=None,
                streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                billing_mode="PAY_PER_REQUEST", sse_specification=None, tags=[], deletion_protection_enabled=False,
                warm_throughput=None)
            out.stream_arns[fn.source.name] = table.describe()["TableDescription"]["LatestStreamArn"]

    def target_arn(name: str) -> str:
        return out.topic_arns.get(name) or out.queue_arns[name]

    for fn in fleet:
        family = next(k for k in _HANDLER if fn.runtime.startswith(k))
        params = dict(
            FunctionName=fn.name, Runtime=fn.runtime, Role=role_arn, Handler=_HANDLER[family],
            Code={"ZipFile": zips[fn.name]}, MemorySize=fn.memory_mb, Timeout=fn.timeout_s,
            Architectures=[fn.architecture], Tags=dict(fn.tags),
            LoggingConfig={"LogFormat": fn.log_format, "LogGroup": fn.log_group_name},
            TracingConfig={"Mode": "Active" if fn.tracing else "PassThrough"},
            Description=f"demo {fn.traffic} function",
        )
        if fn.dlq:
            params["DeadLetterConfig"] = {"TargetArn": target_arn(fn.dlq)}
        if fn.snapstart:
            params["SnapStart"] = {"ApplyOn": "PublishedVersions"}
        if overlay is not None:  # what the gateway records from a CreateFunction request (moto drops it)
            overlay.capture(region, fn.name, params)
        lam.create_function(params)
        if fn.has_log_group and fn.log_group_name not in logs.groups:  # a shared group is created once
            # CreateLogGroup with logGroupClass, as the team's IaC creates an Infrequent Access group ahead
            # of the function (moto drops the class: log_groups.py keeps it on the group and answers it).
            set_log_group_class(logs.create_log_group(fn.log_group_name, None), fn.log_group_class)
            logs.put_retention_policy(fn.log_group_name, 30)
        if fn.aliases:
            version = str(lam.publish_version(fn.name, "release").version)
            out.versions[fn.name] = version
            for alias in fn.aliases:
                lam.create_alias(name=alias, function_name=fn.name, function_version=version, description="",
                                 routing_config=None)
        if fn.reserved_concurrency is not None:
            lam.put_function_concurrency(fn.name, fn.reserved_concurrency)
        if fn.is_async:
            cfg = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600}
            if fn.on_failure:
                cfg["DestinationConfig"] = {"OnFailure": {"Destination": target_arn(fn.on_failure)}}
            lam.put_function_event_invoke_config(fn.name, cfg)
        if fn.source:
            esm = {"FunctionName": fn.name, "BatchSize": fn.source.batch_size, "Enabled": True}
            if fn.source.kind.startswith("sqs"):
                esm["EventSourceArn"] = out.queue_arns[fn.source.name]
            else:
                esm["EventSourceArn"] = out.stream_arns[fn.source.name]
                esm["StartingPosition"] = "LATEST"
                if fn.source.on_failure:
                    esm["DestinationConfig"] = {"OnFailure": {"Destination": out.queue_arns[fn.source.on_failure]}}
            lam.create_event_source_mapping(esm)
    return out
