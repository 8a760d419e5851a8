"""Raw-log fallback: Lambda's log lines through FilterLogEvents, for when Logs Insights is unavailable.

Equivalent: ``aws logs filter-log-events --log-group-name G --filter-pattern
'?"REPORT RequestId" ?"platform.report" ?"Task timed out after" ?"signal: killed"'``: the REPORT lines
and platform.report records, and an older runtime's separate timeout and out-of-memory lines. Figures
follow report_line's rules and are split per function by stream (shared custom log groups).
FilterLogEvents allows 5 requests/s per account and region (not raisable) and pages may be empty
while a token remains, so this may be bounded by a row limit and says when it stopped early.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import error_code, translate
from lambdaops.aws.ratelimit import RateLimiter
from lambdaops.report_line import LogFigures, summarize

PATTERN = '?"REPORT RequestId" ?"platform.report" ?"Task timed out after" ?"signal: killed"'
FILTER_LOG_EVENTS_RPS = 5.0


@dataclass
class ReportLines:
    # log group -> function named in the stream ("" in a function's own group) -> figures
    figures: dict[str, dict[str, LogFigures]] = field(default_factory=dict)
    truncated: dict[str, int] = field(default_factory=dict)  # log group -> lines read before the limit
    failed: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # log group -> why (it does not exist)
    calls: int = 0


def fetch_reports(ctx: AwsContext, region: str, log_groups: list[str], start: datetime, end: datetime,
                  *, row_limit: int | None = 50_000, limiter: RateLimiter | None = None) -> ReportLines:
    """Every REPORT line of each group in [start, end), following nextToken to the end of the window
    (a page may be empty while a token remains). With ``row_limit`` a group stops once that many lines
    are read with more to come: it is listed in ``truncated`` (its lines are a part, not the total)."""
    out = ReportLines()
    cli = ctx.client("logs", region)
    limiter = limiter or RateLimiter(FILTER_LOG_EVENTS_RPS)
    for group in log_groups:
        rows: list[tuple[str, str]] = []
        token = None
        try:
            while True:
                limiter.acquire()
                params = {"logGroupName": group, "startTime": int(start.timestamp() * 1000),
                          "endTime": int(end.timestamp() * 1000) - 1, "filterPattern": PATTERN}
                if token:
                    params["nextToken"] = token
                page = cli.filter_log_events(**params)
                out.calls += 1
                rows.extend((ev.get("logStreamName", ""), ev.get("message", "")) for ev in page.get("events", []))
                token = page.get("nextToken")
                if not token:
                    break
                if row_limit and len(rows) >= row_limit:
                    out.truncated[group] = len(rows)
                    break
        except (bx.ClientError, bx.BotoCoreError) as exc:
            why = translate(exc, profile=ctx.profile, region=region).one_line()
            if isinstance(exc, bx.ClientError) and error_code(exc) == "ResourceNotFoundException":
                out.missing[group] = why
            else:
                out.failed[group] = why
            continue
        out.figures[group] = summarize(rows)
    return out
