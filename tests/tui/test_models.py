"""The TUI's pure parts (no app, no AWS): table model, fleet rows, formatting, commands, cost."""

from __future__ import annotations

import math

import pytest

from lambdaops.analysis.fleet import Finding
from lambdaops.models import EventSource, FunctionInfo
from lambdaops.tui import format as fmt
from lambdaops.tui.api_cost import estimate
from lambdaops.tui.commands import find, run_command
from lambdaops.tui.fleet_model import PENDING, build_fleet_model, row_key
from lambdaops.tui.table_model import Column, TableModel


def fn(name, region="us-east-1", **kw):
    return FunctionInfo(name=name, region=region, arn=f"arn:aws:lambda:{region}:1:function:{name}",
                        runtime="python3.12", architecture="arm64", memory_mb=512, timeout_s=10,
                        last_modified=None, **kw)


def test_view_filters_sorts_and_keeps_missing_last():
    m = TableModel((Column("name", "Name", 10), Column("n", "N", 5, "right")))
    for key, n in (("a", 3.0), ("b", None), ("c", 10.0), ("ab", 1.0)):
        m.add_row(key, [key, "-" if n is None else str(n)], {"name": key, "n": n})
    assert m.view() == [0, 1, 2, 3]
    assert [m.keys[i] for i in m.view("a")] == ["a", "ab"]
    assert [m.keys[i] for i in m.view("a !b")] == ["a"]
    assert [m.keys[i] for i in m.view(sort_key="n", descending=True)] == ["c", "a", "ab", "b"]
    assert [m.keys[i] for i in m.view(sort_key="n")] == ["ab", "a", "c", "b"]
    assert [m.keys[i] for i in m.view(sort_key="name", descending=True)] == ["c", "b", "ab", "a"]


def test_fleet_rows_from_inventory_show_pending_figures():
    model = build_fleet_model([fn("b"), fn("a", "eu-west-1")])
    assert model.keys == ["eu-west-1/a", "us-east-1/b"]  # region, name until the figures say worse
    assert model.cells[0][model.columns.index(model.column("invocations"))] == PENDING


def test_fleet_rows_from_snapshot_follow_its_order_and_show_missing_as_dash():
    rows = [{"name": "b", "region": "us-east-1", "invocations": 48213.0, "error_rate": 0.0123,
             "iterator_age_max_ms": float("nan"), "dlq_depth": None, "cost_usd": 1.92,
             "findings": [Finding("critical", "dlq_not_empty", "DLQ holds 214 messages"),
                          Finding("warning", "cold_start_rate", "cold starts 9.8%")]},
            {"name": "a", "region": "us-east-1", "invocations": 0.0, "findings": []}]
    model = build_fleet_model([fn("a"), fn("b", tags={"team": "orders"})], rows, {row_key("us-east-1", "b"): [0, 1, 4]})
    col = {c.key: i for i, c in enumerate(model.columns)}
    b = model.cells[0]
    assert model.keys[0] == "us-east-1/b"
    assert b[col["invocations"]] == "48.2k" and b[col["error_rate"]] == "1.2"
    assert b[col["iterator_age_max_ms"]] == "-" and b[col["dlq_depth"]] == "-"
    assert b[col["finding"]] == "✖ DLQ holds 214 messages (+1)"
    assert b[col["trend"]] == "▁▃█"
    assert model.severity[0] == "critical"
    assert [model.keys[i] for i in model.view("team=orders")] == ["us-east-1/b"]
    assert [model.keys[i] for i in model.view("critical")] == ["us-east-1/b"]


@pytest.mark.parametrize("value,text", [(None, "-"), (math.nan, "-"), (12, "12"), (48213, "48.2k"), (2.5e6, "2.5M")])
def test_count(value, text):
    assert fmt.count(value) == text


def test_durations_and_ages():
    assert fmt.ms(812) == "812" and fmt.ms(1400) == "1.4k"
    assert fmt.duration_ms(74) == "74 ms" and fmt.duration_ms(1930) == "1.93 s"
    assert fmt.age_s(432) == "7m12s" and fmt.age_s(7500) == "2h05m"
    assert fmt.window_label(10800) == "3h" and fmt.window_label(5400) == "90m"
    assert fmt.sparkline([0, 0]) == "▁▁" and fmt.sparkline([]) == ""


def test_api_cost_counts_metrics_and_paid_requests():
    usage = estimate({"cloudwatch.GetMetricData": 2, "lambda.ListFunctions": 4, "sqs.GetQueueAttributes": 10},
                     metrics=1000, insights_bytes=1e9)
    assert usage.calls == 16
    assert usage.usd == pytest.approx(0.01 + 0.005 + 10 * 0.4e-6)
    assert usage.label().startswith("API 16 calls ~$0.015")


def test_commands_resolve_aliases_and_report_problems():
    assert find("home").name == "fleet" and find("q").name == "quit"

    class App:
        functions = []

    assert run_command(App(), ":nonsense") == "unknown command 'nonsense' (try :help)"
    assert run_command(App(), "window") == "usage: window 1h"
    assert "not a duration" in run_command(App(), "window soon")
    assert run_command(App(), "fn nothing-like-this") == "no function matches 'nothing-like-this'"


def test_event_sources_are_not_needed_for_rows():
    f = fn("x", event_sources=[EventSource("u", "kinesis", "arn:aws:kinesis:us-east-1:1:stream/s", "Enabled")])
    assert build_fleet_model([f]).keys == ["us-east-1/x"]


def test_tui_modules_import_textual_only_under_tui_and_never_boto3():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "lambdaops" / "tui"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from) (boto3|botocore)\b", text, re.M), path


def test_message_detail_names_the_error_and_its_status_apart():
    import io
    import json

    from rich.console import Console

    from lambdaops.dlq.decode import decode_message
    from lambdaops.tui.screens.dlq import message_detail

    record = {"version": "1.0", "timestamp": "2026-11-30T06:13:20.123Z",
              "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:1:function:f:$LATEST",
                                 "condition": "RetriesExhausted", "approximateInvokeCount": 3},
              "requestPayload": {"k": 1},
              "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
              "responsePayload": {"errorMessage": "unsupported image", "errorType": "Error"}}
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(message_detail(decode_message({"MessageId": "m", "Body": json.dumps(record)})))
    lines = [line.split() for line in console.export_text().splitlines()]
    assert ["Error", "Error"] in lines and ["Status", "200"] in lines
    assert ["Message", "unsupported", "image"] in lines and ["Attempts", "3"] in lines


def test_recommendation_text_compares_with_now_only_when_it_differs():
    from types import SimpleNamespace as NS

    from lambdaops.analysis.tuning_stats import Recommendation
    from lambdaops.tui.screens.tuning import recommendation_text

    def result(memory, saving, speedup):
        rec = Recommendation(memory, "x86_64", "cheapest per invocation", saving, speedup)
        return NS(primary=NS(recommendation=rec), strategy="cost", original_memory_mb=1024, notes=["a note"])

    same = recommendation_text(result(1024, 0.0, 0.0))
    assert "Recommended: 1024 MB" in same and "cheaper" not in same and "ctrl+a" not in same
    assert same.endswith("\na note")
    other = recommendation_text(result(512, 12.5, -40.0))
    assert "12.5% cheaper" in other and "40.0% slower than now (1024 MB)" in other and "ctrl+a applies it" in other


def test_message_row_names_the_function_its_queue_serves_when_the_message_does_not():
    from types import SimpleNamespace as NS

    from lambdaops.tui.dlq_source import message_fields

    m = NS(timestamp="2026-11-30T06:04:00.397Z", error_type=None, error_code=None, condition=None, attempts=4,
           receive_count=4, function=None)
    assert message_fields(m, ["order-queue-worker"]) == ("2026-11-30 06:04:00", "", "4", "order-queue-worker")
    assert message_fields(m, ["a", "b"])[3] == ""  # a shared queue: which one failed is unknown
    named = NS(**{**vars(m), "function": "image-resize", "error_type": "Error"})
    assert message_fields(named, ["other"]) == ("2026-11-30 06:04:00", "Error", "4", "image-resize")


def test_metric_rows_fill_metric_cells_and_mark_what_waits_for_insights():
    from lambdaops.tui.fleet_model import FAILED, metric_rows

    records = [{"name": "a", "region": "us-east-1", "invocations": 200.0, "errors": 4.0, "throttles": 0.0,
                "duration_p50_ms": 40.0, "duration_p99_ms": 900.0, "max_concurrency": 3.0, "dlq_depth": 0,
                "missing": []},
               {"name": "b", "region": "us-east-1", "invocations": None, "errors": None, "throttles": 0.0,
                "duration_p50_ms": None, "duration_p99_ms": None, "max_concurrency": None, "dlq_depth": None,
                "missing": ["cost_usd", "error_rate", "errors", "invocations"]}]
    model = build_fleet_model([fn("a"), fn("b")], metric_rows(records))
    col = {c.key: i for i, c in enumerate(model.columns)}
    a, b = model.cells
    assert (a[col["error_rate"]], a[col["duration_p99_ms"]], a[col["dlq_depth"]]) == ("2.0", "900", "0")
    assert a[col["cold_start_rate"]] == a[col["cost_usd"]] == a[col["finding"]] == PENDING
    assert b[col["error_rate"]] == b[col["invocations"]] == b[col["cost_usd"]] == FAILED  # could not be fetched
    assert b[col["cold_start_rate"]] == PENDING and model.severity == [None, None]
    assert model.sort_values["finding"] == [None, None]


def test_quitting_does_not_wait_for_the_terminal_input_thread():
    """Textual's input thread selects for 0.1 s, then once more before it ends: joining it held q
    for 0.2 s. Once the app is quitting it is told to stop and not waited for."""
    import os
    import threading
    import time
    from types import SimpleNamespace

    from textual.drivers.headless_driver import HeadlessDriver
    from textual.drivers.linux_driver import LinuxDriver

    from lambdaops.tui.quick_exit import quick_driver

    assert quick_driver(HeadlessDriver) is HeadlessDriver  # tests, and any driver but the terminal's
    cls = quick_driver(LinuxDriver)
    drv = cls.__new__(cls)  # no terminal here: only what disable_input touches
    drv._app, drv._mouse, drv.exit_event = SimpleNamespace(exiting=True), False, threading.Event()
    drv.fileno = os.open(os.devnull, os.O_RDONLY)
    drv._key_thread = threading.Thread(target=lambda: drv.exit_event.wait() and time.sleep(0.5), daemon=True)
    drv._key_thread.start()
    try:
        began = time.perf_counter()
        drv.disable_input()
        assert time.perf_counter() - began < 0.1 and drv.exit_event.is_set()
    finally:
        os.close(drv.fileno)


def test_a_failing_early_view_never_stops_the_collection():
    from lambdaops.tui.fleet_model import FirstPaint

    shown = []
    early = FirstPaint([fn("a")], "3h", lambda stage, model, sparks: shown.append(model))
    early.metrics_in("us-east-1", [{"name": "a"}])  # no region: the row cannot be keyed
    assert shown == []
    early.metrics_in("us-east-1", [{"name": "a", "region": "us-east-1", "invocations": 10.0, "errors": 1.0}])
    assert len(shown) == 1 and len(shown[0]) == 1


def test_a_first_paint_keeps_every_part_whatever_order_they_answer_in():
    # The sparklines and the metrics are asked at once: the later never takes back the earlier.
    from lambdaops.tui.fleet_model import FirstPaint

    shown = []
    early = FirstPaint([fn("a"), fn("b")], "3h", lambda stage, model, sparks: shown.append((stage, model, sparks)))
    early.metrics_in("us-east-1", [{"name": "a", "region": "us-east-1", "invocations": 10.0, "errors": 1.0}])
    stage, model, _ = shown[-1]
    col = {c.key: i for i, c in enumerate(model.columns)}
    a, b = model.cells
    assert stage == "metrics" and a[col["error_rate"]] == "10.0"
    assert a[col["trend"]] == PENDING  # the sparklines have not answered: the cell says it waits
    early.sparks_in({"us-east-1/a": [1.0, 2.0], "us-east-1/b": [0.0, 3.0]})
    stage, model, sparks = shown[-1]
    a, b = model.cells
    assert stage == "metrics" and a[col["error_rate"]] == "10.0"  # the metrics stay
    assert a[col["trend"]] not in (PENDING, "") and b[col["trend"]] not in (PENDING, "")
    assert b[col["error_rate"]] == PENDING and sparks == {"us-east-1/a": [1.0, 2.0], "us-east-1/b": [0.0, 3.0]}


def test_sparklines_first_then_metrics():
    from lambdaops.tui.fleet_model import FirstPaint

    shown = []
    early = FirstPaint([fn("a")], "3h", lambda stage, model, sparks: shown.append((stage, model)))
    early.sparks_in({})  # answered without a sparkline (it failed): the cell is no longer waiting
    stage, model = shown[-1]
    col = {c.key: i for i, c in enumerate(model.columns)}
    assert stage == "sparklines" and model.cells[0][col["error_rate"]] == PENDING
    early.metrics_in("us-east-1", [{"name": "a", "region": "us-east-1", "invocations": 4.0, "errors": 0.0}])
    stage, model = shown[-1]
    assert stage == "metrics" and model.cells[0][col["trend"]] == "" and model.cells[0][col["error_rate"]] == "0.0"
