"""Ground truth: what every figure lambdaops shows should be, computed straight from the records.

Percentiles use numpy's default (linear) interpolation over all invocations of the window; counts
are exact. Nothing here goes through the APIs, so tests can compare what the product computed from
API answers against numbers known independently.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from lambdaops.demo.memory_model import TUNING_GRID, expected_billed_ms
from lambdaops.demo.traffic import TIMEOUT


def _pct(values: np.ndarray, q: float) -> float | None:
    return None if values.size == 0 else round(float(np.percentile(values, q)), 4)


def function_truth(traffic) -> dict:
    spec = traffic.spec
    rec = traffic.records()
    cold = rec.cold
    init = rec.init_ms[cold]
    billed = rec.billed_ms.astype(np.float64).sum()
    if spec.snapstart:  # restores are billed on top of the (warm-sized) billed duration
        billed += np.ceil(init).sum()
    age = rec.iterator_age_ms[~np.isnan(rec.iterator_age_ms)] if spec.traffic == "stream" else np.empty(0)
    return {
        "name": spec.name,
        "region": spec.region,
        "runtime": spec.runtime,
        "architecture": spec.architecture,
        "memory_mb": spec.memory_mb,
        "log_format": spec.log_format,
        "log_group": spec.log_group_name,
        "traffic": spec.traffic,
        "invocations": int(rec.n),
        "errors": int(np.count_nonzero(rec.status)),
        "timeouts": int(np.count_nonzero(rec.status == TIMEOUT)),
        "throttles": int(rec.throttle_ts_ms.size),
        "cold_starts": int(cold.sum()),
        "duration_ms": {"p50": _pct(rec.duration_ms, 50), "p90": _pct(rec.duration_ms, 90),
                        "p99": _pct(rec.duration_ms, 99),
                        "max": None if rec.n == 0 else float(rec.duration_ms.max())},
        "init_ms": {"p50": _pct(init, 50), "p99": _pct(init, 99)},
        "iterator_age_max_ms": None if age.size == 0 else float(age.max()),
        "max_concurrency": int(rec.concurrency.max()) if rec.n else 0,
        "memory_used_max_mb": int(rec.max_mem_mb.max()) if rec.n else 0,
        "billed_gb_seconds": round(billed / 1000.0 * spec.memory_mb / 1024.0, 6),
        "tuning": {
            "working_set_mb": spec.working_set_mb,
            "expected_billed_ms": {str(m): expected_billed_ms(spec.cpu_ms, spec.parallel, spec.io_ms, m)
                                   for m in TUNING_GRID},
        },
    }


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
