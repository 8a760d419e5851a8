"""Benchmark: how long seeding the demo account takes and how much memory it holds.

    .venv/bin/python bench/demo_seed.py [--functions 24,1000,5000]

Each size runs in its own process (moto's state is process-global), printing seconds for the
resources (API calls), the traffic/metrics/DLQ state, and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from lambdaops.demo.server import DemoAccount
n = int(sys.argv[1])
t = time.perf_counter()
d = DemoAccount(functions=n).start()
total = time.perf_counter() - t
inv = sum(tr.records().n for tr in d.state.traffic.values())
d.stop()
print(json.dumps({"functions": n, "resources_s": d.timings["resources_s"], "total_s": total,
                  "invocations": inv, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", default="24,1000,5000")
    args = ap.parse_args()
    print(f"{'functions':>9} {'resources s':>11} {'total s':>8} {'invocations':>12} {'peak RSS MB':>11}")
    for n in args.functions.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, n], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['functions']:>9} {r['resources_s']:>11.1f} {r['total_s']:>8.1f} {r['invocations']:>12,} "
              f"{r['max_rss_mb']:>11.0f}")


if __name__ == "__main__":
    main()
