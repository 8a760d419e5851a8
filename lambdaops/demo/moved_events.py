"""A log group kept by demo_cache, moved to the present a column at a time, and only where read.

Moving a stored group in time rewrites the ISO time inside a quarter of its messages (and the epoch
seconds of X-Ray trace ids): a Python string operation per message, the bulk of a warm account's first
Logs Insights answer. Most of the product's queries never read a message itself on a warm run: their
filters, parses and discovered fields are Insights columns demo_cache kept from an earlier run
(insights_memo), and the bytes they scan are the stored messages' lengths (a moved time is as long).
So :class:`MovedEvents` stands in for the group's events DataFrame (``len``, ``columns``, ``[name]``,
``assign``) and moves ``@message`` only for the rows a computation asks for (:meth:`column_rows`), or
for every row when something needs the whole column (FilterLogEvents, a new client event).
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from lambdaops.demo.demo_cache_columns import shift_messages

COLUMNS = ("@timestamp", "@message", "@logStream", "@log", "@ingestionTime")


class MovedEvents:
    """``stored`` (demo_cache.StoredGroup) moved ``delta_ms``; ``streams``: its stream names, moved;
    ``messages()``: its messages as stored, when ``stored`` does not hold them."""

    def __init__(self, stored, delta_ms: int, streams: np.ndarray, constants: dict | None = None,
                 messages=None) -> None:
        self._stored = stored
        self._messages = messages
        self._delta = delta_ms
        self._streams = streams
        self._constants = dict(constants or {})  # columns assign() added: one value for every event
        self.columns = list(COLUMNS) + [c for c in self._constants if c not in COLUMNS]
        self._cols: dict[str, np.ndarray] = {}
        self._frame: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._stored.ts)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def _values(self, name: str, rows) -> np.ndarray:
        """Column ``name`` at ``rows`` (an index array or a slice; None: every row)."""
        s = self._stored

        def at(a: np.ndarray) -> np.ndarray:
            return a if rows is None else a[rows]

        if name in self._constants:
            value = self._constants[name]
            return np.full(len(at(s.ts)), value, dtype=object if isinstance(value, str) else None)
        if name == "@timestamp":
            return at(s.ts) + self._delta
        if name == "@ingestionTime":
            return at(s.ingest) + self._delta
        if name == "@logStream":
            codes = at(s.stream_codes)
            return self._streams[codes] if len(codes) else np.array([], dtype=object)
        if name == "@log":
            return np.full(len(at(s.ts)), s.log, dtype=object)
        if name == "@message":
            stored = s.message if s.message is not None else self._messages()
            return shift_messages(at(stored), at(s.tpos), at(s.xpos), self._delta)
        raise KeyError(name)

    def _full(self, name: str) -> np.ndarray:
        hit = self._cols.get(name)
        if hit is None:
            with self._lock:
                hit = self._cols.get(name)
                if hit is None:
                    hit = self._cols[name] = self._values(name, None)
        return hit

    def __getitem__(self, name: str) -> pd.Series:
        return pd.Series(self._full(name), copy=False, name=name)

    def column_rows(self, name: str, rows) -> np.ndarray:
        """Column ``name`` at ``rows`` (None: all): the messages are moved for those rows only,
        unless the whole column exists already; the other columns are cheap to make whole."""
        if rows is None:
            return self._full(name)
        if name == "@message" and name not in self._cols:
            return self._values(name, rows)
        return self._full(name)[rows]

    def message_lengths(self) -> np.ndarray:
        """Each message's length: the stored one's, since a moved time is as long (demo_cache_columns)."""
        if self._stored.lengths is not None:
            return self._stored.lengths
        stored = self._stored.message if self._stored.message is not None else self._messages()
        return np.fromiter(map(len, stored.tolist()), dtype=np.int64, count=len(self))

    def assign(self, **values) -> "MovedEvents":
        """The events with constant columns added (what GroupColumns marks Infrequent Access groups with)."""
        out = MovedEvents(self._stored, self._delta, self._streams, {**self._constants, **values}, self._messages)
        out._cols = {k: v for k, v in self._cols.items() if k not in values}
        return out

    def to_frame(self) -> pd.DataFrame:
        """Every column, as the DataFrame a rendered group has (made once)."""
        if self._frame is None:
            frame = pd.DataFrame({c: self._full(c) for c in self.columns})
            with self._lock:
                if self._frame is None:
                    self._frame = frame
        return self._frame

    def rows_frame(self, rows: np.ndarray) -> pd.DataFrame:
        """These rows only, as a DataFrame (demo_cache's test of a column against moved times)."""
        return pd.DataFrame({c: self.column_rows(c, rows) for c in self.columns})
