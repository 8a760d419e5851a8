"""``lambdaops functions``: the fleet inventory across the selected regions."""

from __future__ import annotations

import sys

import typer

from lambdaops.cli.output import Column, emit
from lambdaops.errors import EXIT_SERVICE, MISSING_MARK, LambdaopsError, error_line
from lambdaops.plural import plural

COLUMNS = [
    Column("name", "Function", max_width=40),
    Column("region", "Region"),
    Column("runtime", "Runtime"),
    Column("architecture", "Arch"),
    Column("memory_mb", "Mem MB", "right"),
    Column("timeout_s", "Timeout s", "right"),
    Column("last_modified", "Last modified", fmt=lambda v: (v or "-")[:19].replace("T", " ")),
    Column("reserved_concurrency", "Reserved", "right"),
    Column("log_format", "Log"),
    Column("triggers", "Triggers", max_width=48),
    Column("dead_letter_target", "DLQ"),
    Column("on_failure_destination", "On-failure"),
]


def report_region_errors(errors, *, strict: bool, total_regions: int, stream=None, gaps=()) -> int:
    """Print per-region failures and ``gaps`` (ErrorTally entries: per-function calls that failed in
    regions that were listed) on stderr; return the exit code they call for: the regions' own when
    every region failed, 254 with ``strict`` when anything is missing, else 0."""
    from lambdaops.safe_text import safe_text

    stream = stream or sys.stderr
    for err in errors:
        print(f"lambdaops: {err.region}: {safe_text(err.message, None)}", file=stream)  # AWS's text: inert
    for gap in gaps:
        print(f"lambdaops: {error_line(gap)}", file=stream)
    if errors and len(errors) == total_regions:
        return max(e.exit_code for e in errors)
    return EXIT_SERVICE if ((errors or gaps) and strict) else 0


# What a failed per-function call leaves unknown (GetFunction, GetFunctionEventInvokeConfig).
DETAIL_KEYS = ("reserved_concurrency", "on_failure_destination")


def mark_missing_details(row: dict) -> dict:
    """For human formats: a detail that could not be fetched reads "?", not "-" (none)."""
    if not row.get("details_error"):
        return row
    return {**row, **{k: MISSING_MARK for k in DETAIL_KEYS}}


def register(app: typer.Typer) -> None:
    @app.command("functions")
    def functions(
        ctx: typer.Context,
        details: bool = typer.Option(True, "--details/--no-details",
                                     help="Also fetch reserved concurrency and on-failure destinations (2 calls per function, cached 15 min)."),
        strict: bool = typer.Option(False, "--strict", help="Exit 254 when anything could not be fetched: a region, or a function's details (the rest is still listed)."),
    ) -> None:
        """List every function of the selected regions: runtime, memory, triggers, failure targets."""
        from lambdaops.aws.inventory import InventoryOptions, fleet_inventory

        state = ctx.obj
        fmt = state.output_format()
        aws = state.aws()
        inv = fleet_inventory(aws, opts=InventoryOptions(details=details, cache_dir=state.cache_dir()))
        code = report_region_errors(inv.errors, strict=strict, total_regions=len(inv.regions),
                                    gaps=inv.detail_errors)
        if inv.errors and len(inv.errors) == len(inv.regions):
            raise LambdaopsError("every region failed", exit_code=code)
        rows = [f.to_row() for f in sorted(inv.functions, key=lambda f: (f.region, f.name))]
        missing = sum(1 for r in rows if r["details_error"])
        if missing:
            print(f"lambdaops: details of {missing} of {plural(len(rows), 'function')} could not be fetched "
                  f"(shown as {MISSING_MARK}; null with details_error in JSON)", file=sys.stderr)
        emit(rows if fmt == "json" else [mark_missing_details(r) for r in rows], COLUMNS, fmt, title=None)
        if fmt == "table" and sys.stderr.isatty():
            print(f"{plural(len(rows), 'function')} in {plural(len(inv.regions), 'region')}, "
                  f"{plural(sum(inv.api_calls.values()), 'API call')}",
                  file=sys.stderr)
        if code:
            raise typer.Exit(code)

    del functions
