"""Per-function control-plane details, read only where a figure needs them.

The report and the TUI list the fleet from bulk calls (:func:`lambdaops.aws.inventory.region_functions`)
and fetch every metric in one packed GetMetricData pass; only then does this module decide, per
function, which of the two per-function calls (GetFunction: 100 requests/s per region; the rest of
Lambda's control plane: 15 requests/s) a figure needs:

- **Reserved concurrency** (GetFunction's ``Concurrency``) explains a throttle (was the function capped by
  its own reservation or by the account's pool?) and the headroom of a busy function. It is read for a
  function that *throttled* in the window (``Throttles`` > 0) or *approaches a limit*: its peak
  ``ConcurrentExecutions`` reached ``APPROACH`` (80%) of the region's unreserved pool
  (GetAccountSettings' ``UnreservedConcurrentExecutions``, one call per region). When the account
  limit equals the unreserved pool no function of the region has a reservation: nothing is read and
  every function is known unreserved. A function that nears its own reservation without throttling
  is not read; it says so (``details_unread``), it never reads as "unreserved".
- **Async destinations** (GetFunctionEventInvokeConfig) matter for the DLQ depth of a function that
  was invoked asynchronously: read when ``AsyncEventsReceived`` (the events Lambda enqueued for
  async processing, dimension FunctionName: "Asynchronous invocation metrics" in "Types of metrics
  for Lambda functions", https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html;
  AWS Compute Blog, "Introducing new asynchronous invocation metrics for AWS Lambda") is above 0 in
  the window. A function WITHOUT async traffic can have put nothing in an on-failure destination during
  the window, but that queue may still hold older messages: its destination is taken from the
  details cache when a recent run read it (within the cache's 15-minute TTL), otherwise it is not
  read, its DLQ depth counts the queues we do know (DeadLetterConfig from ListFunctions, event-source
  failure queues) and a note per region says how many functions' destinations were not read and why.
  ``lambdaops dlq list`` is the DLQ tool and keeps reading every function's destinations.

A figure that could not be fetched makes its function's need unknown, and unknown means read. The
calls are paced by the region's shared control-plane bucket and run in a thread of their own, so
they overlap the Logs Insights work of the same region (:class:`DetailsJob`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import call_translated
from lambdaops.aws.inventory import (_MISS, DESTINATIONS, RESERVED, DetailsCache, account_concurrency, cache_key,
                                     read_details, region_limiter, scope_of)
from lambdaops.aws.metrics import LAMBDA_NAMESPACE, MetricQuery
from lambdaops.errors import ErrorTally, LambdaopsError
from lambdaops.models import FunctionInfo
from lambdaops.plural import plural

APPROACH = 0.8  # of the region's unreserved concurrency pool
ASYNC = "async_events"
POOL, POOL_KEY = "account_pool", "account-settings@{region}@{scope}"  # its details-cache entry


def metric_queries(fn: FunctionInfo, period: int, cache: DetailsCache | None = None) -> list[MetricQuery]:
    """What the decision needs beyond the report's own figures (Throttles and ConcurrentExecutions
    are fetched for the report): the function's async events, in the same GetMetricData pass. Not
    when ``cache`` holds the function's destinations: they are taken from it whatever the events
    say, so the metric would decide nothing (and every metric requested is billed)."""
    if cache is not None and cache.get(cache_key(fn), DESTINATIONS) is not _MISS:
        return []
    return [MetricQuery((fn.region, fn.name, ASYNC), LAMBDA_NAMESPACE, "AsyncEventsReceived",
                        (("FunctionName", fn.name),), "Sum", period)]


@dataclass(frozen=True)
class Usage:
    """One function's traffic over the queried range; None: could not be fetched."""

    throttles: float | None
    peak_concurrency: float | None
    async_events: float | None


def usage_from(fn: FunctionInfo, results: dict, failed: dict) -> Usage:
    def value(figure: str, how) -> float | None:
        key = (fn.region, fn.name, figure)
        res = results.get(key)
        if key in failed or res is None:
            return None
        got = how(res.values) if res.values else 0.0
        # Lambda emits only non-zero datapoints: none means 0, unless the answer was partial.
        return got if res.complete or got > 0 else None

    return Usage(value("throttles", sum), value("max_concurrency", max), value(ASYNC, sum))


@dataclass(frozen=True)
class AccountPool:
    limit: int  # AccountLimit.ConcurrentExecutions
    unreserved: int  # AccountLimit.UnreservedConcurrentExecutions

    @property
    def any_reserved(self) -> bool:
        return self.unreserved < self.limit


def plan(fn: FunctionInfo, use: Usage, pool: AccountPool | None) -> dict[str, str | None]:
    """``fn``'s wants for :func:`lambdaops.aws.inventory.read_details`: detail -> None (read it) or
    why it is not needed (then only a cached value is taken). A detail known without a call is absent."""
    wants: dict[str, str | None] = {}
    if pool is not None and not pool.any_reserved:
        pass  # no function of the region has a reservation: reserved concurrency is known (none)
    elif use.throttles is None or use.peak_concurrency is None or use.throttles > 0:
        wants[RESERVED] = None
    elif pool is None:
        # The pool is unknown: any function that ran might be near it.
        wants[RESERVED] = None if use.peak_concurrency > 0 else "not read (no invocation in the window)"
    elif use.peak_concurrency >= APPROACH * pool.unreserved:
        wants[RESERVED] = None
    else:
        # short: the TUI shows it in its Concurrency cell
        wants[RESERVED] = f"not read (no throttles; peak {use.peak_concurrency:,.0f}, unreserved pool {pool.unreserved:,})"
    if use.async_events is None or use.async_events > 0:
        wants[DESTINATIONS] = None
    else:
        wants[DESTINATIONS] = "not read (no async invocation in the window)"
    return wants


def needs_pool(uses: Iterable[Usage]) -> bool:
    """GetAccountSettings pays off once any function ran or may have (it can spare every other call)."""
    return any(u.peak_concurrency is None or u.throttles is None or u.peak_concurrency > 0 or u.throttles > 0
               for u in uses)


@dataclass
class DetailsOutcome:
    calls: int = 0
    notes: list[str] = field(default_factory=list)
    error: LambdaopsError | None = None


def fill_region(ctx: AwsContext, region: str, fns: list[FunctionInfo], results: dict, failed: dict,
                cache: DetailsCache, tally: ErrorTally, workers: int = 8) -> DetailsOutcome:
    """Decide and read ``fns``' details (all of ``region``); failures are ``tally`` entries."""
    out = DetailsOutcome()
    limiter = region_limiter(ctx, region)
    uses = {fn.arn: usage_from(fn, results, failed) for fn in fns}
    pool = None
    if needs_pool(uses.values()):
        try:
            # The pool changes with any function's reservation, and so, like a reservation, it is
            # kept for the details cache's TTL (one GetAccountSettings per region per TTL).
            kept = cache.get(POOL_KEY.format(region=region, scope=scope_of(ctx)), POOL)
            if kept is _MISS or not isinstance(kept, list) or len(kept) != 2:
                kept = list(call_translated(account_concurrency, ctx, region, limiter, region=region))
                cache.put(POOL_KEY.format(region=region, scope=scope_of(ctx)), POOL, kept)
            pool = AccountPool(int(kept[0]), int(kept[1]))
        except LambdaopsError as err:
            out.notes.append(f"{region}: the account's concurrency pool could not be read (GetAccountSettings: "
                             f"{err.one_line()}): reserved concurrency is read for every function that ran")
    wants = {fn.arn: plan(fn, uses[fn.arn], pool) for fn in fns}
    out.calls = read_details(ctx, region, wants, fns, cache, limiter, tally, workers=workers)
    out.notes.extend(_unread_notes(region, fns))
    return out


def _unread_notes(region: str, fns: list[FunctionInfo]) -> list[str]:
    """One note per region for the destinations not read (they bear on a report figure, the DLQ
    depth), naming a few functions: never a silent gap. Reserved concurrency is no report figure:
    each function's ``details_unread`` says why it was not read (the TUI shows it)."""
    names = [f.name for f in fns if DESTINATIONS in f.details_unread]
    if not names:
        return []
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
    return [f"{region}: async destinations (on-failure, on-success) of {plural(len(names), 'function')} not read "
            f"({shown}): they had no async invocation in the window; their DLQ depth counts their dead-letter "
            "queue and event-source failure queues only (`lambdaops dlq list` reads every destination)"]


class DetailsJob:
    """:func:`fill_region` in a thread of its own, started once the region's metrics are in, so the
    paced control-plane calls overlap the region's Logs Insights queries."""

    def __init__(self, ctx: AwsContext, region: str, fns: list[FunctionInfo], results: dict, failed: dict,
                 cache: DetailsCache, tally: ErrorTally) -> None:
        self.outcome = DetailsOutcome()
        self._crash: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(ctx, region, fns, results, failed, cache, tally),
                                        name=f"details-{region}", daemon=True)
        self._thread.start()

    def _run(self, *args: Any) -> None:
        try:
            self.outcome = fill_region(*args)
        except LambdaopsError as err:  # e.g. the endpoint stopped answering: the caller records it
            self.outcome = DetailsOutcome(error=err)
        except BaseException as exc:  # a bug surfaces in the caller's thread, not lost in this one
            self._crash = exc

    def wait(self) -> DetailsOutcome:
        self._thread.join()
        if self._crash is not None:
            raise self._crash
        return self.outcome
