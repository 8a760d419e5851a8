"""Keeping the cache directory from growing forever.

Every endpoint, profile and account gets its own files (``store-*.sqlite3``, ``details-*.json``,
``inventory-*.json``): a demo server on a random port, a LocalStack restarted on another, an account
watched once, each leaves files nobody opens again. When a store is opened, the files of *other*
scopes not used for ``PRUNE_AFTER_S`` (by modification time; opening a store touches it, so a store
that is only read stays) are deleted with their -wal/-shm companions, moved-aside copies and stray
temp files. Everything in the directory can be fetched again, so the worst a prune does is cost the
calls once more. ``lambdaops cache info`` lists every file with when it would be pruned.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

PRUNE_AFTER_S = 7 * 86400
# What lambdaops writes in the cache directory: a base file per scope, and what hangs off it.
# A details or inventory write goes through ``<name>.<pid>.<thread>.tmp``: one left by a crash is pruned too.
KINDS = (("store", re.compile(r"^store-[0-9a-f]+\.sqlite3")),
         ("details", re.compile(r"^details-v\d+-[0-9a-f]+\.(?:json$|[\d.]+\.tmp$)")),
         ("inventory", re.compile(r"^inventory-v\d+-[0-9a-f]+\.(?:json$|[\d.]+\.tmp$)")))
_PRUNED: set[tuple[str, str]] = set()  # (directory, kept file) already pruned by this process


def kind_of(path: Path) -> str | None:
    """"store", "details" or "inventory" for a file lambdaops wrote (or a companion of one)."""
    for kind, pattern in KINDS:
        if pattern.match(path.name):
            return kind
    return None


def _base(path: Path) -> str:
    """The scope file a companion belongs to: ``store-x.sqlite3-wal`` -> ``store-x.sqlite3``."""
    for _, pattern in KINDS:
        m = pattern.match(path.name)
        if m:
            return m.group(0)
    return path.name


def last_used(files: list[Path]) -> float:
    times = []
    for p in files:
        try:
            times.append(p.stat().st_mtime)
        except OSError:
            pass
    return max(times, default=0.0)


def groups(directory: Path) -> dict[str, list[Path]]:
    """Our files of ``directory`` by the scope file they belong to."""
    out: dict[str, list[Path]] = {}
    d = Path(directory)
    for p in sorted(d.iterdir()) if d.is_dir() else []:
        if p.is_file() and kind_of(p):
            out.setdefault(_base(p), []).append(p)
    return out


def prune_once(directory: Path, keep: Path) -> list[Path]:
    """:func:`prune` the first time a process opens ``keep`` (the TUI reopens its store every minute)."""
    key = (str(directory), str(keep))
    if key in _PRUNED:
        return []
    _PRUNED.add(key)
    return prune(directory, keep)


def prune(directory: Path, keep: Path | None = None, *, now: float | None = None,
          after_s: float = PRUNE_AFTER_S) -> list[Path]:
    """Delete the files of scopes other than ``keep``'s unused for ``after_s``; touch ``keep``.
    Returns what was deleted. Never raises: a file another process holds or removed is skipped."""
    now = time.time() if now is None else now
    if keep is not None and keep.exists():
        try:
            os.utime(keep)
        except OSError:
            pass
    removed: list[Path] = []
    for base, files in groups(directory).items():
        if keep is not None and base == keep.name:
            continue
        if now - last_used(files) < after_s:
            continue
        for p in files:
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed
