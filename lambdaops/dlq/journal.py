"""The redrive journal and audit log: local JSON-lines files that make a redrive resumable.

Journal (one file per run, ``<dir>/<queue>-<UTC stamp>-<id>.jsonl``), one event per line:

- ``start``: the plan (DLQ, target, mode, filter, max, rate) so ``--resume`` repeats the same run;
- ``recv``: the ids and receipt handles of one ReceiveMessage answer, so a resume can make a killed
  run's messages visible again at once instead of waiting out their visibility timeout;
- ``intent``: before a send, per message: DLQ message id, body MD5, the deterministic new
  deduplication id and the target;
- ``sent``: after SendMessageBatch (or Invoke) confirmed that entry, with the new message id;
- ``deleted``: after DeleteMessageBatch confirmed the DLQ copy is gone;
- ``failed``: an entry that could not be redriven (the message stays in the DLQ); ``refused``: the
  target refused it for good (size, attributes, FIFO rules), so ``--resume`` skips it unless asked;
- ``task``: a native message move task's handle;
- ``stop``: the run stopped early (Ctrl-C, an error) with what it had done; it can still be resumed;
- ``end``: the run finished (a journal without it can be resumed).

On resume a message already ``sent`` is only deleted, never sent again; one with only an ``intent``
may or may not have arrived, so it is sent again (at-least-once), with the same deduplication id, so
a FIFO target drops the copy within its 5-minute deduplication window. An ``intent`` also keeps the
receipt handle, so a resume can make the killed run's messages visible at once (see redrive.py on
the deduplication window). Lines are flushed to the OS after every step: a killed process loses
nothing that was confirmed. A kill can cut the last line short: loading skips it, and the file is cut
back to its last whole line before anything is appended (else every later event would be glued to
the torn one). Files are created 0600 in 0700 directories: they hold message ids, receipt handles
and (the audit log) where every message went.

The audit log (``<dir>/audit.jsonl``) gets one line per message and action: what, where, when,
result. No boto3 here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

INTENT, SENT, DELETED, FAILED = "intent", "sent", "deleted", "failed"
_ORDER = {INTENT: 1, FAILED: 1, SENT: 2, DELETED: 3}  # later states win; failed never beats sent
FSYNC_EVERY_S = 1.0


def default_journal_dir() -> Path:
    from lambdaops.paths import state_dir

    return state_dir() / "redrive"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def dedup_id(dlq_arn: str, message_id: str) -> str:
    """The new MessageDeduplicationId of a redriven message: the same on every attempt and resume."""
    return hashlib.sha256(f"lambdaops-redrive|{dlq_arn}|{message_id}".encode()).hexdigest()


def secure_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700. The mode passed to mkdir can only lose bits to
    the umask, never gain them; directories that already exist are left as they are."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` a file created 0600 (an existing file with wider bits is narrowed to 0600)."""
    fd = os.open(path, flags, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    return fd


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "queue"


class _Appender:
    """Thread-safe line appender: flushed after each write, fsync'd at most once a second."""

    def __init__(self, path: Path, truncate_to: int | None = None) -> None:
        secure_dir(path.parent)
        self.path = path
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        if truncate_to is not None and os.fstat(fd).st_size > truncate_to:
            os.ftruncate(fd, truncate_to)  # a torn last line: cut it off before appending
            os.fsync(fd)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._synced = time.monotonic()

    def write(self, records: Iterable[dict]) -> None:
        lines = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        if not lines:
            return
        with self._lock:
            self._fh.write(lines)
            self._fh.flush()
            if time.monotonic() - self._synced >= FSYNC_EVERY_S:
                os.fsync(self._fh.fileno())
                self._synced = time.monotonic()

    def sync(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._synced = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()


class Journal:
    """One redrive run's journal, with the per-message state replayed from it."""

    def __init__(self, path: Path, plan: dict[str, Any], *, finished: bool = False,
                 truncate_to: int | None = None) -> None:
        self.path = path
        self.plan = plan
        self.finished = finished
        self.state: dict[str, str] = {}
        self.dedup: dict[str, str] = {}
        self.new_ids: dict[str, str] = {}
        self.intent_at: dict[str, float] = {}  # epoch seconds of the latest intent
        self.handles: dict[str, str] = {}  # receipt handle of the latest intent
        self.refused: set[str] = set()  # the target refused these for good (resume skips them)
        self.codes: dict[str, str] = {}  # failure code of the latest ``failed`` event
        self.task_handles: list[str] = []
        self.torn_lines = 0
        self._out = _Appender(path, truncate_to)

    # -- creation and loading -------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, plan: dict[str, Any]) -> "Journal":
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = Path(directory) / f"{_safe_name(plan.get('dlq_name', 'queue'))}-{stamp}-{uuid.uuid4().hex[:8]}.jsonl"
        journal = cls(path, plan)
        journal._out.write([{"ev": "start", "at": now_iso(), "plan": plan}])
        return journal

    @staticmethod
    def read_events(path: Path) -> tuple[list[dict], int, int]:
        """(events, bytes of whole lines, torn lines). A line cut by a kill mid-write is skipped; lines
        after it still count (journals written before torn tails were cut have events glued to the
        torn line: the last event on such a line is recovered)."""
        with open(path, "rb") as fh:
            data = fh.read()
        events: list[dict] = []
        torn = 0
        good_end = 0
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:  # no newline: the write of this line never finished
                torn += 1
                break
            raw = data[pos:nl]
            pos = nl + 1
            good_end = pos
            if not raw.strip():
                continue
            try:
                events.append(json.loads(raw.decode("utf-8")))
                continue
            except ValueError:
                torn += 1
            glued = raw.rfind(b'{"ev":')
            if glued > 0:
                try:
                    events.append(json.loads(raw[glued:].decode("utf-8")))
                except ValueError:
                    pass
        return events, good_end, torn

    @classmethod
    def load(cls, path: Path) -> "Journal":
        plan: dict[str, Any] = {}
        events, good_end, torn = cls.read_events(Path(path))
        for ev in events:
            if ev.get("ev") == "start":
                plan = ev.get("plan", {})
        journal = cls(Path(path), plan, finished=any(ev.get("ev") == "end" for ev in events), truncate_to=good_end)
        journal.torn_lines = torn
        for ev in events:
            journal._apply(ev)
        return journal

    @staticmethod
    def unfinished(directory: Path, dlq_arn: str) -> list[Path]:
        """Journals of ``dlq_arn`` without an ``end`` line, newest first."""
        directory = Path(directory)
        if not directory.is_dir():
            return []
        found = []
        for path in directory.glob("*.jsonl"):
            if path.name == "audit.jsonl":
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:  # a torn tail may cut a character
                    first = json.loads(fh.readline() or "{}")
                    ended = any('"ev":"end"' in line for line in fh)
            except (OSError, ValueError):
                continue
            if first.get("ev") == "start" and first.get("plan", {}).get("dlq_arn") == dlq_arn and not ended:
                found.append(path)
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def _apply(self, ev: dict) -> None:
        kind = ev.get("ev")
        if kind == "task":
            self.task_handles.append(ev["handle"])
            return
        if kind == "recv":
            for pair in ev.get("msgs") or ():
                if isinstance(pair, list) and len(pair) == 2:
                    self.handles[pair[0]] = pair[1]
            return
        mid = ev.get("id")
        if not mid or kind not in _ORDER:
            return
        if _ORDER[kind] >= _ORDER.get(self.state.get(mid, ""), 0):
            self.state[mid] = kind
        if kind == FAILED:
            self.codes[mid] = ev.get("code") or "Unknown"
            if ev.get("refused"):
                self.refused.add(mid)
        else:
            self.refused.discard(mid)
            self.codes.pop(mid, None)
        if kind == INTENT:
            if ev.get("rh"):
                self.handles[mid] = ev["rh"]
            at = _epoch(ev.get("at"))
            if at is not None:
                self.intent_at[mid] = at
        if ev.get("dedup"):
            self.dedup[mid] = ev["dedup"]
        if ev.get("new_id"):
            self.new_ids[mid] = ev["new_id"]

    # -- recording ------------------------------------------------------------------------------
    def _record(self, events: list[dict]) -> None:
        for ev in events:
            self._apply(ev)
        self._out.write(events)

    def received(self, msgs: list[tuple[str, str]]) -> None:
        """(message id, receipt handle) of one receive."""
        if msgs:
            self._record([{"ev": "recv", "at": now_iso(), "msgs": [list(p) for p in msgs]}])

    def intent(self, entries: list[dict]) -> None:
        """``entries``: dicts with id, md5, dedup, target, rh (the receipt handle)."""
        at = now_iso()
        self._record([{"ev": INTENT, "at": at, **e} for e in entries])

    def sent(self, entries: list[dict]) -> None:
        """``entries``: dicts with id, new_id, target."""
        at = now_iso()
        self._record([{"ev": SENT, "at": at, **e} for e in entries])

    def deleted(self, ids: list[str]) -> None:
        at = now_iso()
        self._record([{"ev": DELETED, "at": at, "id": i} for i in ids])

    def failed(self, entries: list[dict]) -> None:
        """``entries``: dicts with id, code, message, refused."""
        at = now_iso()
        self._record([{"ev": FAILED, "at": at, **e} for e in entries])

    def task(self, handle: str) -> None:
        self._record([{"ev": "task", "at": now_iso(), "handle": handle}])

    def stop(self, summary: dict) -> None:
        """The run stopped before its end (interrupt, error); the journal stays resumable."""
        self._out.write([{"ev": "stop", "at": now_iso(), "summary": summary}])
        self._out.sync()

    def end(self, summary: dict) -> None:
        self._out.write([{"ev": "end", "at": now_iso(), "summary": summary}])
        self.finished = True

    def close(self) -> None:
        self._out.close()

    def counts(self) -> dict[str, int]:
        out = {INTENT: 0, SENT: 0, DELETED: 0, FAILED: 0}
        for st in self.state.values():
            out[st] += 1
        return out


class AuditLog:
    """``audit.jsonl``: one line per message and action (redrive, invoke, export, purge)."""

    def __init__(self, directory: Path) -> None:
        self._out = _Appender(Path(directory) / "audit.jsonl")
        self.path = self._out.path

    def write(self, entries: list[dict]) -> None:
        at = now_iso()
        self._out.write([{"at": at, **e} for e in entries])

    def close(self) -> None:
        self._out.close()
