"""The seeded demo account, built once: what seeding computes at length is kept on disk between runs.

A demo account's traffic records, its rendered log groups and the Logs Insights columns derived from
them depend only on the seed, the fleet's size, the window and the code that generates them, never on
the hour: every time in them is relative to the window's end. So the first ``--demo`` run writes them
to ``<cache dir>/demo`` and later runs load them and move every time forward to the present (records,
metrics rebuilt from them, event and ingestion times, the ISO times written inside log messages, the
dates in log stream names), which makes the data as fresh as a new seed. The move is a whole number of
minutes, so minute-aligned datapoints (per-minute ConcurrentExecutions, SQS depth) stay on the minute
as CloudWatch keeps them, and the window ends less than a minute before now. The log messages, most
of an entry's bytes, are read and moved only where something reads them (moved_events): a warm run's
Insights queries are answered from the kept columns.

Entries are keyed by everything that changes them: seed, functions, window, lambdaops' version, the
Python/numpy/pandas versions (the format below) and a hash of every source file of this package (a code
change invalidates them). A damaged, foreign or stale entry (older than :data:`MAX_AGE_MS`) is rebuilt;
writes go to a temp file renamed into place, so two processes building at once never corrupt one.

Format: pickle (protocol 5) of numpy arrays and plain containers. It round-trips object arrays of
strings and numpy dtypes exactly and fast (a million log messages load in a fraction of a second), and
unpickling runs code only from the file, so it is read only from a directory this program created for
this user with mode 0700 (checked before every load: owner and no group/other write); anything else is
ignored and rebuilt.

``LAMBDAOPS_DEMO_CACHE=0`` (or ``--no-demo-cache``; server.cache_enabled) bypasses it; ``LAMBDAOPS_DEMO_CACHE_DIR`` names
another directory (the test suite shares one across a session).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import stat
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lambdaops.demo.demo_cache_columns import (MINUTE_MS, done_count, pack_dense, pack_sparse, unpack_dense,
                                               unpack_sparse, shift_stream_names, time_free)

FORMAT = 2  # 2: the messages in a file of their own
DIR_ENV = "LAMBDAOPS_DEMO_CACHE_DIR"
# An entry older than this is rebuilt: the traffic's daily rhythm follows the hour of day it was
# generated at, and half a day's move would put the night's quiet at noon.
MAX_AGE_MS = 6 * 3600 * 1000
PRUNE_AFTER_S = 86400  # entries not written for a day (another size, an older version) are removed
_RECORD_TIMES = ("ts_ms", "throttle_ts_ms")


def directory(env=None) -> Path:
    env = os.environ if env is None else env
    custom = env.get(DIR_ENV) or ""
    if custom and os.path.isabs(custom):
        return Path(custom)
    from lambdaops.paths import cache_dir

    return cache_dir(env) / "demo"


def _source_digest() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def entry_key(seed: int, functions: int | None, window_hours: float) -> str:
    from lambdaops import __version__

    parts = [FORMAT, seed, functions, window_hours, __version__, list(sys.version_info[:2]), np.__version__,
             pd.__version__, _source_digest()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _private_dir(path: Path, create: bool) -> bool:
    """``path`` exists (created 0700 when ``create``), belongs to this user and no one else can write in it."""
    try:
        if create:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path):
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # damaged, truncated or written by other code: rebuilt
        try:
            path.unlink()
        except OSError:
            pass
        return None


def _write(path: Path, doc: dict) -> None:
    """Atomically: a temp file in the same directory renamed over the entry."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(doc, fh, protocol=5)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _prune(folder: Path, keep: set[str]) -> None:
    """Entries not written for :data:`PRUNE_AFTER_S`, and temp files an hour old (a killed writer's)."""
    now = time.time()
    for path in folder.iterdir():
        try:
            age = now - path.stat().st_mtime
            if path.name not in keep and (age > PRUNE_AFTER_S or (path.name.endswith(".tmp") and age > 3600)):
                path.unlink()
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# an entry


@dataclass
class StoredGroup:
    """One log group as seeded, at generation time: columns, stream names factorised."""

    ts: np.ndarray
    ingest: np.ndarray
    message: np.ndarray
    tpos: np.ndarray
    xpos: np.ndarray
    stream_codes: np.ndarray
    streams: np.ndarray
    stream_starts: np.ndarray
    log: str
    lengths: np.ndarray | None = None  # each message's length (bytes scanned), kept with the small arrays

    @classmethod
    def of(cls, rendered) -> "StoredGroup":
        frame = rendered.frame
        codes, uniques = pd.factorize(frame["@logStream"].to_numpy(), sort=False)
        uniques = np.asarray(uniques, dtype=object)
        message = frame["@message"].to_numpy()
        return cls(ts=frame["@timestamp"].to_numpy(), ingest=frame["@ingestionTime"].to_numpy(),
                   message=message, tpos=rendered.tpos, xpos=rendered.xpos, stream_codes=codes.astype(np.int32),
                   streams=uniques, stream_starts=np.array([rendered.stream_starts[s] for s in uniques.tolist()],
                                                           dtype=np.int64),
                   log=frame["@log"].iat[0] if len(frame) else "",
                   lengths=np.fromiter(map(len, message.tolist()), dtype=np.int64, count=len(message)))

    def rendered(self, delta_ms: int, messages=None):
        """The group moved ``delta_ms``: its messages move where read (moved_events). ``messages()``
        gives the stored messages when they are not in this object (read from their own file once
        something reads one)."""
        from lambdaops.demo.log_lines import RenderedGroup
        from lambdaops.demo.moved_events import MovedEvents

        streams = shift_stream_names(self.streams, self.stream_starts, delta_ms)
        return RenderedGroup(None, self.tpos, self.xpos,
                             dict(zip(streams.tolist(), (self.stream_starts + delta_ms).tolist())),
                             events=MovedEvents(self, delta_ms, streams, messages=messages))


@dataclass
class Entry:
    key: str
    token: str  # ties the groups and columns files to the records they were computed from
    end_ms: int  # the window's end at generation
    records: dict  # (region, name) -> {column: array}
    groups: dict = field(default_factory=dict)  # (region, group) -> StoredGroup
    columns: dict = field(default_factory=dict)  # (region, group) -> {"cols": ..., "sparse": ...}


class DemoCache:
    """One account's entry, in four files: the records (small, read at start), the rendered log
    groups without their messages (read in a thread while the account answers its first requests),
    the Insights columns, and the groups' messages (the bulk of it: read only once something reads a
    message; a warm run's queries are answered from the columns). :meth:`load` (None: build it),
    :meth:`save_base_later` after a build, :meth:`save_columns` / :meth:`columns_computed` for the
    columns queries computed."""

    def __init__(self, seed: int, functions: int | None, window_hours: float, env=None,
                 hold_writes: bool = False) -> None:
        self.folder = directory(env)
        self.key = entry_key(seed, functions, window_hours)
        self.records_path = self.folder / f"{self.key}.records.pickle"
        self.groups_path = self.folder / f"{self.key}.groups.pickle"
        self.columns_path = self.folder / f"{self.key}.columns.pickle"
        self.messages_path = self.folder / f"{self.key}.messages.pickle"
        self._messages: dict | None = None  # (region, group) -> the stored messages, once read
        self._messages_lock = threading.Lock()
        self.entry: Entry | None = None
        self.delta_ms = 0
        self.loaded_columns: dict = {}  # (region, group, key) -> events done, as on disk
        self.timings: dict[str, float] = {}
        self.state = None  # the account's state, once built (to write the groups again when unreadable)
        self._rest = threading.Event()  # groups and columns read (or found unusable)
        self._rest.set()
        self._saver: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one columns write at a time in this process
        # A held account (hold_writes: a one-shot command's, the TUI's) writes its records and groups
        # only once released (:meth:`release`: when it stops, after the command's answer, or once its
        # queries are idle): pickling 150 MB in a thread holds the GIL its Insights queries need.
        self._released = threading.Event()
        if not hold_writes:
            self._released.set()

    # -- reading ---------------------------------------------------------------------------------
    def load(self, now_ms: int) -> Entry | None:
        """The entry's records (None: build the account), and its groups read in a thread."""
        t = time.perf_counter()
        if not _private_dir(self.folder, create=False):
            return None
        doc = _read(self.records_path)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("key") != self.key:
            return None
        delta = (now_ms - doc["end_ms"]) // MINUTE_MS * MINUTE_MS
        if delta < 0 or delta > MAX_AGE_MS:
            return None
        self.entry, self.delta_ms = Entry(self.key, doc["token"], doc["end_ms"], doc["records"]), int(delta)
        self.timings["records_s"] = time.perf_counter() - t
        self._rest.clear()
        threading.Thread(target=self._load_rest, name="demo-cache-load", daemon=True).start()
        return self.entry

    def _load_rest(self) -> None:
        t = time.perf_counter()
        entry = self.entry
        try:
            doc = _read(self.groups_path)
            if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("token") == entry.token:
                entry.groups = doc["groups"]
                cols = _read(self.columns_path)
                if isinstance(cols, dict) and cols.get("format") == FORMAT and cols.get("token") == entry.token:
                    entry.columns = cols["columns"]
                    self.loaded_columns = self._written(entry.columns)
        finally:
            self._rest.set()
            self.timings["groups_s"] = time.perf_counter() - t
        if not entry.groups and self.state is not None:  # unreadable: rendered from the records, written again
            self.save_base_later(self.state, entry.end_ms + self.delta_ms)

    def records(self) -> dict:
        """The stored records moved to the present: {(region, name): traffic.Records}."""
        from lambdaops.demo.traffic import Records

        out = {}
        for key, cols in self.entry.records.items():
            moved = dict(cols)
            for name in _RECORD_TIMES:
                moved[name] = cols[name] + self.delta_ms
            out[key] = Records(**moved)
        return out

    def stored_group(self, region: str, group: str):
        """A group's events as seeded, moved to the present (log_lines.RenderedGroup); None: not stored."""
        self._rest.wait()
        stored = self.entry.groups.get((region, group)) if self.entry else None
        if stored is None:
            return None
        return stored.rendered(self.delta_ms, messages=None if stored.message is not None else
                               lambda: self.stored_messages(region, group))

    def stored_messages(self, region: str, group: str) -> np.ndarray:
        """A group's messages as stored (not moved). Their file is read once, when first needed; if it
        cannot be read they are rendered again from the stored records (rendering is deterministic:
        the same text), and the entry is dropped so the next run writes it anew."""
        with self._messages_lock:
            if self._messages is None:
                doc = _read(self.messages_path)
                ok = isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("token") == self.entry.token
                self._messages = doc["messages"] if ok else {}
                if not ok:
                    for path in (self.records_path, self.groups_path):
                        try:
                            path.unlink()
                        except OSError:
                            pass
            hit = self._messages.get((region, group))
            if hit is None:
                hit = self._messages[(region, group)] = self._render_stored(region, group)
            return hit

    def _render_stored(self, region: str, group: str) -> np.ndarray:
        from lambdaops.demo.log_lines import LogStore
        from lambdaops.demo.traffic import FunctionTraffic, Records

        fns = [FunctionTraffic(t.spec, t.index, Records(**self.entry.records[key]))
               for key, t in sorted(self.state.traffic.items())
               if key[0] == region and t.spec.log_group_name == group and key in self.entry.records]
        rendered = LogStore._render([t for t in fns if t.spec.has_log_group or t.records().n > 0])
        return rendered.frame["@message"].to_numpy()

    def restore_columns(self, region: str, group: str, columns, infrequent_access: bool) -> None:
        """Put a group's stored Insights columns into a fresh ``insights_memo.GroupColumns``."""
        self._rest.wait()
        stored = self.entry.columns.get((region, group)) if self.entry else None
        if not stored or stored["infrequent_access"] != infrequent_access or stored["n"] != columns.n:
            return
        with columns._lock:
            for key, value in stored["cols"].items():
                columns._cols[key] = value.copy() if key == ("bytes",) else unpack_dense(value, columns.n)
            for key, value in stored["sparse"].items():
                columns._sparse[key] = unpack_sparse(value, columns.n)

    # -- writing ---------------------------------------------------------------------------------
    def save_base_later(self, state, end_ms: int) -> None:
        """Write the records and the log groups in a thread once every group is rendered
        (``state.logs.warm``); ``end_ms``: the window's end the records' times are at."""
        records = {key: {name: getattr(t.base, name) for name in t.base.__dataclass_fields__}
                   for key, t in state.traffic.items() if t.generation == 0}

        def run() -> None:
            t = time.perf_counter()
            state.logs.warm()
            if len(records) != len(state.traffic):
                return  # a client changed the traffic before the records were captured
            self._released.wait()
            entry = Entry(self.key, uuid.uuid4().hex, end_ms, records,
                          {key: StoredGroup.of(g) for key, g in list(state.logs.seeded.items())})
            if _private_dir(self.folder, create=True):
                # messages and groups first: a reader finding the new records finds their groups
                _write(self.messages_path, {"format": FORMAT, "token": entry.token,
                                            "messages": {k: g.message for k, g in entry.groups.items()}})
                _write(self.groups_path, {"format": FORMAT, "token": entry.token,
                                          "groups": {k: dataclasses.replace(g, message=None)
                                                     for k, g in entry.groups.items()}})
                _write(self.records_path, {"format": FORMAT, "key": self.key, "token": entry.token,
                                           "end_ms": end_ms, "records": records})
                _prune(self.folder, {self.records_path.name, self.groups_path.name, self.columns_path.name,
                                     self.messages_path.name})
                self.entry, self.delta_ms, self.loaded_columns = entry, 0, {}
            self.timings["save_base_s"] = time.perf_counter() - t

        self._saver = threading.Thread(target=run, name="demo-cache-save", daemon=True)
        self._saver.start()

    def columns_computed(self, logs_service, idle_s: float = 2.0) -> None:
        """A query finished: write the columns once queries have been idle ``idle_s`` (a long-lived
        account, ``demo serve`` or the TUI's, is stopped without waiting for a write)."""
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(idle_s, self._save_quietly, args=(logs_service,))
            self._timer.daemon = True
            self._timer.start()

    def release(self) -> None:
        """Let a held write (``hold_writes``) go ahead."""
        self._released.set()

    def cancel(self) -> None:
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _save_quietly(self, logs_service) -> None:
        self.release()  # the queries are idle: a held base write goes first
        try:
            self.save_columns(logs_service)
        except Exception:  # not written: the next run computes them again
            pass

    def wait(self, timeout_s: float = 60.0) -> None:
        if self._saver is not None:
            self._saver.join(timeout_s)

    def save_columns(self, logs_service) -> None:
        """Write the Insights columns computed over log groups still as seeded, keeping only those that
        do not depend on the times written in the events (see :func:`time_free`); nothing when this
        run computed nothing new."""
        self.wait()
        entry = self.entry
        if entry is None or logs_service is None or logs_service.account.state is None:
            return
        with self._write_lock:
            self._save_columns(entry, logs_service)

    def _save_columns(self, entry: Entry, logs_service) -> None:
        seeded = logs_service.account.state.logs.seeded
        groups = []
        for (region, group), (df, ia, cols) in list(logs_service._columns.items()):
            rendered = seeded.get((region, group))
            if rendered is not None and rendered.events is df and (region, group) in entry.groups:
                groups.append((region, group, ia, cols, rendered))
        if not any(self.loaded_columns.get((r, g, k), -1) < done_count(k, v)
                   for r, g, _, cols, _ in groups for part in (cols._cols, cols._sparse) for k, v in part.items()):
            return
        out: dict = {}
        members: dict = {}  # key -> the groups holding it, new there
        for region, group, ia, cols, rendered in groups:
            with cols._lock:
                for k in list(cols._cols) + list(cols._sparse):
                    if (region, group, k) not in self.loaded_columns:
                        members.setdefault(k, []).append((cols, rendered, ia))
        timed = {k for k, held in members.items() if not time_free(held, k)}
        for region, group, ia, cols, rendered in groups:
            with cols._lock:
                dense = dict(cols._cols)
                sparse = dict(cols._sparse)
            keep = [k for k in list(dense) + list(sparse) if k not in timed or (region, group, k) in self.loaded_columns]
            with cols._lock:
                out[(region, group)] = {
                    "n": cols.n, "infrequent_access": ia,
                    "cols": {k: dense[k].copy() if k == ("bytes",) else pack_dense(*dense[k])
                             for k in keep if k in dense},
                    "sparse": {k: pack_sparse(*sparse[k]) for k in keep if k in sparse}}
        if _private_dir(self.folder, create=True):
            _write(self.columns_path, {"format": FORMAT, "token": entry.token, "columns": out})
            self.loaded_columns = self._written(out)  # what is on disk now: written again only when outgrown

    @staticmethod
    def _written(out: dict) -> dict:
        return {(r, g, k): len(v) - 1 if k == ("bytes",) else int(np.unpackbits(v[0]).sum())
                for (r, g), c in out.items() for part in ("cols", "sparse") for k, v in c[part].items()}
