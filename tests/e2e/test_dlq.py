"""`lambdaops dlq` against a served demo account (its own `lambdaops demo serve` subprocess: these
tests empty its DLQs, which other modules' shared demo must not see)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections import Counter

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from lambdaops.cli.main import app
from tests.conftest import ROOT, demo_env, start_served_demo, stop_served_demo

REGIONS = "us-east-1,eu-west-1"
SHAPES = {"function-dlq": {"lambda-dlq"}, "sns-dlq": {"lambda-dlq"}, "on-failure": {"async-destination"},
          "source-dlq": {"sqs-message"}, "stream-on-failure": {"kinesis-batch", "dynamodb-batch"}}
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # Its own account: redrive and purge change the DLQ depths the shared account's readers check.
    d = start_served_demo(tmp_path_factory.mktemp("dlq-demo"))
    d.baseline = None
    yield d
    stop_served_demo(d)


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("state")


@pytest.fixture
def cli(demo, state_dir, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    monkeypatch.setenv("XDG_STATE_HOME", str(state_dir))

    def invoke(*args: str):
        return runner.invoke(app, ["--endpoint-url", demo.endpoint, "--region", REGIONS, *args])

    return invoke


@pytest.fixture
def baseline(demo, cli):
    """`dlq list -o json` before any test changed a queue."""
    if demo.baseline is None:
        res = cli("dlq", "list", "-o", "json")
        assert res.exit_code == 0, res.stderr
        demo.baseline = json.loads(res.stdout)
    return demo.baseline


def truth_queues(demo) -> dict[tuple[str, str], dict]:
    return {(q["region"], q["name"]): q for q in demo.truth["queues"]}


def snapshot(demo, region: str, name: str) -> dict[str, tuple]:
    """Every message of a queue (id -> body, attributes, group), made visible again at once."""
    sqs = demo.client("sqs", region)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    seen: dict[str, dict] = {}
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                  MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        seen.update({m["MessageId"]: m for m in got})
    handles = [m["ReceiptHandle"] for m in seen.values()]
    for i in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(j), "ReceiptHandle": h, "VisibilityTimeout": 0} for j, h in enumerate(handles[i:i + 10])])
    return {mid: _fp(m["Body"], m.get("MessageAttributes"), m.get("Attributes", {}).get("MessageGroupId"))
            for mid, m in seen.items()}


def _fp(body, attrs, group):
    norm = []
    for k, v in sorted((attrs or {}).items()):
        val = v.get("StringValue")
        if val is None:
            raw = v["BinaryValue"]
            val = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        norm.append((k, v["DataType"], val))
    return body, tuple(norm), group


CHECKER = r"""
import base64, json, sys, boto3
endpoint, region, target, dlq = sys.argv[1:5]
sqs = boto3.client("sqs", region_name=region, endpoint_url=endpoint, aws_access_key_id="demo", aws_secret_access_key="demo")
url = sqs.get_queue_url(QueueName=target)["QueueUrl"]
out = []
while True:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"]).get("Messages", [])
    if not got:
        break
    for m in got:
        attrs = {k: {"DataType": v["DataType"], **({"StringValue": v["StringValue"]} if "StringValue" in v else
                 {"BinaryValue": base64.b64encode(v["BinaryValue"]).decode()})} for k, v in m.get("MessageAttributes", {}).items()}
        out.append({"body": m["Body"], "attrs": attrs, "group": m.get("Attributes", {}).get("MessageGroupId")})
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
print(json.dumps({"messages": out, "dlq_visible": int(a["ApproximateNumberOfMessages"]),
                  "dlq_in_flight": int(a["ApproximateNumberOfMessagesNotVisible"])}))
"""


def check_from_another_process(demo, region: str, target: str, dlq: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHECKER, demo.endpoint, region, target, dlq], capture_output=True,
                          text=True, env=demo_env(demo.endpoint, region), cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------------------------


def test_every_failure_target_is_listed_with_its_kind_and_depth(demo, baseline):
    truth = truth_queues(demo)
    listed = {(q["region"], q["name"]): q for q in baseline}
    assert set(truth) <= set(listed)
    for key, t in truth.items():
        row = listed[key]
        assert row["kind"] == t["kind"], key
        # a consumer holds some messages of the demo's DLQs, one is delayed: all are in the depth
        assert (row["depth"], row["visible"], row["in_flight"], row["delayed"]) == \
            (t["dlq_messages"], t["visible"], t["in_flight"], t["delayed"]), key
        assert row["fifo"] == key[1].endswith(".fifo")
        assert row["queue_url"] == t["queue_url"] and row["queue_arn"].endswith(":" + key[1])
        assert row["functions"], key
        assert set(row) >= {"queue_url", "queue_arn", "kind", "functions", "sources", "visible", "in_flight",
                            "oldest_age_s", "fifo"}
        if t["dlq_messages"]:
            assert row["oldest_age_s"] and row["oldest_age_s"] > 0
    assert {k for k, row in listed.items() if row["queue_url"]} == set(truth)  # nothing extra
    kinds = {row["kind"] for row in baseline}
    assert kinds == set(SHAPES)


def test_show_decodes_every_shape(demo, baseline, cli):
    for t in demo.truth["queues"]:
        res = cli("dlq", "show", t["name"], "--max", "40", "-o", "json")
        assert res.exit_code == 0, res.stderr
        assert "no peek" in res.stderr and "receive count" in res.stderr
        docs = json.loads(res.stdout)
        if t["name"].endswith(".fifo"):  # message groups lock while read: only their first messages show
            assert 0 < len(docs) < t["dlq_messages"] and "FIFO queue" in res.stderr
        else:
            assert len(docs) == min(40, t["visible"]), t["name"]  # in flight and delayed: not receivable
        for doc in docs:
            assert doc["shape"] in SHAPES[t["kind"]], (t["name"], doc["shape"])
            if doc["shape"] in ("lambda-dlq", "async-destination"):
                assert doc["request_id"] and doc["error_code"] == "200" and doc["error_message"]
                assert doc["function"]
            if doc["shape"] == "async-destination":
                assert doc["condition"] in ("RetriesExhausted", "EventAgeExceeded") and doc["event"]
            if doc["shape"] == "sqs-message":
                assert doc["source_arn"].startswith("arn:aws:sqs:") and doc["attempts"] >= 4
                assert doc["attributes"]
            if doc["shape"] in ("kinesis-batch", "dynamodb-batch"):
                batch = doc["batch"]
                if doc["records_note"]:
                    assert "shard" in doc["records_note"] or "expired" in doc["records_note"]
                else:
                    assert len(doc["records"]) == batch["batch_size"] and doc["function"]
        if t["name"] == "clickstream-failures":
            assert sum(1 for d in docs if d["records_note"]) == 1  # the batch whose shard is gone


def test_awkward_bodies_are_shown_safely(demo, baseline, cli):
    res = cli("dlq", "show", "email-dlq", "--max", "40")
    assert res.exit_code == 0
    out = res.stdout
    assert "(text," in out  # the legacy producer's non-JSON body
    assert "\u202e" not in out and "\\u202e" in out  # an RTL override is escaped, not obeyed
    assert "ご注文" in out and "🚚" in out and "تم تأكيد" in out  # letters stay letters
    assert "Binary.sha256 <32 bytes" in out
    res = cli("dlq", "show", "orders-dlq", "--max", "40")
    big = [line for line in res.stdout.splitlines() if "bytes)" in line and "(json, 2" in line]
    assert big and all(len(line) < 400 for line in res.stdout.splitlines())


def test_dry_run_changes_nothing(demo, baseline, cli):
    before = snapshot(demo, "us-east-1", "email-dlq")
    demo.client("sqs").create_queue(QueueName="email-replay")
    res = cli("dlq", "redrive", "email-dlq", "--to", "email-replay", "--by-hand", "--dry-run", "-o", "json")
    assert res.exit_code == 0, res.stderr
    plan = json.loads(res.stdout)["plan"]
    assert len(plan) == len(before) and {p["action"] for p in plan} == {"send"}
    time.sleep(0.2)
    assert snapshot(demo, "us-east-1", "email-dlq") == before
    attrs = demo.client("sqs").get_queue_attributes(QueueUrl=demo.client("sqs").get_queue_url(QueueName="email-replay")["QueueUrl"],
                                                    AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"


def test_redrive_of_a_standard_dlq_keeps_every_message_identical(demo, baseline, cli):
    sqs = demo.client("sqs")
    sqs.create_queue(QueueName="orders-replay")
    before = snapshot(demo, "us-east-1", "orders-dlq")
    assert len(before) == truth_queues(demo)[("us-east-1", "orders-dlq")]["dlq_messages"]
    res = cli("dlq", "redrive", "orders-dlq", "--to", "orders-replay", "--by-hand", "--yes", "-o", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["mode"], doc["sent"], doc["failed"]) == ("by-hand", len(before), 0)
    seen = check_from_another_process(demo, "us-east-1", "orders-replay", "orders-dlq")
    assert (seen["dlq_visible"], seen["dlq_in_flight"]) == (0, 0)
    assert Counter(_fp(m["body"], m["attrs"], m["group"]) for m in seen["messages"]) == Counter(before.values())
    assert max(len(m["body"]) for m in seen["messages"]) > 200_000  # the big one made it whole


@pytest.mark.parametrize("region,dlq,target,extra", [
    ("us-east-1", "billing-dlq.fifo", "billing-replay.fifo", []),  # SQS's message move task
    ("eu-west-1", "ledger-dlq.fifo", "ledger-replay.fifo", ["--by-hand", "--workers", "3"]),  # by hand
])
def test_redrive_of_the_demo_fifo_dlqs(demo, baseline, cli, region, dlq, target, extra):
    """A FIFO queue cannot be read past its groups' first messages without deleting, so the copies
    are checked against what the messages say about themselves: attributes match the body, the
    group id is the account, no message twice."""
    demo.client("sqs", region).create_queue(QueueName=target, Attributes={"FifoQueue": "true"})
    n = truth_queues(demo)[(region, dlq)]["dlq_messages"]
    res = cli("dlq", "redrive", dlq, "--to", target, "--yes", "-o", "json", *extra)
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["mode"] == ("by-hand" if "--by-hand" in extra else "move-task") and doc["sent"] == n
    seen = check_from_another_process(demo, region, target, dlq)
    assert (seen["dlq_visible"], seen["dlq_in_flight"]) == (0, 0) and len(seen["messages"]) == n
    ids = set()
    for m in seen["messages"]:
        body = json.loads(m["body"])
        account = body.get("accountId") or body.get("account")
        ids.add(body.get("invoiceId") or body.get("entryId"))
        assert m["group"] == account == m["attrs"]["accountId"]["StringValue"]
        assert m["attrs"]["currency"]["DataType"] == "String.ISO4217"
        assert m["attrs"]["signature"]["DataType"] == "Binary" and len(base64.b64decode(m["attrs"]["signature"]["BinaryValue"])) == 20
    assert len(ids) == n


def test_redrive_of_a_fifo_dlq_keeps_bodies_attributes_groups_and_order(demo, baseline, cli):
    sqs = demo.client("sqs")
    dlq = sqs.create_queue(QueueName="e2e-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.create_queue(QueueName="e2e-out.fifo", Attributes={"FifoQueue": "true"})
    sent = []
    for start in range(0, 40, 10):
        entries = []
        for i in range(start, start + 10):
            attrs = {"n": {"DataType": "Number.int", "StringValue": str(i)},
                     "raw": {"DataType": "Binary", "BinaryValue": bytes([i, 0, 255])},
                     "tag": {"DataType": "String.custom", "StringValue": "注文 ✓"}}
            entries.append({"Id": str(i - start), "MessageBody": json.dumps({"i": i}), "MessageAttributes": attrs,
                            "MessageGroupId": f"g{i % 3}", "MessageDeduplicationId": f"e2e-{i}"})
            sent.append(_fp(json.dumps({"i": i}), attrs, f"g{i % 3}"))
        # Straight into the DLQ: the order within each group is then known. (Letting moto move them from a
        # source queue with maxReceiveCount 1 reorders groups already, before any redrive: measured.)
        sqs.send_message_batch(QueueUrl=dlq, Entries=entries)
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"] == "40"
    res = cli("dlq", "redrive", "e2e-dlq.fifo", "--to", "e2e-out.fifo", "--by-hand", "--yes", "-o", "json")
    assert res.exit_code == 0, res.stderr
    seen = check_from_another_process(demo, "us-east-1", "e2e-out.fifo", "e2e-dlq.fifo")
    assert (seen["dlq_visible"], seen["dlq_in_flight"]) == (0, 0)
    got = [_fp(m["body"], m["attrs"], m["group"]) for m in seen["messages"]]
    assert Counter(got) == Counter(sent)
    for g in ("g0", "g1", "g2"):
        order = [json.loads(fp[0])["i"] for fp in got if fp[2] == g]
        assert order == sorted(order)


def test_redrive_to_the_original_source_uses_the_move_task(demo, baseline, cli):
    res = cli("dlq", "redrive", "notifications-dlq", "--yes", "--rate", "200", "-o", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["mode"] == "move-task" and doc["task_status"] == "COMPLETED"
    assert doc["sent"] == truth_queues(demo)[("eu-west-1", "notifications-dlq")]["dlq_messages"]
    assert doc["left_visible"] == 0


def test_invoke_replays_failed_events_and_deletes_them(demo, baseline, cli):
    for name, region in (("image-resize-failures", "us-east-1"), ("inventory-sync-failures", "us-east-1"),
                         ("thumbnail-eu-dlq", "eu-west-1")):
        # The demo's traffic follows the time of day: thumbnail-eu's DLQ holds 1 to 36 messages.
        before = truth_queues(demo)[(region, name)]["dlq_messages"]
        assert before >= 1, name
        n = min(2, before)
        res = cli("dlq", "redrive", name, "--invoke", "--max", "2", "--yes", "-o", "json")
        assert res.exit_code == 0, res.stderr
        doc = json.loads(res.stdout)
        assert doc["mode"] == "invoke" and doc["sent"] == doc["deleted"] == n, doc
        assert doc["left_visible"] == before - n


def test_export_and_purge(demo, baseline, cli, tmp_path):
    t = truth_queues(demo)[("eu-west-1", "gdpr-export-failures")]
    out = tmp_path / "gdpr.jsonl"
    res = cli("dlq", "export", "gdpr-export-failures", "--to", str(out))
    assert res.exit_code == 0, res.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == t["dlq_messages"]
    assert {line["decoded"]["shape"] for line in lines} == {"async-destination"}
    assert all(line["body"] and line["attributes"]["SentTimestamp"] for line in lines)
    res = cli("dlq", "export", "gdpr-export-failures", "--to", str(out))
    assert res.exit_code == 2 and "already exists" in res.stderr  # never overwritten
    res = cli("dlq", "purge", "gdpr-export-failures")
    assert res.exit_code == 2 and "--export" in res.stderr  # no terminal: must say what to do
    second = tmp_path / "gdpr-2.jsonl"
    res = cli("dlq", "purge", "gdpr-export-failures", "--export", str(second), "--yes", "-o", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["deleted"] == t["dlq_messages"]
    assert len(second.read_text().splitlines()) == t["dlq_messages"]
    res = cli("dlq", "purge", "price-feed-failures", "--no-export", "--yes")
    assert res.exit_code == 0, res.stderr
    listed = {q["name"]: q for q in json.loads(cli("dlq", "list", "-o", "json").stdout)}
    assert listed["gdpr-export-failures"]["visible"] == 0 and listed["price-feed-failures"]["visible"] == 0


def test_resume_finishes_an_unfinished_run(demo, baseline, cli, state_dir):
    from lambdaops.dlq.journal import Journal

    sqs = demo.client("sqs")
    sqs.create_queue(QueueName="payments-replay")
    dlq_arn = "arn:aws:sqs:us-east-1:123456789012:payments-async-dlq"
    jdir = state_dir / "lambdaops" / "redrive"
    Journal.create(jdir, {"dlq_arn": dlq_arn, "dlq_name": "payments-async-dlq", "mode": "by-hand",
                          "target_arn": "arn:aws:sqs:us-east-1:123456789012:payments-replay", "filter": None,
                          "max": None, "rate": None, "function": None}).close()
    res = cli("dlq", "redrive", "payments-async-dlq", "--to", "payments-replay", "--yes")
    assert res.exit_code == 2 and "--resume" in res.stderr
    res = cli("dlq", "redrive", "payments-async-dlq", "--resume", "--yes", "-o", "json")
    assert res.exit_code == 0, res.stderr
    n = truth_queues(demo)[("us-east-1", "payments-async-dlq")]["dlq_messages"]
    assert json.loads(res.stdout)["sent"] == n
    seen = check_from_another_process(demo, "us-east-1", "payments-replay", "payments-async-dlq")
    assert len(seen["messages"]) == n and seen["dlq_visible"] == 0
    assert {tuple(sorted(m["attrs"])) for m in seen["messages"]} == {("ErrorCode", "ErrorMessage", "RequestID")}
    audit = [json.loads(line) for line in (jdir / "audit.jsonl").read_text().splitlines()]
    assert sum(1 for a in audit if a["dlq"] == dlq_arn and a["action"] == "send") >= n


def test_user_errors_are_one_line_with_the_right_exit_code(demo, baseline, cli):
    cases = [
        (("dlq", "redrive", "pdf-render-dlq-archive", "--to", "orders-queue"), 2, "refusing"),  # no tty, no --yes
        (("dlq", "redrive", "no-such-queue", "--yes"), 254, "does not exist"),
        (("dlq", "redrive", "thumbnail-eu-dlq", "--yes"), 2, "--invoke"),  # a Lambda DLQ has no source queue
        (("dlq", "redrive", "email-dlq", "--filter", "event.[", "--yes"), 2, "JMESPath"),
        (("dlq", "redrive", "email-dlq", "--rate", "900", "--yes"), 2, "500"),
        (("dlq", "redrive", "email-dlq", "--to", "email-dlq", "--yes"), 2, "itself"),
        (("dlq", "show", "arn:aws:sns:us-east-1:1:x"), 2, "ARN"),
    ]
    for args, code, text in cases:
        res = cli(*args)
        assert res.exit_code == code, (args, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and text in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr


def test_move_tasks_follow_aws_rules(demo, baseline):
    sqs = demo.client("sqs", "eu-west-1")
    arn = "arn:aws:sqs:eu-west-1:123456789012:"
    with pytest.raises(ClientError) as err:
        sqs.start_message_move_task(SourceArn=arn + "thumbnail-eu-dlq")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    for rate in (0, 501):
        with pytest.raises(ClientError) as err:
            sqs.start_message_move_task(SourceArn=arn + "ledger-dlq.fifo", MaxNumberOfMessagesPerSecond=rate)
        assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        sqs.start_message_move_task(SourceArn=arn + "nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # A slow task on a refilled DLQ: a second one is refused, cancelling stops it.
    sqs.create_queue(QueueName="slow-dlq")
    src = sqs.create_queue(QueueName="slow-src", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn + "slow-dlq", "maxReceiveCount": "1"})})["QueueUrl"]
    sqs.send_message_batch(QueueUrl=src, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)  # moves them to slow-dlq
    got = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="slow-dlq")["QueueUrl"], MaxNumberOfMessages=1,
                              VisibilityTimeout=0, MessageSystemAttributeNames=["All"])["Messages"]
    assert got[0]["Attributes"]["DeadLetterQueueSourceArn"] == arn + "slow-src"
    handle = sqs.start_message_move_task(SourceArn=arn + "slow-dlq", MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    with pytest.raises(ClientError) as err:
        sqs.start_message_move_task(SourceArn=arn + "slow-dlq")
    assert err.value.response["Error"]["Code"] == "UnsupportedOperation"
    tasks = sqs.list_message_move_tasks(SourceArn=arn + "slow-dlq")["Results"]
    assert tasks[0]["Status"] == "RUNNING" and tasks[0]["TaskHandle"] == handle
    assert tasks[0]["ApproximateNumberOfMessagesToMove"] == 10
    sqs.cancel_message_move_task(TaskHandle=handle)
    deadline = time.time() + 10
    while time.time() < deadline:
        status = sqs.list_message_move_tasks(SourceArn=arn + "slow-dlq")["Results"][0]["Status"]
        if status == "CANCELLED":
            break
        time.sleep(0.1)
    assert status == "CANCELLED"
    moved = sqs.list_message_move_tasks(SourceArn=arn + "slow-dlq")["Results"][0]["ApproximateNumberOfMessagesMoved"]
    assert moved < 10


def test_a_fifo_dry_run_says_how_many_messages_held_groups_hide(demo, baseline, cli):
    # A FIFO queue hands out a group's next message only once the one before it is deleted: a dry run,
    # which deletes nothing, sees at most one batch (10) per group and must say that the rest exist.
    sqs = demo.client("sqs")
    url = sqs.create_queue(QueueName="dry-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.create_queue(QueueName="dry-out.fifo", Attributes={"FifoQueue": "true"})
    for group in ("a", "b"):
        for start in range(0, 15, 5):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"{group}{i}", "MessageGroupId": group, "MessageDeduplicationId": f"{group}{i}"}
                for i in range(start, start + 5)])
    res = cli("dlq", "redrive", "dry-dlq.fifo", "--to", "dry-out.fifo", "--by-hand", "--dry-run", "-o", "json")
    assert res.exit_code == 0, res.stderr
    planned = len(json.loads(res.stdout)["plan"])
    assert planned < 30
    assert f"{planned:,} of the 30 messages" in res.stderr and "held behind them" in res.stderr
