"""The fleet's listing kept a few minutes: ListFunctions, ListEventSourceMappings and the tags of a
region, as they were answered, so that a cron report every few minutes or the TUI's minute refresh
does not list 5,000 functions (100 ListFunctions pages and 50 GetResources pages) every time.

What it costs the user is visible, never silent: a function created, changed or deleted since the
listing is missed until it expires, so every run that takes a kept listing says how old it is (the
report's JSON ``inventory`` block and its table footer); ``--no-cache`` and the TUI's ``r`` list
afresh. ``INVENTORY_TTL_S`` is 5 minutes: the period of the tightest cron report we expect, so a
report never reads a listing older than the one before it made.

What is kept is the bulk answers only. Per-function details stay in the details cache keyed by
``RevisionId`` (:func:`lambdaops.aws.inventory.cache_key`): a kept listing carries the revision it
was listed with, and a fresh listing of a changed function has a new revision, so a changed function
is never served details read before the change.

One JSON file per endpoint, profile and credentials (``inventory-v1-<hash>.json``): the hash covers
the access key id in use, so switching accounts under one profile name (environment credentials,
aws-vault) never serves another account's functions. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from lambdaops.models import EventSource, FunctionInfo

INVENTORY_TTL_S = 5 * 60
PREFIX = "inventory-"
VERSION = 1


def _to_json(fn: FunctionInfo) -> dict[str, Any]:
    return dataclasses.asdict(fn)


def _from_json(d: dict[str, Any]) -> FunctionInfo:
    d = dict(d)
    d["event_sources"] = [EventSource(**e) for e in d.get("event_sources") or []]
    return FunctionInfo(**d)


class InventoryCache:
    """Per region: when it was listed and the functions as listed (bulk calls only)."""

    def __init__(self, directory: Path | None, scope: str) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._data: dict[str, dict[str, Any]] = {}
        self._dirty = False
        if directory is not None:
            digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
            self._path = Path(directory) / f"{PREFIX}v{VERSION}-{digest}.json"
            try:
                data = json.loads(self._path.read_text())
                self._data = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._data = {}

    def get(self, region: str, max_age_s: float, now: float | None = None) -> tuple[list[FunctionInfo], float] | None:
        """The region's kept functions (fresh objects: callers fill details into them) and when
        they were listed; None when there is none younger than ``max_age_s`` or it cannot be read."""
        now = time.time() if now is None else now
        with self._lock:
            hit = self._data.get(region)
        if not isinstance(hit, dict) or not 0 <= now - float(hit.get("at", 0)) < max_age_s:
            return None
        try:
            return [_from_json(f) for f in hit["functions"]], float(hit["at"])
        except (KeyError, TypeError, ValueError):
            return None  # a file of another layout: list again

    def put(self, region: str, functions: list[FunctionInfo], at: float | None = None) -> None:
        """Keep ``functions`` as just listed (call before any detail is filled into them)."""
        entry = {"at": time.time() if at is None else at, "functions": [_to_json(f) for f in functions]}
        with self._lock:
            self._data[region] = entry
            self._dirty = True

    def forget(self, region: str) -> None:
        """Drop the region's listing (we changed one of its functions): the next run lists it."""
        with self._lock:
            if self._data.pop(region, None) is not None:
                self._dirty = True

    def save(self) -> None:
        if self._path is None or not self._dirty:
            return
        with self._lock:
            text = json.dumps(self._data, separators=(",", ":"))
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # a cron run and the TUI at once
            tmp.write_text(text)
            tmp.replace(self._path)
        except OSError:
            pass  # a listing that cannot be kept only costs the calls next time
