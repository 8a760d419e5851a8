"""demo_cache: a seeded account kept on disk and moved to the present is the account a new seed would
give (log text, stream names, records), and a bad entry is rebuilt, never trusted. No server."""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
from types import SimpleNamespace

import numpy as np
import pytest

from lambdaops.demo import demo_cache
from lambdaops.demo.demo_cache import MAX_AGE_MS, MINUTE_MS, DemoCache, StoredGroup, time_free
from lambdaops.demo.demo_cache_columns import shift_messages
from lambdaops.demo.fleet import build_fleet
from lambdaops.demo.insights import compile_query, run_query
from lambdaops.demo.insights_memo import EventsMemo, GroupColumns, Segment
from lambdaops.demo.log_lines import NO_TIME, LogStore, render_function, render_function_parts
from lambdaops.demo.state import build_state
from lambdaops.demo.traffic import generate_function

# 23:10 UTC: an hour's window whose move below crosses midnight, so stream names change their date
T1 = 1_796_166_600_000
T0 = T1 - 3600_000
DELTA = (2 * 60 + 43) * MINUTE_MS
PICK = ("pdf-render", "legacy-image-meta", "fx-rates-api", "checkout-api", "storefront-cart", "storefront-search",
        "storefront-reviews")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
TRACE = re.compile(r"1-([0-9a-f]{8})-[0-9a-f]{24}")


@pytest.fixture(scope="module")
def fleet():
    return [f for f in build_fleet(7, None) if f.name in PICK]


def moved(rec, delta):
    return dataclasses.replace(rec, ts_ms=rec.ts_ms + delta, throttle_ts_ms=rec.throttle_ts_ms + delta)


def test_a_moved_group_is_what_rendering_the_moved_records_gives(fleet):
    for i, spec in enumerate(fleet):
        rec = generate_function(spec, i, 7, T0, T1)
        rendered = render_function_parts(spec, rec)
        frame = rendered.frame
        assert frame.equals(render_function(spec, rec))
        again = StoredGroup.of(rendered).rendered(DELTA)
        fresh = render_function(spec, moved(rec, DELTA))
        assert again.frame.equals(fresh), spec.name
        assert (again.frame["@logStream"] != frame["@logStream"]).any(), "the move crosses midnight"


def test_every_time_written_in_a_message_is_where_tpos_says(fleet):
    seen = 0
    for i, spec in enumerate(fleet):
        rendered = render_function_parts(spec, generate_function(spec, i, 7, T0, T1))
        for message, pos, xpos in zip(rendered.frame["@message"].tolist(), rendered.tpos.tolist(),
                                      rendered.xpos.tolist()):
            found = [m.start() for m in ISO.finditer(message)]
            assert found == ([] if pos == NO_TIME else [pos]), message
            traces = [m.start(1) for m in TRACE.finditer(message)]
            assert traces == ([] if xpos == NO_TIME else [xpos]), message
            seen += (pos != NO_TIME) + 1000 * (xpos != NO_TIME)
    assert seen % 1000 > 100 and seen // 1000 > 100


def test_messages_move_by_whole_minutes_only():
    with pytest.raises(ValueError):
        shift_messages(np.array(["x"], dtype=object), np.array([0], dtype=np.int16),
                                  np.array([-1], dtype=np.int16), 1000)


@pytest.fixture
def built(fleet, tmp_path):
    """An account state as generated at T1, its log groups rendered, and its base entry written."""
    state = build_state(fleet, 7, T0, T1)
    state.logs = LogStore(state)
    env = {demo_cache.DIR_ENV: str(tmp_path / "demo")}
    cache = DemoCache(7, None, 1.0, env=env)
    cache.save_base_later(state, T1)
    cache.wait()
    assert cache.records_path.exists() and cache.groups_path.exists() and oct(cache.folder.stat().st_mode & 0o777) == "0o700"
    return state, cache, env


def test_a_held_cache_writes_nothing_until_released(fleet, tmp_path):
    """A one-shot command's account: its groups are rendered (queries need them) but not written while
    the command runs; released when it stops, they are."""
    state = build_state(fleet, 7, T0, T1)
    state.logs = LogStore(state)
    state.logs.warm()  # rendered here: the writer finds them so and reaches its write at once
    cache = DemoCache(7, None, 1.0, env={demo_cache.DIR_ENV: str(tmp_path / "demo")}, hold_writes=True)
    cache.save_base_later(state, T1)
    cache.wait(timeout_s=0.5)  # an unheld write of this small state is done by then
    assert state.logs.seeded and not cache.records_path.exists() and not cache.groups_path.exists()
    cache.release()
    cache.wait()
    assert cache.records_path.exists() and cache.groups_path.exists()


def test_a_loaded_entry_is_the_state_moved_to_now(built):
    state, cache, env = built
    later = DemoCache(7, None, 1.0, env=env)
    entry = later.load(T1 + DELTA + 59_000)  # the move is whole minutes: the window ends < 1 min before now
    assert entry is not None and later.delta_ms == DELTA
    records = later.records()
    for key, traffic in state.traffic.items():
        want = moved(traffic.records(), DELTA)
        got = records[key]
        for name in ("ts_ms", "throttle_ts_ms", "duration_ms", "init_ms", "status", "rid"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    later.stored_group("us-east-1", "/app/storefront")  # the groups are read in a thread: waits for them
    assert set(later.entry.groups) == set(state.logs.seeded)
    shared = later.stored_group("us-east-1", "/app/storefront").frame
    fresh = SimpleNamespace(traffic={k: dataclasses.replace(t, base=records[k]) for k, t in state.traffic.items()},
                            extra_logs={})
    assert shared.equals(LogStore(fresh).group_frame("us-east-1", "/app/storefront"))


def test_stale_damaged_foreign_and_unsafe_entries_are_not_used(built):
    _, cache, env = built
    assert DemoCache(7, None, 1.0, env=env).load(T1 + MAX_AGE_MS + MINUTE_MS) is None  # stale
    assert DemoCache(7, None, 1.0, env=env).load(T1 - MINUTE_MS) is None  # the clock went back
    assert DemoCache(8, None, 1.0, env=env).load(T1) is None  # another seed: another key
    assert DemoCache(7, None, 2.0, env=env).key != cache.key
    os.chmod(cache.folder, 0o777)
    assert DemoCache(7, None, 1.0, env=env).load(T1) is None  # anyone could have written it
    os.chmod(cache.folder, 0o700)
    assert DemoCache(7, None, 1.0, env=env).load(T1) is not None
    cache.groups_path.write_bytes(b"\x80\x05 not a pickle")
    damaged = DemoCache(7, None, 1.0, env=env)
    assert damaged.load(T1) is not None and damaged.stored_group("us-east-1", "/app/storefront") is None
    assert not cache.groups_path.exists()  # removed; rendered from the records and written again
    with open(cache.records_path, "wb") as fh:
        pickle.dump({"format": demo_cache.FORMAT, "key": "another"}, fh)
    assert DemoCache(7, None, 1.0, env=env).load(T1) is None  # foreign
    cache.records_path.write_bytes(b"\x80\x05 not a pickle")
    assert DemoCache(7, None, 1.0, env=env).load(T1) is None  # damaged: removed, rebuilt next time
    assert not cache.records_path.exists()


DURATION = 'filter type = "platform.report" | parse @message /"durationMs":(?<d>[0-9.]+)/ | stats sum(d) as s'
MINUTES = 'parse @message /"time":"[0-9-]+T[0-9]+:(?<minute>[0-9]+)/ | stats count(*) as n by minute'


def _answer(query: str, cols: GroupColumns):
    return run_query(compile_query(query), EventsMemo([Segment(cols, 0, cols.n)]))[0]


def test_insights_columns_are_kept_unless_they_read_the_times(built):
    state, cache, env = built
    key = ("us-east-1", "/aws/lambda/checkout-api")
    rendered = state.logs.seeded[key]
    cols = GroupColumns(rendered.frame)
    before = {q: _answer(q, cols) for q in (DURATION, MINUTES)}
    parse_keys = {k[2]: k for k in cols.computes if k[0] == "parse"}
    assert time_free([(cols, rendered, False)], parse_keys['"durationMs":(?<d>[0-9.]+)'])
    assert not time_free([(cols, rendered, False)], parse_keys['"time":"[0-9-]+T[0-9]+:(?<minute>[0-9]+)'])
    cols.field("time", np.arange(cols.n))  # the JSON key holding each record's ISO time
    assert not time_free([(cols, rendered, False)], ("field", "time"))
    assert time_free([(cols, rendered, False)], ("field", "type"))

    service = SimpleNamespace(account=SimpleNamespace(state=state), _columns={key: (rendered.frame, False, cols)})
    cache.save_columns(service)
    later = DemoCache(7, None, 1.0, env=env)
    later.load(T1 + DELTA)
    frame = later.stored_group(*key).frame
    restored = GroupColumns(frame)
    later.restore_columns(*key, restored, False)
    kept = {k[2] for k in restored._sparse}
    assert '"durationMs":(?<d>[0-9.]+)' in kept and not any("minute" in k for k in kept)
    assert ("field", "type") in restored._cols and ("field", "time") not in restored._cols
    assert _answer(DURATION, restored) == before[DURATION]
    assert _answer(MINUTES, restored) == _answer(MINUTES, GroupColumns(frame)) != before[MINUTES]


def test_a_loaded_group_moves_only_the_messages_a_query_reads(built):
    """A kept group's messages move in time where read (moved_events): a warm query answered from
    kept Insights columns moves none, and what it does read equals the whole group moved at once."""
    state, cache, env = built
    key = ("us-east-1", "/aws/lambda/checkout-api")
    rendered = state.logs.seeded[key]
    cols = GroupColumns(rendered.frame)
    _answer(DURATION, cols)
    cache.save_columns(SimpleNamespace(account=SimpleNamespace(state=state), _columns={key: (rendered.frame, False, cols)}))
    later = DemoCache(7, None, 1.0, env=env)
    later.load(T1 + DELTA)
    events = later.stored_group(*key).events
    restored = GroupColumns(events)
    later.restore_columns(*key, restored, False)
    bytes_scanned = EventsMemo([Segment(restored, 0, restored.n)]).message_bytes()
    assert _answer(DURATION, restored) == _answer(DURATION, GroupColumns(rendered.frame))  # a move keeps durations
    assert "@message" not in events._cols  # answered from the kept columns: no message moved
    whole = StoredGroup.of(rendered).rendered(DELTA).frame  # every column moved at once
    assert bytes_scanned == int(whole["@message"].str.len().sum())
    rows = np.random.default_rng(7).choice(len(whole), 200, replace=False)
    for name in whole.columns:
        assert list(events.column_rows(name, rows)) == list(whole[name].to_numpy()[rows]), name
        assert list(events.column_rows(name, slice(10, 60))) == list(whole[name].to_numpy()[10:60]), name
    assert "@message" not in events._cols  # rows asked: those moved, not the column
    assert events.to_frame().equals(whole) and "@message" in events._cols
    marked = events.assign(flag=True)
    assert marked.columns[-1] == "flag" and marked["flag"].all() and len(marked) == len(events)


def test_messages_are_read_once_needed_and_rendered_again_when_their_file_is_damaged(built):
    state, cache, env = built
    key = ("us-east-1", "/app/storefront")  # a custom group three functions share
    whole = StoredGroup.of(state.logs.seeded[key]).rendered(DELTA).frame
    later = DemoCache(7, None, 1.0, env=env)
    later.load(T1 + DELTA)
    later.state = state
    later._rest.wait()  # the groups are read in a thread
    assert later.entry.groups[key].message is None and later._messages is None  # not read at load
    assert later.stored_group(*key).frame.equals(whole) and later._messages is not None
    cache.messages_path.write_bytes(b"\x80\x05 not a pickle")
    damaged = DemoCache(7, None, 1.0, env=env)
    damaged.load(T1 + DELTA)
    damaged.state = state
    assert damaged.stored_group(*key).frame.equals(whole)  # rendered again from the records: the same text
    assert not damaged.records_path.exists() and not damaged.messages_path.exists()  # written anew next run


def test_the_cache_is_on_unless_switched_off(monkeypatch):
    from datetime import datetime, timezone

    from lambdaops.demo.server import DemoAccount, cache_enabled

    assert DemoAccount().use_cache
    assert not DemoAccount(now=datetime(2026, 11, 22, tzinfo=timezone.utc)).use_cache  # a pinned clock: generated
    assert not DemoAccount(cache=False).use_cache
    for off in ("0", "false", "OFF"):
        assert not cache_enabled({"LAMBDAOPS_DEMO_CACHE": off})
    monkeypatch.setenv("LAMBDAOPS_DEMO_CACHE", "0")  # what --no-demo-cache sets for this process and its children
    assert not DemoAccount().use_cache


def test_no_demo_cache_reaches_the_account_and_child_processes(monkeypatch):
    from typer.testing import CliRunner

    from lambdaops.cli.main import app, hoist_globals

    monkeypatch.delenv("LAMBDAOPS_DEMO_CACHE", raising=False)
    assert hoist_globals(["report", "--no-demo-cache"]) == ["--no-demo-cache", "report"]
    # config needs no AWS: the root callback runs, and sets the variable the demo account reads
    res = CliRunner().invoke(app, ["--no-demo-cache", "config"])
    assert res.exit_code == 0, res.output
    assert os.environ.get("LAMBDAOPS_DEMO_CACHE") == "0"
    monkeypatch.delenv("LAMBDAOPS_DEMO_CACHE")  # the CLI set it in this process: undone


def test_early_requests_that_read_no_queue_do_not_wait_for_the_dlqs():
    from lambdaops.demo.server import _reads_queues

    def req(service, body=b""):
        return SimpleNamespace(service=service, body=body)

    assert not _reads_queues(req("logs")) and not _reads_queues(req("xray"))
    assert not _reads_queues(req("cloudwatch", b'{"Namespace":"AWS/Lambda"}'))
    assert not _reads_queues(req("cloudwatch", b"Namespace=AWS%2FLambda&MetricName=Errors"))
    assert _reads_queues(req("cloudwatch", b'{"Namespace":"AWS/SQS"}'))
    assert _reads_queues(req("cloudwatch", b'{"q":["AWS/Lambda","AWS/SQS"]}'))
    assert _reads_queues(req("cloudwatch"))  # ListMetrics of every namespace
    for service in ("sqs", "sns", "kinesis", "dynamodb", "lambda"):
        assert _reads_queues(req(service))
