"""``lambdaops query`` (a Logs Insights query file over the selected functions) and ``lambdaops traces``."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from lambdaops.cli import query_rows as qr
from lambdaops.cli.output import Column, emit, make_console
from lambdaops.cli.query_view import emit_rows, list_or_require, query_help, select_refs
from lambdaops.safe_text import safe_text
from lambdaops.errors import EXIT_SERVICE, LambdaopsError, UsageError


def _functions(state, globs: list[str]):
    from lambdaops.collect.fleet import functions

    inv = functions(state.aws(), state.cache_dir())
    for err in inv.errors:
        print(f"lambdaops: {err.region}: {safe_text(err.message, None)}", file=sys.stderr)
    chosen = select_refs(inv.functions, globs)
    if globs and not chosen:
        raise UsageError(f"no function matches {' '.join(globs)} in {', '.join(inv.regions)}")
    return chosen


def register(app: typer.Typer) -> None:
    @app.command("query")
    def query(
        ctx: typer.Context,
        name: Optional[str] = typer.Argument(None, metavar="QUERY", help=query_help()),
        functions: Optional[list[str]] = typer.Option(None, "--functions", metavar="FUNCTION", help="Function name, glob or ARN; repeatable (default: all)."),
        list_queries: bool = typer.Option(False, "--list", help="List the named queries and exit."),
        since: Optional[str] = typer.Option(None, "--since", help="Window ending now (default: config window)."),
        start: Optional[str] = typer.Option(None, "--start", help="Window start, ISO-8601."),
        end: Optional[str] = typer.Option(None, "--end", help="Window end, ISO-8601."),
        limit: int = typer.Option(1000, "--limit", min=1, max=10000, help="Rows per query (Insights' maximum is 10,000)."),
    ) -> None:
        """Run a Logs Insights query over the selected functions' log groups and print the rows."""
        from lambdaops.collect.query import query_functions
        from lambdaops.query_files import load
        from lambdaops.window import resolve as resolve_window

        state = ctx.obj
        fmt = state.output_format()
        if list_queries or name is None:
            return list_or_require(name, fmt, list_queries)
        q = load(name)
        window = resolve_window(since, start, end, state.settings().window)
        fns = _functions(state, list(functions or []))
        run = query_functions(state.aws(), fns, q.text, window, limit=limit, source=str(q.path),
                              concurrency=state.settings().insights_concurrency)
        for line in run.problems():
            print(f"lambdaops: {safe_text(line, None)}", file=sys.stderr)
        owners = qr.group_owners(fns)
        rows: list[dict] = []
        for region in sorted({f.region for f in fns}):
            groups = sorted({f.log_group for f in fns if f.region == region})
            rows += qr.label([r for r in run.rows if r.get("region") == region], region, owners, groups)
        emit_rows(qr.merge(rows, q.text), fmt)
        if not run.complete and not rows:
            raise typer.Exit(EXIT_SERVICE)

    @app.command("traces")
    def traces(
        ctx: typer.Context,
        function: str = typer.Argument(..., help="Function name."),
        since: Optional[str] = typer.Option(None, "--since", help="Window ending now (default: config window)."),
        start: Optional[str] = typer.Option(None, "--start", help="Window start, ISO-8601."),
        end: Optional[str] = typer.Option(None, "--end", help="Window end, ISO-8601."),
        top: int = typer.Option(10, "--top", min=1, max=100, help="How many slowest and cold-start traces."),
        trace_id: Optional[str] = typer.Option(None, "--id", help="Show this trace as a waterfall."),
    ) -> None:
        """The slowest and the cold-start X-Ray traces of a function (or one trace as a waterfall)."""
        from lambdaops.cli.lookup import find_function
        from lambdaops.collect import function as one
        from lambdaops.window import resolve as resolve_window

        state = ctx.obj
        fmt = state.output_format()
        aws = state.aws()
        window = resolve_window(since, start, end, state.settings().window)
        fn = find_function(state, function)
        if trace_id:
            render_waterfall(one.trace(aws, fn.region, trace_id), fmt)
            return
        slowest, cold = one.traces(aws, fn, window, top=top)
        rows = [{"kind": "slowest", **t.to_row()} for t in slowest] + [{"kind": "cold start", **t.to_row()} for t in cold]
        cols = [Column(k, k, "right" if k.endswith("_ms") else "left") for k in
                ("kind", "trace_id", "start", "duration_ms", "cold_start", "init_ms", "invocation_ms", "overhead_ms",
                 "fault", "error")]
        emit(rows, cols, fmt)

    del query, traces


def render_waterfall(trace, fmt: str) -> None:
    spans = trace.spans
    t0 = min(s.start for s in spans)
    t1 = max(s.end for s in spans)
    # data formats carry the depth as a field: indentation is presentation (the table's waterfall)
    rows = [{"span": s.name, "depth": s.depth, "start_ms": round((s.start - t0) * 1000, 1), "ms": round(s.ms, 1),
             "kind": s.kind, "error": s.error or s.fault} for s in spans]
    if fmt != "table":
        emit(rows, [Column(k, k) for k in rows[0]], fmt)
        return
    console = make_console()
    width = 50
    title = f"{trace.trace_id}  {(t1 - t0) * 1000:.0f} ms" + ("  cold start" if trace.cold_start else "")
    console.print(safe_text(title, None), markup=False)
    for s in spans:
        a = int((s.start - t0) / max(t1 - t0, 1e-9) * width)
        b = max(a + 1, int((s.end - t0) / max(t1 - t0, 1e-9) * width))
        bar = " " * a + "█" * (b - a) + " " * (width - b)
        console.print(f"{safe_text('  ' * s.depth + s.name, 34):34} {bar} {s.ms:9.1f} ms", markup=False,
                      style="red" if (s.error or s.fault) else None)


__all__ = ["register", "LambdaopsError"]
