"""Every case of the corpus through the three readers of Lambda's logs: the REPORT parser
(lambdaops.report_line), the demo's Logs Insights engine running the product's query (a Standard
and an Infrequent Access group), and the --raw-logs path (FilterLogEvents with the product's filter
pattern, then the parser); each must give the case's figures."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.aws.report_logs import PATTERN, fetch_reports
from lambdaops.demo.insights import compile_query, run_query
from lambdaops.demo.insights_eval import NO_DISCOVERY
from lambdaops.demo.logs_api import filter_pattern_mask
from lambdaops.query_files import load
from lambdaops.report_line import parse_report, stream_function, summarize
from tests.unit.conformance.corpus import CASES, Case, all_lines

ACCOUNT = "123456789012"
T0 = 1_795_341_600_000  # 2026-11-22 10:00 UTC
IDS = [c.name for c in CASES]


def group_of(i: int) -> str:
    return f"/conformance/case-{i:02d}"


def expected(case: Case) -> dict:
    return {"invocations": case.invocations, "cold_starts": case.cold_starts, "billed_ms": case.billed_ms,
            "max_memory_mb": case.max_memory_mb, "timeouts": case.timeouts, "out_of_memory": case.out_of_memory}


def parsed_figures(pairs) -> dict[str, dict]:
    return {fn: {"invocations": f.invocations, "cold_starts": len(f.cold_ms), "billed_ms": f.billed_ms,
                 "max_memory_mb": f.max_memory_mb, "timeouts": len(f.timeout_ids),
                 "out_of_memory": len(f.oom_ids)}
            for fn, f in summarize(pairs).items()}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_report_parser(case: Case):
    got = parsed_figures((case.stream, line) for line in case.lines)
    assert got == {stream_function(case.stream): expected(case)}
    reports = [r for r in map(parse_report, case.lines) if r is not None]
    assert all(r.memory_mb == case.memory_size_mb for r in reports)


def test_report_parser_reads_trace_ids_and_never_adds_the_billed_restore_again():
    snap = parse_report(CASES[3].lines[0])
    assert (snap.billed_ms, snap.billed_restore_ms, snap.restore_ms, snap.aws_billed_ms) == (2521, 182, 398.97, 2521)
    traced = parse_report(CASES[4].lines[0])
    assert traced.trace_id == "1-6740a1b2-0123456789abcdef01234567" and traced.init_ms == 180.25
    json_traced = parse_report(CASES[17].lines[0])
    assert json_traced.trace_id == "1-6740a1b2-0123456789abcdef01234567" and json_traced.timed_out


def corpus_events() -> pd.DataFrame:
    rows = []
    for i, case in enumerate(CASES):
        for k, line in enumerate(case.lines):
            ts = T0 + i * 60_000 + k
            rows.append({"@timestamp": ts, "@message": line, "@logStream": case.stream,
                         "@log": f"{ACCOUNT}:{group_of(i)}", "@ingestionTime": ts + 200})
    return pd.DataFrame(rows)


def engine_figures(events: pd.DataFrame) -> dict[tuple[str, str], dict]:
    results, _ = run_query(compile_query(load("cold-starts").text), events)
    out = {}
    for row in results:
        r = {c["field"]: c["value"] for c in row}
        out[(r["@log"].split(":", 1)[1], r.get("streamFunction", ""))] = {
            "invocations": int(r["invocations"]), "cold_starts": int(r["coldStarts"]),
            "billed_ms": int(float(r["billedMs"])), "max_memory_mb": int(float(r["maxMemoryUsedMB"])),
            "timeouts": int(r["timeouts"]), "out_of_memory": int(r["outOfMemory"])}
    return out


@pytest.mark.parametrize("infrequent_access", [False, True], ids=["standard", "infrequent-access"])
def test_demo_insights_engine_with_the_product_query(infrequent_access):
    events = corpus_events()
    if infrequent_access:  # no field discovery at all: the query reads the message text
        events[NO_DISCOVERY] = True
    got = engine_figures(events)
    want = {(group_of(i), stream_function(c.stream)): expected(c) for i, c in enumerate(CASES)}
    assert set(got) == set(want)
    for i, case in enumerate(CASES):
        key = (group_of(i), stream_function(case.stream))
        assert got[key] == want[key], case.name


def test_the_raw_logs_filter_pattern_keeps_every_line_a_figure_needs():
    lines = pd.Series([m for _, m in all_lines()])
    kept = lines[filter_pattern_mask(PATTERN, lines)]
    needed = [m for m in lines if parse_report(m) or "Task timed out after" in m or "signal: killed" in m]
    assert sorted(kept) == sorted(needed)


def test_raw_logs_path(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOGS"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        for i, case in enumerate(CASES):
            logs.create_log_group(logGroupName=group_of(i))
            logs.create_log_stream(logGroupName=group_of(i), logStreamName=case.stream)
            logs.put_log_events(logGroupName=group_of(i), logStreamName=case.stream, logEvents=[
                {"timestamp": T0 + k, "message": line} for k, line in enumerate(case.lines)])
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        start = datetime.fromtimestamp(T0 / 1000 - 60, timezone.utc)
        end = datetime.fromtimestamp(T0 / 1000 + 3600, timezone.utc)
        out = fetch_reports(ctx, "us-east-1", [group_of(i) for i in range(len(CASES))] + ["/conformance/none"],
                            start, end)
    assert out.missing.keys() == {"/conformance/none"} and not out.failed
    for i, case in enumerate(CASES):
        figs = out.figures[group_of(i)][stream_function(case.stream)]
        got = {"invocations": figs.invocations, "cold_starts": len(figs.cold_ms), "billed_ms": figs.billed_ms,
               "max_memory_mb": figs.max_memory_mb, "timeouts": len(figs.timeout_ids),
               "out_of_memory": len(figs.oom_ids)}
        assert got == expected(case), case.name
