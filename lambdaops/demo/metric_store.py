"""The demo account's CloudWatch metric store (its per-period statistics: demo/metric_stats.py).

moto keeps one Python object per datapoint and recomputes everything per query, which is far too
slow for a fleet that puts millions of samples per metric; it also cannot compute percentiles.
Here every series is a pair of numpy columns (int64 epoch milliseconds, float64 values) kept
sorted by time, so a period grid is found with ``np.searchsorted`` and the per-period statistics
are segment reductions over contiguous slices.

Two kinds of data live in a series, as in CloudWatch:

* raw samples (PutMetricData ``Value``/``Values``): every statistic, percentiles included;
* statistic sets (PutMetricData ``StatisticValues``): only Sum/Average/Minimum/Maximum/
  SampleCount. A percentile-family statistic over a period that holds a statistic set is not
  computable, so that period gets no datapoint, which is what CloudWatch returns.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

import numpy as np

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric name, sorted dims

_series_uids = itertools.count(1)


def _dims_key(dimensions: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (dimensions or {}).items()))


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


# --------------------------------------------------------------------------------------------
# storage
# --------------------------------------------------------------------------------------------


class _Columns:
    """Append-only parallel numpy columns with amortised growth, sorted by the first (time).

    Appends write past the current length and re-sorting builds new arrays, so a snapshot handed
    out earlier (a read-only view of ``[:n]``) never changes under a reader thread.
    """

    def __init__(self, dtypes: tuple[type, ...]) -> None:
        self._cols = [np.empty(0, dtype=d) for d in dtypes]
        self.n = 0
        self.sorted_upto = 0  # length of the time-sorted prefix; the rest arrived out of order

    def append(self, *arrays: np.ndarray) -> None:
        k = len(arrays[0])
        if k == 0:
            return
        ts = arrays[0]
        in_order = self.sorted_upto == self.n and not (
            (self.n and ts[0] < self._cols[0][self.n - 1]) or (k > 1 and np.any(ts[1:] < ts[:-1]))
        )
        if self.n + k > len(self._cols[0]):
            cap = max(self.n + k, 2 * len(self._cols[0]), 1024)
            grown = []
            for col in self._cols:
                new = np.empty(cap, dtype=col.dtype)
                new[: self.n] = col[: self.n]
                grown.append(new)
            self._cols = grown
        for col, a in zip(self._cols, arrays):
            col[self.n : self.n + k] = a
        self.n += k
        if in_order:
            self.sorted_upto = self.n

    def snapshot(self) -> list[np.ndarray]:
        if self.sorted_upto < self.n:
            # Merge the late tail into the sorted prefix: O(n) instead of re-sorting everything,
            # which matters when live invocations trickle in behind a multi-million-sample seed.
            # Stable, and late samples go after equal timestamps, so arrival order is kept.
            head, n = self.sorted_upto, self.n
            order = np.argsort(self._cols[0][head:n], kind="stable")
            at = np.searchsorted(self._cols[0][:head], self._cols[0][head:n][order], side="right")
            self._cols = [np.insert(col[:head], at, col[head:n][order]) for col in self._cols]
            self.sorted_upto = n
        return [_readonly(col[: self.n]) for col in self._cols]


@dataclass(frozen=True)
class SeriesView:
    """An immutable snapshot of one series, safe to read while writers keep appending."""

    uid: int  # identity of the series; with ``version`` a cache key for derived data
    version: int
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str | None
    ts_ms: np.ndarray  # int64, sorted
    values: np.ndarray  # float64
    set_ts_ms: np.ndarray  # statistic sets, sorted by time
    set_count: np.ndarray
    set_sum: np.ndarray
    set_min: np.ndarray
    set_max: np.ndarray

    @property
    def has_statistic_sets(self) -> bool:
        return len(self.set_ts_ms) > 0


@dataclass
class _Series:
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str | None = None
    uid: int = field(default_factory=lambda: next(_series_uids))
    version: int = 0
    raw: _Columns = field(default_factory=lambda: _Columns((np.int64, np.float64)))
    sets: _Columns = field(
        default_factory=lambda: _Columns((np.int64, np.float64, np.float64, np.float64, np.float64))
    )
    _view: SeriesView | None = None

    def view(self) -> SeriesView:
        if self._view is None or self._view.version != self.version:
            ts, values = self.raw.snapshot()
            set_ts, count, total, lo, hi = self.sets.snapshot()
            self._view = SeriesView(
                self.uid, self.version, self.namespace, self.metric_name, self.dimensions,
                self.unit, ts, values, set_ts, count, total, lo, hi,
            )
        return self._view


class MetricStore:
    """Per-region CloudWatch series, each identified by namespace, name and exact dimension set.

    Writes take the lock; reads take it only long enough to build (or reuse) a snapshot, so the
    server threads can answer queries while the demo's traffic generator keeps appending.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._regions: dict[str, dict[SeriesKey, _Series]] = {}
        self._version = 0

    @property
    def version(self) -> int:
        """Bumped on every write: lets callers cache answers computed from a given state."""
        return self._version

    def _series_for_write(
        self, region: str, namespace: str, metric_name: str, dimensions: dict[str, str] | None,
        unit: str | None,
    ) -> _Series:
        key = (namespace, metric_name, _dims_key(dimensions))
        series = self._regions.setdefault(region, {}).get(key)
        if series is None:
            series = _Series(namespace, metric_name, key[2])
            self._regions[region][key] = series
        if unit is not None:
            series.unit = unit
        series.version += 1
        self._version += 1
        return series

    def add_samples(
        self, region: str, namespace: str, metric_name: str, dimensions: dict[str, str] | None,
        ts_ms: np.ndarray, values: np.ndarray, unit: str | None = None,
    ) -> None:
        ts = np.asarray(ts_ms, dtype=np.int64).ravel()
        vals = np.asarray(values, dtype=np.float64).ravel()
        if ts.shape != vals.shape:
            raise ValueError(f"{len(ts)} timestamps for {len(vals)} values")
        if not np.all(np.isfinite(vals)):
            raise ValueError("metric values must be finite (CloudWatch rejects NaN and infinity)")
        with self._lock:
            self._series_for_write(region, namespace, metric_name, dimensions, unit).raw.append(
                ts, vals
            )

    def add_statistic_set(
        self, region: str, namespace: str, metric_name: str, dimensions: dict[str, str] | None,
        ts_ms: int, sample_count: float, total: float, minimum: float, maximum: float,
        unit: str | None = None,
    ) -> None:
        if sample_count <= 0 or minimum > maximum:
            raise ValueError("a statistic set needs SampleCount > 0 and Minimum <= Maximum")
        if sample_count == 1 and minimum == maximum:
            # A single observation is exactly a raw sample; CloudWatch computes percentiles for it.
            self.add_samples(region, namespace, metric_name, dimensions,
                             np.array([ts_ms]), np.array([maximum]), unit)
            return
        row = [np.array([x]) for x in (ts_ms, sample_count, total, minimum, maximum)]
        row[0] = row[0].astype(np.int64)
        with self._lock:
            self._series_for_write(region, namespace, metric_name, dimensions, unit).sets.append(
                *row
            )

    def series(
        self, region: str, namespace: str, metric_name: str, dimensions: dict[str, str] | None
    ) -> SeriesView | None:
        """The series with exactly these dimensions (CloudWatch never matches a subset)."""
        key = (namespace, metric_name, _dims_key(dimensions))
        with self._lock:
            series = self._regions.get(region, {}).get(key)
            return None if series is None else series.view()

    def list_metrics(
        self, region: str, namespace: str | None = None, metric_name: str | None = None,
        dimensions_filter: dict[str, str | None] | list[dict[str, str]] | None = None,
    ) -> list[dict]:
        """ListMetrics-shaped entries. A filter dimension without a value matches any value."""
        if isinstance(dimensions_filter, list):
            wanted = {d["Name"]: d.get("Value") for d in dimensions_filter}
        else:
            wanted = dict(dimensions_filter or {})
        with self._lock:
            keys = list(self._regions.get(region, {}))
        out = []
        for ns, name, dims in sorted(keys):
            if namespace is not None and ns != namespace:
                continue
            if metric_name is not None and name != metric_name:
                continue
            have = dict(dims)
            if any(k not in have or (v is not None and have[k] != v) for k, v in wanted.items()):
                continue
            out.append({
                "Namespace": ns,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
            })
        return out
