"""Every screen and binding, driven from the keyboard against the demo account (pilot tests)."""

from __future__ import annotations

import dataclasses
import io
import threading

import pytest
from rich.console import Console
from textual import events
from textual.widgets import Input

from lambdaops.demo.fleet import build_fleet
from tests.tui.harness import ReplayReads, fleet_ready, open_function, settle
from lambdaops.tui import dlq_source
from lambdaops.tui.messages import FleetRows
from lambdaops.tui.screens.command_line import CommandLineScreen
from lambdaops.tui.screens.dlq import DlqScreen, message_detail
from lambdaops.tui.screens.error_log import ErrorLogScreen
from lambdaops.tui.screens.export_path import ExportPathScreen
from lambdaops.tui.screens.fleet import FleetScreen
from lambdaops.tui.screens.function import FunctionScreen
from lambdaops.tui.screens.help import HelpScreen
from lambdaops.tui.screens.regions import RegionsScreen
from lambdaops.tui.screens.trace import TraceScreen
from lambdaops.tui.screens.tuning import TuningScreen
from lambdaops.tui.screens.window import WindowScreen
from lambdaops.tui.table_model import TableModel
from lambdaops.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import SIZE

pytestmark = pytest.mark.e2e
FLEET_SIZE = len(build_fleet())  # the demo account's named fleet


async def test_fleet_paints_then_fills_in_and_filters_and_sorts(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#fleet", VirtualTable)
        assert isinstance(app.screen, FleetScreen)
        await fleet_ready(pilot, app)
        assert len(table.model) == FLEET_SIZE
        assert app.account == "123456789012"
        first = table.model.cells[table.view[0]]
        assert first[-1].startswith("✖")  # worst first
        assert app.fleet_screen.query_one("#findings").option_count > 0

        await pilot.press("slash", *"orders", "enter")
        assert table.filter_text == "orders"
        assert {table.model.keys[i].split("/")[1] for i in table.view} >= {"orders-api", "order-queue-worker"}
        assert all("orders" in table.model.search[i] for i in table.view)
        assert app.focused is table

        await pilot.press("s")  # first sortable column: name
        assert table.sort_key == "name"
        names = [table.model.keys[i].split("/")[1] for i in table.view]
        assert names == sorted(names)
        await pilot.press("S")
        assert table.descending
        await pilot.press("escape")
        assert table.filter_text == "" and len(table.view) == FLEET_SIZE


async def test_enter_opens_a_function_and_escape_comes_back(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        table = app.screen.query_one("#fleet", VirtualTable)
        await pilot.press("down", "enter")
        screen = app.screen
        assert isinstance(screen, FunctionScreen)
        assert f"{screen.fn.region}/{screen.fn.name}" == table.selected_key
        await settle(pilot, app)
        overview = screen.query_one("FunctionOverview")
        assert overview.chart("traffic").message == ""  # drawn, not "loading" or an error
        assert overview.chart("duration").series
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)
        assert table.selected_key == f"{screen.fn.region}/{screen.fn.name}"


async def test_findings_strip_jumps_to_the_function(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("tab")
        assert app.focused.id == "findings"
        target = app.fleet_screen.query_one("#findings")._targets[0]
        await pilot.press("enter")
        assert isinstance(app.screen, (FunctionScreen, DlqScreen))
        if isinstance(app.screen, FunctionScreen):
            assert f"{app.screen.fn.region}/{app.screen.fn.name}" == target.key


async def test_function_tabs_logs_traces_dlqs_tuning(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "checkout-api")
        screen = app.screen

        await pilot.press("2")  # Logs: run the preselected query file
        await pilot.press("i", "enter")  # the query takes focus only when asked (issue 16)
        logs = screen.query_one("LogsPane")
        await settle(pilot, app)
        rows = logs.query_one(VirtualTable)
        assert len(rows.model) > 0, logs.query_one("#logs-status").render()
        traced = next(i for i, r in enumerate(logs.rows) if r.get("traceId"))
        rows.move_to_key(str(traced))
        await pilot.press("enter")
        assert isinstance(app.screen, TraceScreen)
        await settle(pilot, app)
        assert app.screen.trace is not None and app.screen.trace.spans
        await pilot.press("escape")

        await pilot.press("3")  # Traces
        await settle(pilot, app)
        traces = screen.query_one("TracesPane")
        assert traces.traces, "no traces listed"
        await pilot.press("enter")
        assert isinstance(app.screen, TraceScreen)
        kinds = {s.kind for s in app.screen.trace.spans}
        assert {"Invocation", "Overhead"} <= kinds
        await pilot.press("escape")

        await pilot.press("5")  # Tuning tab: the way to the tuning screen
        await pilot.click("#open-tuning")
        assert isinstance(app.screen, TuningScreen)
        await pilot.press("escape")
        assert app.screen is screen


async def test_function_dlqs_tab_opens_the_dlq_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "order-queue-worker", tab="dlqs")
        await pilot.press("4")
        await settle(pilot, app)
        table = app.screen.query_one("#fn-queues")
        assert table.row_count == 1
        await pilot.press("enter")
        dlq = app.screen
        assert isinstance(dlq, DlqScreen)
        await settle(pilot, app)
        assert dlq.selected_queue is not None and dlq.selected_queue.name == "orders-dlq"
        assert len(dlq.queues) >= 10
        assert dlq.messages, "the queue's messages were not read"
        first = dlq.messages[0]
        assert first.shape == "sqs-message" and first.source_arn.endswith(":orders-queue")
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(message_detail(first))
        detail = console.export_text()
        assert "Original event" in detail and first.message_id in detail
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, FleetScreen)


async def test_dlq_screen_decodes_messages_and_exports(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("d")
        await settle(pilot, app)
        dlq = app.screen
        names = list(dlq.queues)
        depths = [q.depth or 0 for q in dlq.queues.values()]
        assert depths == sorted(depths, reverse=True)  # fullest first
        # Ages as of the session's (frozen) clock: the demo's CloudWatch data ends there.
        ages = {q.name: q.oldest_s for q in dlq.queues.values() if q.depth}
        assert all(age and age > 0 for age in ages.values()), ages
        assert "image-resize" in dlq.selected_queue.serves  # the function under the fleet cursor
        lambda_dlq = next(q for q in dlq.queues.values() if q.name == "payments-async-dlq")
        dlq.query_one("#queues").move_cursor(row=names.index(lambda_dlq.arn))
        await settle(pilot, app)
        m = dlq.messages[0]
        assert m.shape == "lambda-dlq" and m.request_id and m.error_message
        await pilot.press("x")  # asks where first (was: wrote without asking)
        ask = app.screen
        assert isinstance(ask, ExportPathScreen)
        default = ask.query_one("#export-path", Input).value
        assert default.startswith(str(tmp_path / "data" / "lambdaops" / "exports" / "payments-async-dlq-"))
        await pilot.press("enter")
        await settle(pilot, app)
        # dlq export's file (verified, never over another file) in the user's data directory, not the cwd
        assert not list(tmp_path.glob("*.jsonl"))
        files = list((tmp_path / "data" / "lambdaops" / "exports").glob("payments-async-dlq-*.jsonl"))
        assert len(files) == 1 and len(files[0].read_text().splitlines()) == lambda_dlq.depth
        assert oct(files[0].stat().st_mode & 0o777) == oct(0o600)
        # Another file: an existing one is refused in the modal, which stays open; then a new one.
        await pilot.press("x")
        box = app.screen.query_one("#export-path", Input)
        box.value = str(files[0])
        await pilot.press("enter")
        assert isinstance(app.screen, ExportPathScreen)
        assert "already exists" in str(app.screen.query_one("#export-problem").render())
        box.value = str(tmp_path / "mine.jsonl")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.screen is dlq and len((tmp_path / "mine.jsonl").read_text().splitlines()) == lambda_dlq.depth
        # An empty queue: a notice, no modal.
        dlq.queues[lambda_dlq.arn] = dlq_source.QueueRow(dataclasses.replace(
            lambda_dlq.info, visible=0, in_flight=0, delayed=0))
        await pilot.press("x")
        assert app.screen is dlq and any("nothing to export" in n.message for n in app._notifications)


async def test_global_keys_help_window_regions_errors_pause_refresh(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")

        await pilot.press("t")
        assert isinstance(app.screen, WindowScreen)
        await pilot.press("up", "enter")  # 3h -> 1h
        assert app.session.settings.window_s == 3600
        await fleet_ready(pilot, app)
        assert app.snapshot.window.seconds == 3600

        await pilot.press("R")
        assert isinstance(app.screen, RegionsScreen)
        await pilot.press("escape")
        assert app.session.regions == ["us-east-1", "eu-west-1"]

        await pilot.press("E")
        assert isinstance(app.screen, ErrorLogScreen)
        await pilot.press("escape")

        await pilot.press("p")
        assert app.paused
        await pilot.press("p")
        assert not app.paused
        await fleet_ready(pilot, app)

        generation = app.generation
        await pilot.press("r")
        assert app.generation == generation + 1
        await fleet_ready(pilot, app)


async def test_R_switches_the_profile_and_a_failing_one_keeps_the_old(make_app, demo):
    from textual.widgets import Select

    from lambdaops.errors import ConfigError
    from tests.tui.harness import demo_context

    asked = []

    def for_profile(name, regions):
        asked.append((name, regions))
        if name == "expired":
            raise ConfigError("the SSO session of profile 'expired' has expired", hint="run: aws sso login")
        ctx = demo_context(demo)
        ctx.profile, ctx.regions = name, regions
        return ctx

    app = make_app(for_profile=for_profile, profiles=lambda: ["expired", "staging"])

    async def choose(profile):
        await pilot.press("R")
        screen = app.screen
        assert isinstance(screen, RegionsScreen)
        screen.query_one("#profile", Select).value = profile
        screen.query_one("#apply").focus()
        await pilot.press("enter")
        await settle(pilot, app)

    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        assert app.profiles == ["expired", "staging"]
        before = app.session.ctx
        await choose("expired")
        assert app.error_log and app.error_log[-1].source == "profile expired"
        assert "expired" in app.error_log[-1].text
        assert app.session.ctx is before and app.session.profile is None  # still watching the old one
        assert str(app.fleet_screen.query_one("#fleet-status").render()).endswith("· 1 error (E)")

        await choose("staging")
        await fleet_ready(pilot, app)
        assert asked[-1][0] == "staging" and sorted(asked[-1][1]) == ["eu-west-1", "us-east-1"]
        assert app.session.profile == "staging" and app.session.label == "staging"
        assert app.session.ctx is not before and app.account == "123456789012"
        assert len(app.functions) == FLEET_SIZE and app.snapshot is not None
        assert isinstance(app.screen, FleetScreen)


async def test_the_demo_session_offers_no_profile_switch(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        assert app.profiles is None
        await pilot.press("R")
        assert not app.screen.query("#profile")
        assert "demo account has one" in str(app.screen.query_one(".muted").render())


async def test_command_line_and_palette_offer_the_same_commands(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("colon")
        assert isinstance(app.screen, CommandLineScreen)
        await pilot.press(*"fn tax-calculator", "enter")
        assert isinstance(app.screen, FunctionScreen) and app.screen.fn.name == "tax-calculator"
        await pilot.press("colon", *"fleet", "enter")
        assert isinstance(app.screen, FleetScreen)
        await pilot.press("colon", *"dlq", "enter")
        assert isinstance(app.screen, DlqScreen)
        await pilot.press("colon", *"fleet checkout", "enter")
        assert app.fleet_screen.table.filter_text == "checkout"
        await pilot.press("colon", *"bogus", "enter")
        assert isinstance(app.screen, FleetScreen)

        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {":fleet", ":dlq", ":refresh", ":pause", ":help", ":errors", ":quit"} <= titles
        assert ":fn checkout-api" in titles


async def test_stale_results_are_dropped(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        table = app.fleet_screen.table
        before = table.model
        app.post_message(FleetRows(app.generation - 1, "snapshot", TableModel(()), []))
        await pilot.pause(0.1)
        assert table.model is before and app.functions


async def test_an_aws_failure_is_a_notification_not_a_crash(make_app):
    class Failing(ReplayReads):
        def charts(self, fn, window):
            raise RuntimeError("GetMetricData exploded")

    app = make_app(reads_cls=Failing)
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "checkout-api")
        assert any("exploded" in e.text for e in app.error_log)
        assert "exploded" in app.screen.query_one("FunctionOverview").chart("traffic").message
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)


async def test_a_failing_region_is_flagged_and_the_others_shown(make_app, demo):
    from botocore import exceptions as bx

    from tests.tui.harness import demo_context
    from lambdaops.tui.widgets.status_header import StatusHeader

    ctx = demo_context(demo)
    original = ctx._instrument

    def deny(**kw):
        raise bx.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListFunctions")

    def instrument(cli, service, region):
        original(cli, service, region)
        if (service, region) == ("lambda", "eu-west-1"):
            cli.meta.events.register("before-call.lambda.ListFunctions", deny)

    ctx._instrument = instrument
    app = make_app(ctx=ctx, cache={})
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        assert app.functions and {f.region for f in app.functions} == {"us-east-1"}
        assert set(app.failed_regions) == {"eu-west-1"} and "access denied" in app.failed_regions["eu-west-1"]
        header = str(app.screen.query_one(StatusHeader).render())
        assert "eu-west-1 ✖" in header and "us-east-1 ✖" not in header
        assert any(e.source == "inventory eu-west-1" for e in app.error_log)


async def test_q_quits_cleanly(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("q")
    assert app.return_code in (0, None)


@pytest.mark.parametrize("after", ["u", "d", "enter", "question_mark", "t", "colon"])
async def test_keys_typed_after_q_open_nothing(make_app, after):
    """Typing on after ``q`` (``qu``, a quick ``q`` then ``enter``) must not open a screen into a
    closing app: that crashed with a traceback and exit code 1 in a real terminal."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        # Both keys queued before either is handled, as a terminal delivers a fast "qu".
        for key, char in (("q", "q"), (after, {"question_mark": "?", "colon": ":", "enter": "\r"}.get(after, after))):
            app.post_message(events.Key(key, char))
        await pilot.pause(0.5)
    assert app.return_code == 0


async def test_no_aws_call_runs_on_the_ui_thread(make_app, demo):
    """Every boto3 call of a session that visits every screen is made from a worker thread."""
    from tests.tui.harness import demo_context

    ctx = demo_context(demo)
    threads: list[threading.Thread] = []
    original = ctx._instrument

    def instrument(cli, service, region):
        original(cli, service, region)
        cli.meta.events.register("before-call", lambda **kw: threads.append(threading.current_thread()))

    ctx._instrument = instrument
    app = make_app(ctx=ctx, cache={})  # its own cache: the real collection runs too
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "orders-stream-consumer")
        for tab in ("2", "3", "4"):
            await pilot.press(tab)
            await settle(pilot, app)
        await pilot.press("escape", "d")
        await settle(pilot, app)
        await pilot.press("escape", "u")
        await settle(pilot, app)
    assert len(threads) > 20
    assert threading.main_thread() not in threads
