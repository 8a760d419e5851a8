"""The store's SQLite file: opening it safely, log bins in and out, what it holds, clearing it.

Concurrency (SQLite's own rules, "Write-Ahead Logging", sqlite.org/wal.html): in WAL mode readers
never block the writer nor see a transaction before it commits; writers take the file lock one at a
time and wait up to ``BUSY_TIMEOUT_S`` for it (``PRAGMA busy_timeout``). A write that still cannot
get the lock is skipped: the store is a cache, the next run pays for those bins again.

A file that is not a SQLite database, is damaged, or carries another schema version (an older or
newer lambdaops) is renamed ``<name>.bad-<time>`` with its -wal/-shm files and a new one is built:
never a crash, never a guess at a foreign layout.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from lambdaops.store.cells import Cell
from lambdaops.store.prune import prune_once

SCHEMA_VERSION = 2  # 2: log_partials
BUSY_TIMEOUT_S = 10.0
KEEP_S = 35 * 86400  # bins not stored again for this long are dropped (a window rarely reaches back further)
# A partial is worth keeping while its bin is open (15 minutes after its end) and a moving window
# may still extend it, a head suffix while windows start in its bin; a day covers a laptop asleep
# over a TUI session without growing the file.
PARTIAL_KEEP_S = 86400
# A log group found missing is left out of Logs Insights this long (the inventory listing is kept as
# long: a function created or first run since shows up with a new revision, or after it).
MISSING_KEEP_S = 300.0
PREFIX, SUFFIX = "store-", ".sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS scope (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS log_bins (
    region TEXT NOT NULL, log_group TEXT NOT NULL, query TEXT NOT NULL, bin_start INTEGER NOT NULL,
    bin_s INTEGER NOT NULL, bytes REAL NOT NULL, stored_at REAL NOT NULL,
    cells TEXT NOT NULL,  -- JSON: function named in the stream ("" in its own group) -> Cell
    PRIMARY KEY (region, log_group, query, bin_start)
);
CREATE TABLE IF NOT EXISTS log_partials (
    region TEXT NOT NULL, log_group TEXT NOT NULL, query TEXT NOT NULL, bin_start INTEGER NOT NULL,
    covered_to INTEGER NOT NULL,  -- the cells hold [bin_start, covered_to), whole seconds
    bytes REAL NOT NULL, stored_at REAL NOT NULL, cells TEXT NOT NULL,
    PRIMARY KEY (region, log_group, query, bin_start)
);
CREATE TABLE IF NOT EXISTS log_suffixes (
    region TEXT NOT NULL, log_group TEXT NOT NULL, query TEXT NOT NULL, bin_start INTEGER NOT NULL,
    from_s INTEGER NOT NULL,  -- the cells hold [from_s, bin end), per second
    bytes REAL NOT NULL, stored_at REAL NOT NULL,
    cells TEXT NOT NULL,  -- JSON: second -> function named in the stream -> Cell
    PRIMARY KEY (region, log_group, query, bin_start)
);
"""
_MISSING_TABLE = """
CREATE TABLE IF NOT EXISTS missing_groups (
    region TEXT NOT NULL, log_group TEXT NOT NULL,
    revision TEXT NOT NULL,  -- its functions' RevisionId/LastModified when StartQuery said it does not exist
    seen_at REAL NOT NULL, why TEXT NOT NULL,
    PRIMARY KEY (region, log_group)
)"""
_SCHEMA += _MISSING_TABLE + ";"

Partial = tuple[int, float, dict[str, Cell]]  # (covered_to, bytes scanned for it, cells per function)
Suffix = tuple[int, float, dict[int, dict[str, Cell]]]  # (from_s, bytes, second -> cells per function)


def scope_key(endpoint: str | None, profile: str | None, account: str) -> str:
    return f"{endpoint or 'aws'}|{profile or ''}|{account}"


def store_path(directory: Path, scope: str) -> Path:
    return Path(directory) / f"{PREFIX}{hashlib.sha256(scope.encode()).hexdigest()[:16]}{SUFFIX}"


def store_files(directory: Path) -> list[Path]:
    """The store files of ``directory`` (not their -wal/-shm companions or moved-aside copies)."""
    d = Path(directory)
    return sorted(d.glob(f"{PREFIX}*{SUFFIX}")) if d.is_dir() else []


def clear(directory: Path) -> list[Path]:
    """Delete every store file of ``directory`` with its -wal/-shm files and moved-aside copies."""
    d = Path(directory)
    removed = []
    for p in sorted(d.glob(f"{PREFIX}*")) if d.is_dir() else []:
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


def open_store(directory: Path | None, endpoint: str | None, profile: str | None, account: str | None
               ) -> "Store | None":
    """The store of this scope, or None when there is no cache directory (``--no-cache``, the
    in-process demo) or no account to key it by."""
    if directory is None or not account:
        return None
    scope = scope_key(endpoint, profile, account)
    prune_once(directory, store_path(directory, scope))  # other scopes' files unused for a week (store/prune.py)
    return Store(store_path(directory, scope), scope={"endpoint": endpoint or "", "profile": profile or "",
                                                      "account": account})


class StoreUnavailable(Exception):
    """The file could not be opened or written (read-only directory, a lock held past the timeout)."""


class Store:
    def __init__(self, path: Path, scope: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self.scope = scope or {}
        self._ready = False
        self._lock = threading.Lock()
        self.rebuilt: list[str] = []  # why the file was moved aside, for a note

    # -- opening ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return con

    def _open(self) -> sqlite3.Connection:
        """A connection to a file of our schema version, built (or rebuilt) as needed."""
        with self._lock:
            if self._ready:
                return self._connect()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(str(exc)) from None
            for _ in range(2):
                try:
                    con = self._connect()
                    con.execute("PRAGMA journal_mode=WAL")
                    why = self._check(con)
                except sqlite3.OperationalError as exc:
                    if "lock" in str(exc):
                        raise StoreUnavailable(str(exc)) from None
                    why = f"unreadable ({exc})"
                    con = None
                except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
                    why, con = f"unreadable ({exc})", None
                if why is None:
                    self._ready = True
                    return con
                if con is not None:
                    con.close()
                self._move_aside(why)
            raise StoreUnavailable(f"{self.path}: could not be rebuilt")

    def _check(self, con: sqlite3.Connection) -> str | None:
        """None when the file holds our schema (creating it in a new file); else why it does not."""
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_version" not in tables:
            if tables:
                return f"not a lambdaops store (tables {', '.join(sorted(tables))})"
            con.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                if con.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:  # another process may have
                    con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                    con.executemany("INSERT OR REPLACE INTO scope VALUES (?, ?)",
                                    [*self.scope.items(), ("created", str(time.time()))])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version")]
        if versions != [SCHEMA_VERSION]:
            return f"schema version {versions or 'missing'}, this lambdaops reads {SCHEMA_VERSION}"
        if "missing_groups" not in tables:  # added within version 2: a table more, nothing else changes
            con.execute(_MISSING_TABLE)
        return None

    def _move_aside(self, why: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for suffix in ("", "-wal", "-shm"):
            src = self.path.with_name(self.path.name + suffix)
            if src.exists():
                try:
                    os.replace(src, src.with_name(f"{src.name}.bad-{stamp}"))
                except OSError as exc:
                    raise StoreUnavailable(f"{src}: {why}, and it cannot be moved aside: {exc}") from None
        self.rebuilt.append(why)

    @contextmanager
    def _session(self):
        """A connection; a lock held past the timeout or an unwritable file is StoreUnavailable, a
        file found damaged while reading (SQLite checks pages as it reads them) is moved aside."""
        con = self._open()
        try:
            yield con
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from None
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as exc:
            with self._lock:
                self._ready = False
                self._move_aside(f"damaged ({type(exc).__name__}: {exc})")
            raise StoreUnavailable(f"{self.path} was damaged and is rebuilt on the next write") from None
        finally:
            con.close()

    # -- log bins ----------------------------------------------------------------------------------
    def _select(self, table: str, columns: str, region: str, query: str, groups: list[str], starts: list[int],
                parse) -> dict:
        """``parse(row)`` -> (key, value) of each row of ``table`` (log_group, bin_start, then
        ``columns``) for these groups and bins; parsed inside the session, so a damaged row moves
        the file aside."""
        out: dict = {}
        if not groups or not starts:
            return out
        wanted = set(starts)
        with self._session() as con:
            for i in range(0, len(groups), 500):  # SQLite's default limit of bound parameters is 999+
                chunk = groups[i:i + 500]
                rows = con.execute(
                    f"SELECT log_group, bin_start, {columns} FROM {table} WHERE region = ? AND query = ? "
                    f"AND bin_start BETWEEN ? AND ? AND log_group IN ({','.join('?' * len(chunk))})",
                    (region, query, min(starts), max(starts), *chunk))
                out.update(parse(r) for r in rows if r[1] in wanted)
        return out

    def get_log_bins(self, region: str, query: str, groups: Iterable[str], starts: Iterable[int]
                     ) -> dict[tuple[str, int], tuple[float, dict[str, Cell]]]:
        """(log group, bin start) -> (bytes scanned for it, cells per function) for the stored ones."""
        return self._select("log_bins", "bytes, cells", region, query, list(groups), list(starts),
                            lambda r: ((r[0], r[1]), (r[2], _cells(r[3]))))

    def get_log_partials(self, region: str, query: str, groups: Iterable[str], starts: Iterable[int]
                         ) -> dict[tuple[str, int], Partial]:
        """(log group, bin start) -> (covered_to, bytes, cells) of the open bins' stored beginnings."""
        return self._select("log_partials", "covered_to, bytes, cells", region, query, list(groups), list(starts),
                            lambda r: ((r[0], r[1]), (int(r[2]), r[3], _cells(r[4]))))

    def get_log_suffixes(self, region: str, query: str, groups: Iterable[str], start: int
                         ) -> dict[str, Suffix]:
        """log group -> (from_s, bytes, cells per second) of the end of the closed bin at ``start``."""
        return self._select("log_suffixes", "from_s, bytes, cells", region, query, list(groups), [start],
                            lambda r: (r[0], (int(r[2]), r[3], {int(sec): _cells(fns)
                                                                 for sec, fns in json.loads(r[4]).items()})))

    def put_log_bins(self, region: str, query: str, bin_s: int,
                     bins: dict[tuple[str, int], tuple[float, dict[str, Cell]]],
                     partials: dict[tuple[str, int], Partial] | None = None,
                     suffixes: tuple[str, dict[tuple[str, int], Suffix]] | None = None) -> None:
        """Store closed bins, the scanned beginnings of open bins (``partials``) and the per-second
        ends of closed bins (``suffixes``: their query's id, and them) in one transaction: a reader
        sees all of them or none. A closed bin replaces its partial."""
        partials = partials or {}
        squery, sfx = suffixes or ("", {})
        if not bins and not partials and not sfx:
            return
        now = time.time()

        def text(cells: dict[str, Cell]) -> str:
            return json.dumps({fn: c.to_json() for fn, c in cells.items()}, separators=(",", ":"))

        rows = [(region, g, query, start, bin_s, nbytes, now, text(cells))
                for (g, start), (nbytes, cells) in bins.items()]
        parts = [(region, g, query, start, covered, nbytes, now, text(cells))
                 for (g, start), (covered, nbytes, cells) in partials.items()]
        ends = [(region, g, squery, start, from_s, nbytes, now,
                 json.dumps({str(sec): {fn: c.to_json() for fn, c in fns.items()} for sec, fns in cells.items()},
                            separators=(",", ":")))
                for (g, start), (from_s, nbytes, cells) in sfx.items()]
        with self._transaction() as con:
            con.executemany("INSERT OR REPLACE INTO log_bins VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.executemany("DELETE FROM log_partials WHERE region = ? AND log_group = ? AND query = ? "
                            "AND bin_start = ?", [r[:4] for r in rows])
            con.executemany("INSERT OR REPLACE INTO log_partials VALUES (?, ?, ?, ?, ?, ?, ?, ?)", parts)
            con.executemany("INSERT OR REPLACE INTO log_suffixes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ends)
            con.execute("DELETE FROM log_bins WHERE stored_at < ?", (now - KEEP_S,))
            con.execute("DELETE FROM log_partials WHERE stored_at < ?", (now - PARTIAL_KEEP_S,))
            con.execute("DELETE FROM log_suffixes WHERE stored_at < ?", (now - PARTIAL_KEEP_S,))

    @contextmanager
    def _transaction(self):
        """A write transaction: all of it committed, or none (rolled back on any error)."""
        with self._session() as con:
            con.execute("BEGIN IMMEDIATE")  # waits up to the busy timeout for another writer
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    # -- log groups that did not exist ----------------------------------------------------------------
    def get_missing_groups(self, region: str, revisions: dict[str, str], now: float | None = None
                           ) -> dict[str, str]:
        """log group -> why, for the groups of ``revisions`` (group -> its functions' revision) found
        missing less than ``MISSING_KEEP_S`` ago with the same revision (a changed function may log now)."""
        now = time.time() if now is None else now
        out: dict[str, str] = {}
        groups = list(revisions)
        with self._session() as con:
            for i in range(0, len(groups), 500):
                chunk = groups[i:i + 500]
                rows = con.execute(
                    f"SELECT log_group, revision, seen_at, why FROM missing_groups WHERE region = ? "
                    f"AND log_group IN ({','.join('?' * len(chunk))})", (region, *chunk))
                out.update((g, why) for g, rev, at, why in rows
                           if rev == revisions.get(g) and 0 <= now - at < MISSING_KEEP_S)
        return out

    def put_missing_groups(self, region: str, missing: dict[str, tuple[str, str]], now: float | None = None) -> None:
        """Remember ``missing`` (group -> (revision, why)) as not existing at ``now``."""
        if not missing:
            return
        now = time.time() if now is None else now
        with self._transaction() as con:
            con.executemany("INSERT OR REPLACE INTO missing_groups VALUES (?, ?, ?, ?, ?)",
                            [(region, g, rev, now, why) for g, (rev, why) in missing.items()])
            con.execute("DELETE FROM missing_groups WHERE seen_at < ?", (now - MISSING_KEEP_S,))

    # -- what it holds -------------------------------------------------------------------------------
    def info(self) -> dict:
        """Path, size, age and what the file holds (counts per kind, oldest and newest bin)."""
        with self._session() as con:
            scope = dict(con.execute("SELECT key, value FROM scope").fetchall())
            n, groups, oldest, newest, nbytes = con.execute(
                "SELECT COUNT(*), COUNT(DISTINCT region || ' ' || log_group), MIN(bin_start), MAX(bin_start + bin_s), "
                "COALESCE(SUM(bytes), 0) FROM log_bins").fetchone()
            last = con.execute("SELECT MAX(stored_at) FROM log_bins").fetchone()[0]
            partials = con.execute("SELECT COUNT(*) FROM log_partials").fetchone()[0]
            suffixes = con.execute("SELECT COUNT(*) FROM log_suffixes").fetchone()[0]
        size = sum(p.stat().st_size for p in (self.path, self.path.with_name(self.path.name + "-wal"))
                   if p.exists())
        created = float(scope.pop("created", 0) or 0) or None
        return {"path": str(self.path), "size_bytes": size, "scope": scope, "created": created,
                "last_write": last, "schema_version": SCHEMA_VERSION,
                "log_bins": {"bins": n, "log_groups": groups, "oldest": oldest, "newest": newest,
                             "insights_bytes_paid": nbytes, "open_bin_partials": partials,
                             "head_suffixes": suffixes}}


def _cells(text: str | dict) -> dict[str, Cell]:
    """Cells per function from their stored JSON (text, or already parsed)."""
    return {fn: Cell.from_json(c) for fn, c in (json.loads(text) if isinstance(text, str) else text).items()}
