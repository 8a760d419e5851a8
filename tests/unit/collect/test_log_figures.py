"""Which log figures a function gets from one region's Logs Insights rows (snapshot.LogResult): its
own rows of a shared group, and null with a note (never 0 invocations / $0) when its group is missing
or the logs hold nothing although CloudWatch counted invocations."""

from __future__ import annotations

from lambdaops.models import FunctionInfo
from lambdaops.collect.log_figures import LogResult, group_users


def fn(name: str, group: str | None = None) -> FunctionInfo:
    return FunctionInfo(name=name, region="us-east-1", arn=f"arn:aws:lambda:us-east-1:1:function:{name}",
                        runtime="python3.12", architecture="x86_64", memory_mb=128, timeout_s=3,
                        last_modified=None, log_group=group or f"/aws/lambda/{name}")


def figs(n: float) -> dict:
    return {"log_invocations": n, "cold_starts": 1.0, "init_p50_ms": 100.0, "init_p99_ms": 100.0,
            "memory_used_max_mb": 60.0, "billed_ms": 10 * n, "timeouts": 0.0, "out_of_memory": 0.0}


FNS = [fn("own"), fn("a", "/app/shared"), fn("b", "/app/shared"), fn("quiet"), fn("silent"), fn("gone")]
RESULT = LogResult(figures={("/aws/lambda/own", ""): figs(5), ("/app/shared", "a"): figs(3),
                            ("/app/shared", "b"): figs(7)},
                   missing={"/aws/lambda/gone": "Log group '/aws/lambda/gone' does not exist"}, region="us-east-1")


def test_each_function_gets_its_own_figures_and_nulls_say_why():
    sharing, notes = group_users(FNS), []
    got = {f.name: RESULT.for_function(f, sharing, inv, notes, "")
           for f, inv in zip(FNS, (5, 3, 7, 0, 12, 0))}
    assert got["own"]["log_invocations"] == 5 and got["a"]["billed_ms"] == 30 and got["b"]["billed_ms"] == 70
    # no REPORT line and no invocation: truly zero
    assert got["quiet"]["log_invocations"] == 0 and got["quiet"]["billed_ms"] == 0
    # no REPORT line although CloudWatch counted 12 invocations, and a missing group: unknown, with notes
    assert set(got["silent"].values()) == {None} and set(got["gone"].values()) == {None}
    assert len(notes) == 2 and "12 invocations" in notes[0] and "silent" in notes[0]
    assert "gone" in notes[1] and "does not exist" in notes[1]


def test_rows_of_a_default_stream_in_a_shared_group_are_nobody_s():
    result = LogResult(figures={("/app/shared", ""): figs(4)}, region="us-east-1")
    notes: list[str] = []
    got = result.for_function(FNS[1], group_users(FNS), 4, notes, "")
    assert set(got.values()) == {None} and notes
