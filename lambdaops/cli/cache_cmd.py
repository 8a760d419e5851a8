"""``lambdaops cache info`` and ``lambdaops cache clear``: the local store and cache on this machine.

Everything in the cache directory (``$XDG_CACHE_HOME/lambdaops``) can be fetched again: the store of
closed Logs Insights bins (one SQLite file per endpoint, profile and account, ``lambdaops.store``)
and the inventory's details cache. Neither command calls AWS.
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
           Column("age", "Last write", "right"), Column("holds", "Holds")]


def _iso(epoch: float | int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def describe(directory) -> dict:
    """What the cache directory holds: each store's info, and the other files (path, size, age)."""
    from lambdaops.store import Store, store_files

    stores, others = [], []
    now = time.time()
    mine = set(store_files(directory))
    for path in mine:
        store = Store(path)
        info = store.info()
        bins = info["log_bins"]
        stores.append({**info, "created": _iso(info["created"]), "last_write": _iso(info["last_write"]),
                       "age_s": None if info["last_write"] is None else round(now - info["last_write"], 1),
                       "rebuilt": list(store.rebuilt),
                       "log_bins": {**bins, "oldest": _iso(bins["oldest"]), "newest": _iso(bins["newest"])}})
    if directory.is_dir():
        for p in sorted(directory.iterdir()):
            if p.is_file() and p not in mine and not p.name.endswith(("-wal", "-shm")):
                st = p.stat()
                others.append({"path": str(p), "size_bytes": st.st_size, "age_s": round(now - st.st_mtime, 1)})
    return {"directory": str(directory), "stores": stores, "other_files": others}


def _rows(doc: dict) -> list[dict]:
    rows = []
    for s in doc["stores"]:
        b = s["log_bins"]
        scope = s["scope"]
        where = f"{scope.get('endpoint') or 'aws'} {scope.get('profile') or 'default'} {scope.get('account', '?')}"
        holds = (f"{plural(b['bins'], 'Insights bin')} of {plural(b['log_groups'], 'log group')}"
                 + (f", {b['oldest']} .. {b['newest']}" if b["bins"] else "") + f" ({where})")
        rows.append({"file": s["path"], "kind": "store", "size": bytes_label(s["size_bytes"]),
                     "age": "-" if s["age_s"] is None else age(s["age_s"]), "holds": holds})
    for o in doc["other_files"]:
        rows.append({"file": o["path"], "kind": "cache", "size": bytes_label(o["size_bytes"]), "age": age(o["age_s"]),
                     "holds": "-"})
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
