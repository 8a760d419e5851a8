"""The demo account's Invoke: memory model, versions and aliases, cold starts, failures, log formats.

One in-process account for the module (no ``mock_aws`` here: moto's state is process-global).
"""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError

from lambdaops.demo.memory_model import expected_billed_ms
from lambdaops.report_line import parse_report

from tests.helpers import lambda_client

pytestmark = pytest.mark.e2e

US, EU = "us-east-1", "eu-west-1"



@pytest.fixture(scope="module")
def lam(account):
    def make(region):
        return lambda_client(account, region)
    return {US: make(US), EU: make(EU)}


def spec(account, name):
    return next(f for f in account.fleet if f.name == name)


def invoke(cli, name, **kw):
    resp = cli.invoke(FunctionName=name, LogType="Tail", Payload=kw.pop("payload", b'{"k": 1}'), **kw)
    tail = base64.b64decode(resp["LogResult"]).decode() if "LogResult" in resp else ""
    reports = [r for r in map(parse_report, tail.splitlines()) if r is not None]
    resp["report"] = reports[-1] if reports else None
    resp["tail"] = tail
    resp["body"] = resp["Payload"].read()
    return resp


def set_memory(cli, name, mb):
    cli.update_function_configuration(FunctionName=name, MemorySize=mb)
    cli.get_waiter("function_updated_v2").wait(FunctionName=name)


def warm_billed(cli, name, qualifier, n=5):
    invoke(cli, name, Qualifier=qualifier)  # the cold start
    return sorted(invoke(cli, name, Qualifier=qualifier)["report"].billed_ms for _ in range(n))


def test_billed_duration_follows_the_memory_model_for_a_cpu_bound_function(account, lam):
    cli, fn = lam[EU], spec(account, "thumbnail-eu")
    versions = {}
    try:
        for mb in (512, 1024, 2048):
            set_memory(cli, fn.name, mb)
            versions[mb] = cli.publish_version(FunctionName=fn.name)["Version"]
        medians = {}
        for mb, version in versions.items():
            billed = warm_billed(cli, fn.name, version)
            medians[mb] = billed[len(billed) // 2]
            expected = expected_billed_ms(fn.cpu_ms, fn.parallel, fn.io_ms, mb)
            assert medians[mb] == pytest.approx(expected, rel=0.12), mb
        assert medians[512] > 2.5 * medians[2048]  # single-threaded: 4x the CPU, ~3.4x faster
    finally:
        set_memory(cli, fn.name, fn.memory_mb)
        for version in versions.values():
            cli.delete_function(FunctionName=fn.name, Qualifier=version)


def test_billed_duration_hardly_moves_for_an_io_bound_function(account, lam):
    cli, fn = lam[US], spec(account, "orders-api")
    try:
        set_memory(cli, fn.name, 1024)
        fast = warm_billed(cli, fn.name, "$LATEST", n=7)
        set_memory(cli, fn.name, 256)
        slow = warm_billed(cli, fn.name, "$LATEST", n=7)
    finally:
        set_memory(cli, fn.name, fn.memory_mb)
    assert slow[3] == pytest.approx(expected_billed_ms(fn.cpu_ms, fn.parallel, fn.io_ms, 256), rel=0.2)
    assert fast[3] == pytest.approx(expected_billed_ms(fn.cpu_ms, fn.parallel, fn.io_ms, 1024), rel=0.2)
    assert slow[3] / fast[3] < 1.6  # 4x the memory buys little: the time is I/O wait


def test_a_version_keeps_the_memory_it_was_published_with(account, lam):
    cli, fn = lam[US], spec(account, "orders-api")
    try:
        set_memory(cli, fn.name, 384)
        version = cli.publish_version(FunctionName=fn.name)["Version"]
        set_memory(cli, fn.name, 640)
        assert invoke(cli, fn.name, Qualifier=version)["report"].memory_mb == 384
        assert invoke(cli, fn.name)["report"].memory_mb == 640
    finally:
        set_memory(cli, fn.name, fn.memory_mb)
        cli.delete_function(FunctionName=fn.name, Qualifier=version)


def test_cold_start_on_a_new_version_then_warm_then_cold_after_idle(account, lam, monkeypatch):
    cli, fn = lam[US], spec(account, "orders-api")
    set_memory(cli, fn.name, 300)
    try:
        version = cli.publish_version(FunctionName=fn.name)["Version"]
        first = invoke(cli, fn.name, Qualifier=version)["report"]
        second = invoke(cli, fn.name, Qualifier=version)["report"]
        assert first.init_ms is not None and first.restore_ms is None
        # INIT is billed for non-SnapStart cold starts: ceil(Duration + Init)
        assert first.billed_ms == -(-(first.duration_ms + first.init_ms) // 1)
        assert second.init_ms is None and second.billed_ms == -(-second.duration_ms // 1)
        sim = account.invoke_simulator
        real = sim.clock
        monkeypatch.setattr(sim, "clock", lambda: real() + 301)
        assert invoke(cli, fn.name, Qualifier=version)["report"].init_ms is not None
    finally:
        set_memory(cli, fn.name, fn.memory_mb)
        cli.delete_function(FunctionName=fn.name, Qualifier=version)


def test_concurrent_invokes_need_several_environments(account, lam):
    cli, fn = lam[EU], spec(account, "thumbnail-eu")
    version = cli.publish_version(FunctionName=fn.name, Description="concurrency")["Version"]
    barrier = threading.Barrier(6)
    reports = []

    def one():
        barrier.wait()
        reports.append(invoke(cli, fn.name, Qualifier=version)["report"])

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.cold_start for r in reports) >= 2


def test_alias_in_the_name_and_qualifier_parameter_both_resolve(account, lam):
    cli = lam[US]
    live = cli.get_alias(FunctionName="checkout-api", Name="live")["FunctionVersion"]
    assert invoke(cli, "checkout-api:live")["ExecutedVersion"] == live
    assert invoke(cli, "checkout-api", Qualifier="live")["ExecutedVersion"] == live
    arn = f"arn:aws:lambda:{US}:{account.account_id}:function:checkout-api:live"
    assert invoke(cli, arn)["ExecutedVersion"] == live
    assert invoke(cli, "checkout-api", Qualifier="$LATEST")["ExecutedVersion"] == "$LATEST"
    with pytest.raises(ClientError) as err:
        invoke(cli, "checkout-api:live", Qualifier="$LATEST")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        invoke(cli, "checkout-api", Qualifier="no-such-alias")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_snapstart_version_reports_a_restore(account, lam):
    cli = lam[US]
    report = invoke(cli, "quote-service", Qualifier="live")["report"]
    if report.cold_start:  # the first invoke of the version in this module
        assert report.restore_ms is not None and report.init_ms is None
        # Billed Restore Duration is the smaller, billed part of the restore, already inside Billed Duration
        assert 0 < report.billed_restore_ms < report.restore_ms
        assert report.billed_ms == -(-round(report.duration_ms + report.billed_restore_ms, 6) // 1)


def test_out_of_memory_below_the_working_set(account, lam):
    cli, fn = lam[US], spec(account, "image-resize")
    set_memory(cli, fn.name, 512)  # working set 930 MB
    try:
        resp = invoke(cli, fn.name)
    finally:
        set_memory(cli, fn.name, fn.memory_mb)
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["body"])["errorType"] == "Runtime.OutOfMemory"
    rep = resp["report"]
    assert rep.status == "error" and rep.error_type == "Runtime.OutOfMemory" and rep.max_memory_mb == 512
    assert "\tStatus: error\tError Type: Runtime.OutOfMemory" in resp["tail"]


def test_timeout(account, lam):
    cli, fn = lam[EU], spec(account, "thumbnail-eu")
    cli.update_function_configuration(FunctionName=fn.name, MemorySize=512, Timeout=3)  # ~4.9 s of work
    try:
        resp = invoke(cli, fn.name)
    finally:
        cli.update_function_configuration(FunctionName=fn.name, MemorySize=fn.memory_mb, Timeout=fn.timeout_s)
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["body"])["errorMessage"].endswith("Task timed out after 3.00 seconds")
    rep = resp["report"]
    assert rep.status == "timeout" and rep.duration_ms == 3000.0
    assert "Duration: 3000.00 ms" in resp["tail"]


def test_json_log_format_tail_holds_platform_records(account, lam):
    resp = invoke(lam[US], "checkout-api")
    kinds = [json.loads(line)["type"] for line in resp["tail"].splitlines() if '"type"' in line]
    assert "platform.start" in kinds and kinds[-1] == "platform.report"
    assert "REPORT RequestId" not in resp["tail"]
    rep = resp["report"]
    assert rep.memory_mb == 512 and rep.billed_ms >= rep.duration_ms


def test_text_report_line_format(account, lam):
    tail = invoke(lam[US], "orders-api")["tail"]
    line = next(x for x in tail.splitlines() if x.startswith("REPORT"))
    fields = line.split("\t")
    assert fields[0].startswith("REPORT RequestId: ")
    assert [f.split(":")[0] for f in fields[1:5]] == ["Duration", "Billed Duration", "Memory Size", "Max Memory Used"]
    assert fields[1].endswith(" ms") and fields[3].endswith(" MB")


def test_event_and_dry_run(account, lam):
    cli = lam[US]
    at_256 = lambda: int((account.state.function(US, "orders-api").records().memory_mb == 256).sum())  # noqa: E731
    before = at_256()
    resp = cli.invoke(FunctionName="orders-api", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202 and resp["Payload"].read() == b""
    assert cli.invoke(FunctionName="orders-api", InvocationType="DryRun")["StatusCode"] == 204
    assert at_256() == before + 1  # the Event counted, the DryRun did not


def test_invocations_are_recorded_with_version_and_memory(account, lam):
    cli = lam[US]
    live = cli.get_alias(FunctionName="checkout-api", Name="live")["FunctionVersion"]
    resp = invoke(cli, "checkout-api:live")
    rec = account.state.function(US, "checkout-api").records()
    i = rec.n - 1
    assert rec.request_id(i) == resp["report"].request_id
    assert int(rec.version[i]) == int(live) and float(rec.duration_ms[i]) == resp["report"].duration_ms


def test_unknown_function_is_a_404_resource_not_found(account, lam):
    with pytest.raises(ClientError) as err:
        lam[US].invoke(FunctionName="no-such-function", Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "function:no-such-function" in err.value.response["Error"]["Message"]


def test_invalid_json_payload(account, lam):
    with pytest.raises(ClientError) as err:
        lam[US].invoke(FunctionName="orders-api", Payload=b"{not json")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_client_created_function_uses_the_default_model(account, lam):
    cli = lam[US]
    role = f"arn:aws:iam::{account.account_id}:role/lambdaops-demo-execution"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    cli.create_function(FunctionName="scratch-fn", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()}, MemorySize=256)
    try:
        resp = invoke(cli, "scratch-fn")
        assert resp["report"].memory_mb == 256 and resp["report"].cold_start
        assert json.loads(resp["body"])["statusCode"] == 200
        # the code link leads back to the demo, and an architecture change sticks
        location = cli.get_function(FunctionName="scratch-fn")["Code"]["Location"]
        assert location.startswith(account.endpoint)
        with urllib.request.urlopen(location, timeout=5) as r:
            code = r.read()
        assert code == buf.getvalue()
        cli.update_function_code(FunctionName="scratch-fn", ZipFile=code, Architectures=["arm64"])
        assert cli.get_function(FunctionName="scratch-fn")["Configuration"]["Architectures"] == ["arm64"]
    finally:
        cli.delete_function(FunctionName="scratch-fn")
