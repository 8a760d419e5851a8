"""A redrive started in the TUI and stopped part-way is finished by ``lambdaops dlq redrive --resume``:
the TUI writes the CLI's journal, in the CLI's directory. Checked with plain boto3 at the end: every
message is in the target exactly once, or still in the DLQ."""

from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app as cli_app
from lambdaops.dlq.journal import Journal
from lambdaops.tui import dlq_source
from tests.tui.harness import open_dlqs, settle, wait_until
from lambdaops.tui.screens.confirm import ConfirmScreen
from tests.tui.conftest import SIZE

pytestmark = pytest.mark.e2e

EXTRA = 1500  # enough that SQS's move task is still running when the TUI stops it


def _client(demo, service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url=demo.endpoint,
                        aws_access_key_id="demo", aws_secret_access_key="demo")


def _drain(sqs, url: str) -> list[str]:
    """Every body in the queue, each message received once (a long visibility timeout)."""
    bodies: list[str] = []
    empty = 0
    while empty < 2:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                  WaitTimeSeconds=0).get("Messages", [])
        empty = 0 if got else empty + 1
        bodies += [m["Body"] for m in got]
    return bodies


async def test_a_redrive_stopped_in_the_tui_is_resumed_by_the_cli(demo, make_app, monkeypatch):
    sqs = _client(demo, "sqs")
    dlq_url = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    src_url = sqs.get_queue_url(QueueName="orders-queue")["QueueUrl"]
    src_arn = sqs.get_queue_attributes(QueueUrl=src_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The target's consumer (the function's event source mapping) is disabled, so what arrives stays
    # there to be counted (moto, like Lambda, delivers to an enabled mapping at once).
    lam = _client(demo, "lambda")
    for esm in lam.list_event_source_mappings(EventSourceArn=src_arn)["EventSourceMappings"]:
        lam.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
    ours = [f"resume-check-{i}" for i in range(EXTRA)]
    for start in range(0, EXTRA, 10):
        sqs.send_message_batch(QueueUrl=dlq_url, Entries=[{"Id": str(i), "MessageBody": b}
                                                          for i, b in enumerate(ours[start:start + 10])])
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    # Paced, so that the move task is still running when the TUI stops it however fast the machine is
    # (unpaced, the demo's task moved all of them before the stop on a quiet machine).
    import lambdaops.dlq.plan as plan_module

    real_plan = plan_module.new_plan
    monkeypatch.setattr(plan_module, "new_plan", lambda *a, **kw: real_plan(*a, **{**kw, "rate": 100}))
    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dlqs(pilot, app)
        screen.query_one("#queues").move_cursor(row=list(screen.queues).index(dlq_arn))
        await settle(pilot, app)
        total = int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
                    ["Attributes"]["ApproximateNumberOfMessages"])  # ours and the demo's own
        earlier = sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", [])  # the newest, if any
        before = earlier[0].get("StartedTimestamp") if earlier else None
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")

        def moving() -> bool:
            # this run's task (an earlier test on the shared account may have left a finished one)
            tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", [])
            return (bool(tasks) and tasks[0].get("StartedTimestamp") != before and tasks[0].get("Status") == "RUNNING"
                    and int(tasks[0].get("ApproximateNumberOfMessagesMoved", 0)) > 0)

        try:
            await wait_until(pilot, moving, timeout=60, what="the move task's first messages")
        except TimeoutError as exc:  # say what the TUI said
            raise AssertionError([n.message for n in app._notifications]) from exc
        await pilot.press("s")  # stop part-way
        await wait_until(pilot, lambda: screen.redrive_run is None, timeout=60, what="the stopped redrive")
        await settle(pilot, app)
        jdir = dlq_source.journal_dir(app.session)
        notes = [n.message for n in app._notifications if n.message.startswith("redrive orders-dlq")]
        assert notes and "--resume" in notes[-1], notes
    unfinished = Journal.unfinished(jdir, dlq_arn)
    assert len(unfinished) == 1  # the TUI's run, resumable
    left = int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])
    assert 0 < left < total  # stopped part-way

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    res = CliRunner().invoke(cli_app, ["--endpoint-url", demo.endpoint, "--region", "us-east-1", "dlq", "redrive",
                                       "orders-dlq", "--resume", "--journal", str(jdir), "--yes", "-o", "json"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["mode"] == "move-task" and doc["task_status"] == "COMPLETED"
    assert not Journal.unfinished(jdir, dlq_arn)

    in_target = Counter(_drain(sqs, src_url))
    in_dlq = Counter(_drain(sqs, dlq_url))
    for body in ours:
        assert in_target[body] + in_dlq[body] == 1, (body, in_target[body], in_dlq[body])
    assert not any(in_dlq[b] for b in ours)  # the resume finished the queue
    actions = [json.loads(line)["action"] for line in (jdir / "audit.jsonl").read_text().splitlines()]
    assert actions.count("move-task") == 4  # started and ended, by the TUI and by the CLI
