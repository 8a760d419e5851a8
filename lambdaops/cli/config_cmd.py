"""``lambdaops config``: the effective settings and where each came from."""

from __future__ import annotations

import typer

from lambdaops.cli.output import Column, emit

COLUMNS = [Column("setting", "Setting"), Column("value", "Value"), Column("source", "Source")]


def register(app: typer.Typer) -> None:
    @app.command("config")
    def config(ctx: typer.Context) -> None:
        """Show the effective settings (CLI > LAMBDAOPS_* env > config file > AWS settings > defaults)."""
        from lambdaops.config import config_path

        state = ctx.obj
        fmt = state.output_format()
        settings = state.settings()
        rows = settings.as_rows()
        rows.append({"setting": "config_file", "value": str(config_path()),
                     "source": "exists" if settings.config_file else "not found (defaults apply)"})
        if state.endpoint_url:
            rows.append({"setting": "endpoint_url", "value": state.endpoint_url, "source": "command line"})
        emit(rows, COLUMNS, fmt, json_data={r["setting"]: {"value": r["value"], "source": r["source"]} for r in rows})

    del config
