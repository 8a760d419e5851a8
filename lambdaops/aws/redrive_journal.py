"""The redrive journal and audit log: local JSON-lines files that make a redrive resumable.

Journal (one file per run, ``<dir>/<queue>-<UTC stamp>-<id>.jsonl``), one event per line:

- ``start``: the plan (DLQ, target, mode, filter, max, rate) so ``--resume`` repeats the same run;
- ``intent``: before a send, per message: DLQ message id, body MD5, the deterministic new
  deduplication id and the target;
- ``sent``: after SendMessageBatch (or Invoke) confirmed that entry, with the new message id;
- ``deleted``: after DeleteMessageBatch confirmed the DLQ copy is gone;
- ``failed``: an entry the target refused after retries (the message stays in the DLQ);
- ``task``: a native message move task's handle;
- ``end``: the run finished (a journal without it can be resumed).

On resume a message already ``sent`` is only deleted, never sent again; one with only an ``intent``
may or may not have arrived, so it is sent again (at-least-once), with the same deduplication id, so
a FIFO target drops the copy within its 5-minute deduplication window. Lines are flushed to the OS
after every step: a killed process loses nothing that was confirmed.

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
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lambdaops" / "redrive"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dedup_id(dlq_arn: str, message_id: str) -> str:
    """The new MessageDeduplicationId of a redriven message: the same on every attempt and resume."""
    return hashlib.sha256(f"lambdaops-redrive|{dlq_arn}|{message_id}".encode()).hexdigest()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "queue"


class _Appender:
    """Thread-safe line appender: flushed after each write, fsync'd at most once a second."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = open(path, "a", encoding="utf-8")
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

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()


class Journal:
    """One redrive run's journal, with the per-message state replayed from it."""

    def __init__(self, path: Path, plan: dict[str, Any], *, finished: bool = False) -> None:
        self.path = path
        self.plan = plan
        self.finished = finished
        self.state: dict[str, str] = {}
        self.dedup: dict[str, str] = {}
        self.new_ids: dict[str, str] = {}
        self.task_handles: list[str] = []
        self._out = _Appender(path)

    # -- creation and loading -------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, plan: dict[str, Any]) -> "Journal":
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = Path(directory) / f"{_safe_name(plan.get('dlq_name', 'queue'))}-{stamp}-{uuid.uuid4().hex[:8]}.jsonl"
        journal = cls(path, plan)
        journal._out.write([{"ev": "start", "at": now_iso(), "plan": plan}])
        return journal

    @classmethod
    def load(cls, path: Path) -> "Journal":
        plan: dict[str, Any] = {}
        events: list[dict] = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    break  # a line cut by a kill mid-write: everything before it counts
        for ev in events:
            if ev.get("ev") == "start":
                plan = ev.get("plan", {})
        journal = cls(Path(path), plan, finished=any(ev.get("ev") == "end" for ev in events))
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
                with open(path, encoding="utf-8") as fh:
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
        mid = ev.get("id")
        if not mid or kind not in _ORDER:
            return
        if _ORDER[kind] >= _ORDER.get(self.state.get(mid, ""), 0):
            self.state[mid] = kind
        if ev.get("dedup"):
            self.dedup[mid] = ev["dedup"]
        if ev.get("new_id"):
            self.new_ids[mid] = ev["new_id"]

    # -- recording ------------------------------------------------------------------------------
    def _record(self, events: list[dict]) -> None:
        for ev in events:
            self._apply(ev)
        self._out.write(events)

    def intent(self, entries: list[dict]) -> None:
        """``entries``: dicts with id, md5, dedup, target."""
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
        """``entries``: dicts with id, code, message."""
        at = now_iso()
        self._record([{"ev": FAILED, "at": at, **e} for e in entries])

    def task(self, handle: str) -> None:
        self._record([{"ev": "task", "at": now_iso(), "handle": handle}])

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
