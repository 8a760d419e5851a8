"""An account loaded from the demo cache is the account that wrote it, moved to the present: same
records (the truth's counts), and `lambdaops report` against it equals its truth. The suite's shared
``served_demo`` writes the session's cache (or loaded it); this test starts one more account from it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import start_served_demo, stop_served_demo
from tests.e2e.test_report import close, run

pytestmark = pytest.mark.e2e


def _written(folder: Path, timeout_s: float = 180) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if list(folder.glob("*.records.pickle")) and list(folder.glob("*.groups.pickle")):
            return
        time.sleep(0.5)
    raise AssertionError(f"the demo cache was not written in {folder}: {os.listdir(folder)}")


def test_an_account_loaded_from_the_cache_reports_its_truth(served_demo, tmp_path):
    _written(Path(os.environ["LAMBDAOPS_DEMO_CACHE_DIR"]))
    demo = start_served_demo(tmp_path)
    try:
        assert "from the demo cache" in demo.readline()  # "regions: ...; seeded in 1.2s from ..."
        truth, first = demo.truth, served_demo.truth
        assert truth["window"]["end"] >= first["window"]["end"]
        fields = ("invocations", "errors", "throttles", "cold_starts", "timeouts", "out_of_memory", "billed_ms",
                  "duration_ms", "init_ms", "max_concurrency")
        assert [{k: f[k] for k in fields} for f in truth["functions"]] == \
            [{k: f[k] for k in fields} for f in first["functions"]]
        res = run(demo, "report", "--start", truth["window"]["start"], "--end", truth["window"]["end"], "-o", "json")
        assert res.exit_code == 0, res.stderr
        got = {(f["region"], f["name"]): f for f in json.loads(res.stdout)["functions"]}
        for t in truth["functions"]:
            f = got[(t["region"], t["name"])]
            for k in ("invocations", "errors", "throttles", "cold_starts", "timeouts"):
                assert f[k] == t[k], (t["name"], k)
            assert close(f["duration_p99_ms"], t["duration_ms"]["p99"]), t["name"]
            assert close(f["init_p99_ms"], t["init_ms"]["p99"]), t["name"]
            assert close(f["billed_gb_seconds"], t["billed_gb_seconds"], 0.001), t["name"]
            assert f["memory_used_max_mb"] == t["memory_used_max_mb"], t["name"]
    finally:
        stop_served_demo(demo)
