"""Issue 16: the fleet filter's words and field expressions, and which columns a narrow terminal keeps
(pure: no app, no AWS)."""

from __future__ import annotations

from lambdaops.analysis.fleet import Finding
from lambdaops.models import FunctionInfo
from lambdaops.tui.filter_expr import compile_filter
from lambdaops.tui.fleet_model import build_fleet_model, fleet_columns
from lambdaops.tui.widgets.virtual_table import visible_columns


def fn(name, region="us-east-1", runtime="python3.12", **kw):
    return FunctionInfo(name=name, region=region, arn=f"arn:aws:lambda:{region}:1:function:{name}",
                        runtime=runtime, architecture="arm64", memory_mb=512, timeout_s=10,
                        last_modified=None, **kw)


FUNCTIONS = [fn("checkout-api"), fn("image-resize"), fn("webhook-receiver"), fn("report-gen", "eu-west-1", "java21"),
             fn("orders-api", "eu-west-1", tags={"team": "payments"})]
ROWS = [
    {"name": "image-resize", "region": "us-east-1", "error_rate": 0.031, "cold_start_rate": 0.02,
     "duration_p99_ms": 2400.0, "dlq_depth": 214.0, "cost_usd": 1.2,
     "findings": [Finding("critical", "dlq_not_empty", "DLQ holds 214 messages: checkout retries")]},
    {"name": "checkout-api", "region": "us-east-1", "error_rate": 0.004, "cold_start_rate": 0.09,
     "duration_p99_ms": 800.0, "dlq_depth": 0.0, "cost_usd": 0.4,
     "findings": [Finding("warning", "cold_start_rate", "cold starts 9.0%")]},
    {"name": "webhook-receiver", "region": "us-east-1", "error_rate": None, "cold_start_rate": 0.0,
     "duration_p99_ms": 40.0, "dlq_depth": None, "cost_usd": 0.01, "findings": []},
    {"name": "report-gen", "region": "eu-west-1", "error_rate": 0.02, "cold_start_rate": 0.3,
     "duration_p99_ms": 9000.0, "dlq_depth": None, "cost_usd": 3.0, "findings": []},
    {"name": "orders-api", "region": "eu-west-1", "error_rate": 0.0, "cold_start_rate": 0.01,
     "duration_p99_ms": 90.0, "dlq_depth": 0.0, "cost_usd": 0.2, "findings": []},
]


def names(text: str) -> set[str]:
    model = build_fleet_model(FUNCTIONS, ROWS)
    return {model.keys[i].split("/")[1] for i in model.view(text)}


def test_a_word_matches_whole_names_or_parts_not_substrings():
    assert names("checkout") == {"checkout-api"}  # not image-resize, whose finding only mentions checkout in a word
    assert "webhook-receiver" in names("!ok")  # "ok" is inside "webhook", not a part of the name
    assert names("check*") == {"checkout-api"}
    assert names("team=payments") == {"orders-api"}


def test_field_expressions_compare_figures_in_their_column_units():
    assert names("err>1") == {"image-resize", "report-gen"}  # percent, as the column shows it
    assert names("cold>5") == {"checkout-api", "report-gen"}
    assert names("p99>=2400") == {"image-resize", "report-gen"}
    assert names("!err>1") == {"checkout-api", "webhook-receiver", "orders-api"}  # unknown error rate: not > 1
    assert names("region:eu-west-1") == {"report-gen", "orders-api"}
    assert names("runtime:java*") == {"report-gen"}
    assert names("finding:dlq") == {"image-resize"}
    assert names("finding:warning") == {"checkout-api"}
    assert names("region:eu-west-1 cost>1") == {"report-gen"}


def test_an_unknown_figure_is_reported_and_matches_nothing():
    f = compile_filter("latency>3")
    assert f.problems and "latency" in f.problems[0]
    assert names("latency>3") == set()


def test_at_80_columns_the_fleet_keeps_name_error_cold_p99_dlq_cost_and_finding():
    cols = fleet_columns()
    for width in (78, 80):  # with and without the vertical scrollbar
        shown = [cols[i].key for i in visible_columns(cols, width)]
        assert shown == ["name", "error_rate", "cold_start_rate", "duration_p99_ms", "dlq_depth", "cost_usd",
                         "finding"], width
    wider = [cols[i].key for i in visible_columns(cols, 120)]
    assert {"invocations", "region"} <= set(wider) and wider[-1] == "finding"
    assert len(visible_columns(cols, 80, wide=True)) == len(cols)


def test_an_html_error_page_becomes_one_line():
    from lambdaops.tui.format import error_summary

    raw = ("ListFunctions failed in mars-north-1 (500): <!doctype html>\n<html><head><title>500 Internal "
           "Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered...</p>"
           "</body></html>")
    line = error_summary(raw)
    assert line.startswith("ListFunctions failed in mars-north-1 (500): 500 Internal Server Error")
    assert "<" not in line and "\n" not in line and len(line) <= 200
    assert error_summary("AccessDenied: not allowed\n  twice") == "AccessDenied: not allowed twice"


def test_region_names_are_checked_against_the_partition():
    from lambdaops.aws.regions import partition_of, unknown_regions

    assert unknown_regions(["us-east-1", "mars-north-1", "eu-west-1"]) == ["mars-north-1"]
    assert unknown_regions(["cn-north-1"], partition_of("cn-north-1")) == []
    assert unknown_regions(["cn-north-1"]) == ["cn-north-1"]  # not a region of the aws partition


def test_cold_start_bins_join_the_metric_buckets_and_the_last_bucket_is_partial():
    import pandas as pd

    from lambdaops.tui.widgets.function_overview import partial_last, regrid_cold_starts

    idx = pd.date_range("2026-12-01 09:00", periods=6, freq="5min", tz="UTC")
    cold = pd.DataFrame({"invocations": [10, 10, 10, 20, 0, 20], "cold_starts": [1, 0, 1, 2, 0, 0],
                         "cold_rate": [10, 0, 10, 10, 0, 0], "init_p99": [300, None, 500, 200, None, None]}, index=idx)
    out = regrid_cold_starts(cold, 900, idx[0])  # 15-minute metric buckets
    assert list(out.index) == [idx[0], idx[3]]
    assert list(out["invocations"]) == [30, 40] and list(out["cold_starts"]) == [2, 2]
    assert list(out["cold_rate"].round(2)) == [6.67, 5.0]
    assert list(out["init_p99"]) == [500, 200]  # the worst 5-minute p99, never an average of p99s
    assert regrid_cold_starts(cold, 300) is cold  # already one bucket size
    assert partial_last(idx, 300, pd.Timestamp("2026-12-01 09:27", tz="UTC"))  # 09:25-09:30 not over yet
    assert not partial_last(idx, 300, pd.Timestamp("2026-12-01 09:32", tz="UTC"))


def test_a_stream_batch_reads_as_labelled_lines_not_a_repr():
    from rich.console import Console

    from lambdaops.dlq.decode import StreamBatch
    from lambdaops.tui.screens.dlq import batch_facts

    batch = StreamBatch("kinesis", "arn:aws:kinesis:us-east-1:1:stream/orders", "shardId-000000000001",
                        "4959", "4960", 100, "2026-12-01T11:00:00Z", None)
    console = Console(width=120, record=True)
    console.print(batch_facts(batch))
    text = console.export_text()
    assert "StreamBatch(" not in text
    assert "Shard" in text and "shardId-000000000001" in text and "4959 … 4960" in text and "100" in text


def test_dlq_rows_name_their_region():
    from types import SimpleNamespace

    from lambdaops.tui.widgets.function_dlqs import QUEUE_COLUMNS, queue_cells

    q = SimpleNamespace(name="orders-dlq", region="eu-west-1", depth=3, error=None, oldest_s=60, serves=["f"],
                        kind="sqs-redrive", in_flight=0, service="sqs")
    cells = dict(zip(QUEUE_COLUMNS, queue_cells(q)))
    assert cells["Region"] == "eu-west-1" and cells["Kind"] == "sqs-redrive"
