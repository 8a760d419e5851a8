"""Benchmark: wall time of a serial and a ``--parallel`` tuning run against the embedded demo account.

    /work/venv/bin/python bench/tune_parallel.py [--function image-resize] [--region us-east-1]
        [--memory 1024,1536,2048,3008] [--num 10] [--latency 30] [--quotas aws]

--latency adds a per-call delay like real AWS (tens of ms). The control plane is paced under 15
requests/s as in a real run, so that part is the same in both modes; --parallel only overlaps the
invocations of one size (each concurrent invocation may need its own environment: more cold starts).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import time

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.aws.tuning import TuningApi
from lambdaops.demo.server import DemoAccount
from lambdaops.tuning.engine import run_tuning
from lambdaops.tuning.options import TuneOptions, parse_memory


def one(demo: DemoAccount, function: str, region: str, sizes: list[int], num: int, parallel: bool) -> dict:
    ctx = AwsContext(regions=[region], endpoint_url=demo.endpoint, credentials=StaticCredentials("demo", "demo"),
                     max_attempts=2)
    t0 = time.perf_counter()
    result = run_tuning(TuningApi(ctx, region), function, TuneOptions(memory_sizes=sizes, num=num, parallel=parallel))
    wall = time.perf_counter() - t0
    calls = ctx.calls.snapshot()
    return {"mode": "parallel" if parallel else "serial", "wall_s": wall,
            "invokes": calls.get("lambda.Invoke", 0),
            "control": sum(v for k, v in calls.items() if k not in ("lambda.Invoke", "lambda.GetFunction")),
            "cold": sum(s.cold_starts for s in result.primary.results),
            "winner": result.primary.recommendation.memory_mb if result.primary.recommendation else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--function", default="image-resize")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--memory", default="1024,1536,2048,3008")
    ap.add_argument("--num", type=int, default=10)
    ap.add_argument("--latency", type=float, default=30.0)
    ap.add_argument("--quotas", default=None, help="'aws' to enforce AWS's request-rate quotas in the demo")
    args = ap.parse_args()
    demo = DemoAccount(latency_ms=args.latency, quotas=args.quotas).start()
    try:
        rows = [one(demo, args.function, args.region, parse_memory(args.memory), args.num, p) for p in (False, True)]
    finally:
        demo.stop()
    print(f"{args.function}: {args.memory} MB x {args.num} invocations, {args.latency:.0f} ms per API call")
    print(f"{'mode':<9} {'wall s':>7} {'invokes':>8} {'control':>8} {'cold':>5} {'winner MB':>10}")
    for r in rows:
        print(f"{r['mode']:<9} {r['wall_s']:>7.2f} {r['invokes']:>8} {r['control']:>8} {r['cold']:>5} "
              f"{r['winner'] or '-':>10}")
    print(f"speed-up: {rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
