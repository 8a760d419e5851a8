"""CloudWatch Logs Insights: one query file over many log groups, 50 groups a query, several queries
in flight under a concurrency limit, polled until done.

Equivalent: ``aws logs start-query --log-group-names ... --query-string file://q`` then
``aws logs get-query-results --query-id ...``. ``LimitExceededException`` (too many concurrent
queries in the account) and throttling wait and retry; a batch that still fails is reported for its
log groups, which then show figures as missing, not zero.

A log group that does not exist (a function that never ran, or whose group was deleted) fails the
WHOLE StartQuery with ``ResourceNotFoundException: Log group '...' does not exist`` (StartQuery, Amazon
CloudWatch Logs API Reference). It must cost only its own figures: the batch is retried without
the group the message names (one failed StartQuery each, which scans nothing); when the message names
none, or a batch has lost several groups already, one DescribeLogGroups listing (by the batch's common
name prefix, pages of 50) finds every missing group at once. Groups found missing are remembered by
the runner, so a second window (compare-previous) does not pay again.

Pace: StartQuery and GetQueryResults are each allowed 5 requests per second per account and region
("CloudWatch Logs quotas", Amazon CloudWatch Logs User Guide; the demo's ``--quotas aws`` enforces the
same): ten queries started at once were throttled and each retry waited a second or more. Both calls
take from one token bucket per operation, endpoint, profile and region, shared by every runner of the
process (a TUI refresh and its Logs tab), at 90% of the quota. Polls: the first soon (the demo answers
in tens of milliseconds, a small real query in under a second), then each interval :data:`POLL_GROWTH`
times the last up to ``max_poll_s``: a query that runs 10 s on AWS costs about 10 GetQueryResults, not
100, and its answer is seen at most a third of its run time late (doubling: up to half; a 3.2 s query
was seen at 6.3 s).

SOURCE (``run_source``): a query string that starts with ``SOURCE logGroups(namePrefix: [...])`` selects
every Standard-class log group whose name starts with one of at most five prefixes, and StartQuery then
takes no log group list; more than 10,000 groups selected is an error ("SOURCE - Amazon CloudWatch
Logs", https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Source.html). One
query then reads a whole region's Lambda groups, and bills the bytes of every group it selects, ours
or not. A region that refused it is remembered (``source_refused``) so the run asks it once.
"""

from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import error_code, is_throttle, translate
from lambdaops.aws.ratelimit import PACE_FRACTION, RateLimiter
from lambdaops.errors import ServiceError

MAX_GROUPS_PER_QUERY = 50
MAX_SOURCE_PREFIXES = 5  # namePrefix list of SOURCE logGroups(...) (CWL_QuerySyntax-Source)
TERMINAL = {"Complete", "Failed", "Cancelled", "Timeout", "Unknown"}
POLL_GROWTH = 1.5  # each poll interval over the last (see the module docstring)
NAMED_RETRIES = 2  # missing groups dropped by name per batch before one DescribeLogGroups listing
_MISSING = re.compile(r"Log group '([^']+)' does not exist")
QUERY_RPS = 5.0  # StartQuery, and GetQueryResults, per account and region (CloudWatch Logs quotas)
_pacers: dict[tuple, RateLimiter] = {}
_pacers_lock = threading.Lock()


def pacer(ctx: AwsContext, region: str, operation: str) -> RateLimiter:
    """The process's one token bucket for ``operation`` in this endpoint, profile and region."""
    key = (getattr(ctx, "endpoint_url", None), ctx.profile, region, operation)
    with _pacers_lock:
        found = _pacers.get(key)
        if found is None:
            found = _pacers[key] = RateLimiter(QUERY_RPS * PACE_FRACTION, burst=3)
        return found


class MissingLogGroup(ServiceError):
    """StartQuery named a log group that does not exist (``group`` None when the message did not say)."""

    def __init__(self, message: str, group: str | None, **kw) -> None:
        super().__init__(message, code="ResourceNotFoundException", **kw)
        self.group = group


@dataclass
class InsightsOutcome:
    rows: list[dict[str, str]] = field(default_factory=list)
    failed_groups: dict[str, str] = field(default_factory=dict)  # log group -> why
    missing_groups: dict[str, str] = field(default_factory=dict)  # log group -> why (does not exist)
    queries: int = 0
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0


def source_query(query: str, prefixes: list[str]) -> str:
    """``query`` behind ``SOURCE logGroups(namePrefix: [...])``, the command that must open the query
    string (CWL_QuerySyntax-Source)."""
    quoted = ", ".join("'" + p.replace("\\", "\\\\").replace("'", "\\'") + "'" for p in prefixes)
    return f"SOURCE logGroups(namePrefix: [{quoted}])\n| {query.lstrip()}"


def rows_to_dicts(results: list[list[dict]]) -> list[dict[str, str]]:
    return [{cell["field"]: cell["value"] for cell in row if cell.get("field") != "@ptr"} for row in results]


class InsightsRunner:
    def __init__(self, ctx: AwsContext, *, concurrency: int = 10, poll_s: float = 0.1, max_poll_s: float = 5.0,
                 timeout_s: float = 900.0) -> None:
        self.ctx = ctx
        self.concurrency = max(1, concurrency)
        self.poll_s, self.max_poll_s, self.timeout_s = poll_s, max_poll_s, timeout_s
        self._slots = threading.Semaphore(self.concurrency)
        self.missing: dict[tuple[str, str], str] = {}  # (region, group) -> why, across runs
        self._missing_lock = threading.Lock()
        self.source_refused: dict[str, str] = {}  # region -> why its SOURCE query failed (asked once a run)

    def run_source(self, region: str, query: str, prefixes: list[str], start: datetime, end: datetime,
                   *, limit: int = 10000) -> InsightsOutcome:
        """``query`` over every log group whose name starts with one of ``prefixes``, in one query
        (SOURCE): rows of every such group, each with its ``@log``. Raises ServiceError when AWS
        refuses it (too many groups, a quota), after remembering the region in ``source_refused``."""
        if not prefixes or len(prefixes) > MAX_SOURCE_PREFIXES:
            raise ValueError(f"SOURCE takes 1 to {MAX_SOURCE_PREFIXES} name prefixes, got {len(prefixes)}")
        out = InsightsOutcome()
        try:
            rows, stats = self._run_one(region, source_query(query, prefixes), [], start, end, limit)
        except ServiceError as err:
            self.source_refused[region] = err.one_line()
            raise
        out.rows, out.queries = rows, 1
        out.records_scanned = float(stats.get("recordsScanned", 0))
        out.bytes_scanned = float(stats.get("bytesScanned", 0))
        return out

    def run(self, region: str, query: str, log_groups: list[str], start: datetime, end: datetime,
            *, limit: int = 10000, source: str | None = None) -> InsightsOutcome:
        """Run ``query`` over ``log_groups`` (batches of 50, concurrently). ``source`` names the query
        file in error messages."""
        out = InsightsOutcome()
        batches = [log_groups[i:i + MAX_GROUPS_PER_QUERY] for i in range(0, len(log_groups), MAX_GROUPS_PER_QUERY)]
        lock = threading.Lock()

        def one(batch: list[str]) -> None:
            groups = list(batch)
            named, listed = 0, False
            while True:
                with self._missing_lock:
                    known = {g: self.missing[(region, g)] for g in groups if (region, g) in self.missing}
                if known:
                    with lock:
                        out.missing_groups.update(known)
                    groups = [g for g in groups if g not in known]
                if not groups:
                    return
                try:
                    rows, stats = self._run_one(region, query, groups, start, end, limit)
                except MissingLogGroup as err:
                    with lock:
                        out.queries += 1
                    if err.group in groups and named < NAMED_RETRIES:
                        named += 1
                        self._mark_missing(region, [err.group], err.one_line())
                        continue
                    if not listed:
                        listed = True
                        try:
                            gone = self._absent(region, groups)
                        except ServiceError as exc:
                            gone, err = [], exc
                        if gone:
                            self._mark_missing(region, gone, err.one_line())
                            continue
                    self._fail(out, lock, groups, err, source)
                    return
                except ServiceError as err:
                    with lock:
                        out.queries += 1
                    self._fail(out, lock, groups, err, source)
                    return
                with lock:
                    out.rows.extend(rows)
                    out.queries += 1
                    out.records_scanned += float(stats.get("recordsScanned", 0))
                    out.bytes_scanned += float(stats.get("bytesScanned", 0))
                return

        if len(batches) == 1:
            one(batches[0])
        elif batches:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches)),
                                    thread_name_prefix="insights") as pool:
                list(pool.map(one, batches))
        return out

    @staticmethod
    def _fail(out: InsightsOutcome, lock, groups: list[str], err: ServiceError, source: str | None) -> None:
        why = err.one_line()
        if source and err.code == "MalformedQueryException":
            why = f"{source}: {why}"
        with lock:
            for g in groups:
                out.failed_groups[g] = why

    def _mark_missing(self, region: str, groups: list[str], why: str) -> None:
        with self._missing_lock:
            for g in groups:
                self.missing[(region, g)] = f"log group {g} does not exist" if g not in why else why

    def _absent(self, region: str, groups: list[str]) -> list[str]:
        """Which of ``groups`` do not exist: one DescribeLogGroups listing by their common prefix."""
        cli = self.ctx.client("logs", region)
        wanted, seen = set(groups), set()
        params = {"limit": 50}
        prefix = os.path.commonprefix(groups)
        if prefix:
            params["logGroupNamePrefix"] = prefix
        while True:
            try:
                page = cli.describe_log_groups(**params)
            except bx.ClientError as exc:
                raise translate(exc, profile=self.ctx.profile, region=region) from exc
            seen.update(g["logGroupName"] for g in page.get("logGroups", []) if g.get("logGroupName") in wanted)
            token = page.get("nextToken")
            if not token or seen == wanted:
                break
            params["nextToken"] = token
        return [g for g in groups if g not in seen]

    def _run_one(self, region, query, groups, start, end, limit):
        cli = self.ctx.client("logs", region)
        with self._slots:
            qid = self._start(cli, region, query, groups, start, end, limit)
            deadline = time.monotonic() + self.timeout_s
            delay = self.poll_s
            polls = pacer(self.ctx, region, "GetQueryResults")
            while True:
                time.sleep(delay)
                polls.acquire()
                try:
                    resp = cli.get_query_results(queryId=qid)
                except bx.ClientError as exc:
                    if is_throttle(exc):
                        delay = min(self.max_poll_s, delay * POLL_GROWTH)
                        continue
                    raise translate(exc, profile=self.ctx.profile, region=region) from exc
                status = resp.get("status")
                if status in TERMINAL:
                    break
                if time.monotonic() > deadline:
                    try:
                        cli.stop_query(queryId=qid)
                    except bx.ClientError:
                        pass
                    raise ServiceError(f"Logs Insights query did not finish in {self.timeout_s:.0f}s", region=region)
                delay = min(self.max_poll_s, delay * POLL_GROWTH)
        if status != "Complete":
            raise ServiceError(f"Logs Insights query ended {status}", code=status, region=region)
        return rows_to_dicts(resp.get("results", [])), resp.get("statistics", {})

    def _start(self, cli, region, query, groups, start, end, limit) -> str:
        attempt = 0
        starts = pacer(self.ctx, region, "StartQuery")
        while True:
            starts.acquire()
            try:
                # with SOURCE in the query string StartQuery takes no log group list
                named = {"logGroupNames": groups} if groups else {}
                return cli.start_query(**named, startTime=int(start.timestamp()),
                                       endTime=int(end.timestamp()), queryString=query, limit=limit)["queryId"]
            except bx.ClientError as exc:
                code = error_code(exc)
                if (code == "LimitExceededException" or is_throttle(exc)) and attempt < 8:
                    attempt += 1
                    time.sleep(min(10.0, 0.5 * 2 ** attempt))
                    continue
                if code == "ResourceNotFoundException":
                    message = exc.response.get("Error", {}).get("Message") or str(exc)
                    named = _MISSING.search(message)
                    raise MissingLogGroup(f"{message} in {region}", named.group(1) if named else None,
                                          operation="StartQuery", region=region) from exc
                raise translate(exc, profile=self.ctx.profile, region=region) from exc
