"""What ``lambdaops query`` shows: the named queries (``--list``, ``--help``), the selection by name,
glob or ARN, and the rows (rounded in tables, exact in JSON and CSV)."""

from __future__ import annotations

import fnmatch
from typing import Any

from lambdaops.cli import query_rows as qr
from lambdaops.cli.output import Column, emit
from lambdaops.errors import UsageError

_LEFT = {"function", "region", "@log", "@message", "@logStream", "@timestamp", "requestId", "traceId", "bin(5m)"}


def query_help() -> str:
    from lambdaops.query_files import available

    return f"A named query ({', '.join(available())}; see --list) or a .logsinsights file."


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + "." if sep else text


def list_or_require(name: str | None, fmt: str, listing: bool = True) -> None:
    from lambdaops.query_files import available, load

    if name is None and not listing:
        raise UsageError(f"missing QUERY: one of {', '.join(available())}, or a .logsinsights file")
    if name is not None:
        raise UsageError("--list takes no QUERY")
    rows = [{"query": n, "description": _first_sentence(load(n).description)} for n in available()]
    emit(rows, [Column("query", "Query"), Column("description", "Description", max_width=100)], fmt)


def select_refs(functions: list[Any], refs: list[str]) -> list[Any]:
    """``--functions`` values: a glob over names, or a function ARN (its region and name)."""
    if not refs:
        return list(functions)
    from lambdaops.cli.lookup import split_function_arn

    chosen = []
    for f in functions:
        for ref in refs:
            if ref.startswith("arn:"):
                name, region = split_function_arn(ref)
                if f.name == name and f.region == region:
                    chosen.append(f)
                    break
            elif fnmatch.fnmatchcase(f.name, ref):
                chosen.append(f)
                break
    return chosen


def emit_rows(rows: list[dict], fmt: str) -> None:
    keys = list(dict.fromkeys(["function", "region"] + [k for r in rows for k in r])) if rows else []
    if fmt == "json":
        emit([], [], "json", json_data=[qr.exact(r) for r in rows])
        return
    human = fmt in ("table", "markdown")
    cols = [Column(k, k, "left" if k in _LEFT else "right", fmt=qr.rounded if human else None,
                   max_width=120) for k in keys]
    emit(rows, cols, fmt)
