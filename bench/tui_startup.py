"""How long `lambdaops --demo` takes to show the fleet, measured as a person sees it (not run by the suite).

    .venv/bin/python bench/tui_startup.py [--runs 5] [--warm-up 1] [--interval 0.05] [-- COMMAND...]

Each run starts the command in a fresh tmux terminal (160x45) and reads the screen every
``--interval`` seconds until the figures are in, then types ``q`` and checks the exit code. Printed per
run, in seconds from the start of the command:
- frame: the header is on screen;
- rows: the fleet's function names are on screen (the inventory);
- metrics: the metric columns are in (the status line says so, or the figures are all in);
- figures: the status line no longer says the figures are loading (the whole snapshot);
- exit: 0 expected, with the terminal back.
After each run the bench waits (untimed) for the session's demo account to exit: it writes what the
session computed to the demo cache first, so every run but the first after a code change is warm.
The median of each column closes the table, with the 1-minute load average before and after (the
machine is shared: quote timings with it). Without an installed ``lambdaops`` script the command is
``python -m lambdaops.cli.main --demo`` from this checkout. Needs tmux.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "lambdaops"
DEFAULT = [str(SCRIPT), "--demo"] if SCRIPT.exists() else \
    ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "lambdaops.cli.main", "--demo"]
COLUMNS = ("frame", "rows", "metrics", "figures")
ROW_MARKERS = ("checkout-api", "orders-stream-consumer")  # two of the demo fleet's named functions


def _screen(session: str) -> str:
    out = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True)
    return out.stdout


def one(cmd: list[str], interval: float, timeout: float) -> dict:
    session = f"bench{time.monotonic_ns()}"
    rc_file = Path(tempfile.mkstemp()[1])
    # Python writes bytecode caches on a user's machine: a shell that turned that off
    # (PYTHONDONTWRITEBYTECODE) would have every run compile lambdaops' sources again (~0.2 s a process).
    shell = "unset PYTHONDONTWRITEBYTECODE; " + " ".join(f"'{c}'" for c in cmd) + f"; echo $? > {rc_file}"
    t0 = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", "-c", str(ROOT), shell],
                   check=True)
    seen: dict[str, float] = {}
    try:
        while time.perf_counter() - t0 < timeout:
            screen = _screen(session)
            t = time.perf_counter() - t0
            if "frame" not in seen and "lambdaops" in screen and "Fleet" in screen:
                seen["frame"] = t
            if "rows" not in seen and all(m in screen for m in ROW_MARKERS):
                seen["rows"] = t
            if "rows" in seen and "metrics" not in seen and "metrics in" in screen:
                seen["metrics"] = t
            if "rows" in seen and "figures" not in seen and "worst first" in screen \
                    and "loading" not in screen and "refreshing" not in screen:
                seen["figures"] = t
                seen.setdefault("metrics", t)
                break
            time.sleep(interval)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and not rc_file.read_text().strip():
            time.sleep(0.05)
        seen["exit"] = rc_file.read_text().strip() or "still running"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        rc_file.unlink(missing_ok=True)
    _wait_for_demo_children()
    return seen


def _wait_for_demo_children(timeout: float = 60.0) -> None:
    """Untimed: the session's demo account writes what it computed to the demo cache once the TUI has
    quit, then exits; the next run must neither share the machine with it nor find a cache half new."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        found = subprocess.run(["pgrep", "-f", "demo serve --port 0 --early --until-stdin-closes"],
                               capture_output=True, text=True)
        if not found.stdout.strip():
            return
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--warm-up", type=int, default=1,
                    help="untimed runs first (the demo cache written by a session, as after any first run)")
    ap.add_argument("cmd", nargs="*")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench/tui_startup.py needs tmux (apt-get install tmux)")
    cmd = args.cmd or DEFAULT
    for _ in range(args.warm_up):
        one(cmd, args.interval, args.timeout)
    rows = []
    load_before = _load()
    print(f"{'run':>3} " + " ".join(f"{k:>8}" for k in COLUMNS) + "  exit")
    for i in range(args.runs):
        r = one(cmd, args.interval, args.timeout)
        rows.append(r)
        print(f"{i + 1:>3} " + " ".join(f"{r[k]:8.2f}" if k in r else f"{'-':>8}" for k in COLUMNS)
              + f"  {r.get('exit')}")
    med = {k: statistics.median([r[k] for r in rows if k in r]) for k in COLUMNS if any(k in r for r in rows)}
    print("med " + " ".join(f"{k}={v:.2f}s" for k, v in med.items())
          + f"  (1-min load average {load_before} before, {_load()} after)")


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:  # not Linux
        return "?"


if __name__ == "__main__":
    main()
