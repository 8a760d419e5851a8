"""Per-invocation traffic of the demo fleet: the single source every demo API answer derives from.

Each function gets arrivals from its traffic model, durations from the memory model with noise and a
tail, errors, timeouts and out-of-memory deaths, concurrency from overlapping invocations, throttles
above reserved concurrency, and cold starts where concurrency exceeds the environments kept warm
(after idle, on bursts, after a deploy). Metrics, REPORT lines, traces and the truth file are all
computed from these records, so they agree with each other the way AWS's do.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lambdaops.demo.fleet import FunctionSpec
from lambdaops.demo.memory_model import expected_duration_ms, init_scale

MINUTE_MS = 60_000
IDLE_RECLAIM = "7min"  # environments idle longer than this are reclaimed (AWS: minutes, unspecified)

OK, ERROR, TIMEOUT, OOM = 0, 1, 2, 3
STATUS_NAMES = {OK: "success", ERROR: "error", TIMEOUT: "timeout", OOM: "error"}


@dataclass
class Records:
    """One function's invocations sorted by start time (numpy columns), plus throttled requests."""

    ts_ms: np.ndarray  # int64 start of the invocation (after INIT on cold starts)
    duration_ms: np.ndarray  # float64, Duration as reported (excludes INIT)
    billed_ms: np.ndarray  # int64, Billed Duration as the REPORT line says it (see ``billed_duration_ms``)
    init_ms: np.ndarray  # float64, Init Duration or SnapStart Restore Duration; NaN when warm
    max_mem_mb: np.ndarray  # int32
    status: np.ndarray  # int8: OK | ERROR | TIMEOUT | OOM
    concurrency: np.ndarray  # int32, concurrent executions when it started (itself included)
    iterator_age_ms: np.ndarray  # float64; NaN for non-stream functions
    rid: np.ndarray  # uint64 pairs (n, 2): request id bits
    throttle_ts_ms: np.ndarray  # int64 throttled requests (not invocations)
    memory_mb: np.ndarray  # int32: memory size the invocation ran with
    version: np.ndarray  # int16: 0 = $LATEST, n = published version n

    @property
    def n(self) -> int:
        return int(self.ts_ms.size)

    @property
    def cold(self) -> np.ndarray:
        return ~np.isnan(self.init_ms)

    def request_id(self, i: int) -> str:
        return format_request_id(int(self.rid[i, 0]), int(self.rid[i, 1]))


def format_request_id(hi: int, lo: int) -> str:
    h = f"{hi:016x}{lo:016x}"
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


_COLUMNS = ("ts_ms", "duration_ms", "billed_ms", "init_ms", "max_mem_mb", "status", "concurrency",
            "iterator_age_ms", "rid", "memory_mb", "version")


@dataclass
class FunctionTraffic:
    """A function's records, appendable by live Invokes (merged lazily, under a lock)."""

    spec: FunctionSpec
    index: int
    base: Records
    _pending: list[dict] = field(default_factory=list)
    _pending_throttles: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0  # bumped on every append: caches keyed on it stay correct

    def append(self, **row) -> None:
        with self._lock:
            self._pending.append(row)
            self.generation += 1

    def records(self) -> Records:
        with self._lock:
            if self._pending or self._pending_throttles:
                extra = self._pending
                merged = {}
                for col in _COLUMNS:
                    old = getattr(self.base, col)
                    new = np.array([r[col] for r in extra], dtype=old.dtype) if extra else old[:0]
                    if col == "rid":
                        new = new.reshape(-1, 2)
                    merged[col] = np.concatenate([old, new])
                order = np.argsort(merged["ts_ms"], kind="stable")
                for col in _COLUMNS:
                    merged[col] = merged[col][order]
                thr = np.sort(np.concatenate([self.base.throttle_ts_ms,
                                              np.array(self._pending_throttles, dtype=np.int64)]))
                self.base = Records(throttle_ts_ms=thr, **merged)
                self._pending, self._pending_throttles = [], []
            return self.base


# --------------------------------------------------------------------------------------------
# arrivals


def _minute_rates(spec: FunctionSpec, minutes: np.ndarray, rng: np.random.Generator, start_ms: int) -> np.ndarray:
    """Expected invocations per minute for each minute of the window."""
    hours = ((start_ms // MINUTE_MS + minutes) % 1440) / 60.0
    day = 0.75 + 0.35 * np.sin((hours - 9.0) / 24.0 * 2 * math.pi)  # busier in the (UTC) daytime
    rate = spec.rate_per_min * day
    if spec.traffic == "diurnal":
        rate = spec.rate_per_min * (0.25 + 1.2 * np.clip(np.sin((hours - 6.0) / 24.0 * 2 * math.pi), 0, None))
        rate = _add_bursts(rate, rng, count=4, length=12, factor=5.0)
    elif spec.traffic == "queue":
        rate = rate * rng.gamma(2.0, 0.5, size=minutes.size)
        rate = _add_bursts(rate, rng, count=3, length=8, factor=4.0)
    elif spec.traffic == "async":
        rate = _add_bursts(rate, rng, count=3, length=10, factor=3.0)
    else:  # steady APIs still see a few traffic spikes (a campaign, a retry storm)
        rate = _add_bursts(rate, rng, count=2, length=3, factor=4.0)
    return rate


def _add_bursts(rate: np.ndarray, rng: np.random.Generator, count: int, length: int, factor: float) -> np.ndarray:
    rate = rate.copy()
    for _ in range(count):
        at = int(rng.integers(0, max(1, rate.size - length)))
        rate[at:at + length] *= factor
    return rate


def _arrivals(spec: FunctionSpec, start_ms: int, end_ms: int, rng: np.random.Generator) -> np.ndarray:
    if spec.traffic == "none":
        return np.zeros(0, dtype=np.int64)
    n_min = int((end_ms - start_ms) // MINUTE_MS)
    if spec.traffic == "cron":
        first = -(-start_ms // (5 * MINUTE_MS)) * (5 * MINUTE_MS)
        ts = np.arange(first, end_ms, 5 * MINUTE_MS, dtype=np.int64)
        return ts + rng.integers(5, 80, size=ts.size)  # scheduler jitter
    minutes = np.arange(n_min)
    counts = rng.poisson(_minute_rates(spec, minutes, rng, start_ms))
    starts = start_ms + np.repeat(minutes, counts).astype(np.int64) * MINUTE_MS
    ts = starts + rng.integers(0, MINUTE_MS, size=starts.size)
    return np.sort(ts)


# --------------------------------------------------------------------------------------------
# the model


def _concurrency(ts: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Invocations in flight at each start (itself included): starts so far minus ends so far."""
    ends_sorted = np.sort(end)
    finished = np.searchsorted(ends_sorted, ts, side="right")
    return (np.arange(1, ts.size + 1) - finished).astype(np.int32)


def _cold_starts(ts: np.ndarray, conc: np.ndarray, deploy_ms: int | None) -> np.ndarray:
    """Cold when more environments are needed than were busy at any time in the idle window before."""
    if ts.size == 0:
        return np.zeros(0, dtype=bool)
    s = pd.Series(conc.astype(np.float64), index=pd.to_datetime(ts, unit="ms"))
    cold = np.zeros(ts.size, dtype=bool)
    segments = [(0, ts.size)]
    if deploy_ms is not None:
        cut = int(np.searchsorted(ts, deploy_ms))
        segments = [(0, cut), (cut, ts.size)]
    for a, b in segments:
        if b <= a:
            continue
        seg = s.iloc[a:b]
        warm_pool = seg.rolling(IDLE_RECLAIM, closed="left").max().to_numpy()
        warm_pool = np.nan_to_num(warm_pool, nan=0.0)
        # Each new high of concurrency within the window needs one more environment.
        cold[a:b] = conc[a:b] > warm_pool
    return cold


def generate_function(spec: FunctionSpec, index: int, seed: int, start_ms: int, end_ms: int) -> Records:
    rng = np.random.default_rng([seed, index, 0x1A3B])
    ts = _arrivals(spec, start_ms, end_ms, rng)
    n = ts.size
    mem = spec.memory_mb
    base = expected_duration_ms(spec.cpu_ms, spec.parallel, 0.0, mem)
    cpu_part = base * rng.lognormal(0.0, 0.10, n)
    io_part = spec.io_ms * rng.lognormal(0.0, 0.30, n)
    duration = cpu_part + io_part
    tail = rng.random(n) < 0.01  # the slow 1%: GC pauses, slow downstream calls
    duration[tail] *= rng.uniform(2.5, 6.0, int(tail.sum()))
    if spec.traffic == "stream" and spec.lagging:
        duration *= 1.35  # the consumer that falls behind is also slower per batch
    duration = np.round(duration, 2)

    status = np.where(rng.random(n) < spec.error_rate, ERROR, OK).astype(np.int8)
    duration[status == ERROR] = np.round(duration[status == ERROR] * rng.uniform(0.2, 0.9, int((status == ERROR).sum())), 2)
    mem_used = np.round(spec.working_set_mb * rng.uniform(0.88, 1.09, n)).astype(np.int32)
    oom = mem_used >= mem
    status[oom] = OOM
    mem_used[oom] = mem
    limit = spec.timeout_s * 1000.0
    timed_out = duration >= limit
    status[timed_out] = TIMEOUT
    duration[timed_out] = limit

    # Concurrency first without INIT, then cold starts, then again with INIT holding the environment.
    conc = _concurrency(ts, ts + duration)
    throttled = np.zeros(n, dtype=bool)
    if spec.reserved_concurrency is not None:
        throttled = conc > spec.reserved_concurrency
    keep = ~throttled
    throttle_ts = ts[throttled]
    ts, duration, status, mem_used = ts[keep], duration[keep], status[keep], mem_used[keep]
    n = ts.size
    conc = _concurrency(ts, ts + duration)
    deploy_ms = None if spec.deploy_at_frac is None else int(start_ms + (end_ms - start_ms) * spec.deploy_at_frac)
    cold = _cold_starts(ts, conc, deploy_ms)
    cold |= rng.random(n) < 0.0004  # environments recycled by the platform now and then
    init = np.full(n, np.nan)
    k = int(cold.sum())
    if spec.snapstart:
        init[cold] = np.round(spec.init_ms * rng.lognormal(0.0, 0.25, k), 2)  # restore
    else:
        init[cold] = np.round(spec.init_ms * init_scale(mem) * rng.lognormal(0.0, 0.18, k), 2)
    conc = _concurrency(ts, ts + duration + np.nan_to_num(init))

    # Keep only invocations that finished inside the window, so every REPORT line is in it too.
    done = ts + np.nan_to_num(init) + duration < end_ms
    ts, duration, status, mem_used, init, conc = ts[done], duration[done], status[done], mem_used[done], init[done], conc[done]
    n = ts.size

    age = np.full(n, np.nan)
    if spec.traffic == "stream":
        if spec.lagging:
            frac = (ts - start_ms) / max(1, end_ms - start_ms)
            ramp = np.clip((frac - 0.55) / 0.45, 0, None)  # falls behind in the last part of the window
            age = np.round(400 + ramp ** 1.6 * 480_000 * rng.uniform(0.9, 1.1, n), 0)
        else:
            age = np.round(rng.uniform(80, 1800, n), 0)

    rid = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64).astype(np.uint64)
    billed = billed_duration_ms(spec, duration, init, rid[:, 1])
    return Records(ts_ms=ts.astype(np.int64), duration_ms=duration, billed_ms=billed, init_ms=init,
                   max_mem_mb=mem_used, status=status, concurrency=conc, iterator_age_ms=age, rid=rid,
                   throttle_ts_ms=throttle_ts.astype(np.int64), memory_mb=np.full(n, mem, dtype=np.int32),
                   version=np.zeros(n, dtype=np.int16))


def billed_restore_ms(restore_ms: np.ndarray, lo_bits: np.ndarray) -> np.ndarray:
    """SnapStart's Billed Restore Duration: only the part of the restore spent loading the runtime and
    running after-restore hooks, so it is smaller than Restore Duration, which also counts restoring the
    snapshot outside the microVM ("Monitoring for Lambda SnapStart", AWS Lambda Developer Guide; a real
    line reads Restore 398.97 ms, Billed Restore 182 ms). The share varies per restore: taken from the
    request id bits so logs, Invoke and the truth agree without another column."""
    share = 0.35 + 0.45 * ((np.asarray(lo_bits, dtype=np.uint64) >> np.uint64(7)) % np.uint64(1000)) / 1000.0
    return np.ceil(np.asarray(restore_ms, dtype=np.float64) * share).astype(np.int64)


def billed_duration_ms(spec: FunctionSpec, duration: np.ndarray, init: np.ndarray, lo_bits: np.ndarray) -> np.ndarray:
    """Billed Duration as Lambda writes it on the REPORT line (1 ms granularity):

    - warm: ceil(Duration);
    - SnapStart restore: ceil(Duration + Billed Restore Duration): the billed restore is already inside
      (real lines: 2338.66 + 182 -> 2521, 306.34 + 303 -> 610, 149.53 + 163 -> 313; "Monitoring for Lambda SnapStart", Lambda Developer Guide);
    - cold start: ceil(Duration + Init Duration) since INIT is billed for every configuration from
      2025-08-01 ("AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog; a real line reads
      Init 1293.83 + Duration 1049.63 -> 2344), except for functions whose lines leave INIT out
      (``init_in_billed_line=False``: ceil(Duration) only, although AWS bills it all the same).
    """
    duration = np.asarray(duration, dtype=np.float64)
    init = np.asarray(init, dtype=np.float64)
    cold = ~np.isnan(init)
    extra = np.zeros(duration.size)
    if spec.snapstart:
        extra[cold] = billed_restore_ms(init[cold], np.asarray(lo_bits)[cold])
    elif spec.init_in_billed_line:
        extra[cold] = init[cold]
    return np.maximum(np.ceil(np.round(duration + extra, 6)), 1).astype(np.int64)


def aws_billed_ms(spec: FunctionSpec, rec: Records) -> np.ndarray:
    """What AWS bills per invocation: the line's Billed Duration, and for a non-SnapStart cold start at
    least ceil(Duration + Init Duration), whether or not the line shows INIT inside ("AWS Lambda standardizes billing for INIT Phase", AWS
    Compute Blog: billed ms = max(Billed Duration, ceil(Duration + Init Duration)))."""
    billed = rec.billed_ms.astype(np.int64).copy()
    if spec.snapstart:
        return billed
    cold = rec.cold
    full = np.ceil(np.round(rec.duration_ms[cold] + rec.init_ms[cold], 6)).astype(np.int64)
    billed[cold] = np.maximum(billed[cold], full)
    return billed


def generate_fleet(fleet: list[FunctionSpec], seed: int, start_ms: int, end_ms: int) -> dict[tuple[str, str], FunctionTraffic]:
    return {(spec.region, spec.name): FunctionTraffic(spec, i, generate_function(spec, i, seed, start_ms, end_ms))
            for i, spec in enumerate(fleet)}
