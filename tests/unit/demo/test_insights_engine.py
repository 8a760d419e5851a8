"""The demo account's Logs Insights engine, against hand-computed answers over hand-built log events."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.insights import compile_query, discover_fields, run_query

ROOT = Path(__file__).resolve().parents[3]
T0 = 1_795_341_600_000  # 2026-11-22 10:00:00.000 UTC, a 5-minute (and hour) boundary
ACCOUNT = "123456789012"
ORDERS, CHECKOUT, QUOTE, QUOTE_JSON = (f"{ACCOUNT}:/aws/lambda/{n}" for n in ("orders", "checkout", "quote",
                                                                                 "quote-json"))
TRACE_A1 = "1-6740a1b2-0123456789abcdef01234567"
TRACE_B1 = "1-6740a1b2-fedcba9876543210fedcba98"


def iso(offset_ms: int) -> str:
    return pd.Timestamp(T0 + offset_ms, unit="ms").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def text_report(rid, duration, billed, mem, used, *, init=None, restore=None, status=None, error_type=None,
                trace=None, segment=None) -> str:
    line = (f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
            f"Memory Size: {mem} MB\tMax Memory Used: {used} MB")
    if init is not None:
        line += f"\tInit Duration: {init:.2f} ms"
    if restore is not None:
        line += f"\tRestore Duration: {restore:.2f} ms\tBilled Restore Duration: {int(np.ceil(restore))} ms"
    if status:
        line += f"\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    if trace:
        line += f"\t\nXRAY TraceId: {trace}\tSegmentId: {segment}\tSampled: true"
    return line


def json_record(offset_ms: int, type_: str, record: dict) -> str:
    return json.dumps({"time": iso(offset_ms), "type": type_, "record": record})


def json_report(offset_ms, rid, duration, billed, mem, used, *, init=None, restore=None, status="success",
                trace=None, span=None) -> str:
    metrics = {"durationMs": duration, "billedDurationMs": billed, "memorySizeMB": mem, "maxMemoryUsedMB": used}
    if init is not None:
        metrics["initDurationMs"] = init
    if restore is not None:
        metrics.update(restoreDurationMs=restore, billedRestoreDurationMs=int(np.ceil(restore)))
    record = {"requestId": rid, "metrics": metrics, "status": status}
    if trace:
        record["tracing"] = {"spanId": span, "type": "X-Amzn-Trace-Id",
                             "value": f"Root={trace};Parent={span};Sampled=1"}
    return json_record(offset_ms, "platform.report", record)


def events_frame(rows) -> pd.DataFrame:
    ts = np.array([T0 + r[0] for r in rows], dtype=np.int64)
    return pd.DataFrame({"@timestamp": ts, "@message": [r[2] for r in rows],
                         "@logStream": [r[3] if len(r) > 3 else f"2026/11/22/[$LATEST]{r[1].rsplit('/', 1)[1]}"
                                        for r in rows],
                         "@log": [r[1] for r in rows], "@ingestionTime": ts + 250})


def fleet_events() -> pd.DataFrame:
    """Four functions over two 5-minute bins, text REPORT lines with JSON application logs and a JSON
    platform.runtimeDone (checkout), SnapStart (quote, quote-json). JSON platform.report records get
    no Lambda fields: their own tests use ``json_events()``."""
    rows = [
        # orders: text format; a1 cold with X-Ray, a2 an error, a3 a cold start that timed out
        (1000, ORDERS, "START RequestId: a1 Version: $LATEST"),
        (1001, ORDERS, f"[INFO]\t{iso(1001)}\ta1\tprocessed order 17"),
        (1100, ORDERS, "END RequestId: a1"),
        (1101, ORDERS, text_report("a1", 15.74, 16, 128, 56, init=130.49, trace=TRACE_A1, segment="1a2b3c4d5e6f7a8b")),
        (2000, ORDERS, "START RequestId: a2 Version: $LATEST"),
        (2050, ORDERS, f"[ERROR] {iso(2050)}\ta2\tKeyError: 'customer_id'\nTraceback (most recent call last):"),
        (2100, ORDERS, "END RequestId: a2"),
        (2101, ORDERS, text_report("a2", 100, 100, 128, 60, status="error", error_type="Runtime.ExitError")),
        (400_000, ORDERS, "START RequestId: a3 Version: $LATEST"),
        (403_000, ORDERS, f"{iso(403_000)} a3 Task timed out after 3.00 seconds"),
        (403_001, ORDERS, "END RequestId: a3"),
        (403_002, ORDERS, text_report("a3", 3000, 3000, 128, 70, init=210.0, status="timeout")),
        # checkout: JSON format; b1 cold with X-Ray, b2 an error
        (1500, CHECKOUT, "START RequestId: b1 Version: $LATEST"),
        (1501, CHECKOUT, json.dumps({"timestamp": iso(1501), "level": "INFO", "requestId": "b1",
                                     "message": "checkout ok"})),
        (1600, CHECKOUT, text_report("b1", 693.92, 694, 128, 84, init=397.68, trace=TRACE_B1,
                                     segment="aaaaaaaaaaaaaaaa")),
        (2500, CHECKOUT, "START RequestId: b2 Version: $LATEST"),
        (2501, CHECKOUT, json.dumps({"timestamp": iso(2501), "level": "ERROR", "requestId": "b2", "message": "boom",
                                     "errorType": "KeyError", "stackTrace": ['  File "/var/task/app.py", line 42',
                                                                             '    customer = event["customer_id"]']})),
        (2600, CHECKOUT, text_report("b2", 12.50, 13, 128, 80, status="error")),
        (2601, CHECKOUT, json_record(2601, "platform.runtimeDone", {"requestId": "b2", "status": "error"})),
        # quote: text SnapStart; c1 restored (Restore Duration, no Init Duration), c2 warm
        (3000, QUOTE, "RESTORE_START Runtime Version: java:21.v33\tRuntime Version ARN: arn:aws:lambda:::runtime:ab"),
        (3100, QUOTE, "START RequestId: c1 Version: $LATEST"),
        (3200, QUOTE, "END RequestId: c1"),
        (3201, QUOTE, text_report("c1", 50, 51, 2048, 150, restore=420.12)),
        (300_100, QUOTE, "START RequestId: c2 Version: $LATEST"),
        (300_200, QUOTE, "END RequestId: c2"),
        (300_201, QUOTE, text_report("c2", 20, 20, 2048, 151)),
        # quote-json: JSON SnapStart, restored
        (3500, QUOTE_JSON, text_report("d1", 40.0, 40, 1024, 120, restore=300.5)),
    ]
    return events_frame(rows)


EVENTS = fleet_events()
N_EVENTS = len(EVENTS)
REPORT_IDS = ["a1", "a2", "a3", "b1", "b2", "c1", "c2", "d1"]


def query(q: str, events: pd.DataFrame = EVENTS, **kw) -> tuple[list[dict], dict]:
    """(rows as {field: value} without @ptr, statistics)."""
    results, stats = run_query(compile_query(q), events, **kw)
    return [{f["field"]: f["value"] for f in row if f["field"] != "@ptr"} for row in results], stats


def values(q: str, field: str, events: pd.DataFrame = EVENTS) -> list[str | None]:
    return [row.get(field) for row in query(q, events)[0]]


def malformed(q: str) -> str:
    with pytest.raises(DemoApiError) as info:
        compile_query(q)
    assert info.value.code == "MalformedQueryException" and info.value.status == 400
    return info.value.message


# ---------------------------------------------------------------------------------------------
# cold starts and discovered fields

COLD_START_QUERY = ('filter @type = "REPORT" | stats count(*) as invocations, count(@initDuration) as coldStarts, '
                    'pct(@initDuration, 99) as initP99 by bin(5m)')


def test_cold_start_query_over_mixed_text_and_json_events():
    rows, stats = query(COLD_START_QUERY)
    by_bin = {r["bin(5m)"]: r for r in rows}
    assert set(by_bin) == {"2026-11-22 10:00:00.000", "2026-11-22 10:05:00.000"}
    first, second = by_bin["2026-11-22 10:00:00.000"], by_bin["2026-11-22 10:05:00.000"]
    # 10:00: a1 (init 130.49), a2, b1 (JSON, init 397.68), b2, c1 (restore: not an init), d1 (JSON restore)
    assert first["invocations"] == "6" and first["coldStarts"] == "2"
    assert float(first["initP99"]) == pytest.approx(130.49 + 0.99 * (397.68 - 130.49))
    # 10:05: c2, a3 (init 210.00)
    assert second == {"bin(5m)": "2026-11-22 10:05:00.000", "invocations": "2", "coldStarts": "1", "initP99": "210"}
    assert list(rows[0]) == ["bin(5m)", "invocations", "coldStarts", "initP99"]
    assert stats == {"recordsMatched": 8.0, "recordsScanned": float(N_EVENTS),
                     "bytesScanned": float(EVENTS["@message"].str.len().sum())}


def test_cold_start_query_file_sorts_bins():
    q = (ROOT / "queries" / "cold-starts-over-time.logsinsights").read_text()
    assert values(q, "bin(5m)") == ["2026-11-22 10:00:00.000", "2026-11-22 10:05:00.000"]
    desc = COLD_START_QUERY + " | sort bin(5m) desc"
    assert values(desc, "invocations") == ["2", "6"]


def test_discovered_fields_agree_between_text_and_json_reports():
    found = discover_fields(EVENTS).set_index("@message")
    rep = {r: found[found["@requestId"].eq(r) & found["@type"].eq("REPORT")].iloc[0] for r in REPORT_IDS}
    a1, b1 = rep["a1"], rep["b1"]
    assert (a1["@duration"], a1["@billedDuration"], a1["@initDuration"]) == (15.74, 16, 130.49)
    assert (a1["@memorySize"], a1["@maxMemoryUsed"]) == (128_000_000, 56_000_000)
    assert (a1["@xrayTraceId"], a1["@xraySegmentId"]) == (TRACE_A1, "1a2b3c4d5e6f7a8b")
    assert (b1["@duration"], b1["@billedDuration"], b1["@initDuration"]) == (693.92, 694, 397.68)
    assert (b1["@memorySize"], b1["@maxMemoryUsed"]) == (128_000_000, 84_000_000)
    assert (b1["@xrayTraceId"], b1["@xraySegmentId"]) == (TRACE_B1, "aaaaaaaaaaaaaaaa")
    for warm in ("a2", "b2", "c1", "c2", "d1"):  # SnapStart restores are not Init Durations
        assert np.isnan(rep[warm]["@initDuration"])
    assert pd.isna(rep["a2"]["@xrayTraceId"])
    types = discover_fields(EVENTS)["@type"].tolist()
    assert types.count("REPORT") == 8 and types.count("START") == 7 and types.count("END") == 5
    other = discover_fields(EVENTS)[lambda d: d["@type"].isna()]
    assert len(other) == N_EVENTS - 20  # app lines, RESTORE_START, platform.runtimeDone
    assert other[["@requestId", "@duration"]].isna().all().all()
    starts = discover_fields(EVENTS)[lambda d: d["@type"].eq("START")]
    assert sorted(starts["@requestId"]) == ["a1", "a2", "a3", "b1", "b2", "c1", "c2"]


def test_max_memory_used_and_memory_size_are_bytes():
    rows, _ = query('filter @type = "REPORT" | stats max(@maxMemoryUsed) as peak, min(@memorySize) as smallest, '
                    'max(@memorySize) as largest')
    assert rows == [{"peak": "151000000", "smallest": "128000000", "largest": "2048000000"}]
    mb = values('filter @requestId = "a1" and @type = "REPORT" | fields @maxMemoryUsed / 1000000 as mb', "mb")
    assert mb == ["56"]


def test_project_cold_starts_query_per_function():
    q = (ROOT / "queries" / "cold-starts.logsinsights").read_text()
    rows, stats = query(q)
    by_log = {r.pop("@log"): r for r in rows}
    # a1 bills max(16, ceil(15.74 + 130.49)) = 147 and a3 max(3000, ceil(3000 + 210)) = 3210: INIT is
    # billed even where a line leaves it out; a3 timed out in both forms, counted once
    assert by_log[ORDERS] == {"streamFunction": "", "invocations": "3", "coldStarts": "2", "initP50": "170.245",
                              "initP99": by_log[ORDERS]["initP99"], "maxMemoryUsedMB": "70",
                              "billedMs": str(147 + 100 + 3210), "timeouts": "1", "outOfMemory": "0"}
    assert float(by_log[ORDERS]["initP99"]) == pytest.approx(130.49 + 0.99 * (210 - 130.49))
    assert by_log[CHECKOUT] == {"streamFunction": "", "invocations": "2", "coldStarts": "1", "initP50": "397.68",
                                "initP99": "397.68", "maxMemoryUsedMB": "84", "billedMs": str(1092 + 13),
                                "timeouts": "0", "outOfMemory": "0"}
    # SnapStart: Billed Duration already holds the billed restore; it is not added again
    assert by_log[QUOTE] == {"streamFunction": "", "invocations": "2", "coldStarts": "1", "initP50": "420.12",
                             "initP99": "420.12", "maxMemoryUsedMB": "151", "billedMs": "71", "timeouts": "0",
                             "outOfMemory": "0"}
    assert by_log[QUOTE_JSON]["billedMs"] == "40" and by_log[QUOTE_JSON]["coldStarts"] == "1"
    # the 8 REPORT lines and a3's separate timeout line
    assert stats["recordsMatched"] == 9.0


def test_cold_starts_query_agrees_with_the_report_parser_on_the_lines_the_demo_renders():
    from lambdaops.demo.fleet import build_fleet
    from lambdaops.demo.log_lines import render_function
    from lambdaops.demo.traffic import generate_function
    from lambdaops.report_line import summarize

    specs = {s.name: s for s in build_fleet()}
    records, frames = {}, []
    for name in ("orders-api", "checkout-api", "quote-service"):  # text, JSON, SnapStart
        spec = specs[name]
        rec = records[f"{ACCOUNT}:{spec.log_group_name}"] = generate_function(spec, 0, 7, T0, T0 + 20 * 60_000)
        frames.append(render_function(spec, rec))
    events = pd.concat(frames, ignore_index=True)
    rows, _ = query((ROOT / "queries" / "cold-starts.logsinsights").read_text(), events)
    assert len(rows) == 3
    for row in rows:
        rec = records[row["@log"]]
        mine = events[events["@log"] == row["@log"]]
        parsed = summarize(zip(mine["@logStream"], mine["@message"]))[row.get("streamFunction", "")]
        init = rec.init_ms[rec.cold]
        assert rec.cold.any() and row["coldStarts"] == str(int(rec.cold.sum())) == str(len(parsed.cold_ms))
        assert row["invocations"] == str(rec.n) == str(parsed.invocations)
        # the logs carry init durations rounded to 2 decimals
        assert float(row["initP99"]) == pytest.approx(np.percentile(init, 99), abs=0.01)
        assert float(row["initP50"]) == pytest.approx(np.percentile(init, 50), abs=0.01)
        assert row["maxMemoryUsedMB"] == str(int(rec.max_mem_mb.max())) == str(parsed.max_memory_mb)
        assert row["billedMs"] == str(parsed.billed_ms)
        assert (row["timeouts"], row["outOfMemory"]) == (str(len(parsed.timeout_ids)), str(len(parsed.oom_ids)))


def test_project_slowest_and_errors_queries():
    slow = query((ROOT / "queries" / "slowest.logsinsights").read_text())[0]
    assert [r["requestId"] for r in slow] == ["a3", "b1", "a2", "c1", "d1", "c2", "a1", "b2"]
    assert slow[0] == {"@timestamp": "2026-11-22 10:06:43.002", "@log": "123456789012:/aws/lambda/orders",
                       "@logStream": "2026/11/22/[$LATEST]orders", "requestId": "a3", "durationMs": "3000", "billedDurationMs": "3000", "initMs": "210",
                       "maxMemoryMB": "70"}
    assert slow[6]["traceId"] == TRACE_A1 and slow[6]["durationMs"] == "15.74"
    errors = query((ROOT / "queries" / "errors.logsinsights").read_text())[0]
    # a3's REPORT (Status: timeout) and timeout line, the JSON runtimeDone (record.status) and error
    # (level), a2's REPORT (Runtime.ExitError), the text error line
    assert [r["@timestamp"] for r in errors] == ["2026-11-22 10:06:43.002", "2026-11-22 10:06:43.000",
                                                 "2026-11-22 10:00:02.601", "2026-11-22 10:00:02.501",
                                                 "2026-11-22 10:00:02.101", "2026-11-22 10:00:02.050"]
    assert [r.get("requestId") for r in errors] == ["a3", None, "b2", "b2", "a2", None]


def json_events(*, infrequent_access: bool = False) -> pd.DataFrame:
    """A JSON-format function (cold, SnapStart-restored, timed out, out of memory) in a custom group
    shared with a text function; optionally in the Infrequent Access class."""
    group = f"{ACCOUNT}:/app/shared"
    jstream, tstream = "2026/11/22/pay-json[$LATEST]0a1b", "2026/11/22/pay-text[3]9f8e"
    oom = json_report(4000, "j4", 900.0, 900, 128, 128, status="error")
    oom = oom.replace('"status": "error"', '"status": "error", "errorType": "Runtime.OutOfMemory"')
    rows = [
        (1000, group, json_record(1000, "platform.start", {"requestId": "j1", "version": "$LATEST"}), jstream),
        (1001, group, json_report(1001, "j1", 1049.63, 2344, 256, 84, init=1293.83), jstream),
        (2000, group, json_report(2000, "j2", 306.34, 610, 256, 90, restore=398.97), jstream),
        (3000, group, json_report(3000, "j3", 3000.0, 3000, 256, 91, status="timeout"), jstream),
        (4000, group, oom, jstream),
        (5000, group, text_report("t1", 15.74, 16, 128, 56, init=130.49), tstream),
        (6000, group, text_report("t2", 20.0, 20, 128, 57), tstream),
    ]
    frame = events_frame(rows)
    if infrequent_access:
        from lambdaops.demo.insights_eval import NO_DISCOVERY

        frame[NO_DISCOVERY] = True
    return frame


def test_json_platform_records_get_their_own_keys_not_lambda_fields():
    events = json_events()
    found = discover_fields(events)
    json_rows = found[found["@message"].str.startswith("{")]
    assert json_rows[["@type", "@duration", "@initDuration", "@requestId", "@maxMemoryUsed"]].isna().all().all()
    assert values('filter @type = "REPORT" | display @message', "@message", events) == [
        m for m in events["@message"][::-1] if m.startswith("REPORT")]
    rows, _ = query('filter type = "platform.report" | stats count(*) as n, sum(`record.metrics.durationMs`) as d, '
                    'max(`record.metrics.maxMemoryUsedMB`) as mb, count(`record.metrics.restoreDurationMs`) as r, '
                    'count(`record.metrics.initDurationMs`) as i', events)
    assert rows == [{"n": "4", "d": str(1049.63 + 306.34 + 3000.0 + 900.0), "mb": "128", "r": "1", "i": "1"}]
    assert values('filter `record.status` = "timeout" | display `record.requestId`', "record.requestId",
                  events) == ["j3"]


def test_infrequent_access_groups_get_no_discovery_and_the_project_query_still_reads_them():
    standard, ia = json_events(), json_events(infrequent_access=True)
    assert query('filter @type = "REPORT" or type = "platform.report"', ia)[0] == []
    found = query("fields @type, @duration, type, `record.metrics.durationMs`, @logStream", ia)[0]
    assert found and all(set(r) == {"@logStream"} for r in found)
    q = (ROOT / "queries" / "cold-starts.logsinsights").read_text()
    by_function = {r["streamFunction"]: r for r in query(q, standard)[0]}
    assert by_function == {r["streamFunction"]: r for r in query(q, ia)[0]}
    # pay-json: j1 bills 2344 (INIT inside), j2 610 (restore inside: not added again), j3 3000, j4 900
    assert by_function["pay-json"] == {
        "@log": f"{ACCOUNT}:/app/shared", "streamFunction": "pay-json", "invocations": "4", "coldStarts": "2",
        "initP50": str((1293.83 + 398.97) / 2), "initP99": by_function["pay-json"]["initP99"],
        "maxMemoryUsedMB": "128", "billedMs": str(2344 + 610 + 3000 + 900), "timeouts": "1", "outOfMemory": "1"}
    # pay-text: t1 bills max(16, ceil(15.74 + 130.49)) = 147
    assert by_function["pay-text"]["billedMs"] == str(147 + 20)
    assert by_function["pay-text"]["invocations"] == "2" and by_function["pay-text"]["maxMemoryUsedMB"] == "57"


# ---------------------------------------------------------------------------------------------
# filter

@pytest.mark.parametrize("expr, expected", [
    ('@message like "Task timed out"', 1),
    ('@message like /KeyError|timed out/', 3),
    ('@message not like /KeyError|timed out/', N_EVENTS - 3),
    ('@message =~ /^START RequestId/', 7),
    ('level = "ERROR"', 1),
    ('level != "ERROR"', 1),  # only events with a level: a null never matches
    ('@type = "REPORT" and @duration > 100', 2),
    ('@type = "REPORT" and @duration >= 100', 3),
    ('@type = "REPORT" and (@duration < 16 or @memorySize = 2048000000)', 4),
    ('@type in ["START", "END"]', 12),
    ('@type = "REPORT" and @requestId not in ["a1", "b1"]', 6),
    ('@type = "REPORT" and @billedDuration in [16, 694]', 2),
    ('ispresent(@initDuration)', 3),
    ('@type = "REPORT" and not ispresent(@initDuration)', 5),
    ('isempty(level)', N_EVENTS - 2),
    ('not isblank(errorType)', 1),
    ('`record.status` = "error"', 1),  # the JSON platform.runtimeDone record
    ('stackTrace.1 like "customer_id"', 1),
    ('@type = "REPORT" and @requestId < "a3"', 2),
    ('@timestamp >= "2026-11-22 10:05:00"', 7),
    ('@logStream like "[$LATEST]quote"', 8),
    ('strcontains(@message, "Restore Duration")', 2),
])
def test_filter(expr, expected):
    rows, stats = query(f"filter {expr} | fields @message")
    assert len(rows) == expected
    assert stats["recordsMatched"] == expected


# ---------------------------------------------------------------------------------------------
# output shape, sort, limit, dedup

def test_default_columns_order_and_pointers():
    results, _ = run_query(compile_query('filter @message like "RequestId: a3"'), EVENTS)
    assert [[f["field"] for f in row] for row in results] == [["@timestamp", "@message", "@ptr"]] * 3
    assert [row[0]["value"] for row in results] == ["2026-11-22 10:06:43.002", "2026-11-22 10:06:43.001",
                                                    "2026-11-22 10:06:40.000"]
    group, stream, ts, index = base64.urlsafe_b64decode(results[0][2]["value"] + "==").decode().split("\n")
    assert (group, int(ts), EVENTS["@message"][int(index)]) == (ORDERS, T0 + 403_002, results[0][1]["value"])
    stats_rows, _ = run_query(compile_query("stats count(*) as n"), EVENTS)
    assert stats_rows == [[{"field": "n", "value": str(N_EVENTS)}]]


def test_sort_limit_and_run_limit():
    q = 'filter @type = "REPORT" | sort @duration desc | limit 3 | display @requestId, @duration'
    assert query(q)[0] == [{"@requestId": "a3", "@duration": "3000"}, {"@requestId": "b1", "@duration": "693.92"},
                           {"@requestId": "a2", "@duration": "100"}]
    two_keys = 'filter @type = "REPORT" | sort @memorySize desc, @duration | display @requestId'
    assert values(two_keys, "@requestId") == ["c2", "c1", "d1", "b2", "a1", "a2", "b1", "a3"]
    assert values('filter @type = "REPORT" | sort @initDuration | display @requestId', "@requestId")[:3] == \
        ["a1", "a3", "b1"]  # nulls sort last
    assert len(query("fields @message", limit=2)[0]) == 2
    assert query("fields @message | limit 1")[0] == [{"@message": EVENTS["@message"].iloc[11]}]


def test_dedup_keeps_the_first_in_order_and_every_null():
    ids = query("filter ispresent(@requestId) | display @requestId, @type | dedup @requestId")[0]
    assert sorted(r["@requestId"] for r in ids) == sorted(REPORT_IDS)
    assert {r["@type"] for r in ids} == {"REPORT"}  # newest first by default: the REPORT of each request
    by_type = query("display @type, @requestId | dedup @type")[0]
    typed = [r for r in by_type if "@type" in r]
    assert typed == [{"@type": "REPORT", "@requestId": "a3"}, {"@type": "END", "@requestId": "a3"},
                     {"@type": "START", "@requestId": "a3"}]
    assert len(by_type) - len(typed) == N_EVENTS - 20  # events without @type are never duplicates
    sorted_first = query('filter @type = "REPORT" | sort @duration asc | display @requestId | dedup @log')[0]
    assert [r["@requestId"] for r in sorted_first] == ["b2", "a1", "c2", "d1"]
    assert len(query("dedup @log | limit 2")[0]) == 2


# ---------------------------------------------------------------------------------------------
# parse

def test_parse_glob():
    q = 'filter @message like "Task timed out" | parse @message "* * Task timed out after * seconds" as when, rid, secs'
    assert query(q + " | display rid, secs")[0] == [{"rid": "a3", "secs": "3.00"}]
    stream = query('filter @type = "REPORT" and @log like "checkout" | parse @logStream "*/*/*/[*]*" as y, m, d, '
                   'ver, env | display ver, env | limit 1')[0]
    assert stream == [{"ver": "$LATEST", "env": "checkout"}]


def test_parse_regex_named_groups_and_non_matching_rows():
    q = ('filter @type = "REPORT" | parse @message /Restore Duration: (?<restore>[0-9.]+) ms/ '
         '| display @requestId, restore')
    rows = query(q + " | sort @requestId")[0]
    assert rows[5] == {"@requestId": "c1", "restore": "420.12"} and rows[7] == {"@requestId": "d1", "restore": "300.50"}
    assert all("restore" not in r for i, r in enumerate(rows) if i not in (5, 7))
    at_name = query('parse @message /^END RequestId: (?<@rid>\\S+)/ | filter ispresent(@rid) | display @rid')[0]
    assert sorted(r["@rid"] for r in at_name) == ["a1", "a2", "a3", "c1", "c2"]
    # parse over a field: the regex reads JSON values too
    assert values('parse message /(?<word>b..m)/ | filter ispresent(word) | display word', "word") == ["boom"]


# ---------------------------------------------------------------------------------------------
# stats

def test_stats_by_field():
    q = ('filter @type = "REPORT" | stats count(*) as n, sum(@billedDuration) as billed, avg(@duration) as avgDur, '
         'min(@duration) as minDur, max(@duration) as maxDur, count_distinct(@requestId) as ids, '
         'stddev(@duration) as sd, earliest(@requestId) as first, latest(@requestId) as last, '
         'count(@initDuration) as cold, pct(@duration, 50) as p50 by @log')
    rows = {r["@log"]: r for r in query(q)[0]}
    orders = rows[ORDERS]
    assert {k: orders[k] for k in ("n", "billed", "minDur", "maxDur", "ids", "first", "last", "cold", "p50")} == {
        "n": "3", "billed": "3116", "minDur": "15.74", "maxDur": "3000", "ids": "3", "first": "a1", "last": "a3",
        "cold": "2", "p50": "100"}
    assert float(orders["avgDur"]) == pytest.approx((15.74 + 100 + 3000) / 3)
    assert float(orders["sd"]) == pytest.approx(np.std([15.74, 100, 3000], ddof=1))
    assert "sd" not in rows[QUOTE_JSON]  # one value: no sample deviation
    assert rows[QUOTE_JSON]["cold"] == "0" and "@log" in rows[QUOTE_JSON]
    assert list(rows) == [CHECKOUT, ORDERS, QUOTE, QUOTE_JSON]  # groups in key order


def test_stats_without_by_and_expressions_over_aggregates():
    rows = query('filter @type = "REPORT" | stats count(*), sum(@billedDuration) / count(*) as perCall, '
                 'round(avg(@duration), 1) as avgRounded')[0]
    assert rows == [{"count(*)": "8", "perCall": str((16 + 100 + 3000 + 694 + 13 + 51 + 20 + 40) / 8),
                     "avgRounded": "491.5"}]
    assert query('filter @type = "NOPE" | stats count(*) as n')[0] == []


def test_second_stats_runs_over_the_first():
    q = ('filter @type = "REPORT" | stats count(*) as n by @log '
         '| stats sum(n) as total, max(n) as biggest, count(*) as groups')
    assert query(q)[0] == [{"total": "8", "biggest": "3", "groups": "4"}]
    per_bin = query('filter @type = "REPORT" | stats count(*) as n by bin(1h), @log '
                    '| stats sum(n) as total by `bin(1h)`')
    assert per_bin[0] == [{"bin(1h)": "2026-11-22 10:00:00.000", "total": "8"}]


def test_stats_bins_and_earliest_times():
    assert values('filter @type = "REPORT" | stats count(*) as n by bin(30s)', "n") == ["6", "1", "1"]
    rows = query('stats min(@timestamp) as first, max(@timestamp) as last, earliest(@message) as msg')[0]
    assert rows == [{"first": "2026-11-22 10:00:01.000", "last": "2026-11-22 10:06:43.002",
                     "msg": "START RequestId: a1 Version: $LATEST"}]


# ---------------------------------------------------------------------------------------------
# fields, display and functions

def test_fields_and_display():
    q = 'filter @type = "REPORT" and @requestId = "a1" | fields @requestId, @duration * 2 as double, @log'
    results, _ = run_query(compile_query(q), EVENTS)
    assert [f["field"] for f in results[0]] == ["@requestId", "double", "@log", "@ptr"]
    assert query(q + " | display double")[0] == [{"double": "31.48"}]
    redefined = query(q + " | fields double * 2 as double | display double")[0]
    assert redefined == [{"double": "62.96"}]


def test_fields_are_computed_from_the_values_they_were_defined_over():
    q = ('filter @type = "REPORT" and @requestId = "a1" | fields @duration as d, d * 2 as dd '
         '| parse @message /Duration: (?<@duration>[0-9])/ | fields @duration * 10 as tens, d - 0.74 as @message '
         '| display d, dd, @duration, tens, @message, @type')
    assert query(q)[0] == [{"d": "15.74", "dd": "31.48", "@duration": "1", "tens": "10", "@message": "15",
                            "@type": "REPORT"}]  # @type still comes from the message as ingested


def test_sort_and_filter_on_what_stats_computed():
    q = 'filter @type = "REPORT" | stats count(*), avg(@duration) by @log | sort count(*) desc, avg(@duration)'
    rows = query(q)[0]
    assert [r["@log"] for r in rows] == [ORDERS, QUOTE, CHECKOUT, QUOTE_JSON]
    assert list(rows[0]) == ["@log", "count(*)", "avg(@duration)"]
    assert len(query(q + " | filter `count(*)` >= 2 | limit 2")[0]) == 2
    assert query(q + " | display count(*) | limit 1")[0] == [{"count(*)": "3"}]


@pytest.mark.parametrize("expr, expected", [
    ("abs(-2.5)", "2.5"), ("ceil(@duration)", "16"), ("floor(@duration)", "15"), ("round(@duration, 1)", "15.7"),
    ("round(2.5)", "3"), ("strlen(@requestId)", "2"), ("toupper(@requestId)", "A1"), ("tolower('AbC')", "abc"),
    ("concat(@requestId, '-', @billedDuration)", "a1-16"), ("substr(@message, 0, 6)", "REPORT"),
    ("substr(@requestId, 1)", "1"), ("replace(@requestId, 'a', 'req-')", "req-1"),
    ("strcontains(@message, 'XRAY')", "1"), ("strcontains(@message, 'nope')", "0"),
    ("coalesce(missing, @initDuration)", "130.49"), ("coalesce(missing, 'x')", "x"),
    ("datefloor(@timestamp, 1h)", "2026-11-22 10:00:00.000"), ("bin(1m)", "2026-11-22 10:00:00.000"),
    ("fromMillis(1795341600000)", "2026-11-22 10:00:00.000"), ("toMillis(@timestamp)", str(T0 + 1101)),
    ("greatest(@duration, 20, @billedDuration)", "20"), ("least(@duration, 20)", "15.74"),
    ("ispresent(@xrayTraceId)", "1"), ("isempty(missing)", "1"), ("@duration - 0.74", "15"),
    ("10 % 4", "2"), ("2 ^ 3", "8"), ("-@billedDuration", "-16"), ("1 / 0", None),
])
def test_functions(expr, expected):
    q = f'filter @type = "REPORT" and @requestId = "a1" | fields {expr} as v'
    assert values(q, "v") == [expected]


def test_number_and_time_formatting():
    row = query('filter @requestId = "a1" and @type = "REPORT" | fields @timestamp, @duration, @billedDuration, '
                '@maxMemoryUsed, @duration / 3 as third')[0][0]
    assert row == {"@timestamp": "2026-11-22 10:00:01.101", "@duration": "15.74", "@billedDuration": "16",
                   "@maxMemoryUsed": "56000000", "third": repr(15.74 / 3)}


def test_comments_quotes_and_case():
    q = """# leading comment
    FILTER @type = 'REPORT'  # type
      AND @message LIKE "Init"
    | STATS COUNT(*) AS n BY @log
    | SORT n DESC"""
    assert query(q)[0] == [{"@log": ORDERS, "n": "2"}, {"@log": CHECKOUT, "n": "1"}]
    assert query("where @requestId = 'd1' | display @requestId")[0] == [{"@requestId": "d1"}]  # where = filter


# ---------------------------------------------------------------------------------------------
# malformed queries

@pytest.mark.parametrize("q, named", [
    ("fetch @message", "'fetch'"),
    ("fields @message | bogus", "'bogus'"),
    ("filter (@duration > 1", "')'"),
    ("filter @duration > 1)", "')'"),
    ("fields nope(@message)", "'nope'"),
    ("fields sortsFirst(@message)", "'sortsFirst'"),
    ('filter @message like "abc', "unterminated string"),
    ("filter @message like /abc", "unterminated regular expression"),
    ("SOURCE '/aws/lambda/x' | fields @message", "'SOURCE'"),
    ("unmask @message", "'unmask'"),
    ("pattern @message", "'pattern'"),
    ("diff", "'diff'"),
    ("filter count(*) > 1", "count(*)"),
    ("stats @duration", "@duration"),
    ("stats count(*) by bin(5x)", "5x"),
    ("stats count(*) by bin(1mo)", "1mo"),
    ("stats pct(@duration, 101)", "pct"),
    ("stats sum(count(*))", "count(*)"),
    ("stats count(*) by bin(@timestamp)", "bin"),
    ("fields 5m", "5m"),
    ("fields abs(1, 2)", "abs"),
    ("limit 0", "limit"),
    ("limit 10001", "limit"),
    ("limit 2.5", "limit"),
    ('parse @message "a*b*" as x', "2 '*'"),
    ("parse @message /(a)/", "named group"),
    ('parse @message /x(?<a>y)/ as a', "'as'"),
    ("filter @message like /(unclosed/", "invalid regular expression"),
    ("dedup @log | sort @log", "limit"),
    ("fields @message |", "empty command"),
    ("| fields @message", "empty command"),
    ("", "empty query"),
    ("filter @message ~ 'x'", "'~'"),
    ("filter /abc/", "regular expression"),
    ("fields @message as", "field name"),
    ("filter @a not @b", "'like' or 'in'"),
    ("filter x in [1, @y]", "'@y'"),
])
def test_malformed_queries_name_the_problem(q, named):
    message = malformed(q)
    assert named in message


def test_malformed_message_gives_the_position():
    assert "line 2, column 3" in malformed("fields @message\n| sourcery x")


def test_compiled_query_is_reusable():
    compiled = compile_query(COLD_START_QUERY)
    assert run_query(compiled, EVENTS) == run_query(compiled, EVENTS)
    empty = EVENTS.iloc[0:0]
    assert run_query(compiled, empty) == ([], {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0})


def test_missing_messages_and_columns():
    events = EVENTS.copy()
    events.loc[3, "@message"] = None  # a1's REPORT
    rows, stats = query('filter @type = "REPORT" | stats count(*) as n', events)
    assert rows == [{"n": "7"}]
    assert stats["bytesScanned"] == float(EVENTS["@message"].str.len().sum() - len(EVENTS["@message"][3]))
    bare = EVENTS[["@timestamp", "@message"]]
    assert values('filter @requestId = "a3" | fields @log, @message | limit 1', "@message", bare) == \
        [EVENTS["@message"][11]]


def test_timestamp_compared_with_a_word_matches_nothing():
    assert query('filter @timestamp > "yesterday"')[0] == []
    assert len(query('filter @timestamp < "2026-11-22T10:00:02Z"')[0]) == 7


def test_string_min_max_per_group_leave_out_groups_without_values():
    rows = query('stats min(level) as low, max(@requestId) as high by @log')[0]
    assert rows[0] == {"@log": CHECKOUT, "low": "ERROR", "high": "b2"}
    assert rows[1] == {"@log": ORDERS, "high": "a3"}


# ---------------------------------------------------------------------------------------------
# volume

def test_two_hundred_thousand_report_events():
    n = 200_000
    rng = np.random.default_rng(3)
    duration = np.round(rng.gamma(2.0, 40.0, n), 2)
    cold = rng.random(n) < 0.03
    init = np.round(rng.gamma(4.0, 80.0, n), 2)
    messages = [f"REPORT RequestId: {i:08x}-0000-4000-a000-000000000000\tDuration: {d:.2f} ms\tBilled Duration: "
                f"{int(np.ceil(d))} ms\tMemory Size: 256 MB\tMax Memory Used: 90 MB"
                + (f"\tInit Duration: {x:.2f} ms" if c else "")
                for i, (d, c, x) in enumerate(zip(duration.tolist(), cold.tolist(), init.tolist()))]
    ts = T0 + np.arange(n, dtype=np.int64) * 1500  # 200k events over ~83 hours
    events = pd.DataFrame({"@timestamp": ts, "@message": messages, "@logStream": "s", "@log": ORDERS,
                           "@ingestionTime": ts})
    rows, stats = query(COLD_START_QUERY, events)
    assert sum(int(r["invocations"]) for r in rows) == n
    assert sum(int(r["coldStarts"]) for r in rows) == int(cold.sum())
    assert len(rows) == 1000  # 5-minute bins of 200 events each
    assert stats["recordsMatched"] == n


def test_regex_prefilter_literals():
    from lambdaops.demo.insights_regex import branch_literals, required_literals

    assert required_literals(r"^REPORT RequestId: (?<a>\S+)\s.*Status: timeout") == ("REPORT RequestId: ", "Status: timeout")
    assert required_literals(r"(?<id>\S+)\s+Task timed out after") == ("Task timed out after",)
    assert required_literals(r"colou?r x{2}y") == ("colo", "r ", "y")
    assert required_literals(r"Runtime\.OutOfMemory\t") == ("Runtime.OutOfMemory\t",)
    assert required_literals(r"a|b") == () and required_literals(r"(?i)report") == ()
    assert branch_literals(r'^REPORT|"type":\s*"platform\.report"|x(y|z)') == ("REPORT", '"platform.report"', "x")
    assert branch_literals(r"a|\d+") == ()
    # a message holding a literal of one branch only still matches that branch
    events = events_frame([(0, ORDERS, "xz"), (1, ORDERS, "REPORT"), (2, ORDERS, "none")])
    assert values(r'filter @message like /^REPORT|"type":\s*"platform\.report"|x(y|z)/', "@message", events) == [
        "REPORT", "xz"]
