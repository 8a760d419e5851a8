"""Issue 16 in a k9s user's hands: app keys on every screen, inputs focused only on request, esc
leaving the input only, ctrl+c, keys before the first frame, the fleet at 80x24 and its filter, the
Logs tab's follow mode (pilot tests against the demo account)."""

from __future__ import annotations

import boto3
import pytest
from textual.widgets import Input, RichLog, TabbedContent

from tests.tui.harness import ReplayReads, fleet_ready, open_function, settle, wait_until
from lambdaops.tui.screens.fleet import FleetScreen
from lambdaops.tui.screens.help import HelpScreen
from lambdaops.tui.screens.tuning import TuningScreen
from lambdaops.tui.widgets.findings_strip import FindingsStrip
from lambdaops.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import SIZE

pytestmark = pytest.mark.e2e


async def test_logs_tab_leaves_app_keys_alone_and_esc_leaves_only_the_input(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "checkout-api")
        screen = app.screen
        tabs = screen.query_one(TabbedContent)
        await pilot.press("2")
        assert tabs.active == "logs"
        assert not isinstance(app.focused, Input)  # was: the query took focus and "3" typed into it
        query = screen.query_one("#query", Input)
        before = query.value
        await pilot.press("3")
        assert tabs.active == "traces" and query.value == before
        await pilot.press("2", "i")
        assert app.focused is query
        await pilot.press("end", "x")
        assert query.value == before + "x"
        await pilot.press("escape")  # was: left the whole function screen and lost the query
        assert app.screen is screen and not isinstance(app.focused, Input)
        assert query.value == before + "x"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)


async def test_tuning_screen_keeps_q_and_opens_with_u(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "checkout-api", tab="tuning")
        await pilot.press("u")  # the launcher says "Open power tuning (u)"
        await settle(pilot, app)
        assert isinstance(app.screen, TuningScreen)
        memory = app.screen.query_one("#memory", Input)
        assert not isinstance(app.focused, Input)  # was: q replaced the memory list
        value = memory.value
        await pilot.press("i")
        assert app.focused is memory
        await pilot.press("escape")
        assert isinstance(app.screen, TuningScreen) and memory.value == value
        await pilot.press("q")
        assert app.exiting


async def test_ctrl_c_quits_even_from_an_input(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("slash", "a")
        assert isinstance(app.focused, Input)
        await pilot.press("ctrl+c")
        assert app.exiting


async def test_keys_before_the_first_frame_are_not_replayed_into_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # past the timer that opens the keys (on a loaded machine it fired between the presses)
        await wait_until(pilot, lambda: app.keys_open, timeout=10, what="the first frame")
        app.keys_open = False  # as before the first frame
        await pilot.press("slash", "backspace", "x")
        assert app.fleet_screen.table.filter_text == ""
        assert not isinstance(app.focused, Input)


async def test_fleet_at_80x24_and_the_filter_follows_findings_and_fields(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await fleet_ready(pilot, app)
        table = app.screen.query_one("#fleet", VirtualTable)
        assert [c.key for c in table.shown_columns] == ["name", "error_rate", "cold_start_rate", "duration_p99_ms",
                                                        "dlq_depth", "cost_usd", "finding"]
        await pilot.press("slash", *"checkout", "enter")
        names = {table.model.keys[i].split("/")[1] for i in table.view}
        assert names and all("checkout" in n for n in names)
        strip = app.screen.query_one(FindingsStrip)
        assert {t.key.split("/")[1] for t in strip._targets} <= names  # was: image-resize listed too
        await pilot.press("escape", "slash", *"zzz", "enter")
        assert not table.view and "zzz" in table.empty_text and "regions" not in table.empty_text
        await pilot.press("escape", "slash", *"!ok", "enter")
        assert any(table.model.keys[i].endswith("/webhook-receiver") for i in table.view)
        await pilot.press("escape", "slash", *"region:eu-west-1", "enter")
        assert table.view and all(table.model.keys[i].startswith("eu-west-1/") for i in table.view)
        await pilot.press("escape", "w")
        assert len(table.shown_columns) == len(table.model.columns)
        await pilot.press("right")
        first = table.scroll_offset.x
        assert first == table._widths[1] + 1  # one whole column, not one character


async def test_follow_mode_shows_new_report_lines(make_app, demo):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "checkout-api", tab="logs")
        await pilot.press("f")
        pane = app.screen.query_one("LogsPane")
        assert pane.follow
        live = app.screen.query_one("#live", RichLog)
        status = app.screen.query_one("#logs-status")
        await wait_until(pilot, lambda: "polling" in str(status.render()), timeout=30, what="the follow status")
        lam = boto3.client("lambda", region_name="us-east-1", endpoint_url=demo.endpoint, aws_access_key_id="demo",
                           aws_secret_access_key="demo")
        lam.invoke(FunctionName="checkout-api", Payload=b"{}")
        await wait_until(pilot, lambda: any("REPORT" in strip.text for strip in live.lines), timeout=30,
                         what="the REPORT line of a new invocation")
        await pilot.press("f")
        assert not pane.follow


async def test_the_fleet_header_is_on_the_first_frame(make_app):
    app = make_app()
    app.connect = lambda: None  # as if AWS had not answered yet
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        table = app.fleet_screen.query_one("#fleet", VirtualTable)
        assert table.model.columns and not len(table.model)  # before any row arrived
        assert "Function" in app.export_screenshot()


async def test_the_rows_do_not_wait_for_the_account_id(make_app):
    import threading

    from lambdaops.tui.fleet_model import PENDING
    from lambdaops.tui.session import Session
    from lambdaops.tui.widgets.status_header import StatusHeader

    sts_may_answer = threading.Event()

    class SlowSts(Session):
        def account_id(self):
            assert sts_may_answer.wait(30)
            return "123456789012"

    class InventoryOnly(ReplayReads):  # the figures are not this test's: no collection of seconds
        def sparklines(self, functions, window):
            return {}

        def collect(self, window, progress=None, on_metrics=None):
            raise RuntimeError("no snapshot in this test")

    app = make_app(session_cls=SlowSts, reads_cls=InventoryOnly)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.fleet_screen.query_one("#fleet", VirtualTable)
        await wait_until(pilot, lambda: len(table.model) > 0, timeout=30, what="the inventory's rows")
        assert app.account == PENDING and f" {PENDING}" in app.screen.query_one(StatusHeader).render().plain
        sts_may_answer.set()
        await wait_until(pilot, lambda: app.account == "123456789012", timeout=30, what="the account id")
        assert "123456789012" in app.screen.query_one(StatusHeader).render().plain
        await wait_until(pilot, lambda: not app.polling, timeout=30, what="the end of the poll")


async def test_the_fleet_key_bar_comes_after_the_first_frame(make_app):
    from textual.widgets import Footer

    from lambdaops.tui.screens.fleet import FleetScreen

    # Not composed with the frame (its keys cost three times the rest of it), mounted right after.
    assert not any(isinstance(w, Footer) for w in FleetScreen().compose())
    app = make_app()
    app.connect = lambda: None
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.2)
        (bar,) = app.fleet_screen.query(Footer)
        await wait_until(pilot, lambda: len(bar.children) > 5, timeout=10, what="the key bar's keys")


async def test_metric_columns_fill_before_logs_insights_answers(make_app):
    app = make_app()
    shown, show = [], app.fleet_screen.show_rows

    def record(msg):
        shown.append(msg)
        show(msg)

    app.fleet_screen.show_rows = record
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
    stages = [m.stage for m in shown]
    assert "metrics" in stages and stages.index("metrics") < stages.index("snapshot")
    # the regions' metric stages (one a region, the rows of those before kept), then the snapshot
    metrics = shown[stages.index("snapshot") - 1].model
    snapshot = shown[stages.index("snapshot")].model
    col = {c.key: i for i, c in enumerate(metrics.columns)}
    row = metrics.cells[metrics.row_of("us-east-1/checkout-api")]
    assert row[col["error_rate"]] not in ("…", "?", "-") and row[col["duration_p99_ms"]] not in ("…", "?", "-")
    assert row[col["cold_start_rate"]] == row[col["cost_usd"]] == row[col["finding"]] == "…"  # Insights: waiting
    done = snapshot.cells[snapshot.row_of("us-east-1/checkout-api")]
    assert "…" not in (done[col["cold_start_rate"]], done[col["cost_usd"]])
    assert done[col["error_rate"]] == row[col["error_rate"]]


async def test_breadcrumbs_follow_the_screens_open_and_error_rows_open_whole(make_app):
    from lambdaops.tui.screens.error_log import ErrorDetailScreen, ErrorLogScreen
    from lambdaops.tui.widgets.status_header import StatusHeader

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        app.run_command("fn checkout-api")
        await settle(pilot, app)
        app.run_command("dlq")
        await settle(pilot, app)
        assert app.screen.query_one(StatusHeader).path() == "Fleet / checkout-api / DLQs"  # was: Fleet / DLQs
        long = "ListFunctions failed in x (500): <!doctype html><html><title>Bad Gateway</title>" + "y" * 400
        app.record_error("inventory x", long)
        await pilot.press("E")
        assert isinstance(app.screen, ErrorLogScreen)
        await pilot.press("end", "enter")  # was: nothing
        assert isinstance(app.screen, ErrorDetailScreen) and app.screen.entry.text == long
        assert app.run_command("regions us-east-1,mars-north-1") is None  # refused with a notice
        assert "mars-north-1" not in app.session.regions


async def test_after_a_write_the_touched_row_changes_at_once(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        table = app.fleet_screen.query_one("#fleet", VirtualTable)
        col = {c.key: i for i, c in enumerate(table.model.columns)}
        key = next(k for k in table.model.keys
                   if any(f.code == "dlq_not_empty" for f in (app.record_of(k) or {}).get("findings") or []))
        app.after_write(key, dlq_depth=0)  # a redrive emptied its DLQ: no minute of the old depth
        row = table.model.cells[table.model.row_of(key)]
        assert row[col["dlq_depth"]] == "0"
        assert "DLQ holds" not in row[col["finding"]]
        app.after_write(key, memory_mb=1024)  # a memory applied by tuning
        assert app.function_by_key(key).memory_mb == 1024
