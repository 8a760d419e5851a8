"""Ground truth: what every figure lambdaops shows should be, computed straight from the records.

Percentiles use numpy's default (linear) interpolation over all invocations of the window; counts
are exact. Nothing here goes through the APIs, so tests can compare what the product computed from
API answers against numbers known independently.

The figures follow AWS's semantics, not whatever a log line makes easy (sources beside each rule in the
modules that generate them):
- invocations and cold starts are per FUNCTION, also when several functions share one log group;
- billed ms per invocation is what AWS bills: the REPORT line's Billed Duration (a SnapStart line already
  includes its Billed Restore Duration, never added twice) and, for a cold start, at least
  ceil(Duration + Init Duration), since INIT is billed for every configuration from 2025-08-01 even where
  a line leaves it out of Billed Duration ("AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog);
- timeouts and out-of-memory deaths count every invocation that died so, whichever form its lines take
  (``Status: timeout`` or a separate ``Task timed out`` line; ``Runtime.OutOfMemory`` or ``signal: killed``).

A function with no log group (it never ran: Lambda creates the group on the first invocation) has
invocations, errors and throttles 0, from CloudWatch metrics, which need no log group. Every figure only
the logs can give (cold starts, init percentiles, timeouts, OOM deaths, memory used, billed GB-seconds)
is None, with the reason under ``notes``: there is nothing to read, and a report must not turn "no log
group" into 0 (a deleted group looks the same from the logs' side as a function that never ran).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from lambdaops.demo.memory_model import TUNING_GRID, expected_billed_ms
from lambdaops.demo.traffic import OOM, TIMEOUT, aws_billed_ms

NO_LOG_GROUP = ("no log group: Lambda creates {group} on the first invocation and this function has none, "
                "so there are no REPORT lines to read; metrics say 0 invocations")


def _pct(values: np.ndarray, q: float) -> float | None:
    return None if values.size == 0 else round(float(np.percentile(values, q)), 4)


def function_truth(traffic) -> dict:
    spec = traffic.spec
    rec = traffic.records()
    cold = rec.cold
    init = rec.init_ms[cold]
    billed = float(aws_billed_ms(spec, rec).sum())
    age = rec.iterator_age_ms[~np.isnan(rec.iterator_age_ms)] if spec.traffic == "stream" else np.empty(0)
    has_logs = spec.has_log_group or rec.n > 0
    out = {
        "name": spec.name,
        "region": spec.region,
        "runtime": spec.runtime,
        "architecture": spec.architecture,
        "memory_mb": spec.memory_mb,
        "log_format": spec.log_format,
        "log_group": spec.log_group_name,
        "log_group_exists": has_logs,
        "log_group_class": spec.log_group_class if has_logs else None,
        "log_group_shared": False,  # set by build_truth
        "traffic": spec.traffic,
        "invocations": int(rec.n),
        "errors": int(np.count_nonzero(rec.status)),
        "timeouts": int(np.count_nonzero(rec.status == TIMEOUT)),
        "out_of_memory": int(np.count_nonzero(rec.status == OOM)),
        "throttles": int(rec.throttle_ts_ms.size),
        "cold_starts": int(cold.sum()),
        "duration_ms": {"p50": _pct(rec.duration_ms, 50), "p90": _pct(rec.duration_ms, 90),
                        "p99": _pct(rec.duration_ms, 99),
                        "max": None if rec.n == 0 else float(rec.duration_ms.max())},
        "init_ms": {"p50": _pct(init, 50), "p99": _pct(init, 99)},
        "iterator_age_max_ms": None if age.size == 0 else float(age.max()),
        "max_concurrency": int(rec.concurrency.max()) if rec.n else 0,
        "memory_used_max_mb": int(rec.max_mem_mb.max()) if rec.n else None,
        "billed_ms": int(billed),
        "billed_gb_seconds": round(billed / 1000.0 * spec.memory_mb / 1024.0, 6),
        "notes": {},
        "tuning": {
            "working_set_mb": spec.working_set_mb,
            "expected_billed_ms": {str(m): expected_billed_ms(spec.cpu_ms, spec.parallel, spec.io_ms, m)
                                   for m in TUNING_GRID},
        },
    }
    if not has_logs:
        note = NO_LOG_GROUP.format(group=spec.log_group_name)
        for key in ("cold_starts", "timeouts", "out_of_memory", "memory_used_max_mb", "billed_ms",
                    "billed_gb_seconds"):
            out[key] = None
            out["notes"][key] = note
        out["notes"]["init_ms"] = note
    return out


def dlq_depth_truth(spec, queues: dict) -> int | None:
    """Messages in the function's failure queues as AWS counts them: visible + in flight + delayed
    (``dlq_messages``; "GetQueueAttributes", Amazon SQS API Reference). None: no failure queue."""
    from lambdaops.demo.dlq_seed import failure_queues

    held = [queues[(spec.region, n)] for n in failure_queues(spec) if (spec.region, n) in queues]
    return sum(q.dlq_messages for q in held) if held else None


def build_truth(account) -> dict:
    state = account.state
    start, end = account.window
    functions = [function_truth(state.traffic[(f.region, f.name)]) for f in account.fleet]
    for f, truth in zip(account.fleet, functions):
        truth["dlq_depth"] = dlq_depth_truth(f, state.queues)
    groups: dict[tuple[str, str], int] = {}
    for t in functions:
        if t["log_group_exists"]:
            groups[(t["region"], t["log_group"])] = groups.get((t["region"], t["log_group"]), 0) + 1
    for t in functions:
        t["log_group_shared"] = groups.get((t["region"], t["log_group"]), 0) > 1
    queues = [{"queue_url": q.url, "name": q.name, "region": q.region, "kind": q.kind, "dlq_messages": q.dlq_messages,
               "visible": q.visible, "in_flight": q.in_flight, "delayed": q.delayed}
              for q in sorted(state.queues.values(), key=lambda q: (q.region, q.name))]
    return {
        "seed": account.seed,
        "account_id": account.account_id,
        "window": {"start": start.isoformat().replace("+00:00", "Z"), "end": end.isoformat().replace("+00:00", "Z")},
        "regions": list(account.regions),
        "functions": functions,
        "queues": queues,
    }


def write_truth(account, path: Path) -> None:
    """Atomically write the truth JSON (a reader never sees half a file)."""
    path = Path(path)
    data = json.dumps(build_truth(account), indent=1)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=".truth-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.replace(tmp, path)
