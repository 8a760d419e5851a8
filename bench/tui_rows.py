"""How the fleet table copes with a large fleet: 5,000 synthetic functions, headless (not run by the suite).

    /work/venv/bin/python bench/tui_rows.py [--rows 5000] [--repeat 5]

Measures, in milliseconds (median of --repeat):
- build: the rows from an analysed snapshot (format, sort keys, search text): done in the worker thread;
- load / refresh / filter / sort / page down: on the UI thread, each followed by a full repaint;
- the same load and sort with Textual's DataTable, for comparison (why the fleet uses VirtualTable).
The repaint is timed as ``pilot.pause()`` minus an idle ``pilot.pause()``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lambdaops.analysis.fleet import analyze  # noqa: E402
from lambdaops.models import FunctionInfo  # noqa: E402
from lambdaops.tui.fleet_model import build_fleet_model, row_key  # noqa: E402

RUNTIMES = ("python3.12", "nodejs20.x", "java21", "provided.al2023")


def synthetic(n: int, seed: int = 7):
    rng = random.Random(seed)
    fns, records, sparks = [], [], {}
    for i in range(n):
        region = ("us-east-1", "eu-west-1", "ap-southeast-2")[i % 3]
        name = f"svc-{i:05d}-{rng.choice(('api', 'worker', 'sync', 'job'))}"
        mem = rng.choice((128, 256, 512, 1024, 2048))
        fns.append(FunctionInfo(name=name, region=region, arn=f"arn:aws:lambda:{region}:1:function:{name}",
                                runtime=rng.choice(RUNTIMES), architecture="arm64", memory_mb=mem, timeout_s=30,
                                last_modified=None, tags={"team": f"t{i % 40}"}))
        inv = rng.uniform(0, 2e5)
        records.append({"name": name, "region": region, "runtime": fns[-1].runtime, "architecture": "arm64",
                        "memory_mb": mem, "timeout_s": 30, "invocations": inv, "errors": inv * rng.uniform(0, 0.03),
                        "throttles": rng.choice((0.0, 0.0, 0.0, 12.0)), "duration_p50_ms": rng.uniform(5, 900),
                        "duration_p90_ms": rng.uniform(900, 2000), "duration_p99_ms": rng.uniform(2000, 9000),
                        "max_concurrency": rng.uniform(1, 50), "dlq_depth": rng.choice((None, 0.0, 3.0)),
                        "log_invocations": inv, "cold_starts": inv * rng.uniform(0, 0.1), "billed_ms": inv * 200,
                        "init_p99_ms": rng.uniform(100, 4000), "memory_used_max_mb": mem * rng.uniform(0.2, 1.0)})
        sparks[row_key(region, name)] = [rng.uniform(0, 100) for _ in range(12)]
    table = analyze(records)
    return fns, table.to_dict("records"), sparks


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


async def bench(rows: int, repeat: int) -> dict[str, list[float]]:
    from textual.app import App
    from textual.widgets import DataTable

    from lambdaops.tui.widgets.virtual_table import VirtualTable

    fns, records, sparks = synthetic(rows)
    out: dict[str, list[float]] = {}

    def timed(name: str, seconds: float) -> None:
        out.setdefault(name, []).append(seconds)

    for _ in range(repeat):
        t = time.perf_counter()
        model = build_fleet_model(fns, records, sparks)
        timed("build rows (worker thread)", time.perf_counter() - t)
    again = build_fleet_model(fns, records, sparks)

    class Bench(App):
        def compose(self):
            yield VirtualTable(id="fleet")
            yield DataTable(id="baseline")

    app = Bench()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(VirtualTable)
        table.focus()

        async def repaint() -> float:
            t = time.perf_counter()
            await pilot.pause()
            return time.perf_counter() - t

        idle = min([await repaint() for _ in range(5)])

        async def step(name: str, action) -> None:
            t = time.perf_counter()
            action()
            ui = time.perf_counter() - t
            timed(name, ui + max(0.0, await repaint() - idle))

        for _ in range(repeat):
            table.set_model(type(model)(model.columns))
            await step("load 5,000 rows + paint" if rows == 5000 else "load + paint", lambda: table.set_model(model))
            await step("refresh in place (new figures) + paint", lambda: table.set_model(again))
            await step("filter keystroke ('svc-01') + paint", lambda: table.set_filter("svc-01"))
            await step("clear filter + paint", lambda: table.set_filter(""))
            await step("sort by p99 + paint", lambda: table.sort_by("duration_p99_ms"))
            await step("sort by name + paint", lambda: table.sort_by("name"))
            await step("page down + paint", lambda: table.action_page(1))

        baseline = app.query_one(DataTable)
        keys = baseline.add_columns(*[c.label for c in model.columns])
        t = time.perf_counter()
        baseline.add_rows(model.cells)
        ui = time.perf_counter() - t
        timed("DataTable: add 5,000 rows + paint" if rows == 5000 else "DataTable: add + paint",
              ui + max(0.0, await repaint() - idle))
        t = time.perf_counter()
        baseline.sort(keys[10])
        ui = time.perf_counter() - t
        timed("DataTable: sort + paint", ui + max(0.0, await repaint() - idle))
        t = time.perf_counter()
        for row_key_ in list(baseline.rows)[:rows]:
            baseline.update_cell(row_key_, keys[5], "1")
        timed("DataTable: update one column in place", time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    results = asyncio.run(bench(args.rows, args.repeat))
    print(f"fleet table, {args.rows:,} rows x 16 columns, 160x45, median of {args.repeat}")
    for name, samples in results.items():
        print(f"  {name:<44} {ms(samples)}")


if __name__ == "__main__":
    main()
