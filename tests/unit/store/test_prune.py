"""The cache directory does not grow forever: other scopes' files unused for a week are deleted
when a store is opened, the open store's never; ``cache info`` says when each would go."""

from __future__ import annotations

import json
import os
import time

from typer.testing import CliRunner

from lambdaops.cli.main import app
from lambdaops.paths import cache_dir
from lambdaops.store import open_store
from lambdaops.store.db import store_path
from lambdaops.store.db import scope_key  # noqa: E402
from lambdaops.store.prune import PRUNE_AFTER_S, kind_of, prune

WEEK = PRUNE_AFTER_S


def _file(d, name, age_s, now):
    p = d / name
    p.write_text("x")
    os.utime(p, (now - age_s, now - age_s))
    return p


def test_old_files_of_other_scopes_go_with_their_companions_and_recent_ones_stay(tmp_path):
    now = time.time()
    old_store = _file(tmp_path, "store-aaaa.sqlite3", WEEK + 60, now)
    old_wal = _file(tmp_path, "store-aaaa.sqlite3-wal", WEEK + 60, now)
    old_bad = _file(tmp_path, "store-aaaa.sqlite3.bad-20260101T000000", WEEK + 60, now)
    old_details = _file(tmp_path, "details-v2-0123456789abcdef.json", WEEK + 1, now)
    old_listing = _file(tmp_path, "inventory-v1-0123456789abcdef.json", WEEK + 1, now)
    old_tmp = _file(tmp_path, "details-v2-0123456789abcdef.123.456.tmp", WEEK + 1, now)
    # a store last written long ago whose -wal was written yesterday is in use
    used_store = _file(tmp_path, "store-bbbb.sqlite3", WEEK + 60, now)
    used_wal = _file(tmp_path, "store-bbbb.sqlite3-wal", 86400, now)
    recent = _file(tmp_path, "details-v2-fedcba9876543210.json", WEEK - 60, now)
    foreign = _file(tmp_path, "notes.txt", 10 * WEEK, now)
    kept = _file(tmp_path, "store-cccc.sqlite3", 10 * WEEK, now)  # the store being opened
    removed = set(prune(tmp_path, kept, now=now))
    assert removed == {old_store, old_wal, old_bad, old_details, old_listing, old_tmp}
    assert all(p.exists() for p in (used_store, used_wal, recent, foreign, kept))
    assert time.time() - kept.stat().st_mtime < 60  # opening touches it: a store only read is in use


def test_opening_a_store_prunes_the_directory_once(tmp_path):
    now = time.time()
    stale = _file(tmp_path, "details-v2-0123456789abcdef.json", WEEK + 1, now)
    open_store(tmp_path, "http://127.0.0.1:9", None, "123456789012")
    assert not stale.exists()
    again = _file(tmp_path, "details-v2-0123456789abcdef.json", WEEK + 1, now)
    open_store(tmp_path, "http://127.0.0.1:9", None, "123456789012")
    assert again.exists()  # once per process and store: the TUI reopens it every minute


def test_kinds():
    from pathlib import Path

    assert kind_of(Path("store-ab12.sqlite3-shm")) == "store"
    assert kind_of(Path("inventory-v1-ab12.json")) == "inventory"
    assert kind_of(Path("details-v2-ab12.99.1.tmp")) == "details"
    assert kind_of(Path("details-v2-ab12.json.bak")) is None and kind_of(Path("README")) is None


def test_cache_info_says_when_each_file_would_be_pruned():
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    now = time.time()
    _file(d, "inventory-v1-0123456789abcdef.json", 2 * 86400, now)
    store = open_store(d, "http://127.0.0.1:1", "dev", "123456789012")
    assert store.path == store_path(d, scope_key("http://127.0.0.1:1", "dev", "123456789012"))
    store.put_log_bins("us-east-1", "q", 300, {})
    res = CliRunner().invoke(app, ["cache", "info", "-o", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    [listing] = doc["other_files"]
    assert listing["kind"] == "inventory" and abs(listing["prune_in_s"] - 5 * 86400) < 120
    table = CliRunner().invoke(app, ["cache", "info"])
    assert "Pruned in" in table.stdout and "function listings" in table.stdout
