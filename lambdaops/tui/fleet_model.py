"""The fleet table's rows, from whatever has arrived so far: the inventory alone (first paint), the
sparklines, then the snapshot's figures and findings.

Built in the worker thread that fetched the data (one pass over the functions, no textual), so the
UI thread only swaps the model in.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

from lambdaops.models import FunctionInfo
from lambdaops.errors import MISSING_MARK
from lambdaops.tui import format as fmt
from lambdaops.tui.filter_expr import words_of
from lambdaops.tui.table_model import Column, TableModel

PENDING = "…"  # not fetched yet
FAILED = MISSING_MARK  # could not be fetched (a call failed); "-" is no data / does not apply
# The figure columns in the order _figure_cells gives them.
FIGURE_KEYS = ("invocations", "error_rate", "throttles", "cold_start_rate", "duration_p50_ms", "duration_p99_ms",
               "max_concurrency", "iterator_age_max_ms", "dlq_depth", "cost_usd")
SEVERITY_RANK = {"critical": 2, "warning": 1}
TUNING_MARK = "⚙"  # a row whose figures include this session's tuning invocations


def fleet_columns(window_label: str = "3h") -> tuple[Column, ...]:
    # Priorities: at 80 columns the name, error %, cold %, p99, DLQ, cost and the worst finding fit
    # (22+5+5+6+4+6 and 20 for the finding, with gaps and a scrollbar: 76); wider terminals add the
    # count and region, then the trend, and so on. The finding (last) takes the width left over.
    return (
        Column("name", "Function", 22, severity_styled=True, priority=0),
        Column("region", "Region", 9, priority=3),
        Column("runtime", "Runtime", 12, priority=5),
        Column("memory_mb", "Mem MB", 6, "right", priority=5),
        Column("trend", "Invocations", 11, sortable=False, priority=4),
        Column("invocations", "Count", 6, "right", priority=3),
        Column("error_rate", "Err%", 5, "right", priority=1),
        Column("throttles", "Thr", 5, "right", priority=4),
        Column("cold_start_rate", "Cold%", 5, "right", priority=2),
        Column("duration_p50_ms", "p50ms", 6, "right", priority=5),
        Column("duration_p99_ms", "p99ms", 6, "right", priority=1),
        Column("max_concurrency", "Conc", 4, "right", priority=6),
        Column("iterator_age_max_ms", "IterAge", 7, "right", priority=6),
        Column("dlq_depth", "DLQ", 4, "right", priority=2),
        Column("cost_usd", f"${window_label}", 6, "right", priority=1),
        Column("finding", "Worst finding", 20, severity_styled=True, priority=0),
    )


def row_key(region: str, name: str) -> str:
    return f"{region}/{name}"


def _figure_cells(row: dict[str, Any] | None) -> tuple[list[str], dict[str, Any], str | None, str, str]:
    """Formatted figures, sort values, severity, worst-finding text and findings' search text of one
    snapshot row."""
    if row is None:
        return [PENDING] * 10, {}, None, "", ""
    num = fmt.number
    findings = row.get("findings") or []
    worst = findings[0] if findings else None
    age = num(row.get("iterator_age_max_ms"))
    cells = [
        fmt.count(row.get("invocations")),
        fmt.pct(row.get("error_rate")),
        fmt.count(row.get("throttles")),
        fmt.pct(row.get("cold_start_rate")),
        fmt.ms(row.get("duration_p50_ms")),
        fmt.ms(row.get("duration_p99_ms")),
        fmt.count(row.get("max_concurrency")),
        fmt.MISSING if age is None else fmt.age_s(age / 1000),
        fmt.count(row.get("dlq_depth")),
        fmt.usd(row.get("cost_usd")),
    ]
    failed = set(row.get("missing") or ())
    cells = [FAILED if key in failed else cell for key, cell in zip(FIGURE_KEYS, cells)]
    sort = {k: num(row.get(k)) for k in FIGURE_KEYS}
    if row.get("stage") == "metrics":  # Logs Insights has not answered: its figures and the findings wait
        cells = [PENDING if key not in row and key not in failed else cell for key, cell in zip(FIGURE_KEYS, cells)]
        return cells, {**sort, "finding": None}, None, PENDING, "missing" if failed else ""
    severity = worst.severity if worst else None
    sort["finding"] = float(SEVERITY_RANK.get(severity, 0)) + min(len(findings), 9) / 10
    text = f"{fmt.SEVERITY_ICON[worst.severity]} {worst.message}" if worst else ""
    if len(findings) > 1:
        text += f" (+{len(findings) - 1})"
    tuning = row.get("tuning")  # this session's tuning invocations, left out of the findings
    if tuning is not None and not worst:
        text = f"{TUNING_MARK} {tuning.note()}"
    search = " ".join([severity or ""] + [f"{f.code} {f.message}" for f in findings]
                      + (["missing"] if failed else []))
    return cells, sort, severity, text, search


def metric_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``collect_fleet``'s ``on_metrics`` records as rows of the metrics stage: the error rate worked
    out as the analysis does (Errors / Invocations, 0 without invocations); the figures that come
    from Logs Insights (cold %, cost) and the findings are still to come."""
    out = []
    for rec in records:
        inv, err = fmt.number(rec.get("invocations")), fmt.number(rec.get("errors"))
        rate = None if inv is None or err is None else (err / inv if inv else 0.0)
        out.append({**rec, "error_rate": rate, "stage": "metrics"})
    return out


class FirstPaint:
    """The rows of a first paint as its parts arrive on worker threads of their own: the sparklines
    and each region's metric records (``collect_fleet``'s ``on_metrics``), in whatever order. Every
    arrival is shown with all that came before it (``show(stage, model, sparks)``), so a late part
    never takes back an earlier one: sparklines that answer after the metrics keep the metric columns.
    The stage is ``metrics`` once any region's metrics are in (Logs Insights still to come), else
    ``sparklines``."""

    def __init__(self, functions: list[FunctionInfo], window_label: str,
                 show: Callable[[str, TableModel, dict[str, list[float]]], None]) -> None:
        self.functions = functions
        self.window_label = window_label
        self.show = show
        self.sparks: dict[str, list[float]] | None = None  # None: not answered yet
        self.rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def sparks_in(self, sparks: dict[str, list[float]]) -> None:
        with self._lock:
            self.sparks = dict(sparks)
            self._show()

    def metrics_in(self, region: str, records: list[dict[str, Any]]) -> None:
        try:
            with self._lock:
                self.rows.update({row_key(r["region"], r["name"]): r for r in metric_rows(records)})
                self._show()
        except Exception:  # noqa: BLE001 - it runs inside the collection: an early view never costs the figures
            return

    def _show(self) -> None:
        # Under the lock: two parts arriving at once are shown in the order they were merged.
        ordered = [self.rows[k] for k in sorted(self.rows)] if self.rows else None
        model = build_fleet_model(self.functions, ordered, self.sparks, window_label=self.window_label)
        self.show("metrics" if self.rows else "sparklines", model, dict(self.sparks or {}))


def missing_figures(table_rows: list[dict[str, Any]] | None) -> int:
    """How many figures of the snapshot could not be fetched (for the header)."""
    return sum(len(r.get("missing") or ()) for r in table_rows or ())


def build_fleet_model(functions: Iterable[FunctionInfo], table_rows: list[dict[str, Any]] | None = None,
                      sparks: dict[str, list[float]] | None = None, window_label: str = "3h") -> TableModel:
    """One row per function. ``table_rows``: the snapshot table as records (worst first, the order the
    rows are shown in until the user sorts); without it the inventory order (region, name)."""
    model = TableModel(fleet_columns(window_label))
    by_key = {row_key(r["region"], r["name"]): r for r in table_rows} if table_rows is not None else None
    fns = {row_key(f.region, f.name): f for f in functions}
    if by_key is not None:
        order = [k for k in by_key if k in fns] + sorted(k for k in fns if k not in by_key)
    else:
        order = sorted(fns)
    sparks_due = sparks is None  # a first paint whose sparklines have not answered yet
    sparks = sparks or {}
    for key in order:
        fn = fns[key]
        row = by_key.get(key) if by_key is not None else None
        figures, sort, severity, finding, finding_search = _figure_cells(row)
        spark = sparks.get(key)
        cells = [fn.name, fn.region, fn.runtime or fn.package_type.lower(), str(fn.memory_mb),
                 fmt.sparkline(spark, 10) if spark is not None else
                 (PENDING if row is None or (sparks_due and row.get("stage") == "metrics") else ""),
                 *figures, finding]
        sort.update(name=fn.name, region=fn.region, runtime=cells[2], memory_mb=float(fn.memory_mb))
        if row is None:
            sort["finding"] = None
        tags = " ".join(f"{k}={v}" for k, v in fn.tags.items())
        search = f"{fn.name} {fn.region} {cells[2]} {fn.architecture} {tags} {finding_search}"
        model.add_row(key, cells, sort, severity, search, fields=_filter_fields(fn, row, cells[2]))
    return model


def _filter_fields(fn: FunctionInfo, row: dict[str, Any] | None, runtime: str) -> dict[str, Any]:
    """What a filter expression can ask of a row, in the units its columns show (err and cold in %,
    durations in ms, cost in dollars, iterator age in seconds); None where the figure is not known."""
    row = row or {}
    num = fmt.number

    def scaled(key: str, factor: float) -> float | None:
        v = num(row.get(key))
        return None if v is None else v * factor

    findings = row.get("findings") or []
    # A plain word matches names and fields, not the findings' prose (``checkout`` must not list
    # image-resize because its finding mentions a checkout).
    words = words_of(fn.name, fn.region, runtime, fn.architecture, *(f"{k}={v}" for k, v in fn.tags.items()),
                     *(f.code for f in findings), *(f.severity for f in findings),
                     *(["missing"] if row.get("missing") else []), *(["tuning"] if row.get("tuning") else []))
    return {
        "words": words, "name": fn.name, "region": fn.region, "runtime": runtime,
        "arch": fn.architecture, "tag": [f"{k}={v}" for k, v in fn.tags.items()] + list(fn.tags),
        "finding": [f.code for f in findings] + [f.severity for f in findings],
        "severity": findings[0].severity if findings else "ok",
        "err": scaled("error_rate", 100), "cold": scaled("cold_start_rate", 100), "p99": num(row.get("duration_p99_ms")),
        "p50": num(row.get("duration_p50_ms")), "dlq": num(row.get("dlq_depth")), "cost": num(row.get("cost_usd")),
        "mem": float(fn.memory_mb), "count": num(row.get("invocations")), "thr": num(row.get("throttles")),
        "conc": num(row.get("max_concurrency")), "age": scaled("iterator_age_max_ms", 0.001),
    }

