"""``lambdaops cache info`` and ``lambdaops cache clear``: the local store and cache on this machine.

Everything in the cache directory (``$XDG_CACHE_HOME/lambdaops``) can be fetched again: the store of
closed Logs Insights bins (one SQLite file per endpoint, profile and account, ``lambdaops.store``),
the inventory's details cache and its kept listing (``details-*.json``, ``inventory-*.json``). Files
of other endpoints or accounts unused for a week are deleted when a store is opened
(``lambdaops.store.prune``): ``cache info`` says when each would be. Neither command calls AWS.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

import typer

from lambdaops.cli.output import Column, emit
from lambdaops.collect.meter import bytes_label
from lambdaops.durations import age
from lambdaops.plural import plural

cache_app = typer.Typer(help="The local store and cache: what they hold, and clearing them.", no_args_is_help=True)

COLUMNS = [Column("file", "File"), Column("kind", "Kind"), Column("size", "Size", "right"),
           Column("age", "Last write", "right"), Column("prune", "Pruned in", "right"), Column("holds", "Holds")]


def _iso(epoch: float | int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def describe(directory) -> dict:
    """What the cache directory holds: each store's info, and the other files (path, size, age)."""
    from lambdaops.store import Store, store_files
    from lambdaops.store.prune import PRUNE_AFTER_S, groups, kind_of, last_used

    stores, others = [], []
    now = time.time()
    mine = set(store_files(directory))
    # when each of our files would be pruned (unless its scope is used again): a week after its group's last use
    prune_at = {p: last_used(files) + PRUNE_AFTER_S for files in groups(directory).values() for p in files}

    def prune_in(p) -> float | None:
        return round(max(0.0, prune_at[p] - now), 1) if p in prune_at else None

    for path in mine:
        store = Store(path)
        info = store.info()
        bins = info["log_bins"]
        stores.append({**info, "created": _iso(info["created"]), "last_write": _iso(info["last_write"]),
                       "age_s": None if info["last_write"] is None else round(now - info["last_write"], 1),
                       "rebuilt": list(store.rebuilt), "prune_in_s": prune_in(path),
                       "log_bins": {**bins, "oldest": _iso(bins["oldest"]), "newest": _iso(bins["newest"])}})
    if directory.is_dir():
        for p in sorted(directory.iterdir()):
            if p.is_file() and p not in mine and not p.name.endswith(("-wal", "-shm")):
                st = p.stat()
                others.append({"path": str(p), "kind": kind_of(p) or "other", "size_bytes": st.st_size,
                               "age_s": round(now - st.st_mtime, 1), "prune_in_s": prune_in(p)})
    return {"directory": str(directory), "stores": stores, "other_files": others}


HOLDS = {"details": "per-function settings (15 min each)", "inventory": "function listings (5 min)"}


def _prune(seconds: float | None) -> str:
    return "-" if seconds is None else ("next open" if seconds <= 0 else age(seconds))


def _rows(doc: dict) -> list[dict]:
    rows = []
    for s in doc["stores"]:
        b = s["log_bins"]
        scope = s["scope"]
        where = f"{scope.get('endpoint') or 'aws'} {scope.get('profile') or 'default'} {scope.get('account', '?')}"
        holds = (f"{plural(b['bins'], 'Insights bin')} of {plural(b['log_groups'], 'log group')}"
                 + (f", {b['oldest']} .. {b['newest']}" if b["bins"] else "") + f" ({where})")
        rows.append({"file": s["path"], "kind": "store", "size": bytes_label(s["size_bytes"]),
                     "age": "-" if s["age_s"] is None else age(s["age_s"]), "prune": _prune(s["prune_in_s"]),
                     "holds": holds})
    for o in doc["other_files"]:
        rows.append({"file": o["path"], "kind": o["kind"], "size": bytes_label(o["size_bytes"]), "age": age(o["age_s"]),
                     "prune": _prune(o["prune_in_s"]), "holds": HOLDS.get(o["kind"], "-")})
    return rows


@cache_app.command("info")
def info(ctx: typer.Context) -> None:
    """Where the store and cache live, their size and age, and what they hold."""
    from lambdaops.paths import cache_dir

    fmt = ctx.obj.output_format()
    doc = describe(cache_dir())
    rows = _rows(doc)
    if fmt == "table" and not rows:
        print(f"lambdaops: nothing stored yet in {doc['directory']}", file=sys.stderr)
    emit(rows, COLUMNS, fmt, json_data=doc)


@cache_app.command("clear")
def clear(ctx: typer.Context) -> None:
    """Delete the store and cache (the next run fetches everything again)."""
    from lambdaops.paths import cache_dir
    from lambdaops.store import clear as clear_stores

    fmt = ctx.obj.output_format()
    directory = cache_dir()
    removed = [str(p) for p in clear_stores(directory)]
    if directory.is_dir():
        for p in sorted(directory.iterdir()):
            if p.is_file():
                p.unlink(missing_ok=True)
                removed.append(str(p))
    rows = [{"file": p, "kind": "removed", "size": "", "age": "", "holds": ""} for p in removed]
    if fmt == "table":
        print(f"lambdaops: {plural(len(removed), 'file')} removed from {directory}", file=sys.stderr)
    emit(rows, COLUMNS[:2], fmt, json_data={"directory": str(directory), "removed": removed})


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
