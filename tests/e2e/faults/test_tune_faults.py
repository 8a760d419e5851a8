"""Fault injection for ``lambdaops tune``: Ctrl-C at every step leaves the function exactly as it was, or
prints the ``lambdaops tune --cleanup`` command that makes it so (and running that command does).

The interrupt is a KeyboardInterrupt raised by a wrapped :class:`~lambdaops.aws.tuning.TuningApi`
method on a chosen call, either before the call reaches Lambda or after Lambda carried it out (a call in
flight whose answer never arrived), and real SIGINTs sent to a ``lambdaops tune`` subprocess. The end
state is read with plain boto3 from the demo account: memory, architecture, environment, aliases,
versions and tags.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lambdaops.aws.tuning import ALIAS_PREFIX, NONCE_VAR, TAG_RESTORE, TAG_RUN, TuningApi
from lambdaops.cli.main import app

from tests.helpers import lambda_client

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fast_tuning")]

ROOT = Path(__file__).resolve().parents[3]
FN, REGION = "orders-api", "us-east-1"  # 256 MB, x86_64
COMMAND_RE = re.compile(r"run: (lambdaops .*--cleanup .*)$", re.M)




def lam(account):
    return lambda_client(account, REGION)


def footprint(account, name=FN):
    c = lam(account)
    cfg = c.get_function(FunctionName=name)["Configuration"]
    return {
        "memory": cfg["MemorySize"], "arch": cfg["Architectures"],
        "env": (cfg.get("Environment") or {}).get("Variables"),
        "aliases": sorted((a["Name"], a["FunctionVersion"]) for a in c.list_aliases(FunctionName=name)["Aliases"]),
        "versions": sorted(v["Version"] for v in c.list_versions_by_function(FunctionName=name)["Versions"]),
        "tags": c.list_tags(Resource=cfg["FunctionArn"])["Tags"],
    }


@pytest.fixture
def before(account):
    """The function's state before the test; afterwards it must be the same (a failed test repairs it so the
    next one starts clean)."""
    state = footprint(account)
    assert not [a for a, _ in state["aliases"] if a.startswith(ALIAS_PREFIX)] and TAG_RUN not in state["tags"]
    yield state
    if footprint(account) != state:
        cli(account, "tune", "--cleanup", FN)


def cli(account, *args):
    result = CliRunner().invoke(app, ["--endpoint-url", account.endpoint, "--region", REGION, *args])
    return result.exit_code, result.stdout, result.stderr


def expected_command(account, name=FN):
    return f"lambdaops --endpoint-url {account.endpoint} tune --cleanup {name} --region {REGION}"


def inject(monkeypatch, method, call, when):
    """Raise KeyboardInterrupt on the ``call``-th call of ``TuningApi.method`` (before or after it ran)."""
    real = getattr(TuningApi, method)
    seen = {"n": 0}

    def wrapped(self, *a, **kw):
        seen["n"] += 1
        if seen["n"] == call and when == "before":
            raise KeyboardInterrupt
        out = real(self, *a, **kw)
        if seen["n"] == call and when == "after":
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(TuningApi, method, wrapped)
    return seen


def check_end_state(account, before, err, *, name=FN, expect_restored=True):
    """The command is printed; the function is as it was, or the printed command makes it so."""
    found = COMMAND_RE.findall(err)
    assert found, err
    command = found[-1]
    assert command == expected_command(account, name), err
    if expect_restored:
        assert "was put back as it was" in err, err
        assert footprint(account, name) == before
        return
    assert "NOT fully restored" in err, err
    assert footprint(account, name) != before  # the message is not crying wolf
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert footprint(account, name) == before
    after = footprint(account, name)
    assert NONCE_VAR not in (after["env"] or {}) and TAG_RESTORE not in after["tags"]


# Sizes 128 and 512 on a 256 MB function: UpdateFunctionConfiguration #1 -> 128, #2 -> 256, #3 -> 512,
# #4 is the restore to 256 (#3 when the run stops before the 512 MB size). PublishVersion and CreateAlias
# once per size; invocations 11-15 are the 512 MB size's.
TUNE = ("tune", FN, "--memory", "128,512", "--num", "5")

STEPS = [
    ("tag", 1, "after"),  # TagResource in flight
    ("update_config", 2, "before"),  # before UpdateFunctionConfiguration
    ("update_config", 3, "after"),  # after it (512 MB set, the answer lost)
    ("publish_version", 2, "before"),
    ("publish_version", 3, "after"),  # PublishVersion in flight: the version exists, its number is unknown
    ("create_alias", 2, "before"),
    ("create_alias", 3, "after"),  # CreateAlias in flight
    ("invoke", 7, "before"),  # during the invocations
    ("update_config", 4, "before"),  # during the final cleanup (the restore to 256 MB)
    ("delete_version", 3, "before"),  # during the final cleanup (the 512 MB size's version)
]


@pytest.mark.parametrize("method, call, when", STEPS, ids=[f"{m}-{c}-{w}" for m, c, w in STEPS])
def test_ctrl_c_at_every_step_leaves_the_function_as_it_was(account, before, monkeypatch, method, call, when):
    seen = inject(monkeypatch, method, call, when)
    code, out, err = cli(account, *TUNE)
    assert seen["n"] >= call, "the step was never reached"
    assert code == 130, err
    check_end_state(account, before, err)


def test_ctrl_c_during_invokes_in_parallel(account, before, monkeypatch):
    inject(monkeypatch, "invoke", 8, "before")
    code, out, err = cli(account, *TUNE, "--parallel")
    assert code == 130, err
    check_end_state(account, before, err)


def test_ctrl_c_during_a_cold_only_publish_restores_the_environment(account, before, monkeypatch):
    inject(monkeypatch, "publish_version", 7, "after")  # in the second size, the nonce variable set
    code, out, err = cli(account, *TUNE, "--cold-only")
    assert code == 130, err
    check_end_state(account, before, err)


def test_ctrl_c_while_switching_the_architecture(account, before, monkeypatch):
    inject(monkeypatch, "set_architecture", 1, "after")  # arm64 set, the answer lost
    code, out, err = cli(account, "tune", FN, "--memory", "512", "--num", "5", "--arch-compare")
    assert code == 130, err
    check_end_state(account, before, err)


def test_a_second_ctrl_c_during_cleanup_does_not_stop_it(account, before, monkeypatch):
    inject(monkeypatch, "invoke", 12, "before")  # the first: the run stops in the 512 MB size
    inject(monkeypatch, "update_config", 4, "before")  # the second: during the restore
    code, out, err = cli(account, *TUNE)
    assert code == 130, err
    assert "still restoring" in err
    check_end_state(account, before, err)


def test_twice_during_cleanup_aborts_it_and_the_printed_command_finishes_it(account, before, monkeypatch):
    inject(monkeypatch, "invoke", 12, "before")  # the first Ctrl-C: the run stops (512 MB set)
    inject(monkeypatch, "update_config", 4, "before")  # the second: acknowledged, the restore goes on
    inject(monkeypatch, "delete_alias", 3, "before")  # the third: the cleanup stops, aliases and tags left
    code, out, err = cli(account, *TUNE)
    assert code == 130, err
    check_end_state(account, before, err, expect_restored=False)


def test_an_error_mid_run_also_prints_the_command(account, before, monkeypatch):
    from lambdaops.errors import ServiceError

    real = TuningApi.create_alias

    def failing(self, name, alias, version, description):
        if alias.endswith("-512"):
            raise ServiceError("injected ServiceException", code="ServiceException")
        return real(self, name, alias, version, description)

    monkeypatch.setattr(TuningApi, "create_alias", failing)
    code, out, err = cli(account, *TUNE)
    assert code == 254, err
    check_end_state(account, before, err)


# -- real SIGINTs -----------------------------------------------------------------------------------------

def _start(account, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDAOPS_"))}
    env.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", account.endpoint, "--region", REGION, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _wait_until_changed(account, before, proc, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        state = footprint(account)
        if state["memory"] != before["memory"] and TAG_RUN in state["tags"]:
            return
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the run never changed the function")


@pytest.mark.parametrize("signals", [1, 2, 3])
def test_real_sigint_to_a_running_tune(account, before, signals):
    """1: stop and restore; 2: the second is acknowledged during cleanup; 3: the third may abort the
    cleanup, and then the printed command finishes it."""
    proc = _start(account, "tune", FN, "--memory", "128,512,1024,2048", "--num", "5")
    _wait_until_changed(account, before, proc)
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    if signals == 2:
        assert "still restoring" in err
    if "NOT fully restored" in err:
        assert signals == 3, err
        check_end_state(account, before, err, expect_restored=False)
    else:
        check_end_state(account, before, err)
