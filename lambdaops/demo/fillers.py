"""Wires the demo's gap-filling APIs into the gateway and builds the account's traffic state.

Each filler module exposes ``install(gw, account)`` and reads ``account.state`` at request time
(the state is built after the resources are seeded, through the same endpoint).
"""

from __future__ import annotations

import importlib
import threading

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
    from lambdaops.demo.state import build_state

    start, end = account.window
    state = build_state(account.fleet, account.seed, int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    account.state = state
    seed_dlqs(account, state)
    # Render the log groups in the background: the first Logs Insights query then finds them ready.
    # (Not their Insights columns: computing them ahead duplicated the first queries' stats work and
    # slowed the first answers; insights_memo computes them with the first query instead.)
    state.logs = LogStore(state)
    threading.Thread(target=state.logs.warm, name="demo-log-warmup", daemon=True).start()
    return state
