"""Following a function's log as it is written: StartLiveTail where the account has it, FilterLogEvents
polling otherwise.

StartLiveTail ("StartLiveTail", CloudWatch Logs API Reference) answers with an event stream: one
``sessionStart``, then a ``sessionUpdate`` every second with up to 500 events (sampled above that),
and ``SessionTimeoutException`` after three hours; it needs ``logs:StartLiveTail`` and log group ARNs,
and is charged per session minute. Where it is refused (no permission, an endpoint or SDK without it)
the follower polls FilterLogEvents instead, paced to that API's quota of 5 requests/s per account and
region ("CloudWatch Logs quotas", Amazon CloudWatch Logs User Guide), shared by every follower of the
process. Polls look back a few seconds, because events become searchable some time after their
timestamp, and drop the events already shown by their ``eventId``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from lambdaops.aws.ratelimit import RateLimiter

FILTER_RATE_PER_S = 5.0  # FilterLogEvents: 5 transactions/s per account and region, not raisable
POLL_EVERY_S = 1.0
LOOKBACK_MS = 15_000  # ingestion delay: re-read this much before the newest event seen
SEEN_MAX = 20_000
# StartLiveTail refused in a way that polling can replace (the account, principal, region or SDK lacks it)
FALLBACK_CODES = {"AccessDeniedException", "UnrecognizedClientException", "UnknownOperationException",
                  "InvalidOperationException", "ServiceUnavailableException", "ValidationException",
                  "InvalidAction", "NotImplemented", "404"}

_limiters: dict[tuple[str, str], RateLimiter] = {}
_limiters_lock = threading.Lock()


def filter_limiter(account: str, region: str) -> RateLimiter:
    """The FilterLogEvents budget of one account and region, shared by the process's followers."""
    with _limiters_lock:
        key = (account, region)
        if key not in _limiters:
            _limiters[key] = RateLimiter(FILTER_RATE_PER_S, burst=1)
        return _limiters[key]


@dataclass(frozen=True)
class LogEvent:
    timestamp_ms: int
    message: str
    stream: str
    event_id: str = ""


@dataclass(frozen=True)
class FollowStatus:
    """Not an event: how the follower reads (``mode`` live-tail | polling) and why. An empty
    ``text`` marks the end of a batch (a poll, a session update): a good moment to show what came."""

    mode: str
    text: str


def function_exists(ctx, region: str, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        ctx.client("lambda", region).get_function_configuration(FunctionName=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def log_group_of(ctx, region: str, function_name: str) -> tuple[str, str]:
    """The function's log group (its LoggingConfig's, else /aws/lambda/NAME) and its ARN."""
    conf = ctx.call("lambda", region, "get_function_configuration", FunctionName=function_name)
    group = (conf.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{conf['FunctionName']}"
    arn_parts = conf["FunctionArn"].split(":")
    partition, account = arn_parts[1], arn_parts[4]
    return group, f"arn:{partition}:logs:{region}:{account}:log-group:{group}"


def _live_tail_client(ctx, region: str):
    """The logs client for StartLiveTail. Its model puts a host prefix on the endpoint
    (``stream-``); with an endpoint URL of our own (a proxy, the demo) the prefixed host does not
    exist, so the prefix is left off there and the endpoint itself answers."""
    if not ctx.endpoint_url:
        return ctx.client("logs", region)
    import botocore.config

    config = ctx._config.merge(botocore.config.Config(inject_host_prefix=False))
    return ctx._session.client("logs", region_name=region, endpoint_url=ctx.endpoint_url, config=config)


class LogFollower:
    """Yields :class:`LogEvent` (oldest first) and :class:`FollowStatus` until ``stop`` is set."""

    def __init__(self, ctx, region: str, group: str, group_arn: str, *, since_ms: int | None = None,
                 stop: threading.Event | None = None, live_tail: bool = True,
                 clock: Callable[[], float] = time.time, once: bool = False) -> None:
        self.ctx = ctx
        self.region = region
        self.group = group
        self.group_arn = group_arn
        self.stop = stop or threading.Event()
        self.live_tail = live_tail
        self.clock = clock
        self.since_ms = since_ms if since_ms is not None else int(clock() * 1000)
        self.once = once  # one pass over what is there (no following): always FilterLogEvents
        self.mode = ""
        self.requests = 0
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __iter__(self) -> Iterator[LogEvent | FollowStatus]:
        if self.live_tail and not self.once:
            refused = yield from self._live_tail()
            if refused is None:
                return
            yield FollowStatus("polling", f"StartLiveTail not available ({refused}): polling FilterLogEvents, "
                                          f"at most {FILTER_RATE_PER_S:.0f} requests/s")
        else:
            yield FollowStatus("polling", "polling FilterLogEvents")
        yield from self._poll()

    # -- StartLiveTail ---------------------------------------------------------------------------
    def _live_tail(self) -> Iterator[LogEvent | FollowStatus]:
        """Events from a live-tail session; returns why it was refused (then the caller polls), or
        None when the session ended (stop, or its three hours)."""
        from botocore.exceptions import ClientError, EndpointConnectionError

        cli = _live_tail_client(self.ctx, self.region)
        if not hasattr(cli, "start_live_tail"):
            return "this botocore has no StartLiveTail"
        try:
            self.requests += 1
            resp = cli.start_live_tail(logGroupIdentifiers=[self.group_arn])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code in FALLBACK_CODES or status in FALLBACK_CODES:
                return code or status
            raise
        except EndpointConnectionError as exc:
            return f"no endpoint: {exc}"
        stream = resp["responseStream"]
        self.mode = "live-tail"
        yield FollowStatus("live-tail", "StartLiveTail session")
        try:
            for item in stream:
                if self.stop.is_set():
                    break
                update = item.get("sessionUpdate")
                if update:
                    events = [LogEvent(int(e.get("timestamp") or 0), e.get("message") or "",
                                       e.get("logStreamName") or "") for e in update.get("sessionResults") or []]
                    yield from sorted(events, key=lambda e: e.timestamp_ms)
                    yield FollowStatus("live-tail", "")
                elif "SessionTimeoutException" in item:
                    yield FollowStatus("live-tail", "the session reached its three hours")
                    break
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        return None

    # -- FilterLogEvents -------------------------------------------------------------------------
    def _poll(self) -> Iterator[LogEvent | FollowStatus]:
        self.mode = "polling"
        limiter = filter_limiter(self.ctx.account_id(self.region) or "?", self.region)
        cli = self.ctx.client("logs", self.region)
        newest = self.since_ms
        while not self.stop.is_set():
            token = None
            start = max(self.since_ms, newest - LOOKBACK_MS)
            batch: list[LogEvent] = []
            while not self.stop.is_set():
                if not limiter.acquire(self.stop):
                    return
                params: dict[str, Any] = {"logGroupName": self.group, "startTime": start}
                if token:
                    params["nextToken"] = token
                self.requests += 1
                page = cli.filter_log_events(**params)
                for e in page.get("events") or []:
                    eid = e.get("eventId") or f"{e.get('logStreamName')}/{e.get('timestamp')}/{e.get('message')}"
                    if eid in self._seen:
                        continue
                    self._seen[eid] = None
                    batch.append(LogEvent(int(e.get("timestamp") or 0), e.get("message") or "",
                                          e.get("logStreamName") or "", eid))
                token = page.get("nextToken")
                if not token:
                    break
            while len(self._seen) > SEEN_MAX:
                self._seen.popitem(last=False)
            batch.sort(key=lambda e: e.timestamp_ms)
            if batch:
                newest = max(newest, batch[-1].timestamp_ms)
            yield from batch
            yield FollowStatus("polling", "")
            if self.once or self.stop.wait(POLL_EVERY_S):
                return
