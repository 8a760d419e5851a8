"""The tuning run against a fault-injecting fake Lambda client: it must leave no trace whatever happens.

The fake keeps just enough state (memory, environment, architecture, versions, aliases, tags) to
check, after success, an error mid-run and KeyboardInterrupt mid-run, that the function is exactly
as before. Faults: ``fail={"op": (call_number, exception)}`` raises on that call of that operation.
"""

from __future__ import annotations

import base64
import json
import copy
import math
import threading
import time

import pytest
from botocore.exceptions import ClientError

from lambdaops.aws.ratelimit import RateLimiter
from lambdaops.aws.tuning import NONCE_VAR, TAG_RESTORE, TAG_RUN, CodePackage, LeftoversError, TuningApi
from lambdaops.errors import ServiceError
from lambdaops.tuning.cleanup import cleanup_leftovers
from lambdaops.tuning.engine import StrictFailure, TuneCancelled, run_tuning
from lambdaops.tuning.options import TuneOptions

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"


def client_error(code, op, status=400):
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, op)


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class _Waiter:
    def __init__(self, fake):
        self.fake = fake

    def wait(self, **kw):
        self.fake._count("wait")


class FakeLambda:
    """Duration = 100 ms x 1024 / memory + 20 ms; out of memory below ``working_set``."""

    def __init__(self, memory=1024, arch="x86_64", env=None, working_set=200, fail=None, timeout=30,
                 cold_init_ms=None):
        self.memory, self.arch, self.env = memory, arch, dict(env) if env is not None else None
        self.timeout = timeout
        self.working_set = working_set
        self.versions: dict[str, dict] = {}  # number -> {memory, arch, description}
        self.aliases: dict[str, str] = {"live": "1"}
        self.versions["1"] = {"memory": memory, "arch": arch, "description": "release", "env": self.env}
        self.tags = {"team": "x"}
        self.fail = dict(fail or {})
        self.calls: dict[str, int] = {}
        self.changed_since_publish = False
        self.lock = threading.Lock()
        self.call_times: list[tuple[float, str]] = []
        # With cold_init_ms, a version's first invocation is a cold start whose REPORT line shows Init
        # Duration but leaves it out of Billed Duration (some post-2025-08 lines do, although
        # "AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog, bills it).
        self.cold_init_ms = cold_init_ms
        self.warm_versions: set[str] = set()
        self.emitted: list[tuple[int, float, float | None]] = []  # (memory, duration, init)

    # -- bookkeeping ---------------------------------------------------------------------------------
    def _count(self, op):
        with self.lock:
            n = self.calls[op] = self.calls.get(op, 0) + 1
            self.call_times.append((time.monotonic(), op))
        hit = self.fail.get(op)
        if hit and hit[0] in (n, "every"):
            raise hit[1]

    def snapshot(self):
        return {"memory": self.memory, "arch": self.arch, "env": copy.deepcopy(self.env),
                "versions": sorted(self.versions), "aliases": dict(self.aliases), "tags": dict(self.tags)}

    def get_waiter(self, name):
        return _Waiter(self)

    # -- the API -----------------------------------------------------------------------------------
    def get_function(self, FunctionName):
        self._count("get_function")
        cfg = {"FunctionName": "fn", "FunctionArn": ARN, "MemorySize": self.memory, "Architectures": [self.arch],
               "Runtime": "python3.12", "Timeout": self.timeout, "PackageType": "Zip", "State": "Active",
               "LastUpdateStatus": "Successful", "CodeSize": 100}
        if self.env is not None:
            cfg["Environment"] = {"Variables": dict(self.env)}
        return {"Configuration": cfg, "Code": {"Location": "https://example.invalid/code.zip"}}

    def get_provisioned_concurrency_config(self, **kw):
        self._count("get_provisioned_concurrency_config")
        raise client_error("ProvisionedConcurrencyConfigNotFoundException", "GetProvisionedConcurrencyConfig", 404)

    def list_tags(self, Resource):
        self._count("list_tags")
        return {"Tags": dict(self.tags)}

    def tag_resource(self, Resource, Tags):
        self._count("tag_resource")
        self.tags.update(Tags)

    def untag_resource(self, Resource, TagKeys):
        self._count("untag_resource")
        for k in TagKeys:
            self.tags.pop(k, None)

    def list_aliases(self, FunctionName, Marker=None):
        self._count("list_aliases")
        return {"Aliases": [{"Name": n, "FunctionVersion": v} for n, v in sorted(self.aliases.items())]}

    def list_versions_by_function(self, FunctionName, Marker=None):
        self._count("list_versions_by_function")
        return {"Versions": [{"Version": "$LATEST"}] + [
            {"Version": v, "Description": d["description"]}
            for v, d in sorted(self.versions.items(), key=lambda x: int(x[0]))]}

    def update_function_configuration(self, FunctionName, MemorySize=None, Environment=None):
        self._count("update_function_configuration")
        if MemorySize is not None:
            self.memory = MemorySize
        if Environment is not None:  # AWS shows no Environment once the last variable is removed
            self.env = dict(Environment["Variables"]) or None
        self.changed_since_publish = True
        return {}

    def update_function_code(self, FunctionName, Architectures, ZipFile=None, ImageUri=None):
        self._count("update_function_code")
        assert ZipFile == b"zip-bytes"
        self.arch = Architectures[0]
        self.changed_since_publish = True
        return {}

    def publish_version(self, FunctionName, Description):
        self._count("publish_version")
        if not self.changed_since_publish:  # Lambda returns the existing version when nothing changed
            last = max(self.versions, key=int)
            return {"Version": last, "Description": self.versions[last]["description"], "State": "Active"}
        # Lambda never reuses a deleted version's number
        self.last_version = number = str(max([int(v) for v in self.versions] + [int(getattr(self, "last_version", 0))]) + 1)
        self.versions[number] = {"memory": self.memory, "arch": self.arch, "description": Description,
                                 "env": copy.deepcopy(self.env)}
        self.changed_since_publish = False
        return {"Version": number, "Description": Description, "State": "Active"}

    def create_alias(self, FunctionName, Name, FunctionVersion, Description=""):
        self._count("create_alias")
        self.aliases[Name] = FunctionVersion
        return {}

    def delete_alias(self, FunctionName, Name):
        self._count("delete_alias")
        if Name not in self.aliases:
            raise client_error("ResourceNotFoundException", "DeleteAlias", 404)
        del self.aliases[Name]

    def delete_function(self, FunctionName, Qualifier):
        self._count("delete_function")
        if Qualifier in self.aliases.values():
            raise client_error("ResourceConflictException", "DeleteFunction", 409)
        self.versions.pop(Qualifier, None)

    def invoke(self, FunctionName, Qualifier, InvocationType, LogType, Payload):
        self._count("invoke")
        version = self.versions[self.aliases.get(Qualifier, Qualifier)]
        mem = version["memory"]
        n = self.calls["invoke"]
        duration = 100.0 * 1024 / mem + 20 + (n % 3)
        if mem < self.working_set:
            line = (f"REPORT RequestId: r{n}\tDuration: {duration / 2:.2f} ms\tBilled Duration: "
                    f"{math.ceil(duration / 2)} ms\tMemory Size: {mem} MB\tMax Memory Used: {mem} MB\t"
                    "Status: error\tError Type: Runtime.OutOfMemory")
            return {"StatusCode": 200, "FunctionError": "Unhandled",
                    "LogResult": base64.b64encode(line.encode()).decode(),
                    "Payload": _Body(b'{"errorType":"Runtime.OutOfMemory"}'), "ExecutedVersion": "1"}
        number = self.aliases.get(Qualifier, Qualifier)
        init = self.cold_init_ms if self.cold_init_ms is not None and number not in self.warm_versions else None
        self.warm_versions.add(number)
        duration = round(duration, 2)
        self.emitted.append((mem, duration, init))
        line = (f"START RequestId: r{n}\nEND RequestId: r{n}\nREPORT RequestId: r{n}\tDuration: {duration:.2f} ms\t"
                f"Billed Duration: {math.ceil(duration)} ms\tMemory Size: {mem} MB\tMax Memory Used: 90 MB"
                + (f"\tInit Duration: {init:.2f} ms" if init is not None else ""))
        return {"StatusCode": 200, "LogResult": base64.b64encode(line.encode()).decode(), "Payload": _Body(b"{}"),
                "ExecutedVersion": "2"}


def make_api(fake, rps=1000.0):
    api = TuningApi(None, "us-east-1", client=fake, limiter=RateLimiter(rps, burst=int(rps)), sleep=lambda s: None)
    api.download_code = lambda cfg: CodePackage(zip_bytes=b"zip-bytes")
    return api


def opts(**kw):
    base = dict(memory_sizes=[128, 256, 512], num=5)
    base.update(kw)
    return TuneOptions(**base)


def assert_untouched(fake, before):
    after = fake.snapshot()
    assert after == before, (before, after)
    assert TAG_RUN not in fake.tags and TAG_RESTORE not in fake.tags


@pytest.mark.parametrize("parallel", [False, True])
def test_success_restores_everything(parallel):
    fake = FakeLambda(memory=1024, env={"A": "1"})
    before = fake.snapshot()
    events = []
    result = run_tuning(make_api(fake), "fn", opts(parallel=parallel), on_event=events.append)
    assert_untouched(fake, before)
    assert [s.memory_mb for s in result.primary.results] == [256, 512, 1024]  # 1024 = current, added
    assert result.primary.skipped[0]["memory_mb"] == 128
    assert "out of memory" in result.primary.skipped[0]["reason"]
    assert result.primary.recommendation.memory_mb == 256  # cheapest: same work, least memory
    assert events[-1].kind == "done" and events[-1].done == events[-1].total == 20
    assert fake.calls["invoke"] == 20


def test_error_mid_run_restores_and_raises():
    fake = FakeLambda(fail={"publish_version": (2, client_error("ServiceException", "PublishVersion", 500))})
    before = fake.snapshot()
    with pytest.raises(ServiceError):
        run_tuning(make_api(fake), "fn", opts())
    assert_untouched(fake, before)


@pytest.mark.parametrize("parallel", [False, True])
def test_keyboard_interrupt_mid_run_restores_and_propagates(parallel):
    fake = FakeLambda(env=None, fail={"invoke": (8, KeyboardInterrupt())})
    before = fake.snapshot()
    with pytest.raises(KeyboardInterrupt):
        run_tuning(make_api(fake), "fn", opts(parallel=parallel))
    assert_untouched(fake, before)


def test_cancel_from_another_thread():
    fake = FakeLambda()
    before = fake.snapshot()
    cancel = threading.Event()

    def on_event(ev):
        if ev.kind == "invoke" and ev.done >= 7:
            cancel.set()

    with pytest.raises(TuneCancelled) as err:
        run_tuning(make_api(fake), "fn", opts(), on_event=on_event, cancel=cancel)
    assert err.value.exit_code == 130
    assert_untouched(fake, before)


def test_cold_only_publishes_a_version_per_invocation_and_removes_the_nonce():
    fake = FakeLambda(env={"A": "1"})
    before = fake.snapshot()
    run_tuning(make_api(fake), "fn", opts(cold_only=True, memory_sizes=[512]))
    assert fake.calls["publish_version"] == 10  # 2 sizes (512 and the current 1024) x 5
    assert fake.calls["update_function_configuration"] == 11  # + the restore
    assert_untouched(fake, before)
    assert NONCE_VAR not in (fake.env or {})


def test_keyboard_interrupt_in_cold_only_mode_restores_the_environment():
    fake = FakeLambda(env=None, fail={"invoke": (3, KeyboardInterrupt())})
    before = fake.snapshot()
    with pytest.raises(KeyboardInterrupt):
        run_tuning(make_api(fake), "fn", opts(cold_only=True))
    assert_untouched(fake, before)


def test_arch_compare_switches_and_restores_the_architecture():
    fake = FakeLambda(arch="x86_64")
    before = fake.snapshot()
    result = run_tuning(make_api(fake), "fn", opts(arch_compare=True, memory_sizes=[512]))
    assert result.other.architecture == "arm64" and len(result.other.results) == 2
    assert fake.calls["update_function_code"] == 2
    # same durations on both, arm64 is cheaper per GB-s
    assert result.best_overall.architecture == "arm64"
    assert_untouched(fake, before)
    doc = result.to_dict({})
    assert doc["arch_compare"]["best_overall"]["architecture"] == "arm64"


def test_error_during_the_other_architecture_still_restores_it():
    fake = FakeLambda(arch="arm64", fail={"invoke": (13, client_error("ServiceException", "Invoke", 500)),
                                          "publish_version": (4, KeyboardInterrupt())})
    before = fake.snapshot()
    with pytest.raises(KeyboardInterrupt):
        run_tuning(make_api(fake), "fn", opts(arch_compare=True, memory_sizes=[512]))
    assert fake.calls["update_function_code"] == 2
    assert_untouched(fake, before)


def test_strict_stops_at_the_first_failing_size():
    fake = FakeLambda()
    before = fake.snapshot()
    with pytest.raises(StrictFailure) as err:
        run_tuning(make_api(fake), "fn", opts(strict=True))
    assert "128 MB" in err.value.message and err.value.exit_code == 254
    assert_untouched(fake, before)


def test_a_reused_existing_version_is_never_deleted():
    fake = FakeLambda(memory=1024)
    before = fake.snapshot()
    fake.fail = {}
    # publishing with no change returns version 1 (the one "live" points at)
    api = make_api(fake)
    api.update_config = lambda name, memory_mb=None, environment=None: None  # nothing ever changes
    run_tuning(api, "fn", opts(memory_sizes=[1024]))
    assert "1" in fake.versions and fake.aliases["live"] == "1"
    assert fake.snapshot() == before


def test_leftovers_of_an_earlier_run_are_refused_before_any_change():
    fake = FakeLambda()
    fake.aliases["lambdaops-tune-abc123-512"] = "1"
    with pytest.raises(LeftoversError) as err:
        run_tuning(make_api(fake), "fn", opts())
    assert "--cleanup fn" in err.value.one_line()
    assert "update_function_configuration" not in fake.calls and "tag_resource" not in fake.calls


def test_cleanup_undoes_a_run_killed_hard():
    fake = FakeLambda(memory=1024, env={"A": "1"})
    before = fake.snapshot()
    # what a run killed between sizes leaves behind
    fake.tags.update({TAG_RUN: "dead01", TAG_RESTORE: "memory=1024 arch=x86_64"})
    fake.memory, fake.arch = 256, "arm64"
    fake.env = {"A": "1", NONCE_VAR: "dead01-256-3"}
    fake.versions["2"] = {"memory": 256, "arch": "arm64", "description": "lambdaops-tune dead01 size=256 arch=arm64",
                          "env": None}
    fake.aliases["lambdaops-tune-dead01-256-arm64"] = "2"
    report = cleanup_leftovers(make_api(fake), "fn")
    assert report.problems == []
    assert "memory 256 -> 1024 MB" in report.actions and "architecture arm64 -> x86_64" in report.actions
    assert fake.snapshot() == before
    assert cleanup_leftovers(make_api(fake), "fn").actions == []  # nothing left


def test_cleanup_finds_the_restore_values_in_version_descriptions_without_tags():
    fake = FakeLambda(memory=1024)
    before = fake.snapshot()
    fake.memory = 512
    fake.versions["2"] = {"memory": 512, "arch": "x86_64", "env": None,
                          "description": "lambdaops-tune dead02 size=512 arch=x86_64 restore: memory=1024 arch=x86_64"}
    fake.aliases["lambdaops-tune-dead02-512"] = "2"
    cleanup_leftovers(make_api(fake), "fn")
    assert fake.snapshot() == before


def test_a_failed_cleanup_step_keeps_the_markers_and_says_how_to_finish():
    fake = FakeLambda(fail={"delete_alias": ("every", client_error("ServiceException", "DeleteAlias", 500)),
                            "untag_resource": (1, AssertionError("tags must stay while something is left"))})
    warnings = []
    result = run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]),
                        on_event=lambda ev: ev.kind == "warning" and warnings.append(ev.message))
    assert result.primary.recommendation is not None  # the measurements survive
    assert result.cleanup_problems and any("--cleanup fn" in w for w in warnings)
    assert fake.tags[TAG_RUN] and fake.memory == 1024  # memory restored, the marker kept
    assert any("alias" in w for w in warnings)
    assert len(fake.versions) == 3  # versions behind a live alias cannot go either (ResourceConflict)
    fake.fail = {}
    cleanup_leftovers(make_api(fake), "fn")
    assert TAG_RUN not in fake.tags and not [a for a in fake.aliases if a.startswith("lambdaops-tune-")]


def test_control_plane_calls_stay_under_the_quota():
    fake = FakeLambda()
    api = TuningApi(None, "us-east-1", client=fake, sleep=lambda s: None)  # the default limiter
    run_tuning(api, "fn", opts(memory_sizes=[256, 512], num=5))
    control = sorted(t for t, op in fake.call_times if op not in ("invoke", "wait", "get_function"))
    assert len(control) > 12
    # no one-second window holds 15 or more control-plane calls
    worst = max(sum(1 for u in control if t <= u < t + 1.0) for t in control)
    assert worst < 15


def test_dlq_bodies_decode_to_the_original_event():
    from lambdaops.tuning.dlq_payloads import decode_dlq_body

    assert decode_dlq_body('{"a": 1}') == (b'{"a": 1}', None)  # function DLQ: the event as-is
    record = {"version": "1.0", "requestContext": {"requestId": "r"}, "requestPayload": {"b": 2},
              "responsePayload": {"errorType": "X"}}
    assert decode_dlq_body(json.dumps(record)) == (b'{"b": 2}', None)  # on-failure destination record
    sns = {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": json.dumps({"c": 3})}
    assert decode_dlq_body(json.dumps(sns)) == (b'{"c": 3}', None)
    payload, why = decode_dlq_body(json.dumps({"requestContext": {"requestId": "r"},
                                               "KinesisBatchInfo": {"shardId": "s"}}))
    assert payload is None and "stream" in why
    assert decode_dlq_body("not json")[0] is None
    payload, why = decode_dlq_body("[" * 100_000)  # legal in SQS: no RecursionError, just not an event
    assert payload is None and "nested" in why


def test_log_tails_in_both_formats():
    from lambdaops.aws.tuning import parse_log_tail

    def b64(text):
        return base64.b64encode(text.encode()).decode()

    text = ("INIT_START Runtime Version: python:3.12.v41\nSTART RequestId: r1 Version: 3\nEND RequestId: r1\n"
            "REPORT RequestId: r1\tDuration: 15.74 ms\tBilled Duration: 147 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 56 MB\tInit Duration: 130.49 ms\n")
    rep = parse_log_tail(b64(text))
    assert (rep.duration_ms, rep.billed_ms, rep.memory_mb, rep.max_memory_mb, rep.init_ms) == (15.74, 147, 128, 56,
                                                                                             130.49)
    doc = {"time": "t", "type": "platform.report", "record": {"requestId": "r2", "status": "timeout", "metrics": {
        "durationMs": 3000.0, "billedDurationMs": 3000, "memorySizeMB": 512, "maxMemoryUsedMB": 80,
        "restoreDurationMs": 290.5, "billedRestoreDurationMs": 291}}}
    rep = parse_log_tail(b64('{"type": "platform.start"}\n' + json.dumps(doc)))
    assert rep.status == "timeout" and rep.restore_ms == 290.5 and rep.cold_start and rep.init_ms is None
    assert parse_log_tail(None) is None and parse_log_tail(b64("START RequestId: x\n")) is None


# -- cold-only figures ------------------------------------------------------------------------------

def test_cold_only_speed_counts_init_and_nothing_is_discarded():
    fake = FakeLambda(memory=1024, cold_init_ms=300.0)
    result = run_tuning(make_api(fake), "fn", opts(cold_only=True, memory_sizes=[512]))
    for s in result.primary.results:
        runs = [(d, i) for mb, d, i in fake.emitted if mb == s.memory_mb]
        assert len(runs) == 5 and all(i == 300.0 for _, i in runs) and s.cold_starts == 5
        # every cold invocation counts, with its INIT (the reference drops floor(5 x 0.2) from each end otherwise)
        assert s.duration_ms.mean_trimmed == pytest.approx(sum(d + i for d, i in runs) / 5)
        # INIT is billed even where the line leaves it out of Billed Duration
        assert s.billed_ms_mean == pytest.approx(sum(math.ceil(d + i) for d, i in runs) / 5)
    assert any("cold-only" in n for n in result.notes)


def test_warm_runs_keep_duration_and_the_trimmed_mean():
    fake = FakeLambda(memory=1024, cold_init_ms=300.0)
    result = run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]))
    s = result.primary.stats_at(512)
    runs = sorted(d for mb, d, _ in fake.emitted if mb == 512)
    assert s.cold_starts == 1
    assert s.duration_ms.mean_trimmed == pytest.approx(sum(runs[1:4]) / 3)  # Duration only, one dropped each end


# -- interrupts at every step -------------------------------------------------------------------------

def inject(fake, op, call, when="before", exc=KeyboardInterrupt):
    """Raise ``exc`` on the ``call``-th call of ``op``: before it reaches Lambda, or after Lambda did it
    (a call in flight whose answer never arrived)."""
    real = getattr(fake, op)
    seen = {"n": 0}

    def wrapped(*a, **kw):
        seen["n"] += 1
        if seen["n"] == call and when == "before":
            raise exc()
        out = real(*a, **kw)
        if seen["n"] == call and when == "after":
            raise exc()
        return out

    setattr(fake, op, wrapped)
    return seen


def test_a_publish_in_flight_at_ctrl_c_is_found_and_deleted():
    fake = FakeLambda(memory=256)
    before = fake.snapshot()
    inject(fake, "publish_version", 2, "after")  # version created, the answer lost
    with pytest.raises(KeyboardInterrupt):
        run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]))
    assert_untouched(fake, before)


def test_a_tag_call_in_flight_at_ctrl_c_is_undone():
    fake = FakeLambda(memory=256)
    before = fake.snapshot()
    inject(fake, "tag_resource", 1, "after")
    with pytest.raises(KeyboardInterrupt):
        run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]))
    assert_untouched(fake, before)


def test_ctrl_c_in_the_final_cleanup_does_not_cut_it_short():
    fake = FakeLambda(memory=256)
    before = fake.snapshot()
    # updates: 256 (the current size, measured first), 512, then the restore to 256: cut before it lands
    inject(fake, "update_function_configuration", 3, "before")
    warnings = []
    with pytest.raises(KeyboardInterrupt):  # honoured once the cleanup is done
        run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]),
                   on_event=lambda ev: ev.kind == "warning" and warnings.append(ev.message))
    assert_untouched(fake, before)
    assert any("still restoring" in w for w in warnings)


def test_two_ctrl_c_in_the_final_cleanup_still_restore_everything():
    fake = FakeLambda(memory=256)
    before = fake.snapshot()
    inject(fake, "update_function_configuration", 3, "after")  # the restore: done, the answer lost
    inject(fake, "untag_resource", 1, "before")
    warnings = []
    with pytest.raises(KeyboardInterrupt):
        run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]),
                   on_event=lambda ev: ev.kind == "warning" and warnings.append(ev.message))
    assert_untouched(fake, before)
    assert sum("still restoring" in w for w in warnings) == 2


def test_the_third_ctrl_c_aborts_the_cleanup_and_cleanup_leftovers_finishes_it():
    from lambdaops.tuning.engine import TuningRun
    from lambdaops.tuning.interrupts import CleanupAborted

    fake = FakeLambda(memory=256)
    before = fake.snapshot()
    inject(fake, "invoke", 8, "before")  # the first Ctrl-C: in the 512 MB size
    inject(fake, "update_function_configuration", 3, "before")  # the second: during the restore (retried)
    inject(fake, "delete_alias", 2, "before")  # the third (#1 was the 256 MB size's): the cleanup stops here
    run = TuningRun(make_api(fake), "fn", opts(memory_sizes=[512]))
    with pytest.raises(CleanupAborted):
        run.run()
    assert run.restored is False and run.cleanup_problems
    assert fake.memory == 256 and TAG_RUN in fake.tags  # restored so far; the markers stay for --cleanup
    assert any(a.startswith("lambdaops-tune-") for a in fake.aliases)
    report = cleanup_leftovers(make_api(fake), "fn")
    assert report.problems == []
    assert_untouched(fake, before)


def test_the_run_says_whether_it_restored_the_function():
    from lambdaops.tuning.engine import TuningRun

    fake = FakeLambda(memory=256)
    run = TuningRun(make_api(fake), "fn", opts(memory_sizes=[512]))
    inject(fake, "invoke", 3, "before")
    with pytest.raises(KeyboardInterrupt):
        run.run()
    assert run.restored is True and run.cleanup_problems == []
    fake2 = FakeLambda(memory=256, fail={"get_function": (1, client_error("ResourceNotFoundException",
                                                                            "GetFunction", 404))})
    run2 = TuningRun(make_api(fake2), "fn", opts())
    with pytest.raises(ServiceError):
        run2.run()
    assert run2.restored is None  # nothing was changed: nothing to say about restoring


def test_cleanup_is_not_fooled_by_a_restore_that_did_not_stick():
    fake = FakeLambda(memory=256)
    real = fake.update_function_configuration
    calls = {"n": 0}

    def forgetful(FunctionName, MemorySize=None, Environment=None):
        calls["n"] += 1
        if calls["n"] == 3:  # the restore: answered, but the memory stays (someone else's update won)
            return {}
        return real(FunctionName, MemorySize=MemorySize, Environment=Environment)

    fake.update_function_configuration = forgetful
    result = run_tuning(make_api(fake), "fn", opts(memory_sizes=[512]))
    assert any("memory is 512 MB" in p for p in result.cleanup_problems)
    assert TAG_RUN in fake.tags  # the markers stay: tune --cleanup can still find what to undo


def test_tune_cleanup_itself_is_shielded_from_ctrl_c():
    from lambdaops.tuning.interrupts import InterruptShield

    fake = FakeLambda(memory=1024)
    before = fake.snapshot()
    fake.tags.update({TAG_RUN: "dead03", TAG_RESTORE: "memory=1024 arch=x86_64"})
    fake.memory = 512
    fake.versions["2"] = {"memory": 512, "arch": "x86_64", "env": None,
                          "description": "lambdaops-tune dead03 size=512 arch=x86_64"}
    fake.aliases["lambdaops-tune-dead03-512"] = "2"
    inject(fake, "update_function_configuration", 1, "before")
    inject(fake, "delete_alias", 1, "after")
    messages = []
    report = cleanup_leftovers(make_api(fake), "fn", InterruptShield(messages.append, deferring=True))
    assert report.problems == [] and len(messages) == 2
    assert fake.snapshot() == before
