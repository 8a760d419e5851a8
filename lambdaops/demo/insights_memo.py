"""Columns the demo's Insights engine derives from a log group's events, computed once per group.

Every query over a group reads the same derived columns again: each message's kind, Lambda's
discovered fields, JSON keys, ``parse`` over ``@message`` or ``@logStream`` with the same patterns, and
``like /regex/`` filters. They depend only on the events as ingested (discovery reads ``@message`` as
ingested even where a query redefines it), so a :class:`GroupColumns` computes each over all of a
group's events the first time any query asks, and later queries, over any time range and any set of
groups, take slices of it (:class:`EventsMemo`). A group whose events change (a live Invoke,
PutLogEvents) gets a new ``GroupColumns`` from the log store, so nothing stale is served.

Only columns that are a function of the ingested columns alone are kept here; anything a query
computes from its own fields is evaluated per query as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

SOURCE_FIELDS = ("@message", "@logStream")  # fields a memoised parse / like may read (unless redefined)


class GroupColumns:
    """One log group's events and the columns derived from them so far (full length, or sparse)."""

    def __init__(self, events: pd.DataFrame, infrequent_access: bool = False) -> None:
        from lambdaops.demo.insights_eval import NO_DISCOVERY, events_frame

        if infrequent_access:
            events = events.assign(**{NO_DISCOVERY: True})
        self.events = events
        self.n = len(events)
        self._frame = events_frame(events)  # never filtered: its columns are the group's full columns
        self._cols: dict = {}
        self._lock = threading.Lock()

    def field(self, name: str) -> np.ndarray:
        """A column the engine loads for every event (kind, discovered field, JSON key)."""
        with self._lock:
            return self._frame.get(name)

    def derived(self, key: tuple, compute):
        """``compute(frame)`` over all of the group's events, once."""
        with self._lock:
            hit = self._cols.get(key)
            if hit is None:
                hit = self._cols[key] = compute(self._frame)
            return hit

    def bytes_before(self) -> np.ndarray:
        """Cumulative message sizes: bytes of events [lo, hi) = b[hi] - b[lo] (bytesScanned)."""
        def sizes(frame) -> np.ndarray:
            from lambdaops.demo.insights_eval import MESSAGE

            frame.get(MESSAGE)
            return np.r_[0, np.cumsum(np.fromiter(map(len, frame._message_list), dtype=np.int64, count=frame.n))]
        return self.derived(("bytes",), sizes)


@dataclass(frozen=True)
class Segment:
    group: GroupColumns
    lo: int
    hi: int


class EventsMemo:
    """The events of one query as slices of groups' events, in order; stands in for the events
    DataFrame (``len``, ``columns``, ``[name]``) so a query over a million events builds none."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = [s for s in segments if s.hi > s.lo]
        self.n = sum(s.hi - s.lo for s in self.segments)
        self.columns = list(dict.fromkeys(c for s in self.segments for c in s.group.events.columns))
        self._source: dict[str, pd.Series] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> pd.Series:
        hit = self._source.get(name)
        if hit is None:
            parts = [s.group.events[name].to_numpy()[s.lo:s.hi] if name in s.group.events.columns
                     else np.full(s.hi - s.lo, None, dtype=object) for s in self.segments]
            hit = self._source[name] = pd.Series(_concat(parts), copy=False)
        return hit

    def message_bytes(self) -> int:
        total = 0
        for s in self.segments:
            b = s.group.bytes_before()
            total += int(b[s.hi] - b[s.lo])
        return total

    def field(self, name: str, rows: np.ndarray | None) -> np.ndarray:
        parts = [s.group.field(name)[s.lo:s.hi] for s in self.segments]
        return _take(_concat(parts), rows)

    def derived(self, key: tuple, compute, rows: np.ndarray | None) -> np.ndarray:
        parts = [s.group.derived(key, compute)[s.lo:s.hi] for s in self.segments]
        return _take(_concat(parts), rows)

    def sparse(self, key: tuple, compute, width: int, rows: np.ndarray | None) -> list[np.ndarray]:
        """Columns stored as (row positions, values) per group, ``width`` of them, made dense (None
        where absent) for these rows: parse results exist on a small share of the events."""
        out = [np.full(self.n, None, dtype=object) for _ in range(width)]
        base = 0
        for s in self.segments:
            pos, values = s.group.derived(key, compute)
            a, b = np.searchsorted(pos, s.lo), np.searchsorted(pos, s.hi)
            at = pos[a:b] - s.lo + base
            for col, v in zip(out, values):
                col[at] = v[a:b]
            base += s.hi - s.lo
        return [_take(c, rows) for c in out]


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.full(0, None, dtype=object)
    if len(parts) == 1:
        return parts[0]
    if len({p.dtype.kind for p in parts}) > 1:  # numbers in one group, strings in another: null is None
        parts = [_objects(p) for p in parts]
    return np.concatenate(parts)


def _objects(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind != "f":
        return a.astype(object)
    out = a.astype(object)
    out[np.isnan(a)] = None
    return out


def _take(a: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return a.copy() if rows is None else a[rows]
