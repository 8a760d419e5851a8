"""The fleet inventory: functions, triggers, failure targets, tags, reserved concurrency.

Bulk calls first: ListFunctions already carries memory, runtime, DeadLetterConfig and LoggingConfig;
ListEventSourceMappings once per region gives every trigger; tags come from the Resource Groups
Tagging API in pages of 100. Two facts need a per-function call: reserved concurrency (GetFunction,
whose response carries it) and the async destinations (GetFunctionEventInvokeConfig). Every Lambda
control-plane call of a region takes from one paced bucket (:func:`lambdaops.aws.ratelimit.control_plane`);
GetFunction, outside that quota, from its own (:func:`lambdaops.aws.ratelimit.get_function`). Per-function
answers are cached on disk keyed by the function's RevisionId.

``fleet_inventory(details=True)`` reads both for every function (``lambdaops functions``, ``dlq list``:
the DLQ tool must find every destination). The report and the TUI read them only where a figure
needs them: :mod:`lambdaops.collect.details` decides which, and calls :func:`read_details`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import translate
from lambdaops.aws.inventory_cache import InventoryCache
from lambdaops.aws.ratelimit import CONTROL_PLANE_RPS, GET_FUNCTION_RPS, RateLimiter, control_plane, get_function
from lambdaops.errors import ErrorTally, LambdaopsError
from lambdaops.models import EventSource, FunctionInfo, Inventory, RegionError, source_kind

DETAILS_TTL_S = 15 * 60
# GetFunction rather than GetFunctionConcurrency: the same figure ("GetFunction", AWS Lambda API
# Reference: Concurrency, "The function's reserved concurrency"), but outside the 15/s control-plane
# quota, with 100/s of its own ("Lambda quotas", AWS Lambda Developer Guide).
RESERVED = "reserved_concurrency"  # GetFunction: Concurrency.ReservedConcurrentExecutions
DESTINATIONS = "destinations"  # GetFunctionEventInvokeConfig: on-failure and on-success
DETAIL_OPERATION = {RESERVED: "GetFunction", DESTINATIONS: "GetFunctionEventInvokeConfig"}
_MISS = object()


def default_cache_dir() -> Path:
    from lambdaops.paths import cache_dir

    return cache_dir()


class DetailsCache:
    """Per-function details keyed by ARN and RevisionId, each detail kept DETAILS_TTL_S on its own
    (a concurrency or destination change does not change the revision, hence the TTL). One JSON file
    per endpoint/profile; writes are atomic (temp file + rename)."""

    VERSION = 2

    def __init__(self, directory: Path | None, scope: str, ttl_s: int = DETAILS_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._path = None
        self._data: dict[str, dict[str, Any]] = {}
        self._dirty = False
        if directory is not None:
            digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
            self._path = directory / f"details-v{self.VERSION}-{digest}.json"
            try:
                data = json.loads(self._path.read_text())
                self._data = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._data = {}

    def get(self, key: str, detail: str) -> Any:
        """The cached value (None is a value: "no reserved concurrency"), or ``_MISS``."""
        with self._lock:
            hit = (self._data.get(key) or {}).get(detail)
        if isinstance(hit, dict) and time.time() - hit.get("at", 0) < self.ttl_s:
            return hit.get("value")
        return _MISS

    def put(self, key: str, detail: str, value: Any) -> None:
        with self._lock:
            self._data.setdefault(key, {})[detail] = {"at": time.time(), "value": value}
            self._dirty = True

    def save(self) -> None:
        if self._path is None or not self._dirty:
            return  # nothing new: the file on disk (maybe written by another run since) stays
        with self._lock:
            now = time.time()
            data = {}
            for key, details in self._data.items():
                fresh = {d: v for d, v in details.items() if isinstance(v, dict) and now - v.get("at", 0) < self.ttl_s}
                if fresh:
                    data[key] = fresh
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # a cron run and the TUI at once
            tmp.write_text(json.dumps(data))
            tmp.replace(self._path)
        except OSError:
            pass  # a cache that cannot be written only costs API calls next time


def scope_of(ctx: AwsContext) -> str:
    return f"{ctx.endpoint_url or 'aws'}|{ctx.profile or 'default'}"


def details_cache(ctx: AwsContext, directory: Path | None) -> DetailsCache:
    return DetailsCache(directory, scope_of(ctx))


def region_limiter(ctx: AwsContext, region: str, rps: float = CONTROL_PLANE_RPS) -> RateLimiter:
    return control_plane(scope_of(ctx), region, rps)


def get_function_limiter(ctx: AwsContext, region: str, rps: float = GET_FUNCTION_RPS) -> RateLimiter:
    return get_function(scope_of(ctx), region, rps)


@dataclass
class InventoryOptions:
    details: bool = True
    # Reserved concurrency is one call per function that DLQ discovery has no use for: it asks for
    # the failure destinations only (``concurrency=False``).
    concurrency: bool = True
    cache_dir: Path | None = None
    control_plane_rps: float = CONTROL_PLANE_RPS
    get_function_rps: float = GET_FUNCTION_RPS
    workers: int = 8
    # A region's listing kept up to this many seconds is used instead of listing again; 0: list afresh
    # and keep that listing; None: neither read nor keep one. Only with a cache directory
    # (:mod:`lambdaops.aws.inventory_cache` says why 5 minutes).
    max_age_s: float | None = None


def _marker_pages(ctx: AwsContext, region: str, method: str, key: str, limiter: RateLimiter | None) -> list[dict]:
    """Every page of a Marker-paginated Lambda list call, each page paced (both are control-plane
    calls): the paginator sends a page's request when it is asked for the page."""
    out: list[dict] = []
    if limiter is not None:
        limiter.acquire()
    for page in ctx.client("lambda", region).get_paginator(method).paginate():
        out.extend(page.get(key, []))
        if page.get("NextMarker") and limiter is not None:
            limiter.acquire()
    return out


def list_functions(ctx: AwsContext, region: str, limiter: RateLimiter | None = None) -> list[dict]:
    """``aws lambda list-functions --region R`` (every page of 50; $LATEST only)."""
    return _marker_pages(ctx, region, "list_functions", "Functions", limiter)


def list_event_source_mappings(ctx: AwsContext, region: str, limiter: RateLimiter | None = None) -> list[dict]:
    """``aws lambda list-event-source-mappings --region R`` (all functions at once)."""
    return _marker_pages(ctx, region, "list_event_source_mappings", "EventSourceMappings", limiter)


def function_tags(ctx: AwsContext, region: str) -> dict[str, dict[str, str]]:
    """``aws resourcegroupstaggingapi get-resources --resource-type-filters lambda:function``."""
    tags: dict[str, dict[str, str]] = {}
    pages = ctx.client("resourcegroupstaggingapi", region).get_paginator("get_resources").paginate(
        ResourceTypeFilters=["lambda:function"], ResourcesPerPage=100)
    for page in pages:
        for res in page.get("ResourceTagMappingList", []):
            tags[res["ResourceARN"]] = {t["Key"]: t["Value"] for t in res.get("Tags", [])}
    return tags


def account_concurrency(ctx: AwsContext, region: str, limiter: RateLimiter | None = None) -> tuple[int, int]:
    """``aws lambda get-account-settings``: (AccountLimit.ConcurrentExecutions,
    AccountLimit.UnreservedConcurrentExecutions). Their difference is the concurrency reserved by
    all the region's functions together ("GetAccountSettings", AWS Lambda API Reference)."""
    if limiter is not None:
        limiter.acquire()
    limit = ctx.client("lambda", region).get_account_settings().get("AccountLimit") or {}
    return int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])


def _read_one(cli, name: str, detail: str, limiter: RateLimiter, gf_limiter: RateLimiter) -> Any:
    if detail == RESERVED:
        gf_limiter.acquire()
        # Absent without a reservation (None); 0 is a reservation: the function never runs.
        return (cli.get_function(FunctionName=name).get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    limiter.acquire()
    try:
        dest = cli.get_function_event_invoke_config(FunctionName=name).get("DestinationConfig", {})
    except bx.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        dest = {}  # no event-invoke config at all: no destination
    return {"on_failure": (dest.get("OnFailure") or {}).get("Destination"),
            "on_success": (dest.get("OnSuccess") or {}).get("Destination")}


def _apply(fn: FunctionInfo, detail: str, value: Any) -> None:
    fn.details_unread.pop(detail, None)
    if detail == RESERVED:
        fn.reserved_concurrency = value
    else:
        fn.on_failure_destination = value.get("on_failure")
        fn.on_success_destination = value.get("on_success")


def cache_key(fn: FunctionInfo) -> str:
    return f"{fn.arn}@{fn.revision_id or fn.last_modified or ''}"


def read_details(ctx: AwsContext, region: str, wants: dict[str, dict[str, str | None]], functions: Iterable[FunctionInfo],
                 cache: DetailsCache, limiter: RateLimiter, tally: ErrorTally, workers: int = 8,
                 gf_limiter: RateLimiter | None = None) -> int:
    """Fill the details ``wants`` names per function ARN: detail -> None (read it: the cache first,
    then the API) or a reason (take it from the cache if it is there; otherwise leave it unread and
    record the reason in ``details_unread``). A failed call leaves that detail unknown
    (``details_error``, ``details_failed``) and is counted in ``tally``. Returns the calls made.
    ``limiter`` paces the control-plane calls, ``gf_limiter`` GetFunction (by default the region's
    shared GetFunction limiter)."""
    cli = ctx.client("lambda", region)
    gf_limiter = gf_limiter if gf_limiter is not None else get_function_limiter(ctx, region)
    made = [0]
    lock = threading.Lock()
    todo: list[tuple[FunctionInfo, str]] = []
    for fn in functions:
        for detail in (RESERVED, DESTINATIONS):
            if detail not in wants.get(fn.arn, {}):
                fn.details_unread.pop(detail, None)  # known without a call (e.g. no reservation in the region)
        for detail, unless_cached in wants.get(fn.arn, {}).items():
            hit = cache.get(cache_key(fn), detail)
            if hit is not _MISS:
                _apply(fn, detail, hit)
            elif unless_cached is not None:
                fn.details_unread[detail] = unless_cached
            else:
                todo.append((fn, detail))

    def fetch(item: tuple[FunctionInfo, str]) -> None:
        fn, detail = item
        try:
            value = _read_one(cli, fn.name, detail, limiter, gf_limiter)
        except (bx.ClientError, bx.BotoCoreError) as exc:
            err = translate(exc, profile=ctx.profile, region=region)
            with lock:
                fn.details_error = err.one_line()
                fn.details_failed.append(detail)
                fn.details_unread.pop(detail, None)  # not a choice: an error, reported as one
            tally.add_error(err, region=region, operation=getattr(exc, "operation_name", None))
            return
        finally:
            with lock:
                made[0] += 1
        cache.put(cache_key(fn), detail, value)
        _apply(fn, detail, value)

    if todo:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"details-{region}") as pool:
            list(pool.map(fetch, todo))
    return made[0]


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
        revision_id=cfg.get("RevisionId"),
    )


def _strip_qualifier(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


NOT_LISTED = "not read (listing only)"


def region_functions(ctx: AwsContext, region: str, limiter: RateLimiter | None = None) -> list[FunctionInfo]:
    """The functions of one region from bulk calls only (no per-function call), sorted by name; both
    per-function details are marked unread until :func:`read_details` fills them."""
    functions = {cfg["FunctionArn"]: _function_from(cfg, region) for cfg in list_functions(ctx, region, limiter)}
    for fn in functions.values():
        fn.details_unread = {RESERVED: NOT_LISTED, DESTINATIONS: NOT_LISTED}
    for esm in list_event_source_mappings(ctx, region, limiter):
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
    return sorted(functions.values(), key=lambda f: f.name)


def listing_cache(ctx: AwsContext, directory: Path | None) -> InventoryCache:
    return InventoryCache(directory, f"{scope_of(ctx)}|{ctx.credentials_tag()}")


def forget_listing(ctx: AwsContext, directory: Path | None, region: str) -> None:
    """After a write to one of ``region``'s functions (``tune --apply``): no run takes the listing
    that shows it as it was."""
    if directory is not None:
        listings = listing_cache(ctx, directory)
        listings.forget(region)
        listings.save()


def region_inventory(ctx: AwsContext, region: str, opts: InventoryOptions, cache: DetailsCache,
                     limiter: RateLimiter, tally: ErrorTally | None = None,
                     listings: InventoryCache | None = None, listed_at: dict[str, float] | None = None
                     ) -> list[FunctionInfo]:
    """The functions of one region, with every function's details when ``opts.details``. A
    per-function call that fails (throttling that outlived its retries, access denied) leaves that
    detail unknown: ``details_error`` says why and ``tally`` counts it per operation, so the caller
    can report the gap instead of showing "none". With ``opts.max_age_s`` a listing ``listings``
    kept that long is taken instead of listing; ``listed_at[region]`` says when it was listed."""
    tally = tally if tally is not None else ErrorTally()
    kept = listings.get(region, opts.max_age_s) if listings is not None and opts.max_age_s else None
    if kept is not None:
        functions, at = kept
    else:
        at = time.time()
        functions = region_functions(ctx, region, limiter)
        if listings is not None:
            listings.put(region, functions, at)
    if listed_at is not None:
        listed_at[region] = at
    if opts.details:
        wanted = {DESTINATIONS: None, RESERVED: None if opts.concurrency else "not read (not asked for)"}
        read_details(ctx, region, {fn.arn: wanted for fn in functions}, functions, cache, limiter, tally,
                     workers=opts.workers, gf_limiter=get_function_limiter(ctx, region, opts.get_function_rps))
    return functions


def fleet_inventory(ctx: AwsContext, regions: Iterable[str] | None = None,
                    opts: InventoryOptions | None = None) -> Inventory:
    """Every function of every selected region; a region that fails is reported, the rest listed."""
    opts = opts or InventoryOptions()
    regions = list(regions or ctx.require_regions())
    cache = details_cache(ctx, opts.cache_dir)
    listings = listing_cache(ctx, opts.cache_dir) if opts.cache_dir is not None and opts.max_age_s is not None else None
    listed_at: dict[str, float] = {}
    functions: list[FunctionInfo] = []
    errors: list[RegionError] = []
    tally = ErrorTally()

    def one(region: str) -> tuple[str, list[FunctionInfo] | LambdaopsError]:
        limiter = region_limiter(ctx, region, opts.control_plane_rps)
        try:
            return region, region_inventory(ctx, region, opts, cache, limiter, tally, listings, listed_at)
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
    if listings is not None:
        listings.save()
    failed = {e.region for e in errors}
    detail_errors = [e for e in tally.entries() if e["region"] not in failed]
    return Inventory(functions=functions, errors=errors, api_calls=ctx.calls.snapshot(), regions=regions,
                     detail_errors=detail_errors, listed_at={r: t for r, t in listed_at.items() if r not in failed})
