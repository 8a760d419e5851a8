"""Redrive by hand against moto (mock_aws): attributes and FIFO ids survive, dry runs change nothing,
refused entries stay in the DLQ, a run killed at any step resumes to the right end state, and
10,000 messages go through with none lost."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from collections import Counter, OrderedDict

import pytest
from moto import mock_aws

from lambdaops.aws import dlq as dlqapi
from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.dlq.plan import open_journal
from lambdaops.dlq.redrive import RedriveOptions, Redriver
from lambdaops.dlq.journal import AuditLog, Journal
from lambdaops.demo import moto_sqs_patches
from lambdaops.errors import UsageError

REGION = "us-east-1"


@pytest.fixture(scope="module", autouse=True)
def fast_moto():
    """moto's SQS as the demo account runs it (same answers, linear instead of quadratic)."""
    mine = not moto_sqs_patches.is_applied()
    moto_sqs_patches.apply()
    yield
    if mine:
        moto_sqs_patches.restore()


@pytest.fixture
def aws():
    with mock_aws():
        ctx = AwsContext(regions=[REGION], credentials=StaticCredentials("testing", "testing"), max_attempts=1)
        yield ctx


def make_queue(ctx, name: str, **attrs) -> dlqapi.QueueRef:
    if name.endswith(".fifo"):
        attrs["FifoQueue"] = "true"
    ctx.client("sqs", REGION).create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})
    return dlqapi.resolve_queue(ctx, name)


def attrs_for(i: int) -> dict:
    return {
        "kind": {"DataType": "String", "StringValue": f"k{i % 3}"},
        "amount": {"DataType": "Number", "StringValue": str(i * 7)},
        "blob": {"DataType": "Binary", "BinaryValue": hashlib.sha256(str(i).encode()).digest() + bytes([0, 255])},
        "schema": {"DataType": "String.custom", "StringValue": "v2 — ünïcødé 注文"},
        "count": {"DataType": "Number.int", "StringValue": str(i)},
        "gz": {"DataType": "Binary.gzip", "BinaryValue": bytes([i % 256]) * 3},
    }


def fill(ctx, ref: dlqapi.QueueRef, n: int, *, groups: int = 3, body=None) -> list[dict]:
    """``n`` messages in ``ref``; returns what was sent (body, attributes, group)."""
    sqs = ctx.client("sqs", ref.region)
    sent = []
    for start in range(0, n, 10):
        entries = []
        for i in range(start, min(n, start + 10)):
            b = body(i) if body else json.dumps({"n": i, "text": "héllo 👋"})
            e = {"Id": str(i - start), "MessageBody": b, "MessageAttributes": attrs_for(i)}
            if ref.fifo:
                e.update(MessageGroupId=f"g{i % groups}", MessageDeduplicationId=f"src-{i}")
            entries.append(e)
            sent.append({"body": b, "attrs": attrs_for(i), "group": e.get("MessageGroupId")})
        assert not sqs.send_message_batch(QueueUrl=ref.url, Entries=entries).get("Failed")
    return sent


def drain(ctx, ref: dlqapi.QueueRef) -> list[dict]:
    """Everything in ``ref``, received for good (deleted), in receive order."""
    sqs = ctx.client("sqs", ref.region)
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=ref.url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                  MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        out += got
        sqs.delete_message_batch(QueueUrl=ref.url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for i, m in enumerate(got)])


def depth(ctx, ref) -> tuple[int, int]:
    return dlqapi.approximate_depth(ctx, ref)


def fingerprint(body: str, attrs: dict | None) -> tuple:
    return body, tuple(sorted((k, v["DataType"], v.get("StringValue"), bytes(v["BinaryValue"]) if "BinaryValue" in v else None)
                              for k, v in (attrs or {}).items()))


def run(ctx, dlq, tmp_path, clients=None, **opts) -> tuple:
    opts.setdefault("empty_wait_s", 0)
    opts.setdefault("retry_delay_s", 0.001)
    o = RedriveOptions(**opts)
    journal = open_journal(tmp_path, dlq, o, resume=False) if not o.dry_run else None
    audit = AuditLog(tmp_path) if not o.dry_run else None
    result = Redriver(ctx, dlq, o, journal=journal, audit=audit, clients=clients).run()
    if journal:
        journal.close()
        audit.close()
    return result, journal


# --------------------------------------------------------------------------------------------


def test_attributes_and_fifo_ids_survive_a_redrive(aws, tmp_path):
    dlq, target = make_queue(aws, "billing-dlq.fifo"), make_queue(aws, "billing-replay.fifo")
    sent = fill(aws, dlq, 60, groups=4)
    result, journal = run(aws, dlq, tmp_path, target=target, workers=3)
    assert (result.sent, result.deleted, result.failed) == (60, 60, [])
    assert depth(aws, dlq) == (0, 0)
    got = drain(aws, target)
    assert Counter(fingerprint(m["Body"], m.get("MessageAttributes")) for m in got) == \
        Counter(fingerprint(s["body"], s["attrs"]) for s in sent)
    by_group: dict[str, list[int]] = {}
    for m in got:
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(json.loads(m["Body"])["n"])
    assert sorted(by_group) == ["g0", "g1", "g2", "g3"]
    for g, ns in by_group.items():  # FIFO order within each group
        assert ns == sorted(ns) and all(n % 4 == int(g[1]) for n in ns)
    # The new deduplication ids are the deterministic ones the journal recorded.
    assert {m["Attributes"]["MessageDeduplicationId"] for m in got} == set(Journal.load(journal.path).dedup.values())
    assert all(len(d) == 64 for d in Journal.load(journal.path).dedup.values())
    audit = [json.loads(line) for line in open(tmp_path / "audit.jsonl")]
    assert Counter(a["action"] for a in audit) == {"send": 60, "delete": 60}


def test_standard_dlq_to_its_only_source_and_to_a_fifo_queue(aws, tmp_path):
    source = make_queue(aws, "orders-queue")
    dlq = make_queue(aws, "orders-dlq")
    aws.client("sqs", REGION).set_queue_attributes(QueueUrl=source.url, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "3"})})
    sent = fill(aws, dlq, 25)
    result, _ = run(aws, dlq, tmp_path)  # no --to: back to the DLQ's one source queue
    assert result.sent == 25 and depth(aws, dlq) == (0, 0)
    assert sorted(m["Body"] for m in drain(aws, source)) == sorted(s["body"] for s in sent)
    # Standard messages into a FIFO queue: one group keeps their order.
    fifo = make_queue(aws, "replay.fifo")
    fill(aws, dlq, 12)
    result, _ = run(aws, dlq, tmp_path, target=fifo, workers=1)
    got = drain(aws, fifo)
    assert result.sent == 12 and {m["Attributes"]["MessageGroupId"] for m in got} == {"lambdaops-redrive"}


def test_dry_run_changes_nothing(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "target")
    fill(aws, dlq, 23)
    before = {m["MessageId"]: fingerprint(m["Body"], m.get("MessageAttributes"))
              for m in dlqapi.receive_many(aws.client("sqs", REGION), dlq, None, 1)}
    time.sleep(1.1)  # let that peek's visibility end
    result, journal = run(aws, dlq, tmp_path, target=target, dry_run=True, filter="event.n < `20`")
    assert journal is None and list(tmp_path.iterdir()) == []
    assert result.sent == result.deleted == 0 and len(result.plan) == 23
    assert Counter(p["action"] for p in result.plan) == {"send": 20, "skip": 3}
    assert depth(aws, target) == (0, 0)
    assert depth(aws, dlq) == (23, 0)  # everything looked at is visible again
    after = {m["MessageId"]: fingerprint(m["Body"], m.get("MessageAttributes")) for m in drain(aws, dlq)}
    assert after == before


def test_filter_and_max_take_only_what_was_asked(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "target")
    fill(aws, dlq, 40)
    result, _ = run(aws, dlq, tmp_path, target=target, filter="attributes.kind.StringValue == 'k1'", max_messages=5)
    assert result.sent == 5 and depth(aws, dlq) == (35, 0)
    assert all(m["MessageAttributes"]["kind"]["StringValue"] == "k1" for m in drain(aws, target))


class FaultyClient:
    """Wraps a real client; subclasses decide what goes wrong."""

    def __init__(self, real):
        self.real = real
        self.calls = Counter()

    def __getattr__(self, name):
        return getattr(self.real, name)


class RefusesPoison(FaultyClient):
    """SendMessageBatch reports some entries Failed (HTTP 200): flaky ones once, poison ones always."""

    def send_message_batch(self, QueueUrl, Entries):
        bad = [e for e in Entries if "poison" in e["MessageBody"]]
        flaky = [e for e in Entries if "flaky" in e["MessageBody"] and not self.calls[e["MessageBody"]]]
        for e in flaky:
            self.calls[e["MessageBody"]] += 1  # refused once, accepted when retried
        ok = [e for e in Entries if e not in bad and e not in flaky]
        resp = self.real.send_message_batch(QueueUrl=QueueUrl, Entries=ok) if ok else {"Successful": []}
        resp.setdefault("Failed", [])
        resp["Failed"] += [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "boom"} for e in bad]
        resp["Failed"] += [{"Id": e["Id"], "SenderFault": False, "Code": "ServiceUnavailable", "Message": "try again"}
                           for e in flaky]
        return resp


def test_entries_refused_by_the_target_are_not_deleted(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq"), make_queue(aws, "target")
    kinds = ["poison" if i % 7 == 0 else "flaky" if i % 5 == 0 else "ok" for i in range(50)]
    fill(aws, dlq, 50, body=lambda i: json.dumps({"n": i, "kind": kinds[i]}))
    faulty = RefusesPoison(aws.client("sqs", REGION))
    clients = lambda service, region: faulty if service == "sqs" else aws.client(service, region)  # noqa: E731
    result, journal = run(aws, dlq, tmp_path, target=target, clients=clients, workers=2)
    poison = kinds.count("poison")
    assert len(result.failed) == poison and {f["code"] for f in result.failed} == {"InternalError"}
    assert result.sent == result.deleted == 50 - poison
    left = drain(aws, dlq)
    assert sorted(json.loads(m["Body"])["n"] for m in left) == [i for i, k in enumerate(kinds) if k == "poison"]
    assert sorted(json.loads(m["Body"])["n"] for m in drain(aws, target)) == [i for i, k in enumerate(kinds) if k != "poison"]
    assert Counter(Journal.load(journal.path).state.values()) == {"deleted": 50 - poison, "failed": poison}


def test_a_fifo_message_that_cannot_be_sent_holds_back_the_rest_of_its_group(aws, tmp_path):
    dlq, target = make_queue(aws, "dlq.fifo"), make_queue(aws, "target.fifo")
    fill(aws, dlq, 30, groups=3, body=lambda i: json.dumps({"n": i, "kind": "poison" if i == 9 else "ok"}))
    faulty = RefusesPoison(aws.client("sqs", REGION))
    clients = lambda service, region: faulty if service == "sqs" else aws.client(service, region)  # noqa: E731
    result, _ = run(aws, dlq, tmp_path, target=target, clients=clients, workers=1)
    blocked = [i for i in range(30) if i % 3 == 0 and i >= 9]  # message 9 and the rest of group g0
    assert sorted(json.loads(m["Body"])["n"] for m in drain(aws, target)) == [i for i in range(30) if i not in blocked]
    assert Counter(f["code"] for f in result.failed)["InternalError"] == 1
    left = [json.loads(m["Body"])["n"] for m in drain(aws, dlq)]
    assert left == blocked  # still in the DLQ, still in order


def test_the_moto_speedups_answer_like_moto():
    """The demo account's faster SQS must not change a single answer other code relies on."""
    import boto3

    def scenario() -> list:
        with mock_aws():
            sqs = boto3.client("sqs", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
            dlq = sqs.create_queue(QueueName="d")["QueueUrl"]
            src = sqs.create_queue(QueueName="s", Attributes={"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:123456789012:d", "maxReceiveCount": "2"})})["QueueUrl"]
            fifo = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            seen = []

            def counts(url):
                a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                return {k: v for k, v in a.items() if k.startswith("Approximate")}

            sqs.send_message_batch(QueueUrl=src, Entries=[{"Id": str(i), "MessageBody": f"m{i}", "MessageAttributes":
                                   {"b": {"DataType": "Binary", "BinaryValue": b"\x00" * i}}} for i in range(10)])
            sqs.send_message(QueueUrl=src, MessageBody="late", DelaySeconds=5)
            for _ in range(3):
                got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
                seen.append(len(got.get("Messages", [])))
                seen += [counts(src), counts(dlq)]
            got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                      MessageAttributeNames=["All"], AttributeNames=["All"])["Messages"]
            seen.append(sorted((m["Body"], m["Attributes"]["ApproximateReceiveCount"], m["MD5OfMessageAttributes"])
                               for m in got))
            seen.append(counts(dlq))
            vis = sqs.change_message_visibility_batch(QueueUrl=dlq, Entries=[
                {"Id": "a", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
                {"Id": "b", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 0}])
            seen.append(([e["Id"] for e in vis.get("Successful", [])], [e["Code"] for e in vis.get("Failed", [])]))
            seen.append(counts(dlq))
            dele = sqs.delete_message_batch(QueueUrl=dlq, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got[1:5])] + [
                {"Id": "x", "ReceiptHandle": "bogus"}])
            seen.append((sorted(e["Id"] for e in dele.get("Successful", [])), [e["Code"] for e in dele.get("Failed", [])]))
            seen.append(counts(dlq))
            for i in range(6):
                sqs.send_message(QueueUrl=fifo, MessageBody=f"f{i % 4}", MessageGroupId=f"g{i % 2}",
                                 MessageDeduplicationId=f"d{i % 4}")
            seen.append(counts(fifo))
            got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
            seen.append([m["Body"] for m in got])
            seen.append(sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10).get("Messages", []))
            return seen

    was = moto_sqs_patches.is_applied()
    try:
        moto_sqs_patches.restore()
        plain = scenario()
        moto_sqs_patches.apply()
        fast = scenario()
    finally:
        (moto_sqs_patches.apply if was else moto_sqs_patches.restore)()
    assert fast == plain


class SimulatedKill(BaseException):
    """The process dies: nothing after this point runs (not even cleanup)."""


class KillAt(FaultyClient):
    def __init__(self, real, op: str, when: str, at_call: int):
        super().__init__(real)
        self.op, self.when, self.at_call = op, when, at_call

    def _maybe(self, op, fn, **kw):
        self.calls[op] += 1
        hit = op == self.op and self.calls[op] == self.at_call
        if hit and self.when == "before":
            raise SimulatedKill(op)
        resp = fn(**kw)
        if hit:
            raise SimulatedKill(op)
        return resp

    def send_message_batch(self, **kw):
        return self._maybe("send", self.real.send_message_batch, **kw)

    def delete_message_batch(self, **kw):
        return self._maybe("delete", self.real.delete_message_batch, **kw)


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
@pytest.mark.parametrize("op,when", [("send", "before"), ("send", "after"), ("delete", "before"), ("delete", "after")])
def test_a_killed_redrive_resumes_to_the_right_end_state(aws, tmp_path, op, when, fifo):
    suffix = ".fifo" if fifo else ""
    dlq, target = make_queue(aws, "dlq" + suffix), make_queue(aws, "target" + suffix)
    sent = fill(aws, dlq, 45)
    killer = KillAt(aws.client("sqs", REGION), op, when, at_call=3)
    clients = lambda service, region: killer if service == "sqs" else aws.client(service, region)  # noqa: E731
    opts = RedriveOptions(target=target, workers=1, visibility_s=1, empty_wait_s=0)
    journal = open_journal(tmp_path, dlq, opts, resume=False)
    with pytest.raises(SimulatedKill):
        Redriver(aws, dlq, opts, journal=journal, clients=clients).run()
    journal.close()
    with pytest.raises(UsageError):  # a fresh run would ignore what the killed one did
        open_journal(tmp_path, dlq, opts, resume=False)

    resumed = open_journal(tmp_path, dlq, opts, resume=True)
    result = Redriver(aws, dlq, RedriveOptions(target=target, workers=2, visibility_s=30, empty_wait_s=0),
                      journal=resumed).run()
    resumed.close()
    assert depth(aws, dlq) == (0, 0)
    got = Counter(fingerprint(m["Body"], m.get("MessageAttributes")) for m in drain(aws, target))
    want = Counter(fingerprint(s["body"], s["attrs"]) for s in sent)
    assert set(got) == set(want)  # nothing lost
    dupes = sum(got.values()) - sum(want.values())
    if fifo or (op, when) != ("send", "after"):
        assert dupes == 0  # sent exactly once
    else:
        assert 0 < dupes <= 10  # standard queue, the batch in doubt: at-least-once resends just that batch
    if (op, when) in (("delete", "before"), ("delete", "after")):
        assert result.resumed + result.deleted >= 10  # confirmed copies were only deleted, not resent
    assert Journal.unfinished(tmp_path, dlq.arn) == []


def test_resume_needs_a_journal_and_a_second_run_is_refused(aws, tmp_path):
    dlq = make_queue(aws, "dlq")
    opts = RedriveOptions(target=dlq)
    with pytest.raises(UsageError, match="nothing to resume"):
        open_journal(tmp_path, dlq, opts, resume=True)
    open_journal(tmp_path, dlq, opts, resume=False).close()
    with pytest.raises(UsageError, match="--resume"):
        open_journal(tmp_path, dlq, opts, resume=False)


def test_a_thousand_messages_through_moto_with_none_lost(aws, tmp_path):
    dlq, target = make_queue(aws, "big-dlq"), make_queue(aws, "big-target")
    sent = fill(aws, dlq, 1000)
    result, _ = run(aws, dlq, tmp_path, target=target, workers=4)
    assert result.sent == result.deleted == 1000 and depth(aws, dlq) == (0, 0)
    got = drain(aws, target)
    assert Counter(fingerprint(m["Body"], m.get("MessageAttributes")) for m in got) == \
        Counter(fingerprint(s["body"], s["attrs"]) for s in sent)


# --------------------------------------------------------------------------------------------
# 10,000 messages: moto costs 3-4 ms per call (botocore serialisation + moto dispatch), so the
# 3,000+ calls of this run would take a minute; an in-memory SQS with the same contract (visibility,
# receipt handles, FIFO group locks, per-entry batch results) checks the engine at scale in seconds.


class MemorySqs:
    def __init__(self, fail_rate: float = 0.0, seed: int = 1):
        self.queues: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.fail_rate = fail_rate

    def create(self, name: str) -> dlqapi.QueueRef:
        url = f"https://sqs.{REGION}.amazonaws.com/123456789012/{name}"
        self.queues[url] = {"fifo": name.endswith(".fifo"), "msgs": OrderedDict(), "dedup": {}}
        return dlqapi.QueueRef(REGION, "123456789012", name, url, f"arn:aws:sqs:{REGION}:123456789012:{name}")

    def _put(self, q, body, attrs, group=None, dedup=None, trace=None):
        if q["fifo"] and dedup in q["dedup"]:
            return q["dedup"][dedup]
        mid = str(uuid.uuid4())
        q["msgs"][mid] = {"id": mid, "body": body, "attrs": attrs or {}, "group": group, "dedup": dedup,
                          "visible_at": 0.0, "handles": set(), "rc": 0}
        if dedup:
            q["dedup"][dedup] = mid
        return mid

    def send_message_batch(self, QueueUrl, Entries):
        assert 1 <= len(Entries) <= 10 and len({e["Id"] for e in Entries}) == len(Entries)
        with self.lock:
            q = self.queues[QueueUrl]
            ok, failed = [], []
            for e in Entries:
                if self.rng.random() < self.fail_rate:
                    failed.append({"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"})
                    continue
                if q["fifo"]:
                    assert e["MessageGroupId"] and e["MessageDeduplicationId"]
                mid = self._put(q, e["MessageBody"], e.get("MessageAttributes"), e.get("MessageGroupId"),
                                e.get("MessageDeduplicationId"))
                ok.append({"Id": e["Id"], "MessageId": mid,
                           "MD5OfMessageBody": hashlib.md5(e["MessageBody"].encode()).hexdigest()})
            return {"Successful": ok, "Failed": failed}

    def receive_message(self, QueueUrl, MaxNumberOfMessages=1, VisibilityTimeout=30, WaitTimeSeconds=0, **_):
        now = time.monotonic()
        with self.lock:
            q = self.queues[QueueUrl]
            busy_groups = {m["group"] for m in q["msgs"].values() if m["visible_at"] > now and m["group"]}
            out = []
            for m in q["msgs"].values():
                if m["visible_at"] > now or (m["group"] and m["group"] in busy_groups):
                    continue
                handle = uuid.uuid4().hex
                m["handles"].add(handle)
                m["visible_at"] = now + VisibilityTimeout
                m["rc"] += 1
                sysattrs = {"ApproximateReceiveCount": str(m["rc"]), "SentTimestamp": "1718000000000"}
                if m["group"]:
                    sysattrs.update(MessageGroupId=m["group"], MessageDeduplicationId=m["dedup"])
                out.append({"MessageId": m["id"], "ReceiptHandle": handle, "Body": m["body"],
                            "MD5OfBody": hashlib.md5(m["body"].encode()).hexdigest(),
                            "MessageAttributes": m["attrs"], "Attributes": sysattrs})
                if len(out) >= MaxNumberOfMessages:
                    break
            return {"Messages": out}

    def _find(self, q, handle):
        return next((m for m in q["msgs"].values() if handle in m["handles"]), None)

    def delete_message_batch(self, QueueUrl, Entries):
        with self.lock:
            q = self.queues[QueueUrl]
            ok = []
            for e in Entries:
                m = self._find(q, e["ReceiptHandle"])
                if m is not None:
                    del q["msgs"][m["id"]]
                ok.append({"Id": e["Id"]})
            return {"Successful": ok, "Failed": []}

    def change_message_visibility_batch(self, QueueUrl, Entries):
        with self.lock:
            q = self.queues[QueueUrl]
            for e in Entries:
                m = self._find(q, e["ReceiptHandle"])
                if m is not None:
                    m["visible_at"] = time.monotonic() + e["VisibilityTimeout"]
            return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def get_queue_attributes(self, QueueUrl, AttributeNames):
        now = time.monotonic()
        with self.lock:
            q = self.queues[QueueUrl]
            visible = sum(1 for m in q["msgs"].values() if m["visible_at"] <= now)
            return {"Attributes": {"ApproximateNumberOfMessages": str(visible),
                                   "ApproximateNumberOfMessagesNotVisible": str(len(q["msgs"]) - visible),
                                   "FifoQueue": str(q["fifo"]).lower(), "MaximumMessageSize": "262144"}}


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_ten_thousand_messages_redriven_with_none_lost(tmp_path, fifo):
    mem = MemorySqs(fail_rate=0.01)
    suffix = ".fifo" if fifo else ""
    dlq, target = mem.create("dlq" + suffix), mem.create("target" + suffix)
    want = Counter()
    q = mem.queues[dlq.url]
    for i in range(10_000):
        body = json.dumps({"n": i, "pad": "x" * (i % 50), "u": "注文 🚚"})
        attrs = {"n": {"DataType": "Number", "StringValue": str(i)},
                 "b": {"DataType": "Binary", "BinaryValue": i.to_bytes(4, "big")}}
        mem._put(q, body, attrs, f"g{i % 7}" if fifo else None, f"d{i}" if fifo else None)
        want[fingerprint(body, attrs)] += 1
    ctx = AwsContext(regions=[REGION], credentials=StaticCredentials("x", "y"))
    opts = RedriveOptions(target=target, workers=4, empty_wait_s=0, retry_delay_s=0.0)
    journal = open_journal(tmp_path, dlq, opts, resume=False)
    t0 = time.perf_counter()
    result = Redriver(ctx, dlq, opts, journal=journal, clients=lambda s, r: mem).run()
    elapsed = time.perf_counter() - t0
    journal.close()
    assert result.failed == [] and result.sent == result.deleted == 10_000
    assert mem.queues[dlq.url]["msgs"] == {}
    got = Counter(fingerprint(m["body"], m["attrs"]) for m in mem.queues[target.url]["msgs"].values())
    assert got == want  # count and content, attributes included
    if fifo:
        for g in range(7):  # order within each group
            ns = [json.loads(m["body"])["n"] for m in mem.queues[target.url]["msgs"].values() if m["group"] == f"g{g}"]
            assert ns == sorted(ns)
    assert elapsed < 30
