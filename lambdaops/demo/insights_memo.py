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
    """One log group's events and the columns derived from them so far.

    A column is computed only for the events a query reads (after its filters), and kept: the next
    query computes only the events no query read before. Parse results are kept sparse (a slot per
    event into the values of the events that matched), as they exist on a small share of the events."""

    def __init__(self, events: pd.DataFrame, infrequent_access: bool = False) -> None:
        from lambdaops.demo.insights_eval import NO_DISCOVERY, events_frame

        if infrequent_access:
            events = events.assign(**{NO_DISCOVERY: True})
        self.events = events
        self.n = len(events)
        self._frame = events_frame(events)  # never read itself: computations take subsets of it
        self._cols: dict = {}  # key -> [values (n,), done mask (n,)]
        self._sparse: dict = {}  # key -> [slot (n,) int32, done mask (n,), list of values arrays, count]
        # key -> how its values are computed (demo_cache tests whether a column depends on the times
        # in the text before it keeps it between runs)
        self.computes: dict = {}
        self._lock = threading.RLock()

    def _missing(self, done: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
        todo = rows if done is None else rows[~done[rows]]
        return _sorted_unique(todo)

    def _subframe(self, rows: np.ndarray):
        from lambdaops.demo.insights_eval import KIND

        sub = self._frame.take(rows)
        if len(rows):
            sub.cols[KIND] = self.column(("field", KIND), lambda f: f.get(KIND), rows)
        return sub

    def field(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A column the engine loads from the messages (kind, discovered field, JSON key)."""
        from lambdaops.demo.insights_eval import KIND

        if name == KIND:
            return self.column(("field", KIND), lambda f: f.get(KIND), rows)
        return self.column(("field", name), lambda f: f.get(name), rows)

    def column(self, key: tuple, compute, rows: np.ndarray) -> np.ndarray:
        """``compute(frame)`` for these events (group positions), computed where not yet."""
        from lambdaops.demo.insights_eval import KIND

        with self._lock:
            self.computes.setdefault(key, ("column", compute, 0))
            entry = self._cols.get(key)
            todo = self._missing(entry[1] if entry is not None else None, rows)
            if len(todo):
                sub = self._frame.take(todo) if key == ("field", KIND) else self._subframe(todo)
                values = compute(sub)
                if entry is None:
                    blank = np.full(self.n, np.nan) if values.dtype.kind == "f" else (
                        np.zeros(self.n, dtype=values.dtype) if values.dtype.kind in "biu" else
                        np.full(self.n, None, dtype=object))
                    entry = self._cols[key] = [blank, np.zeros(self.n, dtype=bool)]
                elif values.dtype.kind != entry[0].dtype.kind:  # numbers so far, now strings: objects
                    entry[0] = _objects(entry[0])
                    values = _objects(values)
                entry[0][todo] = values
                entry[1][todo] = True
            return entry[0][rows]

    def sparse(self, key: tuple, compute, width: int, rows: np.ndarray) -> list[np.ndarray]:
        """``compute(frame) -> (matching positions in frame, [values] * width)`` for these events, kept
        sparse; dense (None where no match) for ``rows``."""
        with self._lock:
            self.computes.setdefault(key, ("sparse", compute, width))
            entry = self._sparse.get(key)
            if entry is None:
                entry = self._sparse[key] = [np.full(self.n, -1, dtype=np.int64), np.zeros(self.n, dtype=bool),
                                             [np.empty(0, dtype=object) for _ in range(width)], 0]
            todo = self._missing(entry[1], rows)
            if len(todo):
                hit, values = compute(self._subframe(todo))
                entry[0][todo[hit]] = entry[3] + np.arange(len(hit))
                entry[2] = [np.concatenate([old, new]) for old, new in zip(entry[2], values)]
                entry[3] += len(hit)
                entry[1][todo] = True
            slot = entry[0][rows]
            found = slot >= 0
            out = []
            for values in entry[2]:
                col = np.full(len(rows), None, dtype=object)
                col[found] = values[slot[found]]
                out.append(col)
            return out

    def bytes_before(self) -> np.ndarray:
        """Cumulative message sizes: bytes of events [lo, hi) = b[hi] - b[lo] (bytesScanned)."""
        with self._lock:
            hit = self._cols.get(("bytes",))
            if hit is None:
                from lambdaops.demo.insights_eval import MESSAGE

                lengths = getattr(self.events, "message_lengths", None)  # moved_events: the stored messages'
                if lengths is not None:
                    sizes = lengths()
                else:
                    frame = self._frame.take(np.arange(self.n))
                    frame.get(MESSAGE)
                    sizes = np.fromiter(map(len, frame._message_list), dtype=np.int64, count=frame.n)
                hit = self._cols[("bytes",)] = np.r_[0, np.cumsum(sizes)]
            return hit


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
        self._base = np.cumsum([0] + [s.hi - s.lo for s in self.segments])
        self._source: dict[str, pd.Series] = {}
        self._last_split: tuple | None = None

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> pd.Series:
        hit = self._source.get(name)
        if hit is None:
            from lambdaops.demo.insights_eval import source_rows

            parts = [source_rows(s.group.events, name, slice(s.lo, s.hi)) if name in s.group.events.columns
                     else np.full(s.hi - s.lo, None, dtype=object) for s in self.segments]
            hit = self._source[name] = pd.Series(_concat(parts), copy=False)
        return hit

    def message_bytes(self) -> int:
        total = 0
        for s in self.segments:
            b = s.group.bytes_before()
            total += int(b[s.hi] - b[s.lo])
        return total

    def _split(self, rows: np.ndarray | None) -> list:
        """(where in ``rows``, group positions, len(rows), group) for each segment these rows touch.
        A query reads every column over the same rows: the split is kept for the last rows asked."""
        last = self._last_split
        if last is not None and last[0] is rows:
            return last[1]
        at = np.arange(self.n) if rows is None else rows
        out = []
        if len(at) < 2 or np.all(at[1:] > at[:-1]):  # ascending (filters keep the order): cut, no scan
            cuts = np.searchsorted(at, self._base).tolist()
            for i, (lo, hi) in enumerate(zip(cuts, cuts[1:])):
                if hi > lo:
                    where = np.arange(lo, hi)
                    s = self.segments[i]
                    out.append((where, at[lo:hi] - self._base[i] + s.lo, len(at), s.group))
        else:
            seg = np.searchsorted(self._base, at, side="right") - 1
            for i in np.flatnonzero(np.bincount(seg, minlength=len(self.segments))).tolist():
                where = np.flatnonzero(seg == i)
                s = self.segments[i]
                out.append((where, at[where] - self._base[i] + s.lo, len(at), s.group))
        self._last_split = (rows, out)
        return out

    def field(self, name: str, rows: np.ndarray | None) -> np.ndarray:
        return self.derived(("field", name), None, rows, name=name)

    def derived(self, key: tuple, compute, rows: np.ndarray | None, name: str | None = None) -> np.ndarray:
        parts = []
        n = self.n if rows is None else len(rows)
        for where, pos, _, group in self._split(rows):
            parts.append((where, group.field(name, pos) if name is not None else group.column(key, compute, pos)))
        return _assemble(parts, n)

    def sparse(self, key: tuple, compute, width: int, rows: np.ndarray | None) -> list[np.ndarray]:
        n = self.n if rows is None else len(rows)
        out = [np.full(n, None, dtype=object) for _ in range(width)]
        for where, pos, _, group in self._split(rows):
            for col, values in zip(out, group.sparse(key, compute, width, pos)):
                col[where] = values
        return out


def _sorted_unique(rows: np.ndarray) -> np.ndarray:
    """Row positions ascending, once each (np.unique hashes: far slower on sorted input)."""
    if len(rows) > 1 and not np.all(rows[1:] > rows[:-1]):
        rows = np.sort(rows)
        rows = rows[np.r_[True, rows[1:] != rows[:-1]]]
    return rows


def _assemble(parts: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, None, dtype=object)
    kinds = {v.dtype.kind for _, v in parts}
    if len(kinds) > 1:  # numbers in one group, strings in another: null is None
        parts = [(w, _objects(v)) for w, v in parts]
    if len(parts) == 1 and len(parts[0][0]) == n:
        return parts[0][1]
    out = np.empty(n, dtype=parts[0][1].dtype)
    for where, values in parts:
        out[where] = values
    return out


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


