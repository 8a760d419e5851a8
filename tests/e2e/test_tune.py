"""``lambdaops tune`` end to end against an in-process demo account.

The expected optimum is computed here from the demo's memory model and the price table, not from the
tuner's code. Measurements carry noise (lognormal, deterministic per seed), so a recommendation is
accepted when its *model* score is within NOISE_BAND of the model's best: where two sizes are that
close the model cannot tell them apart either. The sizes below are chosen so the band holds one or
two sizes.
"""

from __future__ import annotations

import json

import boto3
import pytest
from typer.testing import CliRunner

from lambdaops.aws.tuning import ALIAS_PREFIX, NONCE_VAR, TAG_RESTORE, TAG_RUN
from lambdaops.cli.main import app
from lambdaops.demo.memory_model import expected_billed_ms, expected_duration_ms
from lambdaops.pricing import invocation_cost

from tests.helpers import lambda_client as lam

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fast_tuning")]

NOISE_BAND = 0.06
CPU_BOUND = ("image-resize", "us-east-1", "512,1024,1536,2048,3008")  # working set 930 MB: 512 dies
IO_BOUND = ("orders-api", "us-east-1", "128,256,512,1024,2048")




def cli(account, *args):
    result = CliRunner().invoke(app, ["--endpoint-url", account.endpoint, *args])
    return result.exit_code, result.stdout, result.stderr




def spec(account, name):
    return next(f for f in account.fleet if f.name == name)


def footprint(account, name, region):
    """What a tuning run must leave exactly as it found it."""
    c = lam(account, region)
    cfg = c.get_function(FunctionName=name)["Configuration"]
    return {
        "memory": cfg["MemorySize"], "arch": cfg["Architectures"],
        "env": (cfg.get("Environment") or {}).get("Variables"),
        "aliases": sorted((a["Name"], a["FunctionVersion"]) for a in c.list_aliases(FunctionName=name)["Aliases"]),
        "versions": sorted(v["Version"] for v in c.list_versions_by_function(FunctionName=name)["Versions"]),
        "tags": c.list_tags(Resource=cfg["FunctionArn"])["Tags"],
    }


def assert_no_trace(account, name, region, before):
    after = footprint(account, name, region)
    assert after == before
    assert not [a for a, _ in after["aliases"] if a.startswith(ALIAS_PREFIX)]
    assert TAG_RUN not in after["tags"] and TAG_RESTORE not in after["tags"]
    assert NONCE_VAR not in (after["env"] or {})


def model_scores(account, name, sizes, strategy, weight=0.5):
    """Each size's score under ``strategy`` from the memory model and the price table (lower is better)."""
    f = spec(account, name)
    rows = {}
    for mb in sizes:
        if mb < f.working_set_mb:
            continue
        billed = expected_billed_ms(f.cpu_ms, f.parallel, f.io_ms, mb)
        cost = invocation_cost(billed, mb, f.region, f.architecture)
        rows[mb] = (cost, expected_duration_ms(f.cpu_ms, f.parallel, f.io_ms, mb))
    max_cost = max(c for c, _ in rows.values())
    max_dur = max(d for _, d in rows.values())
    if strategy == "cost":
        return {mb: c for mb, (c, _) in rows.items()}
    if strategy == "speed":
        return {mb: d for mb, (_, d) in rows.items()}
    return {mb: weight * c / max_cost + (1 - weight) * d / max_dur for mb, (c, d) in rows.items()}


def near_optimal(scores):
    best = min(scores.values())
    return {mb for mb, s in scores.items() if s <= best * (1 + NOISE_BAND)}


@pytest.mark.parametrize("fn", [CPU_BOUND, IO_BOUND], ids=["cpu-bound", "io-bound"])
@pytest.mark.parametrize("strategy", ["cost", "speed", "balanced"])
def test_recommends_the_model_optimum(account, fn, strategy):
    name, region, memory = fn
    before = footprint(account, name, region)
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", memory, "--num", "5",
                         "--strategy", strategy, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"function", "region", "architecture", "original_memory_mb", "strategy", "results",
                        "recommendation", "skipped", "api_calls"}
    assert doc["original_memory_mb"] == spec(account, name).memory_mb and doc["strategy"] == strategy
    measured = [r["memory_mb"] for r in doc["results"]]
    scores = model_scores(account, name, measured, strategy)
    expected = near_optimal(scores)
    assert doc["recommendation"]["memory_mb"] in expected, (doc["recommendation"], scores)
    assert len(expected) <= 2  # the test still discriminates
    for r in doc["results"]:
        assert r["invocations"] == 5 and r["errors"] == 0 and r["cold_starts"] == 1  # a new version each size
        assert set(r["duration_ms"]) == {"mean_trimmed", "p50", "p90", "p99", "stddev"}
    assert doc["api_calls"]["lambda.Invoke"] == 5 * (len(measured) + len(doc["skipped"]))
    assert_no_trace(account, name, region, before)


def test_billed_means_follow_the_memory_model(account):
    name, region, memory = CPU_BOUND
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", memory, "--num", "5", "-o", "json")
    assert code == 0, err
    f = spec(account, name)
    for r in json.loads(out)["results"]:
        assert r["billed_ms_mean"] == pytest.approx(expected_billed_ms(f.cpu_ms, f.parallel, f.io_ms, r["memory_mb"]),
                                                    rel=0.1)


def test_a_size_below_the_working_set_is_skipped_as_out_of_memory(account):
    name, region, memory = CPU_BOUND
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", memory, "--num", "5", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    (skipped,) = doc["skipped"]
    assert skipped["memory_mb"] == 512 and "out of memory" in skipped["reason"]
    assert 512 not in [r["memory_mb"] for r in doc["results"]]
    assert "512 MB skipped: out of memory" in err


def test_table_output_with_chart_and_recommendation(account):
    name, region, _ = IO_BOUND
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", "128,512", "--num", "5")
    assert code == 0, err
    assert "Recommended (cost): 128 MB for orders-api" in out
    assert "Cost per million" in out and "█" in out
    assert "current" in out and "recommended" in out


def test_csv_and_markdown(account):
    name, region, _ = IO_BOUND
    code, out, _ = cli(account, "--region", region, "tune", name, "--memory", "128", "--num", "5", "-o", "csv")
    assert code == 0 and out.splitlines()[0].startswith("memory_mb,invocations,errors")
    assert len(out.splitlines()) == 3  # 128 and the current 256
    code, out, _ = cli(account, "--region", region, "tune", name, "--memory", "128", "--num", "5", "-o", "markdown")
    assert code == 0 and out.startswith("| Memory MB |") and "**Recommended" in out


def test_json_log_format_function_parallel_and_cold_only(account):
    name, region = "checkout-api", "us-east-1"  # LoggingConfig JSON: REPORTs come as platform.report
    before = footprint(account, name, region)
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", "256,1024", "--num", "5",
                         "--parallel", "-o", "json")
    assert code == 0, err
    assert all(r["invocations"] == 5 and r["errors"] == 0 for r in json.loads(out)["results"])
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", "256", "--num", "5",
                         "--cold-only", "-o", "json")
    assert code == 0, err
    assert all(r["cold_starts"] == 5 for r in json.loads(out)["results"])
    assert_no_trace(account, name, region, before)


def test_cold_only_speed_includes_init_and_is_billed_at_least_that(account):
    from lambdaops.demo.memory_model import init_scale

    name, region, mb = "orders-api", "us-east-1", 1024
    f = spec(account, name)
    before = footprint(account, name, region)
    runs = {}
    for mode in ([], ["--cold-only"]):
        code, out, err = cli(account, "--region", region, "tune", name, "--memory", str(mb), "--num", "5",
                             *mode, "-o", "json")
        assert code == 0, err
        runs[bool(mode)] = next(r for r in json.loads(out)["results"] if r["memory_mb"] == mb)
    cold, warm = runs[True], runs[False]
    assert cold["cold_starts"] == 5
    # Duration + Init Duration, every invocation kept: well above the warm Duration by about the INIT
    init = f.init_ms * init_scale(mb)
    assert cold["duration_ms"]["mean_trimmed"] - warm["duration_ms"]["mean_trimmed"] > 0.5 * init
    # INIT is billed (max(Billed Duration, ceil(Duration + Init))), so billed is never below that speed
    assert cold["billed_ms_mean"] >= cold["duration_ms"]["mean_trimmed"]
    assert_no_trace(account, name, region, before)


def test_arch_compare_restores_the_architecture(account):
    name, region = "orders-api", "us-east-1"
    before = footprint(account, name, region)
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", "128,512", "--num", "5",
                         "--arch-compare", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["arch_compare"]["architecture"] == "arm64"
    assert [r["memory_mb"] for r in doc["arch_compare"]["results"]] == [128, 256, 512]
    # same work on both in the demo, so arm64's lower price wins across architectures
    assert doc["arch_compare"]["best_overall"]["architecture"] == "arm64"
    assert_no_trace(account, name, region, before)


def test_payloads_from_a_dlq_are_not_consumed(account):
    name, region = "thumbnail-eu", "eu-west-1"
    sqs = boto3.client("sqs", region_name=region, endpoint_url=account.endpoint, aws_access_key_id="demo",
                       aws_secret_access_key="demo")
    url = sqs.get_queue_url(QueueName="thumbnail-eu-dlq")["QueueUrl"]

    def depth():
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"image": "a.png"}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"version": "1.0", "requestContext": {"requestId": "x"},
                                                           "requestPayload": {"image": "b.png"}}))
    before = depth()
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", "1024", "--num", "5",
                         "--payload-from-dlq", "thumbnail-eu-dlq", "-o", "json")
    assert code == 0, err
    assert "events from thumbnail-eu-dlq" in err
    assert depth() == before


def test_apply_with_yes_sets_the_winner(account):
    name, region = "orders-api", "us-east-1"
    original = spec(account, name).memory_mb
    try:
        code, out, err = cli(account, "--region", region, "tune", name, "--memory", "128", "--num", "5", "--apply",
                             "--yes", "-o", "json")
        assert code == 0, err
        assert json.loads(out)["recommendation"]["memory_mb"] == 128
        assert lam(account, region).get_function(FunctionName=name)["Configuration"]["MemorySize"] == 128
    finally:
        lam(account, region).update_function_configuration(FunctionName=name, MemorySize=original)


def test_cleanup_after_a_run_killed_hard(account, monkeypatch):
    name, region = "orders-api", "us-east-1"
    before = footprint(account, name, region)
    import lambdaops.tuning.engine as engine

    calls = {"n": 0}
    real_invoke = engine.TuningRun._invoke_one

    def dying(self, q, p):
        calls["n"] += 1
        if calls["n"] == 12:  # in the third size (512 MB): memory differs from the original 256
            raise KeyboardInterrupt
        return real_invoke(self, q, p)

    with monkeypatch.context() as patch:
        # A hard kill runs no finally: simulate it by skipping the restore and stopping mid-run.
        patch.setattr(engine, "restore_function", lambda *a, **kw: [])
        patch.setattr(engine.TuningRun, "_invoke_one", dying)
        code, _, err = cli(account, "--region", region, "tune", name, "--memory", "128,512", "--num", "5")
        assert code == 130
    left = footprint(account, name, region)
    assert left != before and TAG_RUN in left["tags"]
    code, out, err = cli(account, "--region", region, "tune", name, "--memory", "128", "--num", "5")
    assert code == 254 and "--cleanup orders-api" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli(account, "--region", region, "tune", "--cleanup", name)
    assert code == 0, err
    assert "deleted alias lambdaops-tune-" in out and "memory 512 -> 256 MB" in out
    assert_no_trace(account, name, region, before)
    code, out, _ = cli(account, "--region", region, "tune", "--cleanup", name)
    assert code == 0 and "nothing to clean up" in out


@pytest.mark.parametrize("args, code, text", [
    (["tune", "no-such-function", "--num", "5"], 254, "Function not found"),
    (["tune", "orders-api", "--num", "3"], 2, "--num must be at least 5"),
    (["tune", "orders-api", "--memory", "64"], 2, "outside Lambda's"),
    (["tune", "orders-api", "--strategy", "cheap"], 2, "--strategy must be one of"),
    (["tune", "orders-api:live"], 2, "without a version or alias"),
    (["tune", "orders-api", "--apply"], 2, "add --yes"),
    (["tune", "orders-api", "--payload", "/nonexistent.json"], 2, "cannot read"),
    (["tune", "orders-api", "--payload", "x.json", "--payloads", "y.json"], 2, "only one of"),
])
def test_user_errors_are_one_line_with_the_right_exit_code(account, args, code, text):
    got, out, err = cli(account, "--region", "us-east-1", *args)
    assert got == code, err
    assert text in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_arn_selects_its_own_region(account):
    arn = f"arn:aws:lambda:eu-west-1:{account.account_id}:function:thumbnail-eu"
    code, out, err = cli(account, "--region", "us-east-1", "tune", arn, "--memory", "2048", "--num", "5", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["region"] == "eu-west-1" and doc["function"] == "thumbnail-eu"
