"""``lambdaops functions``: the fleet inventory across the selected regions."""

from __future__ import annotations

import sys

import typer

from lambdaops.cli.output import Column, emit
from lambdaops.errors import EXIT_SERVICE, LambdaopsError

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


def report_region_errors(errors, *, strict: bool, total_regions: int, stream=None) -> int:
    """Print per-region failures on stderr; return the exit code they call for."""
    from lambdaops.safe_text import safe_text

    stream = stream or sys.stderr
    for err in errors:
        print(f"lambdaops: {err.region}: {safe_text(err.message, None)}", file=stream)  # AWS's text: inert
    if errors and len(errors) == total_regions:
        return max(e.exit_code for e in errors)
    return EXIT_SERVICE if (errors and strict) else 0


def register(app: typer.Typer) -> None:
    @app.command("functions")
    def functions(
        ctx: typer.Context,
        details: bool = typer.Option(True, "--details/--no-details",
                                     help="Also fetch reserved concurrency and on-failure destinations (2 calls per function, cached 15 min)."),
        strict: bool = typer.Option(False, "--strict", help="Exit 254 when any region fails (others are still listed)."),
    ) -> None:
        """List every function of the selected regions: runtime, memory, triggers, failure targets."""
        from lambdaops.aws.inventory import InventoryOptions, fleet_inventory

        state = ctx.obj
        fmt = state.output_format()
        aws = state.aws()
        inv = fleet_inventory(aws, opts=InventoryOptions(details=details, cache_dir=state.cache_dir()))
        code = report_region_errors(inv.errors, strict=strict, total_regions=len(inv.regions))
        if inv.errors and len(inv.errors) == len(inv.regions):
            raise LambdaopsError("every region failed", exit_code=code)
        rows = [f.to_row() for f in sorted(inv.functions, key=lambda f: (f.region, f.name))]
        emit(rows, COLUMNS, fmt, title=None)
        if fmt == "table" and sys.stderr.isatty():
            print(f"{len(rows)} functions in {len(inv.regions)} regions, {sum(inv.api_calls.values())} API calls",
                  file=sys.stderr)
        if code:
            raise typer.Exit(code)

    del functions
