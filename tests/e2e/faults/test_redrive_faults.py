"""Redrive under faults (issue 13): Ctrl-C at chosen points and for real (SIGINT to a subprocess), a
second Ctrl-C, kill -9 then --resume, entries the target refuses, undecodable messages, torn journals,
exports killed half-way, FIFO resumes at the deduplication interval's edge, move-task rates. Every
end state is checked with plain boto3: each message is in the target or in the DLQ, bodies and
attributes byte-identical, none lost."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from typer.testing import CliRunner

from lambdaops.dlq import redrive as redrive_mod
from lambdaops.dlq import redrive_send
from lambdaops.dlq.export import export_queue
from lambdaops.dlq.plan import open_journal
from lambdaops.dlq.redrive import RedriveOptions, Redriver
from lambdaops.dlq.journal import AuditLog, Journal
from tests.conftest import ROOT
from tests.unit.dlq.test_redrive import (REGION, FaultyClient, KillAt, SimulatedKill, aws, depth, drain,  # noqa: F401
                                    fast_moto, fill, fingerprint, make_queue)

runner = CliRunner()


def bodies(msgs) -> Counter:
    return Counter(fingerprint(m["Body"], m.get("MessageAttributes")) for m in msgs)


def wanted(sent) -> Counter:
    return Counter(fingerprint(s["body"], s["attrs"]) for s in sent)


def opts(**kw) -> RedriveOptions:
    kw.setdefault("empty_wait_s", 0)
    kw.setdefault("retry_delay_s", 0.001)
    return RedriveOptions(**kw)


# --------------------------------------------------------------------------------------------
# Ctrl-C at a chosen point (a hook in the SQS client), then --resume


class StopAt(FaultyClient):
    """Asks the run to stop (what the first Ctrl-C does) right after the n-th SendMessageBatch."""

    def __init__(self, real, at_call: int):
        super().__init__(real)
        self.at_call = at_call
        self.runner: Redriver | None = None

    def send_message_batch(self, **kw):
        self.calls["send"] += 1
        resp = self.real.send_message_batch(**kw)
        if self.calls["send"] == self.at_call:
            self.runner.request_stop("interrupted")
        return resp


def run_with(ctx, dlq, o, journal, hook: StopAt):
    clients = lambda service, region: hook if service == "sqs" else ctx.client(service, region)  # noqa: E731
    hook.runner = Redriver(ctx, dlq, o, journal=journal, clients=clients)
    return hook.runner.run()


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_first_ctrl_c_stops_the_run_returns_what_it_holds_and_resume_finishes(aws, tmp_path, fifo):
    suffix = ".fifo" if fifo else ""
    dlq, target = make_queue(aws, "dlq" + suffix), make_queue(aws, "target" + suffix)
    sent = fill(aws, dlq, 300)
    o = opts(target=target, workers=4)
    journal = open_journal(tmp_path, dlq, o, resume=False)
    result = run_with(aws, dlq, o, journal, StopAt(aws.client("sqs", REGION), at_call=3))
    journal.close()
    assert result.interrupted and not result.complete
    moved = result.deleted
    assert 0 < moved < 100  # stopped: the batches in hand finished, nothing new was taken
    assert result.sent == result.deleted and result.in_flight == 0
    assert result.received == result.deleted + result.returned  # every message it took is accounted for
    # Every message it received is either moved or back in the DLQ, visible at once.
    assert depth(aws, dlq) == (300 - moved, 0)
    assert sum(1 for line in journal.path.read_text().splitlines() if '"ev":"stop"' in line) == 1
    assert Journal.unfinished(tmp_path, dlq.arn) == [journal.path]  # resumable

    resumed = open_journal(tmp_path, dlq, o, resume=True)
    result2 = Redriver(aws, dlq, opts(target=target, workers=2), journal=resumed).run()
    resumed.close()
    assert result2.complete and depth(aws, dlq) == (0, 0)
    assert bodies(drain(aws, target)) == wanted(sent)  # exactly once, byte-identical
    assert Journal.unfinished(tmp_path, dlq.arn) == []


# --------------------------------------------------------------------------------------------
# Real SIGINTs to a `lambdaops dlq redrive` subprocess against the served demo account


def _demo_sqs(demo):
    return demo.client("sqs", "us-east-1")


def _fill_demo(demo, name: str, n: int) -> dict[str, int]:
    sqs = _demo_sqs(demo)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]

    def one(start: int) -> None:
        c = _demo_sqs(demo)
        c.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i - start), "MessageBody": json.dumps({"n": i, "pad": "é" * (i % 30)}),
             "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}}}
            for i in range(start, min(n, start + 10))])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(0, n, 10)))
    return {json.dumps({"n": i, "pad": "é" * (i % 30)}): i for i in range(n)}


def _depth(sqs, name: str) -> tuple[int, int]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def _drain_bodies(sqs, name: str) -> Counter:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    out: Counter = Counter()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        for m in got:
            assert m["MessageAttributes"]["n"]["StringValue"] == str(json.loads(m["Body"])["n"])
            out[m["Body"]] += 1
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(got)])


def _redrive_proc(demo, tmp_path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", demo.endpoint,
                             "--region", "us-east-1", "dlq", "redrive", *args, "--yes", "--journal", str(tmp_path / "j")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _wait_for_progress(sqs, target: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(_depth(sqs, target)) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"the redrive did not move {at_least} messages in {timeout}s")


def _resume(demo, stderr: str) -> subprocess.CompletedProcess:
    line = next(ln for ln in stderr.splitlines() if ln.startswith("to finish: "))
    words = shlex.split(line[len("to finish: "):])
    assert words[0] == "lambdaops" and "--resume" in words
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "lambdaops.cli.main", *words[1:], "--yes"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


def test_ctrl_c_stops_a_10000_message_redrive_within_2s(served_demo, tmp_path):
    sqs = _demo_sqs(served_demo)
    want = _fill_demo(served_demo, "sigint-dlq", 10_000)
    sqs.create_queue(QueueName="sigint-target")
    proc = _redrive_proc(served_demo, tmp_path, "sigint-dlq", "--to", "sigint-target")
    _wait_for_progress(sqs, "sigint-target", 500)
    at_signal = sum(_depth(sqs, "sigint-target"))
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    after = sum(_depth(sqs, "sigint-target"))
    assert proc.returncode == 130, err
    assert took < 2.0, f"took {took:.2f}s to stop"
    assert after - at_signal < 500, f"moved {after - at_signal} more after Ctrl-C"
    assert after < 10_000
    visible, in_flight = _depth(sqs, "sigint-dlq")
    assert in_flight == 0 and visible + after == 10_000  # what it held went back at once
    assert "--resume" in err and "moved" in err

    done = _resume(served_demo, err)
    assert done.returncode == 0, done.stderr
    assert _depth(sqs, "sigint-dlq") == (0, 0)
    got = _drain_bodies(sqs, "sigint-target")
    assert set(got) == set(want) and sum(got.values()) == 10_000  # every body once, byte-identical


def test_a_second_ctrl_c_leaves_at_once_and_loses_nothing(served_demo, tmp_path):
    sqs = _demo_sqs(served_demo)
    want = _fill_demo(served_demo, "sigint2-dlq", 3000)
    sqs.create_queue(QueueName="sigint2-target")
    proc = _redrive_proc(served_demo, tmp_path, "sigint2-dlq", "--to", "sigint2-target")
    _wait_for_progress(sqs, "sigint2-target", 200)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - t0 < 1.5
    assert "nothing was lost" in err and "--resume" in err
    moved = sum(_depth(sqs, "sigint2-target"))
    assert moved + sum(_depth(sqs, "sigint2-dlq")) >= 3000  # at-least-once: nothing gone
    done = _resume(served_demo, err)  # the journal's receipt handles bring back what it held at once
    assert done.returncode == 0, done.stderr
    assert _depth(sqs, "sigint2-dlq") == (0, 0)
    got = _drain_bodies(sqs, "sigint2-target")
    assert set(got) == set(want)
    assert sum(got.values()) - 3000 <= 40  # a batch sent but not journaled as sent may go twice (standard queue)


# --------------------------------------------------------------------------------------------
# Entries the target refuses (HTTP 200, in Failed), and undecodable messages


def _big_or_small(i: int) -> str:
    return json.dumps({"n": i, "pad": ("x" * 2000) if i % 10 == 3 else "ok"})


def test_refused_entries_stay_in_the_dlq_and_the_rest_of_the_batch_moves(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "small-target", MaximumMessageSize=1024)
    sent = fill(aws, dlq, 50, body=_big_or_small)
    result, journal = _run(aws, dlq, tmp_path, target=target, workers=2)
    big = [i for i in range(50) if i % 10 == 3]
    assert result.refused == len(big) and result.sent == result.deleted == 50 - len(big)
    assert {f["code"] for f in result.failed} == {"InvalidParameterValue"}
    assert result.complete and result.in_flight == 0
    assert result.received == 50 == result.deleted + result.returned
    left = drain(aws, dlq)
    assert sorted(json.loads(m["Body"])["n"] for m in left) == big
    assert bodies(left) + bodies(drain(aws, target)) == wanted(sent)  # none lost, none twice
    assert Journal.load(journal.path).refused == {f["id"] for f in result.failed}


def test_resume_skips_what_the_target_refused_unless_asked(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "small-target", MaximumMessageSize=1024)
    sent = fill(aws, dlq, 60, body=_big_or_small)
    killer = KillAt(aws.client("sqs", REGION), "delete", "after", at_call=3)
    clients = lambda service, region: killer if service == "sqs" else aws.client(service, region)  # noqa: E731
    o = opts(target=target, workers=1, visibility_s=8)  # how long the refused ones it held stay hidden before the final drain
    journal = open_journal(tmp_path, dlq, o, resume=False)
    with pytest.raises(SimulatedKill):
        Redriver(aws, dlq, o, journal=journal, clients=clients).run()
    journal.close()
    refused_before = Journal.load(journal.path).refused
    assert refused_before  # batches 1-3 held big messages

    resumed = open_journal(tmp_path, dlq, o, resume=True)
    result = Redriver(aws, dlq, opts(target=target, workers=2), journal=resumed).run()
    resumed.close()
    assert result.skipped_refused == len(refused_before)
    assert not {f["id"] for f in result.failed} & refused_before  # not sent again
    assert result.refused == 6 - len(refused_before)  # the big ones it had not reached yet
    left = drain(aws, dlq)
    assert sorted(json.loads(m["Body"])["n"] for m in left) == [i for i in range(60) if i % 10 == 3]
    assert bodies(left) + bodies(drain(aws, target)) == wanted(sent)


def test_retry_refused_sends_them_again(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "t2", MaximumMessageSize=1024)
    fill(aws, dlq, 20, body=_big_or_small)
    o = opts(target=target, workers=1, visibility_s=30)
    journal = open_journal(tmp_path, dlq, o, resume=False)
    first = run_with(aws, dlq, o, journal, StopAt(aws.client("sqs", REGION), at_call=1))
    journal.close()
    assert first.interrupted and first.refused == 1
    resumed = open_journal(tmp_path, dlq, o, resume=True)
    again = Redriver(aws, dlq, opts(target=target, workers=1, retry_refused=True), journal=resumed).run()
    resumed.close()
    assert again.skipped_refused == 0 and again.refused == 2  # tried (and refused) again, plus the new one


def test_an_undecodable_message_is_left_in_the_dlq_not_in_flight(aws, tmp_path, monkeypatch):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "target")
    sent = fill(aws, dlq, 40, body=lambda i: json.dumps({"n": i, "poison": i == 17}))
    real = redrive_mod.decode_message

    def decode(m, kind=None):
        if '"poison": true' in m["Body"]:
            raise RecursionError("maximum recursion depth exceeded")
        return real(m, kind)

    monkeypatch.setattr(redrive_mod, "decode_message", decode)
    result, _ = _run(aws, dlq, tmp_path, target=target, workers=2)
    assert [f["code"] for f in result.failed] == ["DecodeError"]
    assert result.deleted == 39 and result.in_flight == 0
    assert depth(aws, dlq) == (1, 0)  # returned at once, not in flight for 5 minutes
    assert bodies(drain(aws, dlq)) + bodies(drain(aws, target)) == wanted(sent)


def _run(ctx, dlq, tmp_path, **kw):
    o = opts(**kw)
    journal = open_journal(tmp_path, dlq, o, resume=False)
    audit = AuditLog(tmp_path)
    result = Redriver(ctx, dlq, o, journal=journal, audit=audit).run()
    journal.close()
    audit.close()
    return result, journal


def test_cli_exit_code_1_when_the_target_refused_some(served_demo, tmp_path, monkeypatch):
    from lambdaops.cli.main import app

    sqs = _demo_sqs(served_demo)
    url = sqs.create_queue(QueueName="refuse-dlq")["QueueUrl"]
    sqs.create_queue(QueueName="refuse-target", Attributes={"MaximumMessageSize": "1024"})
    for start in range(0, 30, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i - start), "MessageBody": _big_or_small(i)}
                                                      for i in range(start, start + 10)])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    res = runner.invoke(app, ["--endpoint-url", served_demo.endpoint, "--region", "us-east-1", "dlq", "redrive",
                              "refuse-dlq", "--to", "refuse-target", "--yes", "--journal", str(tmp_path), "-o", "json"])
    assert res.exit_code == 1, res.stderr
    doc = json.loads(res.stdout)
    assert doc["refused"] == 3 and doc["deleted"] == 27 and doc["complete"] is True
    assert "refused by the target" in res.stderr
    left = sorted(json.loads(b)["n"] for b in _drain_bodies_plain(sqs, "refuse-dlq"))
    assert left == [3, 13, 23]


def _drain_bodies_plain(sqs, name: str) -> list[str]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return out
        out += [m["Body"] for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(got)])


# --------------------------------------------------------------------------------------------
# Durability: torn journals, killed exports, private files


def test_a_torn_journal_tail_is_cut_before_the_resume_appends(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "target")
    sent = fill(aws, dlq, 45)
    killer = KillAt(aws.client("sqs", REGION), "delete", "before", at_call=3)
    clients = lambda service, region: killer if service == "sqs" else aws.client(service, region)  # noqa: E731
    o = opts(target=target, workers=1, visibility_s=1)
    journal = open_journal(tmp_path, dlq, o, resume=False)
    with pytest.raises(SimulatedKill):
        Redriver(aws, dlq, o, journal=journal, clients=clients).run()
    journal.close()
    with open(journal.path, "ab") as fh:  # the kill cut a line short, in the middle of a character
        fh.write('{"ev":"deleted","at":"2026-01-01T00:00:00Z","id":"é'.encode()[:-1])

    resumed = open_journal(tmp_path, dlq, o, resume=True)
    assert resumed.torn_lines == 1
    result = Redriver(aws, dlq, opts(target=target, workers=2), journal=resumed).run()
    resumed.close()
    assert result.complete
    for line in journal.path.read_bytes().splitlines():
        json.loads(line)  # no torn line left, nothing glued to one
    final = Journal.load(journal.path)
    assert final.finished and set(final.state.values()) == {"deleted"} and len(final.state) == 45
    assert depth(aws, dlq) == (0, 0) and bodies(drain(aws, target)) == wanted(sent)


def test_events_glued_to_a_torn_line_by_older_versions_still_count(tmp_path):
    path = tmp_path / "q-20260101T000000Z-x.jsonl"
    lines = ['{"ev":"start","at":"2026-01-01T00:00:00Z","plan":{"dlq_arn":"arn:aws:sqs:us-east-1:1:q"}}',
             '{"ev":"sent","at":"2026-01-01T00:00:01Z","id":"a","new_id":"n"}',
             '{"ev":"deleted","at":"2026' + '{"ev":"deleted","at":"2026-01-01T00:00:02Z","id":"a"}',
             '{"ev":"sent","at":"2026-01-01T00:00:03Z","id":"b","new_id":"m"}']
    path.write_text("\n".join(lines) + "\n")
    j = Journal.load(path)
    j.close()
    assert j.state == {"a": "deleted", "b": "sent"} and j.torn_lines == 1


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_journals_audit_logs_and_exports_are_private(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "target")
    fill(aws, dlq, 15)
    old = os.umask(0)  # the most permissive umask: the modes must not depend on it
    try:
        jdir = tmp_path / "state" / "redrive"
        result, journal = _run(aws, dlq, jdir, target=target)
        out = tmp_path / "export.jsonl"
        fill(aws, dlq, 5)
        export_queue(aws, dlq, out)
    finally:
        os.umask(old)
    assert _mode(journal.path) == 0o600 and _mode(jdir / "audit.jsonl") == 0o600
    assert _mode(jdir) == 0o700 and _mode(jdir.parent) == 0o700
    assert _mode(out) == 0o600 and len(out.read_text().splitlines()) == 5


class KillOnReceive(FaultyClient):
    def __init__(self, real, at_call: int):
        super().__init__(real)
        self.at_call = at_call

    def receive_message(self, **kw):
        self.calls["receive"] += 1
        if self.calls["receive"] == self.at_call:
            raise SimulatedKill("receive")
        return self.real.receive_message(**kw)


def test_an_export_stopped_after_deleting_keeps_a_partial_file_that_says_so(aws, tmp_path):
    dlq = make_queue(aws, "dlq")
    sent = fill(aws, dlq, 40)
    out = tmp_path / "dlq.jsonl"
    sqs = KillOnReceive(aws.client("sqs", REGION), at_call=3)
    with pytest.raises(SimulatedKill):
        export_queue(aws, dlq, out, delete=True, sqs=sqs)
    assert not out.exists()  # only a complete, checked export gets its name
    partial = [p for p in tmp_path.iterdir() if p.name != out.name]
    # The deleted messages' only copy: kept, under a name that says it is partial, private.
    assert len(partial) == 1 and "partial" in partial[0].name and _mode(partial[0]) == 0o600
    kept = [json.loads(line)["body"] for line in partial[0].read_text().splitlines()]
    assert len(kept) == 20
    assert Counter(kept) + Counter(m["Body"] for m in drain(aws, dlq)) == Counter(s["body"] for s in sent)


def test_an_export_killed_with_sigkill_leaves_no_file_that_looks_complete(served_demo, tmp_path):
    sqs = _demo_sqs(served_demo)
    want = _fill_demo(served_demo, "export-kill-dlq", 4000)
    out = tmp_path / "export.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true",
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", served_demo.endpoint,
                             "--region", "us-east-1", "dlq", "export", "export-kill-dlq", "--to", str(out),
                             "--journal", str(tmp_path / "state")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until a good part is written
        files = [p for p in tmp_path.iterdir() if p.name.startswith((".export", "export"))]
        if files and files[0].stat().st_size > 100_000:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the export wrote nothing")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists()  # a kill leaves nothing under the name of a complete export
    assert [p for p in tmp_path.iterdir() if "partial" in p.name]  # only a file that says it is partial
    # Nothing was deleted: every message is still in the queue (some in flight until their timeout).
    assert sum(_depth(sqs, "export-kill-dlq")) == len(want)


# --------------------------------------------------------------------------------------------
# FIFO resume and the 5-minute deduplication interval (scaled down: 6 s)


@pytest.fixture
def short_dedup(monkeypatch):
    """SQS's 5-minute interval as 6 s, in moto and in the redrive (same proportions: a killed run's
    visibility timeout as long as the interval, as with the defaults 300 s / 300 s)."""
    from moto.sqs import models

    monkeypatch.setattr(models, "DEDUPLICATION_TIME_IN_SECONDS", 6)
    monkeypatch.setattr(redrive_send, "FIFO_DEDUP_WINDOW_S", 6.0)
    monkeypatch.setattr(redrive_send, "FIFO_DEDUP_MARGIN_S", 1.5)
    return 6


def _kill_after_send(aws, tmp_path, dlq, target, visibility_s, monkeypatch):
    """A kill -9 right after the second SendMessageBatch (sent, not yet journaled as sent): nothing
    after it runs, so the messages it held stay in flight for ``visibility_s``."""
    killer = KillAt(aws.client("sqs", REGION), "send", "after", at_call=2)
    clients = lambda service, region: killer if service == "sqs" else aws.client(service, region)  # noqa: E731
    o = opts(target=target, workers=1, visibility_s=visibility_s)
    journal = open_journal(tmp_path, dlq, o, resume=False)
    with monkeypatch.context() as m:
        m.setattr(Redriver, "_finish", lambda self: None, raising=False)  # no cleanup after a kill
        m.setattr(Redriver, "_release_held", lambda self, best_effort: None, raising=False)
        with pytest.raises(SimulatedKill):
            Redriver(aws, dlq, o, journal=journal, clients=clients).run()
    journal.close()
    return o


def ns(msgs) -> list[int]:
    return sorted(json.loads(m["Body"])["n"] for m in msgs)


def test_fifo_resume_resends_inside_the_deduplication_interval(aws, tmp_path, short_dedup, monkeypatch):
    dlq, target = make_queue(aws, "dlq.fifo"), make_queue(aws, "target.fifo")
    sent = fill(aws, dlq, 45)
    o = _kill_after_send(aws, tmp_path, dlq, target, short_dedup, monkeypatch)
    assert depth(aws, dlq)[1] > 0  # the killed run's messages are in flight
    resumed = open_journal(tmp_path, dlq, o, resume=True)
    result = Redriver(aws, dlq, opts(target=target, workers=1, visibility_s=30), journal=resumed).run()
    resumed.close()
    assert bodies(drain(aws, target)) == wanted(sent)  # the in-doubt batch was deduplicated: no copy twice
    assert result.complete and depth(aws, dlq) == (0, 0)


def test_fifo_resume_past_the_interval_does_not_resend_blindly(aws, tmp_path, short_dedup, monkeypatch):
    dlq, target = make_queue(aws, "dlq.fifo"), make_queue(aws, "target.fifo")
    fill(aws, dlq, 45)  # groups g0, g1, g2: a FIFO batch holds one message per group
    o = _kill_after_send(aws, tmp_path, dlq, target, short_dedup, monkeypatch)
    time.sleep(short_dedup + 0.5)  # the operator comes back after the interval
    resumed = open_journal(tmp_path, dlq, o, resume=True)
    result = Redriver(aws, dlq, opts(target=target, workers=1, visibility_s=30), journal=resumed).run()
    resumed.close()
    # Messages 0-2 were confirmed (only deleted now); 3-5 were sent but not journaled as sent: they
    # stay in the DLQ, with the rest of their groups behind them, for the operator to decide.
    assert result.unconfirmed == 3 and not result.complete
    # Exactly 6-9: the resume makes 0-9 visible again, its first receive takes them back in order and
    # blocks 6-9 behind 3-5; 3-9 then stay in flight for the run's 30 s, so g0-g2 stay locked and no
    # later receive hands over 10-44. (moto alone could keep a released message in flight, its check
    # reading the same clock value as the release: that group's later messages then came first, and
    # how many the run received varied with timing; the demo's SQS now unlocks it, as SQS does.)
    assert Counter(f["code"] for f in result.failed)["GroupBlocked"] == 4
    in_target = drain(aws, target)
    assert ns(in_target) == list(range(6))  # nothing twice
    assert depth(aws, dlq) == (42, 0)  # nothing lost: 3-44 wait in the DLQ, visible
    assert Journal.unfinished(tmp_path, dlq.arn)  # resumable with --resend-unconfirmed
    again = open_journal(tmp_path, dlq, o, resume=True)
    forced = Redriver(aws, dlq, opts(target=target, workers=1, resend_unconfirmed=True), journal=again).run()
    again.close()
    assert forced.complete and depth(aws, dlq) == (0, 0)
    assert ns(drain(aws, target)) == list(range(3, 45))  # 3-5 again: the operator asked for it


# --------------------------------------------------------------------------------------------
# Move task rate


@pytest.mark.parametrize("rate", ["0.5", "2.5"])
def test_a_move_task_rate_that_is_not_a_whole_number_is_a_usage_error(served_demo, tmp_path, monkeypatch, rate):
    from lambdaops.cli.main import app

    sqs = _demo_sqs(served_demo)
    arn = "arn:aws:sqs:us-east-1:123456789012:"
    sqs.create_queue(QueueName="rate-dlq")
    sqs.create_queue(QueueName="rate-src", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn + "rate-dlq", "maxReceiveCount": "1"})})
    url = sqs.get_queue_url(QueueName="rate-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    res = runner.invoke(app, ["--endpoint-url", served_demo.endpoint, "--region", "us-east-1", "dlq", "redrive",
                              "rate-dlq", "--rate", rate, "--yes", "--journal", str(tmp_path)])
    assert res.exit_code == 2, res.stderr
    assert re.search(r"whole number .*1 to 500", res.stderr)
    assert sqs.list_message_move_tasks(SourceArn=arn + "rate-dlq").get("Results", []) == []  # nothing started
