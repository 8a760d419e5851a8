"""Benchmark: `lambdaops report` against a served demo account, cold and warm, next to the naive
per-function boto3 script (bench/naive_script.py) on the same server.

    python bench/report_calls.py [--functions 100,1000,5000] [--latency 20] [--quotas aws] [--naive 500] [--tui]

Each size gets its own `lambdaops demo serve --functions N` process; the report runs as its own
process too, so its peak RSS (getrusage of the child) is lambdaops' alone, not the demo server's.
Cold: an empty cache directory. Warm: the same directory, right after (details cache warm). For each
size in --naive the naive script runs after the two reports; with --tui the TUI's first fleet
collection runs too (headless, its own process: rows and peak RSS). Prints one line per run and, with
--json FILE, writes them all.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Logs Insights' own calls, shown apart from the rest (metrics, inventory, details, SQS)
INSIGHTS_OPS = {"logs.StartQuery", "logs.GetQueryResults", "logs.StopQuery"}


def _env(cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDAOPS_"))}
    env.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(ROOT))
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return env


def serve(n: int, latency: float, quotas: str | None) -> tuple[subprocess.Popen, str, list[str], float]:
    """A `demo serve` process; its endpoint, regions and seconds to ready."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--port", "0", "--functions", str(n),
           "--latency", str(latency)] + (["--quotas", quotas] if quotas else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(), cwd=ROOT)
    endpoint, regions = None, []
    for line in proc.stdout:
        if "listening on" in line:
            endpoint = line.rsplit(" ", 1)[-1].strip()
        elif line.startswith("regions:"):
            regions = line.split(":", 1)[1].split(";")[0].replace(",", " ").split()
        if endpoint and regions:
            break
    if not endpoint:
        proc.kill()
        raise RuntimeError("demo serve did not start")
    return proc, endpoint, regions, time.perf_counter() - t0


def timed(cmd: list[str], env: dict[str, str]) -> tuple[str, float, float, int]:
    """stdout, wall seconds, peak RSS in MB (Linux ru_maxrss is in KB) and exit code of ``cmd``: its
    output goes to a file so that the child is reaped by os.wait4, which gives its own rusage."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return out.read(), wall, usage.ru_maxrss / 1024, proc.returncode


def report(endpoint: str, regions: list[str], cache: Path) -> dict:
    cmd = [sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", endpoint, "--region", ",".join(regions),
           "report", "--since", "6h", "-o", "json"]
    out, wall, rss, code = timed(cmd, _env(cache))
    data = json.loads(out) if out.strip() else {}
    calls = data.get("api_calls", {})
    insights = sum(n for op, n in calls.items() if op in INSIGHTS_OPS)
    return {"seconds": round(wall, 2), "calls": sum(calls.values()), "rss_mb": round(rss), "exit": code,
            "insights_calls": insights, "other_calls": sum(calls.values()) - insights,
            "inventory_age_s": (data.get("inventory") or {}).get("age_s"),
            "insights_mb": round(((data.get("cost") or {}).get("insights_bytes_scanned") or 0) / 1e6, 1),
            "functions": len(data.get("functions", [])), "by_operation": calls,
            "retries": sum(data.get("api_retries", {}).values()), "retried": data.get("api_retries", {}),
            "with_missing": sum(1 for f in data.get("functions", []) if f.get("missing"))}


def naive(endpoint: str, regions: list[str]) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "naive_script.py"), "--endpoint-url", endpoint,
           "--regions", ",".join(regions)]
    out, wall, rss, code = timed(cmd, _env())
    data = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return {"seconds": data.get("seconds", round(wall, 2)), "calls": data.get("calls"), "exit": code,
            "functions": data.get("functions")}


def tui(endpoint: str, regions: list[str]) -> dict:
    """The TUI's first fleet collection, headless, in a child process (its own peak RSS)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--tui-child", endpoint, ",".join(regions)]
    out, wall, rss, code = timed(cmd, _env())
    data = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return {"seconds": data.get("seconds", round(wall, 2)), "rss_mb": round(rss), "exit": code, **data}


def tui_child(endpoint: str, regions: str) -> None:
    """Run in the child: the app under Textual's headless pilot until its fleet snapshot is shown."""
    import asyncio

    sys.path.insert(0, str(ROOT))
    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.tui.app import LambdaopsApp
    from lambdaops.tui.reads import Reads
    from lambdaops.tui.session import Session

    ctx = AwsContext(regions=regions.split(","), endpoint_url=endpoint, credentials=StaticCredentials("demo", "demo"))
    session = Session(lambda: ctx, label="bench")
    app = LambdaopsApp(session, reads=Reads(session), auto_poll=False)

    async def run() -> dict:
        t0 = time.perf_counter()
        async with app.run_test(size=(160, 45)) as pilot:
            while app.snapshot is None or app.polling:
                await pilot.pause(0.5)
            snap = app.snapshot
            return {"seconds": round(time.perf_counter() - t0, 2), "functions": len(app.functions),
                    "rows": len(snap.table), "with_missing": snap.missing_count(), "errors": len(snap.errors)}

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    if sys.argv[1:2] == ["--tui-child"]:
        return tui_child(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", default="100,1000,5000")
    ap.add_argument("--latency", type=float, default=20.0)
    ap.add_argument("--quotas", default="aws")
    ap.add_argument("--naive", default="500", help="sizes at which the naive script also runs ('' for none)")
    ap.add_argument("--tui", action="store_true", help="also the TUI's first fleet collection, headless")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    naive_sizes = {int(x) for x in args.naive.split(",") if x}
    sizes = sorted({int(x) for x in args.functions.split(",")} | naive_sizes)
    runs = []
    for n in sizes:
        proc, endpoint, regions, ready = serve(n, args.latency, args.quotas)
        try:
            with tempfile.TemporaryDirectory() as cache:
                for kind in ("cold", "warm"):
                    r = {"size": n, "run": kind, "demo_ready_s": round(ready, 1), **report(endpoint, regions, Path(cache))}
                    runs.append(r)
                    print(f"{n:>6} {kind:<5} {r['seconds']:>8.1f} s {r['calls']:>6} calls ({r['retries']} retried) "
                          f"{r['rss_mb']:>5} MB RSS "
                          f"{r['functions']:>5} rows ({r['with_missing']} with missing figures) exit {r['exit']}; "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
                    print(f"{'':>13}Insights {r['insights_calls']} calls, {r['insights_mb']} MB scanned; "
                          f"other {r['other_calls']}: "
                          + ", ".join(f"{op.split('.', 1)[1]} {n}" for op, n in sorted(r["by_operation"].items())),
                          flush=True)
            if args.tui:
                r = {"size": n, "run": "tui", **tui(endpoint, regions)}
                runs.append(r)
                print(f"{n:>6} tui   {r['seconds']:>8.1f} s {'':>19} {r['rss_mb']:>5} MB RSS {r.get('rows', 0):>5} rows "
                      f"({r.get('with_missing')} with missing figures) exit {r['exit']}", flush=True)
            if n in naive_sizes:
                r = {"size": n, "run": "naive", **naive(endpoint, regions)}
                runs.append(r)
                print(f"{n:>6} naive {r['seconds']:>8.1f} s {r['calls']:>6} calls {'':>12} {r['functions']:>5} rows "
                      f"exit {r['exit']}", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
