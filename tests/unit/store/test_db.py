"""The SQLite store: bins in and out, damaged and foreign files rebuilt, two writers at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from lambdaops.store import Cell, Store, clear, open_store, store_files
from lambdaops.store.db import SCHEMA_VERSION, StoreUnavailable

ROOT = Path(__file__).resolve().parents[3]


def bins(starts, fn="", n=1.0):
    return {("/aws/lambda/a", s): (10.0, {fn: Cell(invocations=n, timeout_ids={f"r{s}"})}) for s in starts}


def test_round_trip_and_scope(tmp_path):
    store = open_store(tmp_path, "http://x", None, "123456789012")
    store.put_log_bins("us-east-1", "q1", 300, bins([0, 300, 600]))
    got = store.get_log_bins("us-east-1", "q1", ["/aws/lambda/a", "/aws/lambda/b"], [300, 600, 900])
    assert sorted(got) == [("/aws/lambda/a", 300), ("/aws/lambda/a", 600)]
    assert got[("/aws/lambda/a", 300)][1][""].timeout_ids == {"r300"}
    assert store.get_log_bins("us-east-1", "other-query", ["/aws/lambda/a"], [300]) == {}  # another query's bins
    assert store.get_log_bins("eu-west-1", "q1", ["/aws/lambda/a"], [300]) == {}
    # another account or endpoint is another file
    assert open_store(tmp_path, "http://x", None, "999999999999").path != store.path
    assert open_store(tmp_path, None, None, "123456789012").path != store.path
    assert open_store(None, None, None, "1") is None and open_store(tmp_path, None, None, None) is None
    info = store.info()
    assert info["log_bins"]["bins"] == 3 and info["log_bins"]["oldest"] == 0 and info["log_bins"]["newest"] == 900
    assert info["scope"]["account"] == "123456789012"
    assert store_files(tmp_path) == [store.path]


def test_open_bins_beginnings_round_trip_and_give_way_to_the_closed_bin(tmp_path):
    store = open_store(tmp_path, None, None, "123456789012")
    part = {("/aws/lambda/a", 600): (720, 4.0, {"": Cell(invocations=3.0, oom_ids={"r1"})}),
            ("/aws/lambda/a", 900): (960, 1.0, {})}
    store.put_log_bins("us-east-1", "q", 300, {}, part)
    got = store.get_log_partials("us-east-1", "q", ["/aws/lambda/a"], [600, 900, 1200])
    assert got[("/aws/lambda/a", 600)][:2] == (720, 4.0) and got[("/aws/lambda/a", 600)][2][""].oom_ids == {"r1"}
    assert got[("/aws/lambda/a", 900)] == (960, 1.0, {})
    assert store.get_log_partials("us-east-1", "other", ["/aws/lambda/a"], [600]) == {}
    store.put_log_bins("us-east-1", "q", 300, bins([600]))  # the bin closed: asked in full, stored
    assert list(store.get_log_partials("us-east-1", "q", ["/aws/lambda/a"], [600, 900])) == [("/aws/lambda/a", 900)]
    assert store.info()["log_bins"]["open_bin_partials"] == 1
    store.put_log_bins("us-east-1", "q", 300, {}, None, ("qs", {("/aws/lambda/a", 0): (17, 2.0, {
        17: {"": Cell(invocations=1.0)}, 299: {"f": Cell(invocations=2.0, timeout_ids={"t"})}})}))
    ends = store.get_log_suffixes("us-east-1", "qs", ["/aws/lambda/a", "/aws/lambda/b"], 0)
    assert list(ends) == ["/aws/lambda/a"] and ends["/aws/lambda/a"][:2] == (17, 2.0)
    assert ends["/aws/lambda/a"][2][299]["f"].timeout_ids == {"t"} and store.get_log_suffixes("us-east-1", "q",
                                                                                               ["/aws/lambda/a"], 0) == {}
    assert store.info()["log_bins"]["head_suffixes"] == 1


def test_a_damaged_file_is_moved_aside_and_rebuilt(tmp_path):
    store = open_store(tmp_path, None, "p", "1")
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_bytes(b"this is not a database" * 100)
    assert store.get_log_bins("r", "q", ["/aws/lambda/a"], [0]) == {}  # a miss, not a crash
    assert store.rebuilt and "unreadable" in store.rebuilt[0]
    assert list(tmp_path.glob(f"{store.path.name}.bad-*"))
    store.put_log_bins("r", "q", 300, bins([0]))
    assert Store(store.path).get_log_bins("r", "q", ["/aws/lambda/a"], [0])


def test_another_schema_version_is_moved_aside_not_read(tmp_path):
    store = open_store(tmp_path, None, None, "1")
    store.put_log_bins("r", "q", 300, bins([0]))
    con = sqlite3.connect(store.path)
    con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    fresh = Store(store.path)
    assert fresh.get_log_bins("r", "q", ["/aws/lambda/a"], [0]) == {}
    assert "schema version" in fresh.rebuilt[0]
    foreign = tmp_path / "store-foreign.sqlite3"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE things (x)")
    con.commit()
    con.close()
    other = Store(foreign)
    assert other.get_log_bins("r", "q", ["/aws/lambda/a"], [0]) == {} and "not a lambdaops store" in other.rebuilt[0]


def test_clear_removes_stores_and_their_companions(tmp_path):
    store = open_store(tmp_path, None, None, "1")
    store.put_log_bins("r", "q", 300, bins([0]))
    (tmp_path / f"{store.path.name}.bad-20260101T000000").write_text("x")
    removed = clear(tmp_path)
    assert store.path in removed and not list(tmp_path.glob("store-*"))


WRITER = textwrap.dedent("""
    import sys
    from lambdaops.store import Cell, Store
    path, me = sys.argv[1], int(sys.argv[2])
    store = Store(path)
    for k in range(15):
        # one transaction: 50 bins of generation (me, k); a reader must see all of them or none
        cells = {(f"/aws/lambda/w{me}", (k * 50 + i) * 300): (1.0, {"": Cell(invocations=float(k))})
                 for i in range(50)}
        store.put_log_bins("r", "q", 300, cells)
""")


def test_two_processes_write_at_once_and_a_reader_never_sees_half_a_write(tmp_path):
    path = tmp_path / "store-shared.sqlite3"
    Store(path).info()  # created once, so the writers race on writes, not on the schema
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(me)], env=env) for me in (1, 2)]
    reader = Store(path)
    groups = ["/aws/lambda/w1", "/aws/lambda/w2"]
    starts = [i * 300 for i in range(15 * 50)]
    reads = 0
    while any(p.poll() is None for p in procs) or reads < 3:
        got = reader.get_log_bins("r", "q", groups, starts)
        for g in groups:
            per_gen: dict[int, int] = {}
            for (group, start), (_, cells) in got.items():
                if group == g:
                    per_gen[start // 300 // 50] = per_gen.get(start // 300 // 50, 0) + 1
            assert all(n == 50 for n in per_gen.values()), per_gen  # whole transactions only
        reads += 1
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    final = reader.get_log_bins("r", "q", groups, starts)
    assert len(final) == 2 * 15 * 50


def test_a_row_found_damaged_while_reading_moves_the_file_aside(tmp_path):
    store = open_store(tmp_path, None, None, "1")
    store.put_log_bins("r", "q", 300, bins([0]))
    con = sqlite3.connect(store.path)
    con.execute("UPDATE log_bins SET cells = 'not json'")
    con.commit()
    con.close()
    try:
        store.get_log_bins("r", "q", ["/aws/lambda/a"], [0])
    except StoreUnavailable as exc:
        assert "damaged" in str(exc)
    else:
        raise AssertionError("a damaged row was read as data")
    assert store.rebuilt and list(tmp_path.glob(f"{store.path.name}.bad-*"))
    assert store.get_log_bins("r", "q", ["/aws/lambda/a"], [0]) == {}  # rebuilt, empty


def test_missing_groups_are_kept_for_their_revision_and_a_short_time(tmp_path):
    from lambdaops.store.db import MISSING_KEEP_S

    store = Store(tmp_path / "store-m.sqlite3")
    store.put_missing_groups("us-east-1", {"/aws/lambda/a": ("r1", "gone"), "/aws/lambda/b": ("r1", "gone b")},
                             now=1000.0)
    revs = {"/aws/lambda/a": "r1", "/aws/lambda/b": "r2", "/aws/lambda/c": "r1"}
    assert store.get_missing_groups("us-east-1", revs, now=1010.0) == {"/aws/lambda/a": "gone"}
    assert store.get_missing_groups("eu-west-1", revs, now=1010.0) == {}
    assert store.get_missing_groups("us-east-1", revs, now=1000.0 + MISSING_KEEP_S) == {}


def test_a_version_2_file_without_the_missing_groups_table_gets_it_and_keeps_its_bins(tmp_path):
    path = tmp_path / "store-v.sqlite3"
    Store(path).put_log_bins("us-east-1", "q", 300, {("/aws/lambda/a", 0): (5.0, {"": Cell(invocations=1)})})
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE missing_groups")
    store = Store(path)
    store.put_missing_groups("us-east-1", {"/aws/lambda/b": ("r", "gone")})
    assert store.get_missing_groups("us-east-1", {"/aws/lambda/b": "r"}) == {"/aws/lambda/b": "gone"}
    assert store.get_log_bins("us-east-1", "q", ["/aws/lambda/a"], [0]) and not store.rebuilt
