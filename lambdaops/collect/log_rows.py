"""One Logs Insights result row of the binned query (``collect.log_bins``) as a mergeable cell, and the
row's bin: parsing kept apart from the planning of what to ask."""

from __future__ import annotations

from datetime import datetime, timezone

from lambdaops.store.cells import Cell, parse_bucket


def merge_into(cells: dict, key, cell: Cell) -> None:
    if key in cells:
        cells[key].merge(cell)
    else:
        cells[key] = Cell().merge(cell)


def bin_start(text: str | None) -> int | None:
    """A ``bin(5m)`` value ("2026-12-02 00:25:00.000", UTC) as epoch seconds."""
    if not text:
        return None
    try:
        ts = datetime.strptime(text.replace("T", " ")[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return int(ts.replace(tzinfo=timezone.utc).timestamp())


def num(value: str | None) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except ValueError:
        return None


def row_cell(row: dict[str, str]) -> Cell:
    """One result row as a cell (its request ids, its cold starts in its bucket)."""
    cell = Cell(invocations=num(row.get("invocations")) or 0.0, cold_starts=num(row.get("coldStarts")) or 0.0,
                billed_ms=num(row.get("billedMs")), max_memory_mb=num(row.get("maxMemoryUsedMB")))
    bucket = parse_bucket(row.get("initBucket"))
    if bucket is not None and cell.cold_starts:
        cell.hist[bucket] = int(cell.cold_starts)
    if row.get("timeoutId"):
        cell.timeout_ids.add(row["timeoutId"])
    if row.get("oomId"):
        cell.oom_ids.add(row["oomId"])
    return cell
