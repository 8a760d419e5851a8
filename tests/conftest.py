"""Shared fixtures: an isolated environment (no real AWS, no user config) for every test, and one
demo account per session, served from a subprocess so that moto's process-global state used by
``mock_aws`` unit tests never collides with it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


TUI_DIR = ROOT / "tests" / "tui"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Work units for pytest-xdist (pyproject's addopts: ``--dist=loadgroup`` on every core): a
    module's tests stay on one worker, so a module-scoped demo account starts once; the TUI modules
    form one unit, run in their ``ORDER`` (tests/tui/conftest.py) on one worker, because their
    in-process account lives in moto's process-global state, which a ``mock_aws`` test run between two
    of them would reset. Without xdist the marks do nothing."""
    for item in items:
        path = Path(str(item.fspath))
        group = "tui" if TUI_DIR in path.parents else str(path.relative_to(ROOT))
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than cores (at most 4). Many tests spend their time waiting, not
    computing (AWS's request pacing in the demo, retry back-off, a redrive paced to be interrupted)."""
    return min(4, (os.cpu_count() or 1) + 1)


@pytest.fixture(scope="session", autouse=True)
def demo_cache_dir(tmp_path_factory):
    """One demo account cache (lambdaops/demo/demo_cache.py) for the whole run, outside every test's
    home: the first demo account writes it, later ones load it (its entries are written to a temporary
    file and renamed, so the xdist workers share it). Tests of the cold build name their own."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "demo-cache"  # the run's directory, above each worker's
        path.mkdir(exist_ok=True)
    else:
        path = tmp_path_factory.mktemp("demo-cache")
    old = os.environ.get("LAMBDAOPS_DEMO_CACHE_DIR")
    os.environ["LAMBDAOPS_DEMO_CACHE_DIR"] = str(path)  # session fixtures (served_demo) start before isolated_env
    yield path
    if old is None:
        os.environ.pop("LAMBDAOPS_DEMO_CACHE_DIR", None)
    else:
        os.environ["LAMBDAOPS_DEMO_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path_factory, demo_cache_dir):
    home = tmp_path_factory.mktemp("home")
    for var in list(os.environ):
        if var.startswith(("AWS_", "LAMBDAOPS_")):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LAMBDAOPS_DEMO_CACHE_DIR", str(demo_cache_dir))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    # redrive journals, audit logs (XDG_STATE_HOME) and TUI exports (XDG_DATA_HOME) never land in the real home
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    return home


def demo_env(endpoint: str, region: str = "us-east-1") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDAOPS_"))}
    env.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_REGION=region,
               AWS_EC2_METADATA_DISABLED="true")
    return env


class ServedDemo:
    """A `demo serve` child. Its stdout and stderr are read by threads for as long as it runs: a
    pipe nobody reads fills (64 KB) and blocks the server on its next write, which looked like a
    server that would not stop."""

    def __init__(self, proc: subprocess.Popen, endpoint: str, truth_path: Path | None) -> None:
        self.proc = proc
        self.endpoint = endpoint
        self.truth_path = truth_path
        self._err: list[str] = []
        self._out: queue.Queue[str] = queue.Queue()
        # stdout ends with "", as readline() says it
        self._drains = [threading.Thread(target=self._drain, args=(stream, keep, end), daemon=True)
                        for stream, keep, end in ((proc.stdout, self._out.put, ""), (proc.stderr, self._err.append, None))
                        if stream is not None]
        for t in self._drains:
            t.start()

    @staticmethod
    def _drain(stream, keep, end: str | None) -> None:
        for line in stream:
            keep(line)
        if end is not None:
            keep(end)

    def readline(self, timeout_s: float = 60) -> str:
        """The next line the server printed after its announcement ("" once it has exited)."""
        try:
            return self._out.get(timeout=timeout_s)
        except queue.Empty:
            return ""

    def stderr(self) -> str:
        """What the server wrote to stderr (all of it once it has exited)."""
        if self.proc.poll() is not None:
            for t in self._drains:
                t.join(timeout=5)
        return "".join(self._err)

    @property
    def truth(self) -> dict:
        return json.loads(self.truth_path.read_text())

    def client(self, service: str, region: str = "us-east-1"):
        import boto3
        import botocore.config

        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, aws_access_key_id="demo",
                            aws_secret_access_key="demo",
                            config=botocore.config.Config(retries={"total_max_attempts": 1}))


def start_served_demo(tmp: Path, *extra: str, truth: bool = True) -> ServedDemo:
    truth_path = tmp / "truth.json" if truth else None
    cmd = [sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--port", "0", *extra]
    if truth_path:
        cmd += ["--truth", str(truth_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_",))}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    return ServedDemo(proc, announced_endpoint(proc), truth_path)


def announced_endpoint(proc: subprocess.Popen, timeout_s: float = 120) -> str:
    """The endpoint a starting ``demo serve`` announces ("listening on URL"); the process is killed
    and RuntimeError raised (with its stderr) when it does not start."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on" in line:
            return line.rsplit(" ", 1)[-1].strip()
    proc.kill()
    raise RuntimeError(f"demo serve did not start: {proc.stderr.read()[-2000:]}")


def stop_served_demo(demo: ServedDemo) -> int:
    demo.proc.send_signal(signal.SIGINT)
    try:
        return demo.proc.wait(timeout=20)
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()


@pytest.fixture
def cli_demo(served_demo, monkeypatch):
    """The shared served account, with the demo's credentials in the environment for in-process CLI runs."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    return served_demo


@pytest.fixture(scope="session")
def served_demo(tmp_path_factory):
    demo = start_served_demo(tmp_path_factory.mktemp("demo"))
    yield demo
    stop_served_demo(demo)
