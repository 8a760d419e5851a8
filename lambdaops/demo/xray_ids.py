"""Which demo invocations X-Ray sampled, and their trace/segment ids (shared by logs and traces).

Lambda's default sampling is one request per second plus 5% of the rest; the demo samples every
cold start (so cold starts are visible in traces) and about 5% of warm invocations, deterministically.
"""

from __future__ import annotations

import numpy as np

from lambdaops.demo.fleet import FunctionSpec
from lambdaops.demo.traffic import Records


def sampled_mask(spec: FunctionSpec, rec: Records) -> np.ndarray:
    if not spec.tracing or rec.n == 0:
        return np.zeros(rec.n, dtype=bool)
    return rec.cold | (rec.rid[:, 1] % np.uint64(20) == 0)


def trace_id(rec: Records, i: int) -> str:
    epoch_s = int(rec.ts_ms[i]) // 1000
    return f"1-{epoch_s:08x}-{int(rec.rid[i, 0]):016x}{int(rec.rid[i, 1]) & 0xFFFFFFFF:08x}"


def segment_id(rec: Records, i: int) -> str:
    return f"{(int(rec.rid[i, 1]) >> 3) % (1 << 64):016x}"
