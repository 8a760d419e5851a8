"""The fleet inventory: functions, triggers, failure targets, tags, reserved concurrency.

Bulk calls first: ListFunctions already carries memory, runtime, DeadLetterConfig and LoggingConfig;
ListEventSourceMappings once per region gives every trigger; tags come from the Resource Groups
Tagging API in pages of 100. Only two facts need a per-function call (reserved concurrency and the
async on-failure destination), and those share Lambda's 15 requests/s control-plane quota: they are
made concurrently under a rate limiter and cached on disk keyed by the function's revision.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import translate
from lambdaops.models import EventSource, FunctionInfo, Inventory, RegionError, source_kind
from lambdaops.aws.ratelimit import RateLimiter
from lambdaops.errors import ErrorTally, LambdaopsError

DETAILS_TTL_S = 15 * 60
CONTROL_PLANE_RPS = 15.0


def default_cache_dir() -> Path:
    from lambdaops.paths import cache_dir

    return cache_dir()


class DetailsCache:
    """Per-function details keyed by ARN and RevisionId, kept DETAILS_TTL_S (a concurrency change does
    not change the revision, hence the TTL). One JSON file per endpoint/profile; writes are atomic."""

    def __init__(self, directory: Path | None, scope: str, ttl_s: int = DETAILS_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._path = None
        self._data: dict[str, Any] = {}
        if directory is not None:
            digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
            self._path = directory / f"details-{digest}.json"
            try:
                self._data = json.loads(self._path.read_text())
            except (OSError, ValueError):
                self._data = {}

    def get(self, key: str) -> dict | None:
        with self._lock:
            hit = self._data.get(key)
        if hit and time.time() - hit.get("at", 0) < self.ttl_s:
            return hit["value"]
        return None

    def put(self, key: str, value: dict) -> None:
        with self._lock:
            self._data[key] = {"at": time.time(), "value": value}

    def save(self) -> None:
        if self._path is None:
            return
        with self._lock:
            now = time.time()
            data = {k: v for k, v in self._data.items() if now - v.get("at", 0) < self.ttl_s}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self._path)
        except OSError:
            pass  # a cache that cannot be written only costs API calls next time


@dataclass
class InventoryOptions:
    details: bool = True
    # Reserved concurrency is one call per function that DLQ discovery has no use for: it asks for
    # the failure destinations only (``concurrency=False``).
    concurrency: bool = True
    cache_dir: Path | None = None
    control_plane_rps: float = CONTROL_PLANE_RPS
    workers: int = 8


def list_functions(ctx: AwsContext, region: str) -> list[dict]:
    """``aws lambda list-functions --region R`` (every page; $LATEST only)."""
    out: list[dict] = []
    for page in ctx.client("lambda", region).get_paginator("list_functions").paginate():
        out.extend(page.get("Functions", []))
    return out


def list_event_source_mappings(ctx: AwsContext, region: str) -> list[dict]:
    """``aws lambda list-event-source-mappings --region R`` (all functions at once)."""
    out: list[dict] = []
    for page in ctx.client("lambda", region).get_paginator("list_event_source_mappings").paginate():
        out.extend(page.get("EventSourceMappings", []))
    return out


def function_tags(ctx: AwsContext, region: str) -> dict[str, dict[str, str]]:
    """``aws resourcegroupstaggingapi get-resources --resource-type-filters lambda:function``."""
    tags: dict[str, dict[str, str]] = {}
    pages = ctx.client("resourcegroupstaggingapi", region).get_paginator("get_resources").paginate(
        ResourceTypeFilters=["lambda:function"], ResourcesPerPage=100)
    for page in pages:
        for res in page.get("ResourceTagMappingList", []):
            tags[res["ResourceARN"]] = {t["Key"]: t["Value"] for t in res.get("Tags", [])}
    return tags


def _details(ctx: AwsContext, region: str, name: str, limiter: RateLimiter, concurrency: bool = True) -> dict:
    """``aws lambda get-function-event-invoke-config`` (+ ``get-function-concurrency``); a result
    without the ``reserved`` key did not ask for it."""
    cli = ctx.client("lambda", region)
    out: dict = {}
    if concurrency:
        limiter.acquire()
        out["reserved"] = cli.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
    limiter.acquire()
    try:
        dest = cli.get_function_event_invoke_config(FunctionName=name).get("DestinationConfig", {})
    except bx.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        dest = {}
    out["on_failure"] = (dest.get("OnFailure") or {}).get("Destination")
    out["on_success"] = (dest.get("OnSuccess") or {}).get("Destination")
    return out


def _function_from(cfg: dict, region: str) -> FunctionInfo:
    logging_cfg = cfg.get("LoggingConfig") or {}
    name = cfg["FunctionName"]
    snap = (cfg.get("SnapStart") or {}).get("ApplyOn", "None")
    return FunctionInfo(
        name=name,
        region=region,
        arn=cfg["FunctionArn"],
        runtime=cfg.get("Runtime"),
        architecture=(cfg.get("Architectures") or ["x86_64"])[0],
        memory_mb=int(cfg.get("MemorySize", 128)),
        timeout_s=int(cfg.get("Timeout", 3)),
        last_modified=cfg.get("LastModified"),
        handler=cfg.get("Handler"),
        package_type=cfg.get("PackageType", "Zip"),
        log_format=logging_cfg.get("LogFormat", "Text"),
        log_group=logging_cfg.get("LogGroup") or f"/aws/lambda/{name}",
        snapstart=snap == "PublishedVersions",
        tracing=(cfg.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        dead_letter_target=(cfg.get("DeadLetterConfig") or {}).get("TargetArn"),
        ephemeral_storage_mb=int((cfg.get("EphemeralStorage") or {}).get("Size", 512)),
    )


def _strip_qualifier(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def region_inventory(ctx: AwsContext, region: str, opts: InventoryOptions, cache: DetailsCache,
                     limiter: RateLimiter, tally: ErrorTally | None = None) -> list[FunctionInfo]:
    """The functions of one region. A per-function call that fails (throttling that outlived its
    retries, access denied) leaves that function's details unknown: ``details_error`` says why and
    ``tally`` counts it per operation, so the caller can report the gap instead of showing "none"."""
    tally = tally if tally is not None else ErrorTally()
    configs = list_functions(ctx, region)
    functions = {cfg["FunctionArn"]: _function_from(cfg, region) for cfg in configs}
    for esm in list_event_source_mappings(ctx, region):
        fn = functions.get(_strip_qualifier(esm.get("FunctionArn", "")))
        if fn is None:
            continue
        src = esm.get("EventSourceArn") or ""
        fn.event_sources.append(EventSource(
            uuid=esm.get("UUID", ""),
            kind=source_kind(src) if src else "kafka",
            source_arn=src or ",".join((esm.get("SelfManagedEventSource") or {}).get("Endpoints", {}).get("KAFKA_BOOTSTRAP_SERVERS", [])),
            state=esm.get("State", ""),
            batch_size=esm.get("BatchSize"),
            on_failure=((esm.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
        ))
    try:
        for arn, tags in function_tags(ctx, region).items():
            fn = functions.get(_strip_qualifier(arn))
            if fn is not None:
                fn.tags = tags
    except (bx.ClientError, bx.BotoCoreError):
        pass  # tags are a nicety (filters by tag say so when they match nothing); never fail a region over them

    if opts.details:
        revisions = {cfg["FunctionArn"]: cfg.get("RevisionId") or cfg.get("LastModified", "") for cfg in configs}

        def fill(fn: FunctionInfo) -> None:
            key = f"{fn.arn}@{revisions.get(fn.arn)}"
            hit = cache.get(key)
            if hit is None or (opts.concurrency and "reserved" not in hit):
                try:
                    hit = _details(ctx, region, fn.name, limiter, opts.concurrency)
                except (bx.ClientError, bx.BotoCoreError) as exc:
                    err = translate(exc, profile=ctx.profile, region=region)
                    fn.details_error = err.one_line()
                    tally.add_error(err, region=region, operation=getattr(exc, "operation_name", None))
                    return
                cache.put(key, hit)
            fn.reserved_concurrency = hit.get("reserved")
            fn.on_failure_destination = hit["on_failure"]
            fn.on_success_destination = hit["on_success"]

        with ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix=f"details-{region}") as pool:
            list(pool.map(fill, functions.values()))
    return sorted(functions.values(), key=lambda f: f.name)


def fleet_inventory(ctx: AwsContext, regions: Iterable[str] | None = None,
                    opts: InventoryOptions | None = None) -> Inventory:
    """Every function of every selected region; a region that fails is reported, the rest listed."""
    opts = opts or InventoryOptions()
    regions = list(regions or ctx.require_regions())
    scope = f"{ctx.endpoint_url or 'aws'}|{ctx.profile or 'default'}"
    cache = DetailsCache(opts.cache_dir, scope)
    functions: list[FunctionInfo] = []
    errors: list[RegionError] = []
    tally = ErrorTally()

    def one(region: str) -> tuple[str, list[FunctionInfo] | LambdaopsError]:
        limiter = RateLimiter(opts.control_plane_rps)
        try:
            return region, region_inventory(ctx, region, opts, cache, limiter, tally)
        except (bx.ClientError, bx.BotoCoreError) as exc:
            return region, translate(exc, profile=ctx.profile, region=region)

    with ThreadPoolExecutor(max_workers=max(1, len(regions)), thread_name_prefix="inventory") as pool:
        for region, result in pool.map(one, regions):
            if isinstance(result, LambdaopsError):
                errors.append(RegionError(region, result.one_line(), result.exit_code,
                                          getattr(result, "operation", None)))
            else:
                functions.extend(result)
    cache.save()
    failed = {e.region for e in errors}
    detail_errors = [e for e in tally.entries() if e["region"] not in failed]
    return Inventory(functions=functions, errors=errors, api_calls=ctx.calls.snapshot(), regions=regions,
                     detail_errors=detail_errors)
