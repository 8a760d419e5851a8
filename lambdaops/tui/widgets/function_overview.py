"""The function's Overview tab: configuration, six charts over the window, and its findings."""

from __future__ import annotations

import pandas as pd
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.widgets import Static

from lambdaops.models import FunctionInfo, arn_name
from lambdaops.safe_text import markup_escaped, rich_text
from lambdaops.tui import format as fmt
from lambdaops.collect.function import ChartData, ColdStartSeries
from lambdaops.tui.widgets.time_chart import Series, TimeChart

CHARTS = (("traffic", "Invocations"), ("duration", "Duration ms"), ("cold", "Cold starts %"),
          ("concurrency", "Concurrency"), ("iterator", "IteratorAge"), ("init", "Init p99 ms"))


def _x_labels(index) -> tuple[str, str]:
    if len(index) == 0:
        return "", ""
    return index[0].strftime("%H:%M"), index[-1].strftime("%H:%M")


COLD_BIN_S = 300  # the cold-start query's bin(5m)


def regrid_cold_starts(frame: pd.DataFrame, period_s: int, origin=None) -> pd.DataFrame:
    """The 5-minute cold-start bins summed into the metric charts' buckets (``period_s``, a multiple
    of 5 minutes from the same origin), so an overview has one bucket size: counts add up and the
    rate is recomputed; INIT p99 cannot be merged, so a bucket shows its worst 5-minute p99."""
    if frame.empty or period_s <= COLD_BIN_S or period_s % COLD_BIN_S:
        return frame
    kw = {"origin": origin} if origin is not None else {}
    grouped = frame.resample(f"{period_s}s", **kw)
    out = pd.DataFrame({"invocations": grouped["invocations"].sum(), "cold_starts": grouped["cold_starts"].sum(),
                        "init_p99": grouped["init_p99"].max()})
    out["cold_rate"] = (out["cold_starts"] / out["invocations"].where(out["invocations"] > 0) * 100).fillna(0.0)
    return out


def partial_last(index, period_s: int, now) -> bool:
    """The last bucket of the window is not over: its count is a part, not a drop."""
    return len(index) > 0 and index[-1] + pd.Timedelta(seconds=period_s) > pd.Timestamp(now)


def _values(frame: pd.DataFrame, column: str) -> list[float | None]:
    if column not in frame:
        return []
    return [None if pd.isna(v) else float(v) for v in frame[column]]


def config_table(fn: FunctionInfo, aliases: list[tuple[str, str]] | None) -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold", no_wrap=True)
    t.add_column(ratio=1)
    t.add_column(style="bold", no_wrap=True)
    t.add_column(ratio=1)
    triggers = ", ".join(f"{es.kind} {es.name}" + (f" (batch {es.batch_size})" if es.batch_size else "")
                         for es in fn.event_sources) or "none (sync/async invokes)"
    failures = []
    if fn.dead_letter_target:
        failures.append(f"DLQ {arn_name(fn.dead_letter_target)}")
    if fn.on_failure_destination:
        failures.append(f"on-failure → {arn_name(fn.on_failure_destination)}")
    for es in fn.event_sources:
        if es.on_failure:
            failures.append(f"{es.name} on-failure → {arn_name(es.on_failure)}")
    if fn.on_success_destination:
        failures.append(f"on-success → {arn_name(fn.on_success_destination)}")
    alias_text = "loading…" if aliases is None else (", ".join(f"{a}→v{v}" for a, v in aliases) or "none")
    reserved = "unreserved" if fn.reserved_concurrency is None else str(fn.reserved_concurrency)
    if "reserved_concurrency" in fn.details_unread:  # read only on need (collect/details.py)
        reserved = fn.details_unread["reserved_concurrency"]
    elif "reserved_concurrency" in fn.details_failed:
        reserved = "unknown"
    if fn.details_error:
        reserved += f" ({fn.details_error})"
    # Table cells given a str are read as markup; these name AWS resources and errors: Text cells.
    t.add_row("Runtime", rich_text(f"{fn.runtime or fn.package_type} {fn.architecture}"
                                   + (" SnapStart" if fn.snapstart else "")),
              "Memory", f"{fn.memory_mb} MB, timeout {fn.timeout_s}s")
    t.add_row("Concurrency", rich_text(reserved), "Aliases", rich_text(alias_text))
    t.add_row("Triggers", rich_text(triggers), "Failures", rich_text(", ".join(failures) or "no DLQ or destination"))
    t.add_row("Logs", rich_text(f"{fn.log_group} ({fn.log_format})"), "Tracing", rich_text(fn.tracing))
    return t


class FunctionOverview(VerticalScroll):
    DEFAULT_CSS = """
    FunctionOverview #config { height: auto; padding: 0 1; }
    FunctionOverview Grid { grid-size: 3 2; grid-gutter: 0 1; height: 26; }
    FunctionOverview TimeChart { height: 13; }
    FunctionOverview #findings { height: auto; padding: 0 1; border: round $primary-darken-2; }
    """

    def __init__(self, fn: FunctionInfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fn = fn

    def compose(self) -> ComposeResult:
        yield Static(config_table(self.fn, None), id="config")
        with Grid():
            for key, title in CHARTS:
                yield TimeChart(title, id=f"chart-{key}")
        yield Static("findings: waiting for the fleet's figures…", id="findings")

    def chart(self, key: str) -> TimeChart:
        return self.query_one(f"#chart-{key}", TimeChart)

    def show_aliases(self, aliases: list[tuple[str, str]]) -> None:
        self.query_one("#config", Static).update(config_table(self.fn, aliases))

    def show_findings(self, record: dict | None) -> None:
        box = self.query_one("#findings", Static)
        if record is None:
            box.update(Text("findings: waiting for the fleet's figures…", style="dim"))
            return
        out = Text()
        findings = record.get("findings") or []
        for f in findings:
            out.append(f"{fmt.SEVERITY_ICON[f.severity]} ", style="bold red" if f.severity == "critical" else "bold yellow")
            out.append(f"{f.message}\n")
        if not findings:
            out.append("✓ no findings over the window\n", style="green")
        if record.get("tuning") is not None:
            out.append(f"⚙ the figures include {record['tuning'].count_text()} (this session's power tuning; "
                       "left out of the findings)\n", style="dim")
        out.append(f"invocations {fmt.count(record.get('invocations'))} · errors {fmt.pct(record.get('error_rate'))}% · "
                   f"cold starts {fmt.pct(record.get('cold_start_rate'))}% · init p99 {fmt.ms(record.get('init_p99_ms'))} ms · "
                   f"peak memory {fmt.count(record.get('memory_used_max_mb'))} MB · cost ${fmt.usd(record.get('cost_usd'))}",
                   style="dim")
        box.update(out)
        box.border_title = f"Findings ({len(findings)})"

    def show_charts(self, data: ChartData) -> None:
        f = data.frame
        self.period_s = data.period_s
        self.origin = f.index[0] if len(f.index) else None
        xl = _x_labels(f.index)
        every = fmt.window_label(data.period_s)
        partial = partial_last(f.index, data.period_s, self.app.session.now())
        self.chart("traffic").show([Series("invocations", _values(f, "invocations"), "cyan"),
                                    Series("errors", _values(f, "errors"), "red"),
                                    Series("throttles", _values(f, "throttles"), "yellow")], xl, note=f"per {every}",
                                   partial_last=partial)
        self.chart("duration").show([Series("p50", _values(f, "p50"), "green"), Series("p90", _values(f, "p90"), "yellow"),
                                     Series("p99", _values(f, "p99"), "red")], xl, note=f"per {every}",
                                    partial_last=partial)
        limit = (float(self.fn.reserved_concurrency), f"reserved {self.fn.reserved_concurrency}") \
            if self.fn.reserved_concurrency is not None else None
        self.chart("concurrency").show([Series("max", _values(f, "concurrency"), "cyan")], xl, limit,
                                       note=f"per {every}" + ("" if limit or "reserved_concurrency" in
                                                              (*self.fn.details_unread, *self.fn.details_failed)
                                                              else " · no reserved concurrency"),
                                       partial_last=partial)
        if self.fn.is_stream_consumer:
            age_s = [None if v is None else v / 1000 for v in _values(f, "iterator_age")]
            self.chart("iterator").show([Series("max age s", age_s, "magenta")], xl, note=f"per {every}",
                                        partial_last=partial)
        else:
            self.chart("iterator").say("not a stream consumer (no Kinesis/DynamoDB trigger)")
        if getattr(self, "cold_data", None) is not None:
            self.show_cold_starts(self.cold_data)
        for series, why in data.failed.items():
            self.chart({"invocations": "traffic", "p50": "duration", "concurrency": "concurrency",
                        "iterator_age": "iterator"}.get(series, "traffic")).border_subtitle = markup_escaped(f"{series}: {why}")

    def show_cold_starts(self, data: ColdStartSeries) -> None:
        self.cold_data = data
        if data.error:
            for key in ("cold", "init"):
                self.chart(key).say(f"Logs Insights failed: {data.error}")
            return
        period = getattr(self, "period_s", None) or COLD_BIN_S
        f = regrid_cold_starts(data.frame, period, getattr(self, "origin", None))
        xl = _x_labels(f.index)
        every = fmt.window_label(period)
        partial = partial_last(f.index, period, self.app.session.now())
        init_label = "init p99" if period == COLD_BIN_S else "init p99 (worst 5m)"
        self.chart("cold").show([Series("cold %", _values(f, "cold_rate"), "yellow")], xl, note=f"per {every}",
                                partial_last=partial)
        self.chart("init").show([Series(init_label, _values(f, "init_p99"), "magenta")], xl, note=f"per {every}",
                                partial_last=partial)

    def say(self, message: str) -> None:
        for key, _ in CHARTS:
            self.chart(key).say(message)
