"""CloudWatch Logs Insights: one query file over many log groups, 50 groups a query, several queries
in flight under a concurrency limit, polled until done.

Equivalent: ``aws logs start-query --log-group-names ... --query-string file://q`` then
``aws logs get-query-results --query-id ...``. ``LimitExceededException`` (too many concurrent
queries in the account) and throttling wait and retry; a batch that still fails is reported for its
log groups, which then show figures as missing, not zero.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import error_code, is_throttle, translate
from lambdaops.errors import ServiceError

MAX_GROUPS_PER_QUERY = 50
TERMINAL = {"Complete", "Failed", "Cancelled", "Timeout", "Unknown"}


@dataclass
class InsightsOutcome:
    rows: list[dict[str, str]] = field(default_factory=list)
    failed_groups: dict[str, str] = field(default_factory=dict)  # log group -> why
    queries: int = 0
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0


def rows_to_dicts(results: list[list[dict]]) -> list[dict[str, str]]:
    return [{cell["field"]: cell["value"] for cell in row if cell.get("field") != "@ptr"} for row in results]


class InsightsRunner:
    def __init__(self, ctx: AwsContext, *, concurrency: int = 10, poll_s: float = 0.25, max_poll_s: float = 2.0,
                 timeout_s: float = 900.0) -> None:
        self.ctx = ctx
        self.concurrency = max(1, concurrency)
        self.poll_s, self.max_poll_s, self.timeout_s = poll_s, max_poll_s, timeout_s
        self._slots = threading.Semaphore(self.concurrency)

    def run(self, region: str, query: str, log_groups: list[str], start: datetime, end: datetime,
            *, limit: int = 10000, source: str | None = None) -> InsightsOutcome:
        """Run ``query`` over ``log_groups`` (batches of 50, concurrently). ``source`` names the query
        file in error messages."""
        out = InsightsOutcome()
        batches = [log_groups[i:i + MAX_GROUPS_PER_QUERY] for i in range(0, len(log_groups), MAX_GROUPS_PER_QUERY)]
        lock = threading.Lock()

        def one(batch: list[str]) -> None:
            try:
                rows, stats = self._run_one(region, query, batch, start, end, limit)
            except ServiceError as err:
                why = err.one_line()
                if source and err.code == "MalformedQueryException":
                    why = f"{source}: {why}"
                with lock:
                    for g in batch:
                        out.failed_groups[g] = why
                    out.queries += 1
                return
            with lock:
                out.rows.extend(rows)
                out.queries += 1
                out.records_scanned += float(stats.get("recordsScanned", 0))
                out.bytes_scanned += float(stats.get("bytesScanned", 0))

        if len(batches) == 1:
            one(batches[0])
        elif batches:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches)),
                                    thread_name_prefix="insights") as pool:
                list(pool.map(one, batches))
        return out

    def _run_one(self, region, query, groups, start, end, limit):
        cli = self.ctx.client("logs", region)
        with self._slots:
            qid = self._start(cli, region, query, groups, start, end, limit)
            deadline = time.monotonic() + self.timeout_s
            delay = self.poll_s
            while True:
                time.sleep(delay)
                try:
                    resp = cli.get_query_results(queryId=qid)
                except bx.ClientError as exc:
                    if is_throttle(exc):
                        delay = min(self.max_poll_s, delay * 2)
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
                delay = min(self.max_poll_s, delay * 1.5)
        if status != "Complete":
            raise ServiceError(f"Logs Insights query ended {status}", code=status, region=region)
        return rows_to_dicts(resp.get("results", [])), resp.get("statistics", {})

    def _start(self, cli, region, query, groups, start, end, limit) -> str:
        attempt = 0
        while True:
            try:
                return cli.start_query(logGroupNames=groups, startTime=int(start.timestamp()),
                                       endTime=int(end.timestamp()), queryString=query, limit=limit)["queryId"]
            except bx.ClientError as exc:
                code = error_code(exc)
                if (code == "LimitExceededException" or is_throttle(exc)) and attempt < 8:
                    attempt += 1
                    time.sleep(min(10.0, 0.5 * 2 ** attempt))
                    continue
                raise translate(exc, profile=self.ctx.profile, region=region) from exc
