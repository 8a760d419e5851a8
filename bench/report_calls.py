"""Benchmark: API calls and wall time of one fleet collection (what `lambdaops report` does) against
the embedded demo account, for 100 and 1,000 functions.

    .venv/bin/python bench/report_calls.py [--functions 100,1000] [--latency 30] [--quotas aws]

--latency adds a per-call delay like real AWS (tens of ms; loopback alone takes ~3 ms). With
N functions and M metric queries each, GetMetricData should be called ceil(N*M/500) times per region
and StartQuery once per 50 log groups per region.
"""

from __future__ import annotations

import argparse
import math
import time

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.demo.server import DemoAccount
from lambdaops.collect.fleet import METRIC_FIGURES, CollectOptions, collect_fleet
from lambdaops.window import Window


def one(n: int, latency: float, quotas: str | None) -> dict:
    t0 = time.perf_counter()
    demo = DemoAccount(functions=n, latency_ms=latency, quotas=quotas).start()
    seeded = time.perf_counter() - t0
    try:
        start, end = demo.window
        ctx = AwsContext(regions=list(demo.regions), endpoint_url=demo.endpoint,
                         credentials=StaticCredentials("demo", "demo"))
        t1 = time.perf_counter()
        snap = collect_fleet(ctx, CollectOptions(window=Window(start, end)))
        wall = time.perf_counter() - t1
        per_region = {r: [f for f in snap.functions if f.region == r] for r in snap.regions}
        expected_gmd = sum(math.ceil((len(fns) * len(METRIC_FIGURES) + sum(f.is_stream_consumer for f in fns)) / 500)
                           for fns in per_region.values())
        expected_q = sum(math.ceil(len({f.log_group for f in fns}) / 50) for fns in per_region.values())
        return {"functions": n, "seed_s": seeded, "collect_s": wall, "calls": snap.api_calls,
                "expected_get_metric_data": expected_gmd, "expected_start_query": expected_q,
                "total_calls": sum(snap.api_calls.values())}
    finally:
        demo.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", default="100,1000")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--quotas", default=None)
    args = ap.parse_args()
    print(f"{'functions':>9} {'seed s':>7} {'collect s':>9} {'GetMetricData':>13} {'(expected)':>10} "
          f"{'StartQuery':>10} {'(expected)':>10} {'all calls':>9}")
    for n in (int(x) for x in args.functions.split(",")):
        r = one(n, args.latency, args.quotas)
        c = r["calls"]
        print(f"{n:>9} {r['seed_s']:>7.1f} {r['collect_s']:>9.2f} {c.get('cloudwatch.GetMetricData', 0):>13} "
              f"{r['expected_get_metric_data']:>10} {c.get('logs.StartQuery', 0):>10} {r['expected_start_query']:>10} "
              f"{r['total_calls']:>9}")


if __name__ == "__main__":
    main()
