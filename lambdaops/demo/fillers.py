"""Wires the demo's gap-filling APIs into the gateway and builds the account's traffic state.

Each filler module exposes ``install(gw, account)`` and reads ``account.state`` at request time
(the state is built after the resources are seeded, through the same endpoint).
"""

from __future__ import annotations

import importlib
import threading
import time
from datetime import datetime, timezone

FILLERS = (
    "lambdaops.demo.metrics_api",  # GetMetricData, PutMetricData, ListMetrics
    "lambdaops.demo.logs_api",  # Logs Insights, FilterLogEvents, PutLogEvents capture
    "lambdaops.demo.live_tail",  # StartLiveTail: refused (AccessDenied), so clients poll FilterLogEvents
    "lambdaops.demo.log_groups",  # logGroupClass on CreateLogGroup / DescribeLogGroups (moto drops it)
    "lambdaops.demo.xray_api",  # GetTraceSummaries, BatchGetTraces
    "lambdaops.demo.invoke_api",  # Invoke with REPORT lines, the memory model, cold starts
    "lambdaops.demo.move_tasks",  # SQS message move tasks
    "lambdaops.demo.quotas",  # --quotas aws
)


def install_fillers(gw, account) -> None:
    for name in FILLERS:
        importlib.import_module(name).install(gw, account)


def generate_state(account):
    from lambdaops.demo.dlq_seed import seed_dlqs
    from lambdaops.demo.log_lines import LogStore
    from lambdaops.demo.state import build_state, state_from_traffic
    from lambdaops.demo.traffic import FunctionTraffic

    cache = None
    if account.use_cache:
        from lambdaops.demo.demo_cache import DemoCache

        cache = account.cache = DemoCache(account.seed, account.functions, account.window_hours,
                                          hold_writes=account.hold_cache_writes)
    entry = cache.load(int(time.time() * 1000)) if cache is not None else None
    records = cache.records() if entry is not None else None
    if records is not None and set(records) != {(f.region, f.name) for f in account.fleet}:
        entry = records = None  # not this fleet (cannot happen with the key's hash of this code): rebuilt
    account.from_cache = records is not None
    if entry is not None:
        account.started_at = datetime.fromtimestamp((entry.end_ms + cache.delta_ms) / 1000, timezone.utc)
    start, end = account.window
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    if records is not None:
        traffic = {(f.region, f.name): FunctionTraffic(f, i, records[(f.region, f.name)])
                   for i, f in enumerate(account.fleet)}
        state = state_from_traffic(account.fleet, account.seed, start_ms, end_ms, traffic)
    else:
        state = build_state(account.fleet, account.seed, start_ms, end_ms)
    account.state = state
    if cache is not None:
        cache.state = state
    # Render the log groups in the background: the first Logs Insights query then finds them ready.
    # (Not their Insights columns: computing them ahead duplicated the first queries' stats work and
    # slowed the first answers; insights_memo computes them with the first query instead, and
    # demo_cache keeps them for the next run.)
    state.logs = LogStore(state, cache.stored_group if entry is not None else None)
    if cache is not None and entry is None:
        cache.save_base_later(state, end_ms)  # renders them, then writes them
    else:
        threading.Thread(target=state.logs.warm, name="demo-log-warmup", daemon=True).start()
    account.telemetry_ready.set()  # logs, traces and Lambda's metrics answer while the DLQs fill
    seed_dlqs(account, state)
    return state
