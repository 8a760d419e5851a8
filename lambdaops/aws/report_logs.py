"""Raw-log fallback: REPORT lines through FilterLogEvents, for when Logs Insights is unavailable.

Equivalent: ``aws logs filter-log-events --log-group-name G --filter-pattern '?"REPORT RequestId" ?"platform.report"'``.
FilterLogEvents allows 5 requests/s per account and region (not raisable) and pages may be empty
while a token remains, so this may be bounded by a row limit and says when it stopped early.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import translate
from lambdaops.aws.ratelimit import RateLimiter
from lambdaops.report_line import Report, parse_report

PATTERN = '?"REPORT RequestId" ?"platform.report"'
FILTER_LOG_EVENTS_RPS = 5.0


@dataclass
class ReportLines:
    reports: dict[str, list[Report]] = field(default_factory=dict)  # log group -> reports
    truncated: dict[str, int] = field(default_factory=dict)  # log group -> rows read before the limit
    failed: dict[str, str] = field(default_factory=dict)
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
        rows: list[Report] = []
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
                for ev in page.get("events", []):
                    rep = parse_report(ev.get("message", ""))
                    if rep is not None:
                        rows.append(rep)
                token = page.get("nextToken")
                if not token:
                    break
                if row_limit and len(rows) >= row_limit:
                    out.truncated[group] = len(rows)
                    break
        except (bx.ClientError, bx.BotoCoreError) as exc:
            out.failed[group] = translate(exc, profile=ctx.profile, region=region).one_line()
            continue
        out.reports[group] = rows
    return out
