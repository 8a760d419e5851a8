"""Rows of ``lambdaops query`` from several regions made one result: each row names its function and
region, rows are ordered across regions as the query sorts (and cut to its ``limit``), and numbers
are rounded for people (table, Markdown) but exact for programs (JSON, CSV).

Which function a row belongs to: the function named in its log stream when the group is shared
(``YYYY/MM/DD/<function>[<version>]<id>``; the cold-starts query gives it as ``streamFunction``),
else the one selected function that writes to the row's log group (Lambda developer guide,
"Sending Lambda function logs to CloudWatch Logs").
"""

from __future__ import annotations

import re
from typing import Any, Iterable

_SHARED_STREAM = re.compile(r"^\d+/\d+/\d+/(?P<fn>[^\[/]+)\[")
_SORT = re.compile(r"\|\s*sort\s+(?P<field>[^|]+?)(?:\s+(?P<dir>asc|desc))?\s*(?=\||$)", re.IGNORECASE)
_LIMIT = re.compile(r"\|\s*limit\s+(?P<n>\d+)\s*(?=\||$)", re.IGNORECASE)


def group_owners(functions: Iterable[Any]) -> dict[tuple[str, str], list[str]]:
    """(region, log group) -> the selected functions writing to it."""
    out: dict[tuple[str, str], list[str]] = {}
    for f in functions:
        out.setdefault((f.region, f.log_group), []).append(f.name)
    return out


def function_of(row: dict, region: str, owners: dict[tuple[str, str], list[str]],
                groups: list[str]) -> str | None:
    named = (row.get("streamFunction") or "").strip()
    if named:
        return named
    m = _SHARED_STREAM.match(row.get("@logStream") or "")
    if m:
        return m.group("fn")
    group = row.get("@log", "").split(":", 1)[-1] if row.get("@log") else None
    candidates = [group] if group else groups  # one group queried: its rows are its own
    names = {n for g in candidates for n in owners.get((region, g), [])}
    return names.pop() if len(names) == 1 else None


def label(rows: list[dict], region: str, owners: dict[tuple[str, str], list[str]], groups: list[str]) -> list[dict]:
    """``function`` and ``region`` first, ``@log`` as the bare group name, ``streamFunction`` folded
    into ``function``."""
    out = []
    for r in rows:
        fn = function_of(r, region, owners, groups)
        rest = {k: v for k, v in r.items() if k != "streamFunction"}
        if "@log" in rest:
            rest["@log"] = rest["@log"].split(":", 1)[-1]
        out.append({"function": fn, "region": region, **rest})
    return out


def order_of(query_text: str) -> tuple[str, bool] | None:
    """The query's last ``sort FIELD [asc|desc]`` as (field, descending); Insights sorts descending
    when no direction is given (CloudWatch Logs user guide, "sort")."""
    found = list(_SORT.finditer(query_text))
    if not found:
        return None
    m = found[-1]
    return m.group("field").strip(), (m.group("dir") or "desc").lower() == "desc"


def limit_of(query_text: str) -> int | None:
    found = list(_LIMIT.finditer(query_text))
    return int(found[-1].group("n")) if found else None


def number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        f = float(str(value))
    except ValueError:
        return None
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return int(f) if f.is_integer() and re.fullmatch(r"-?\d+", str(value).strip()) else f


def merge(rows: list[dict], query_text: str) -> list[dict]:
    """Order rows across regions as the query's own sort would, then apply its limit (each region
    honoured it alone); without a sort, by function and region."""
    order = order_of(query_text)
    if order is None:
        return sorted(rows, key=lambda r: (r.get("function") or "", r.get("region") or ""))
    field, desc = order

    def key(r: dict):
        v = r.get(field)
        n = number(v)
        # rows without the field go last either way
        if v is None or v == "":
            return (1, 0, "")
        return (0, -n if (n is not None and desc) else (n if n is not None else 0), "" if n is not None else str(v))

    if any(number(r.get(field)) is None and r.get(field) not in (None, "") for r in rows):
        # text (e.g. @timestamp): a stable two-pass sort keeps the empty ones last
        present = sorted((r for r in rows if r.get(field) not in (None, "")), key=lambda r: str(r[field]),
                         reverse=desc)
        rows = present + [r for r in rows if r.get(field) in (None, "")]
    else:
        rows = sorted(rows, key=key)
    limit = limit_of(query_text)
    return rows[:limit] if limit else rows


def exact(row: dict) -> dict:
    """JSON: numbers as numbers, exactly as Insights returned them."""
    out = {}
    for k, v in row.items():
        # Insights' own fields (@message, @logStream, ...) and ids stay text even when they look numeric
        textual = k.startswith("@") or k in ("function", "region", "requestId", "traceId")
        n = number(v) if not textual and isinstance(v, str) else None
        out[k] = n if n is not None else v
    return out


def rounded(value: Any) -> str:
    """Table and Markdown cell: at most two decimals (933.5640000000001 -> 933.56)."""
    if value is None or value == "":
        return "-"
    n = number(value)
    if n is None or isinstance(n, int):
        return str(value)
    return f"{n:.2f}"
