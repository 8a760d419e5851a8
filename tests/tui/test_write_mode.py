"""Actions that change AWS: absent in read-only mode; with --write always behind a confirmation that
names account, region, target and count, with the focus on Cancel. Then a real tuning run, live."""

from __future__ import annotations

import json

import pytest

from tests.tui.harness import fleet_ready, open_dlqs, settle, wait_until
from lambdaops.tui import dlq_source
from lambdaops.tui.screens.confirm import ConfirmScreen
from lambdaops.tui.screens.dlq import DlqScreen
from lambdaops.tui.screens.tuning import TuningScreen
from tests.tui.conftest import SIZE

pytestmark = pytest.mark.e2e


def footer_keys(app) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values()
            if app.screen.check_action(b.binding.action, ()) and app.check_action(b.binding.action, ())}


async def open_tuning(pilot, app, name: str) -> TuningScreen:
    await fleet_ready(pilot, app)
    fn = next(f for f in app.functions if f.name == name)
    app.open_tuning(f"{fn.region}/{fn.name}")
    await settle(pilot, app)
    return app.screen


async def test_read_only_hides_and_refuses_write_actions(make_app):
    app = make_app(write=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(pilot, app, "image-resize")
        assert "start_tuning" not in footer_keys(app)
        await pilot.press("ctrl+s")
        assert app.screen is screen and not screen.running
        assert "--write" in str(screen.query_one("#tuning-status").render())

        await pilot.press("escape", "d")
        assert isinstance(app.screen, DlqScreen)
        await settle(pilot, app)
        keys = footer_keys(app)
        assert "export" in keys and not {"redrive", "purge"} & keys
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, DlqScreen)


async def test_confirmation_shows_the_change_and_cancel_is_the_default(make_app):
    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(pilot, app, "image-resize")
        assert "start_tuning" in footer_keys(app)
        await pilot.press("ctrl+s")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        c = confirm.change
        assert (c.account, c.region, c.target) == ("123456789012", "us-east-1", "image-resize")
        assert c.count.endswith("invocations")
        assert app.focused.id == "cancel"
        await pilot.press("enter")  # enter out of habit: cancels
        assert app.screen is screen and not screen.running


async def test_a_tuning_run_is_watched_live_and_recommends(make_app):
    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(pilot, app, "image-resize")
        screen.query_one("#memory").value = "1024,2048"
        screen.query_one("#invocations").value = "5"
        await pilot.press("ctrl+s")
        await pilot.press("y")
        assert screen.running
        await wait_until(pilot, lambda: not screen.running, timeout=120, what="the tuning run")
        await settle(pilot, app)
        assert screen.outcome is not None, str(screen.query_one("#tuning-status").render())
        assert set(screen.results) == {1024, 2048}
        assert screen.query_one("#results").row_count == 2
        assert screen.query_one("#cost-chart").series and screen.query_one("#duration-chart").series
        assert "Recommended" in str(screen.query_one("#tuning-status").render())
        # The engine put the function back as it was.
        fn = next(f for f in app.functions if f.name == "image-resize")
        cfg = app.session.ctx.call("lambda", fn.region, "get_function_configuration", FunctionName=fn.name)
        assert cfg["MemorySize"] == fn.memory_mb
        # Its invocations were counted as they answered: the fleet row's findings leave them out.
        key, window = f"{fn.region}/{fn.name}", app.snapshot.window
        share = app.tuning_traffic.share(key, window.start, window.end)
        assert share.invocations == 5 * len(screen.sizes)
        assert app.record_of(key)["tuning"] == share


async def test_redrive_is_confirmed_then_moves_the_messages_back(make_app):
    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        dlq = await open_dlqs(pilot, app)
        # a standard SQS DLQ with messages (test_dlq_resume.py emptied orders-dlq; an empty one gets a notice)
        orders = next(q for q in dlq.queues.values() if q.kind == "source-dlq" and q.depth and not q.info.fifo)
        dlq.query_one("#queues").move_cursor(row=list(dlq.queues).index(orders.arn))
        await settle(pilot, app)
        depth = orders.depth
        await pilot.press("ctrl+r")  # the plan (mode, depth, checks) is made first, as `dlq redrive` makes it
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        confirm = app.screen
        assert confirm.change.count == f"{depth:,.0f} messages" and orders.name in confirm.change.target
        assert "message move task" in confirm.change.detail
        assert app.focused.id == "cancel"
        await pilot.press("y")
        await settle(pilot, app, rounds=5)
        await wait_until(pilot, lambda: dlq.redrive_run is None, what="the redrive")
        await settle(pilot, app, rounds=5)
        assert any(n.message.startswith(f"redrive {orders.name}: moved") for n in app._notifications)
        assert dlq.queues[orders.arn].depth == 0
        # the CLI's audit log: the move task's start and end
        audit = (dlq_source.journal_dir(app.session) / "audit.jsonl").read_text().splitlines()
        assert [json.loads(line)["action"] for line in audit][-2:] == ["move-task", "move-task"]


async def test_a_failed_run_says_whether_the_function_is_back_and_never_parses_the_error(make_app):
    from lambdaops.tui.screens.tuning import TuningFinished

    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(pilot, app, "image-resize")
        hint = "lambdaops tune --cleanup image-resize --region us-east-1"
        screen.on_tuning_finished(TuningFinished(screen.run, error="upstream call [/api/v1/orders] failed [bold]x",
                                                 restored=False, cleanup_hint=hint))
        await settle(pilot, app)
        status = str(screen.query_one("#tuning-status").render())
        assert "upstream call [/api/v1/orders] failed [bold]x" in status
        assert "NOT fully restored" in status and hint in status
        screen.on_tuning_finished(TuningFinished(screen.run, error="denied", restored=None))
        await settle(pilot, app)
        assert "nothing was changed" in str(screen.query_one("#tuning-status").render())


async def test_an_empty_dlq_is_not_confirmed_only_noticed(make_app):
    import dataclasses

    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        dlq = await open_dlqs(pilot, app)
        row = dlq.selected_queue
        # An empty queue of the account, in the selected row's place.
        sqs = app.session.ctx.client("sqs", row.region)
        url = sqs.create_queue(QueueName="empty-test-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        dlq.queues[row.arn] = dlq_source.QueueRow(dataclasses.replace(
            row.info, name="empty-test-dlq", arn=arn, url=url, visible=0, in_flight=0, delayed=0))
        await pilot.press("ctrl+x")  # purge: was a confirmation of "0 messages"
        assert app.screen is dlq and any("nothing to purge" in n.message for n in app._notifications)
        await pilot.press("ctrl+r")  # redrive: its plan (read from the queue) counts nothing visible
        await wait_until(pilot, lambda: any("no visible message to redrive" in n.message for n in app._notifications),
                         what="the redrive notice")
        assert app.screen is dlq


async def test_ctrl_a_applies_from_the_form_and_the_text_follows_the_new_memory(make_app):
    from types import SimpleNamespace

    from textual.widgets import Input

    app = make_app(write=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tuning(pilot, app, "email-sender")
        before, after = screen.fn.memory_mb, screen.fn.memory_mb + 64
        screen.outcome = SimpleNamespace(primary=SimpleNamespace(recommendation=SimpleNamespace(memory_mb=after)))
        screen.refresh_bindings()
        await pilot.press("i")
        assert isinstance(app.focused, Input)
        await pilot.press("ctrl+a")  # was: the input's "line start" until tab moved the focus away
        assert isinstance(app.screen, ConfirmScreen) and f"{before} MB → {after} MB" in app.screen.change.count
        await pilot.press("y")
        try:
            await wait_until(pilot, lambda: screen.fn.memory_mb == after, what="the applied memory")
            status = str(screen.query_one("#tuning-status").render())
            assert f"now {after} MB" in status and f"now {before} MB" not in status  # was: the old size
        finally:
            app.session.ctx.call("lambda", screen.fn.region, "update_function_configuration",
                                 FunctionName="email-sender", MemorySize=before)
