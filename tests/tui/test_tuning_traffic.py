"""A tuning run's own invocations (out-of-memory deaths at 128 MB) are not the fleet's findings: pure
parts, no app, no AWS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lambdaops.analysis.fleet import Finding, analyze
from lambdaops.aws.tuning import InvokeResult
from lambdaops.models import FunctionInfo
from lambdaops.report_line import Report
from lambdaops.tui.fleet_model import build_fleet_model
from lambdaops.tui.tuning_traffic import CountingApi, Invocation, TuningTraffic
from lambdaops.analysis.thresholds import Thresholds

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
START = NOW - timedelta(hours=3)
KEY = "us-east-1/image-resize"


def fn():
    return FunctionInfo(name="image-resize", region="us-east-1", arn="arn:aws:lambda:us-east-1:1:function:image-resize",
                        runtime="python3.12", architecture="arm64", memory_mb=1024, timeout_s=30, last_modified=None)


def collected(oom: float, errors: float, memory_used: float = 700.0) -> dict:
    """The snapshot row of image-resize as collected: production traffic plus whatever else ran."""
    rec = {"name": "image-resize", "region": "us-east-1", "runtime": "python3.12", "architecture": "arm64",
           "memory_mb": 1024, "timeout_s": 30, "invocations": 1010.0, "errors": errors, "throttles": 0.0,
           "duration_p50_ms": 180.0, "duration_p99_ms": 900.0, "log_invocations": 1010.0, "cold_starts": 20.0,
           "init_p99_ms": 400.0, "memory_used_max_mb": memory_used, "billed_ms": 200_000.0, "timeouts": 0.0,
           "out_of_memory": oom, "dlq_depth": 0.0}
    return analyze([rec]).to_dict("records")[0]


def tuning_run(traffic: TuningTraffic, at: datetime = NOW - timedelta(minutes=5)) -> None:
    """5 invocations at 128 MB, all out of memory; 5 at 2048 MB, fine."""
    for i in range(5):
        traffic.record(KEY, Invocation(at, error=True, out_of_memory=True, timeout=False, cold=i == 0,
                                       billed_ms=120, duration_ms=110, max_memory_mb=128))
    for i in range(5):
        traffic.record(KEY, Invocation(at, error=False, out_of_memory=False, timeout=False, cold=i == 0,
                                       billed_ms=90, duration_ms=85, max_memory_mb=650))


def finding_cell(records):
    model = build_fleet_model([fn()], records)
    return model.cells[0][[c.key for c in model.columns].index("finding")], model.severity[0]


def test_a_tuning_runs_out_of_memory_deaths_are_not_a_finding():
    rec = collected(oom=5, errors=7)
    assert [f.code for f in rec["findings"]] == ["memory_near_limit"]  # what the fleet said before
    traffic = TuningTraffic()
    tuning_run(traffic)
    out = traffic.apply([rec], START, NOW, Thresholds())
    assert out[0]["findings"] == []
    assert out[0]["invocations"] == 1010.0 and out[0]["out_of_memory"] == 5  # figures as collected
    cell, severity = finding_cell(out)
    assert cell == "⚙ includes 10 tuning invocations (5 out of memory)" and severity is None
    assert traffic.apply(out, START, NOW, Thresholds())[0]["findings"] == []  # the same rows again


def test_a_row_whose_only_finding_was_the_tunings_moves_down():
    traffic = TuningTraffic()
    tuning_run(traffic)
    other = {**collected(oom=0, errors=0), "name": "thumbnail", "findings": []}
    warned = {**other, "name": "zeta", "findings": [Finding("warning", "timeouts", "1 invocation timed out")]}
    rows = [collected(oom=5, errors=7), warned, other]  # worst first, as collected
    assert [r["name"] for r in traffic.apply(rows, START, NOW, Thresholds())] == ["zeta", "image-resize", "thumbnail"]


def test_production_deaths_beyond_the_tunings_stay_a_finding():
    traffic = TuningTraffic()
    tuning_run(traffic)
    out = traffic.apply([collected(oom=8, errors=10)], START, NOW, Thresholds())
    memory = next(f for f in out[0]["findings"] if f.code == "memory_near_limit")
    assert memory.severity == "critical" and "3 out-of-memory deaths" in memory.message
    assert finding_cell(out)[0].startswith("✖ memory")


def test_a_peak_the_tuning_may_have_set_is_not_blamed_on_production():
    # The run's 2048 MB invocations peaked at 650 MB; the function has 1024 MB and peaked at 650 MB
    # over the window: whose peak it is cannot be told, so no memory finding comes from it.
    traffic = TuningTraffic()
    for _ in range(5):
        traffic.record(KEY, Invocation(NOW, error=False, out_of_memory=False, timeout=False, cold=False,
                                       billed_ms=90, duration_ms=85, max_memory_mb=1000))
    rec = collected(oom=0, errors=0, memory_used=1000)
    assert [f.code for f in rec["findings"]] == ["memory_near_limit"]
    assert traffic.apply([rec], START, NOW, Thresholds())[0]["findings"] == []


def test_tuning_outside_the_window_changes_nothing():
    traffic = TuningTraffic()
    tuning_run(traffic, at=START - timedelta(minutes=1))
    rec = collected(oom=5, errors=7)
    assert traffic.apply([rec], START, NOW, Thresholds()) == [rec]


def test_counting_api_records_what_each_invocation_answered():
    class Api:
        region = "us-east-1"

        def __init__(self):
            self.answers = [
                InvokeResult(Report("r1", 110, 120, 128, 128, init_ms=300, status="error",
                                    error_type="Runtime.OutOfMemory"), "Unhandled", "Runtime.OutOfMemory", "7"),
                InvokeResult(Report("r2", 3000, 3000, 256, 90, status="timeout"), "Unhandled", "Sandbox.Timedout", "8"),
                InvokeResult(Report("r3", 50, 50, 512, 80), None, None, "9"),
            ]

        def invoke(self, name, qualifier, payload, *, timeout_s=900):
            return self.answers.pop(0)

    traffic = TuningTraffic()
    api = CountingApi(Api(), traffic, KEY, lambda: NOW)
    assert api.region == "us-east-1"  # everything else passes through
    for _ in range(3):
        api.invoke("image-resize", "alias", b"{}", timeout_s=3)
    share = traffic.share(KEY, START, NOW)
    assert (share.invocations, share.errors, share.out_of_memory, share.timeouts, share.cold_starts) == (3, 2, 1, 1, 1)
    assert share.billed_ms == 3170 and share.max_memory_mb == 128 and share.max_duration_ms == 3000
