"""``lambdaops report``: the fleet analysis for cron and CI, and ``query`` / ``traces``.

Must not import textual: cron start-up stays fast (a test checks it).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from lambdaops.errors import EXIT_FINDINGS, EXIT_SERVICE, MISSING_MARK, UsageError, error_line
from lambdaops.safe_text import safe_text
from lambdaops.plural import plural

REPORT_FORMATS = ("table", "json", "csv", "markdown", "html")


def parse_tags(tags: list[str]) -> dict[str, str]:
    out = {}
    for t in tags:
        if "=" not in t:
            raise UsageError(f"--tag {t!r} must be KEY=VALUE")
        k, v = t.split("=", 1)
        out[k] = v
    return out


def write_atomically(path: Path, text: str) -> None:
    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"--out {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


class _Progress:
    """A spinner on stderr, only when stderr is a terminal (cron logs stay clean)."""

    def __init__(self) -> None:
        self.status = None
        if sys.stderr.isatty():
            from rich.console import Console

            self.status = Console(stderr=True).status("collecting...")
            self.status.start()

    def __call__(self, message: str) -> None:
        if self.status is not None:
            from rich.text import Text

            self.status.update(Text(safe_text(message, None)))  # never read as markup

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()


def exit_code_for(snapshot, strict: bool) -> int:
    """254 when nothing could be collected (every region failed, or no figure of any function could
    be fetched) whatever the flags, and with ``strict`` when anything is missing; else 0 (then
    --fail-on decides). An incomplete report outranks findings: its findings may be missing too."""
    if snapshot.nothing_collected() or (strict and snapshot.has_gaps()):
        region_codes = [e.get("exit_code") or EXIT_SERVICE for e in snapshot.errors if e.get("region")]
        return max(region_codes, default=EXIT_SERVICE) if snapshot.nothing_collected() else EXIT_SERVICE
    return 0


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        ctx: typer.Context,
        since: Optional[str] = typer.Option(None, "--since", help="Window ending now, e.g. 3h, 90m, 2d (default: config window)."),
        start: Optional[str] = typer.Option(None, "--start", help="Window start, ISO-8601 (with --end)."),
        end: Optional[str] = typer.Option(None, "--end", help="Window end, ISO-8601 (default: now)."),
        functions: Optional[list[str]] = typer.Option(None, "--functions", help="Function name glob; repeatable."),
        tag: Optional[list[str]] = typer.Option(None, "--tag", help="Only functions tagged KEY=VALUE; repeatable."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (atomically) instead of stdout."),
        fail_on: Optional[str] = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above warning|critical exists."),
        top: Optional[int] = typer.Option(None, "--top", min=1, help="Only the N worst functions."),
        compare_previous: bool = typer.Option(False, "--compare-previous", help="Also the preceding window of the same length, with the change."),
        insights: bool = typer.Option(True, "--insights/--raw-logs", help="Logs Insights (default) or REPORT lines via FilterLogEvents."),
        raw_row_limit: int = typer.Option(50_000, "--raw-row-limit", min=0, help="With --raw-logs: REPORT lines read per log group at most; a group with more has null log figures and a note (0: read every line)."),
        strict: bool = typer.Option(False, "--strict", help="Exit 254 when anything could not be fetched (a region, a call, a figure); the report is still written."),
    ) -> None:
        """Analyse the fleet over a window: errors, throttles, cold starts, percentiles, IteratorAge, DLQs, cost."""
        from lambdaops.analysis.thresholds import Thresholds
        from lambdaops.cli import report_render as rr
        from lambdaops.collect.fleet import CollectOptions, collect_fleet
        from lambdaops.window import resolve as resolve_window

        state = ctx.obj
        fmt = state.output_format(REPORT_FORMATS)
        if fail_on not in (None, "warning", "critical"):
            raise UsageError("--fail-on takes warning or critical")
        settings = state.settings()
        window = resolve_window(since, start, end, settings.window)
        opts = CollectOptions(window=window, globs=list(functions or []), tags=parse_tags(tag or []),
                              compare_previous=compare_previous, insights=insights, raw_row_limit=raw_row_limit,
                              insights_concurrency=settings.insights_concurrency,
                              thresholds=Thresholds.from_config(settings.thresholds), cache_dir=state.cache_dir())
        aws = state.aws()
        progress = _Progress()
        opts.progress = progress
        try:
            snapshot = collect_fleet(aws, opts)
        finally:
            progress.stop()
        env = rr.envelope(snapshot, top)
        for e in snapshot.errors:
            print(f"lambdaops: {error_line(e)}", file=sys.stderr)
        gaps = snapshot.missing_count()
        if gaps:
            short = sum(1 for m in snapshot.table["missing"] if m)
            print(f"lambdaops: {plural(gaps, 'figure')} of {short} of {plural(len(snapshot.table), 'function')} could not be fetched "
                  f"(null in JSON and listed in each function's missing, {MISSING_MARK} in tables)", file=sys.stderr)
        if fmt == "table" and out is None:
            rr.render_table(env, sys.stdout)
        else:
            text = {"json": rr.render_json, "csv": rr.render_csv, "markdown": rr.render_markdown,
                    "html": rr.render_html, "table": rr.render_markdown}[fmt](env)
            if out is not None:
                write_atomically(out, text)
                print(f"lambdaops: report written to {out}", file=sys.stderr)
            else:
                sys.stdout.write(text)
        code = exit_code_for(snapshot, strict)
        if code:
            if snapshot.nothing_collected():
                print("lambdaops: nothing could be collected", file=sys.stderr)
            raise typer.Exit(code)
        if fail_on:
            rank = {"warning": 1, "critical": 2}
            worst = max((rank.get(sev, 0) for sev in snapshot.table["severity"] if sev), default=0)
            if worst >= rank[fail_on]:
                raise typer.Exit(EXIT_FINDINGS)

    del report
