"""`lambdaops report` against `lambdaops demo serve`, checked against the demo's ground truth."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from lambdaops.store.cells import R
from tests.conftest import ROOT, demo_env

pytestmark = pytest.mark.e2e
runner = CliRunner()


def run(demo, *args, env_extra=None):
    env = demo_env(demo.endpoint)
    env.update(env_extra or {})
    return runner.invoke(app, ["--endpoint-url", demo.endpoint, "--region", "us-east-1,eu-west-1", *args], env=env)


@pytest.fixture(scope="module")
def report(served_demo):
    truth = served_demo.truth
    res = run(served_demo, "report", "--start", truth["window"]["start"], "--end", truth["window"]["end"], "-o", "json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout), truth


def close(actual, expected, rel=0.02):
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=rel, abs_tol=0.05)


def test_every_function_matches_the_truth(report):
    data, truth = report
    got = {(f["region"], f["name"]): f for f in data["functions"]}
    assert len(got) == len(truth["functions"]) >= 20
    for t in truth["functions"]:
        f = got[(t["region"], t["name"])]
        where = f"{t['name']}"
        for k in ("invocations", "errors", "throttles", "cold_starts", "timeouts"):
            assert f[k] == t[k], (where, k, f[k], t[k])
        for q in ("p50", "p90", "p99"):
            assert close(f[f"duration_{q}_ms"], t["duration_ms"][q]), (where, q, f[f"duration_{q}_ms"], t["duration_ms"])
        assert close(f["duration_max_ms"], t["duration_ms"]["max"], 1e-9), where
        assert close(f["init_p50_ms"], t["init_ms"]["p50"]) and close(f["init_p99_ms"], t["init_ms"]["p99"]), where
        assert close(f["iterator_age_max_ms"], t["iterator_age_max_ms"], 1e-9), where
        assert close(f["billed_gb_seconds"], t["billed_gb_seconds"], 0.001), (where, f["billed_gb_seconds"], t["billed_gb_seconds"])
        assert f["max_concurrency"] == t["max_concurrency"], where
        assert f["memory_used_max_mb"] == t["memory_used_max_mb"], where


def test_both_report_formats_and_snapstart_are_covered(report):
    data, truth = report
    formats = {t["log_format"] for t in truth["functions"] if t["cold_starts"]}
    assert formats == {"Text", "JSON"}
    quote = next(f for f in data["functions"] if f["name"] == "quote-service")
    assert quote["cold_starts"] > 0  # SnapStart restores count as cold starts


def test_dlq_depth_per_function_matches_the_queues(report):
    data, truth = report
    depth = {q["name"]: q["dlq_messages"] for q in truth["queues"]}
    got = {f["name"]: f for f in data["functions"]}
    assert got["payments-async"]["dlq_depth"] == depth["payments-async-dlq"]
    assert got["order-queue-worker"]["dlq_depth"] == depth["orders-dlq"]
    assert got["orders-stream-consumer"]["dlq_depth"] == depth["orders-stream-failures"]
    assert got["checkout-api"]["dlq_depth"] is None  # no DLQ at all: missing, not zero


def test_findings_and_calls(report):
    data, truth = report
    codes = {f["name"]: {x["code"] for x in f["findings"]} for f in data["functions"]}
    assert "iterator_age" in codes["orders-stream-consumer"]
    assert "throttling" in codes["webhook-receiver"]
    assert "dlq_not_empty" in codes["payments-async"]
    # 24 functions x 8 metric figures (+4 IteratorAge) fit in one GetMetricData call per region;
    # two Insights queries per region (under 50 log groups): the window, and its unaligned head per
    # second (kept, so the next window starting in that bin asks nothing for it, collect.log_bins);
    # and one more in us-east-1: its batch names the log group of reports-backfill, which never ran
    # and has none, so StartQuery fails as a whole and is asked again without it.
    assert data["api_calls"]["cloudwatch.GetMetricData"] == 2
    assert data["api_calls"]["logs.StartQuery"] == 5
    assert list(data) == ["generated_at", "window", "regions", "functions", "errors", "notes", "api_calls",
                          "api_retries", "cost", "inventory"]
    # a healthy run: nothing missing, no error, no retry
    assert data["errors"] == [] and data["api_retries"] == {}
    assert all(f["missing"] == [] for f in data["functions"])


def test_raw_logs_fallback_agrees_with_insights(served_demo, report):
    data, truth = report
    res = run(served_demo, "report", "--start", truth["window"]["start"], "--end", truth["window"]["end"],
              "--raw-logs", "--functions", "email-sender", "--functions", "tax-calculator", "-o", "json")
    assert res.exit_code == 0, res.stderr
    raw = {f["name"]: f for f in json.loads(res.stdout)["functions"]}
    ins = {f["name"]: f for f in data["functions"]}
    for name in ("email-sender", "tax-calculator"):  # JSON and text log formats
        for k in ("cold_starts", "memory_used_max_mb", "billed_gb_seconds"):
            assert raw[name][k] == ins[name][k], (name, k)
        for k in ("init_p50_ms", "init_p99_ms"):  # Insights through the store: its histogram's 0.5% bound
            assert math.isclose(raw[name][k], ins[name][k], rel_tol=(1 + R) ** 0.5 - 1), (name, k)


def test_compare_previous_and_formats(served_demo, report, tmp_path):
    data, truth = report
    start = datetime.fromisoformat(truth["window"]["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(truth["window"]["end"].replace("Z", "+00:00"))
    half = start + (end - start) / 2
    res = run(served_demo, "report", "--start", half.isoformat(), "--end", end.isoformat(), "--compare-previous",
              "--functions", "orders-*", "-o", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["api_calls"]["cloudwatch.GetMetricData"] == 1  # both windows in the same call
    f = out["functions"][0]
    assert f["previous"]["invocations"] + f["invocations"] == next(
        t["invocations"] for t in truth["functions"] if t["name"] == f["name"])
    for fmt, marker in (("csv", "name,region,runtime"), ("markdown", "# lambdaops fleet report"),
                        ("html", "<!doctype html>")):
        target = tmp_path / f"r.{fmt}"
        res = run(served_demo, "report", "--since", "7h", "--functions", "orders-*", "-o", fmt, "--out", str(target))
        assert res.exit_code == 0, res.stderr
        assert target.read_text().startswith(marker) or marker in target.read_text()


def test_fail_on_and_bad_input(served_demo):
    assert run(served_demo, "report", "--since", "7h", "--fail-on", "critical", "-o", "json").exit_code == 1
    # --strict on a complete report changes nothing: findings still give 1
    assert run(served_demo, "report", "--since", "7h", "--fail-on", "critical", "--strict", "-o", "json").exit_code == 1
    res = run(served_demo, "report", "--functions", "nope-*")
    assert res.exit_code == 2 and "no function matches nope-*" in res.stderr
    res = run(served_demo, "report", "--since", "500d")
    assert res.exit_code == 2 and "retention" in res.stderr
    res = run(served_demo, "report", "--start", "2026-01-02T00:00:00Z", "--end", "2026-01-01T00:00:00Z")
    assert res.exit_code == 2


def test_malformed_query_file_names_the_file(served_demo, tmp_path):
    bad = tmp_path / "bad.logsinsights"
    bad.write_text("fields @timestamp | frobnicate 3\n")
    res = run(served_demo, "query", str(bad), "--since", "7h", "--functions", "orders-api")
    assert res.exit_code == 254
    assert str(bad) in res.stderr and "MalformedQueryException" in res.stderr


def test_query_and_traces_commands(served_demo):
    res = run(served_demo, "query", "slowest", "--since", "7h", "--functions", "checkout-api", "-o", "json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert 0 < len(rows) <= 25 and float(rows[0]["durationMs"]) >= float(rows[-1]["durationMs"])
    res = run(served_demo, "traces", "tax-calculator", "--since", "6h", "--top", "3", "-o", "json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    cold = [r for r in rows if r["kind"] == "cold start"]
    assert cold and all(r["init_ms"] > 0 for r in cold)
    res = run(served_demo, "traces", "no-such-fn", "--since", "1h")
    assert res.exit_code == 254 and "not found" in res.stderr


def test_report_does_not_import_textual():
    code = ("import sys; from lambdaops.cli import main, report_cmd, report_render; import lambdaops.collect.fleet; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr
