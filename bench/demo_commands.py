"""How long every `lambdaops --demo` command takes end to end, as a person runs it (not run by the suite).

    .venv/bin/python bench/demo_commands.py [--runs 5] [--only report,functions] [--cache warm|cold|both]

Each command runs ``--runs`` times in a fresh process (the real entry point, stdout discarded); the
table shows the median and the spread in seconds, the exit code, and the 1-minute load average read
before the runs (the machine is shared: a figure means little without it). ``demo serve`` is timed to
its "press Ctrl-C" line (the account is seeded), then stopped. ``tune`` has no dry run (it changes
the function and invokes it), so it is left out. The TUI has its own bench
(bench/tui_startup.py) and so does seeding alone (bench/demo_seed.py).

The demo cache (lambdaops/demo/demo_cache.py) decides most of a run's time, so both cases are measured
in a demo cache directory of the bench's own (LAMBDAOPS_DEMO_CACHE_DIR):
- cold: an empty directory for every run and lambdaops' bytecode caches removed, as the first run after
  an install (it compiles lambdaops' sources, builds the account and
  writes the cache);
- warm: one directory filled by an untimed run of the same command first (the account and the Insights
  columns that command's queries compute), as every later run.

A ``--demo`` command's account runs in a child process that writes the demo cache after the command's
answer (lambdaops.demo.launch.DemoProcess); the bench waits for it to exit after every run, untimed, so
that a run neither finds a cache still being written nor shares the machine with the last run's writer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "lambdaops.cli.main"]
COMMANDS = {
    "report": ["--demo", "report", "-o", "json"],
    "functions": ["--demo", "functions", "-o", "json"],
    "dlq list": ["--demo", "dlq", "list", "-o", "json"],
    "query slowest": ["--demo", "query", "slowest", "-o", "json"],
    "traces checkout-api": ["--demo", "traces", "checkout-api", "-o", "json"],
}


def load() -> float:
    return os.getloadavg()[0]


ENV_DIR = "LAMBDAOPS_DEMO_CACHE_DIR"


def _env(cache_dir: str) -> dict[str, str]:
    # Python writes bytecode caches on a user's machine: a shell that turned that off
    # (PYTHONDONTWRITEBYTECODE) would have every run compile lambdaops' sources again (~0.2 s a process).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return dict(env, PYTHONPATH=str(ROOT), LAMBDAOPS_DEMO_CACHE_DIR=cache_dir, LAMBDAOPS_DEMO_CACHE="1")


def run_once(args: list[str], cache_dir: str) -> tuple[float, int]:
    t = time.perf_counter()
    proc = subprocess.run(CLI + args, cwd=ROOT, env=_env(cache_dir), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=600)
    took = time.perf_counter() - t
    _children_done(cache_dir)
    return took, proc.returncode


def _children_done(cache_dir: str, timeout_s: float = 300) -> None:
    """Until no one-shot demo account of this cache directory runs (Linux: /proc)."""
    mark = f"{ENV_DIR}={cache_dir}".encode() + b"\0"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        busy = False
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if b"--one-shot" not in fh.read():
                        continue
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    busy = busy or mark in fh.read() + b"\0"
            except OSError:
                continue
        if not busy:
            return
        time.sleep(0.1)


def serve_once(cache_dir: str, fill: bool = False) -> tuple[float, int]:
    env = _env(cache_dir)
    t = time.perf_counter()
    proc = subprocess.Popen(CLI + ["demo", "serve", "--port", "0"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    took, code = float("nan"), 1
    for line in proc.stdout:
        if "press Ctrl-C" in line:
            took, code = time.perf_counter() - t, 0
            break
    if fill:
        _written(cache_dir)
    proc.terminate()
    proc.wait(timeout=30)
    return took, code


def _written(cache_dir: str, timeout_s: float = 120) -> None:
    """Until the cache holds an account: ``demo serve`` announces itself before it writes (in a thread)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        names = os.listdir(cache_dir) if os.path.isdir(cache_dir) else []
        if any(n.endswith(".records.pickle") for n in names) and any(n.endswith(".groups.pickle") for n in names):
            return
        time.sleep(0.5)


def measure(name: str, runs: int, cold: bool) -> list[tuple[float, int]]:
    once = serve_once if name == "demo serve" else (lambda d: run_once(COMMANDS[name], d))
    out = []
    with tempfile.TemporaryDirectory(prefix="lambdaops-bench-") as root:
        warm_dir = os.path.join(root, "warm")
        if not cold:  # fill the cache: untimed
            serve_once(warm_dir, fill=True) if name == "demo serve" else once(warm_dir)
        for i in range(runs):
            if cold:
                _forget_bytecode()
            out.append(once(os.path.join(root, f"cold{i}") if cold else warm_dir))
    return out


def _forget_bytecode() -> None:
    """As after an install: lambdaops' own modules not compiled yet (pip compiles the dependencies)."""
    for cache in (ROOT / "lambdaops").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated names (see COMMANDS, and 'demo serve')")
    ap.add_argument("--cache", choices=("warm", "cold", "both"), default="both")
    args = ap.parse_args()
    names = list(COMMANDS) + ["demo serve"]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    modes = ["cold", "warm"] if args.cache == "both" else [args.cache]
    print(f"{'command':<22} {'cache':>5} {'median s':>8} {'min s':>6} {'max s':>6} {'exit':>5} {'load':>5}")
    for name in names:
        for mode in modes:
            before = load()
            runs = measure(name, args.runs, mode == "cold")
            times = [t for t, _ in runs]
            codes = sorted({c for _, c in runs})
            print(f"{name:<22} {mode:>5} {statistics.median(times):>8.2f} {min(times):>6.2f} {max(times):>6.2f} "
                  f"{','.join(map(str, codes)):>5} {before:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
