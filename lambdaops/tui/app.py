"""The lambdaops Textual app: the fleet poll loop, navigation between screens, errors, write mode.

Refresh (Dolphie's loop): one poll at a time. A poll is a thread worker that lists the functions
(first paint), then fetches sparklines and the full snapshot; when it finishes, well or not, the next
poll is scheduled ``refresh`` seconds later, so polls never overlap. Changing the window or the
regions, or pressing ``r``, bumps the generation: results of the older request are dropped when they
arrive. ``p`` pauses (the timer is not re-armed). Nothing here calls AWS on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from textual import events, work
from textual.app import App, SystemCommand
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from lambdaops.safe_text import safe_text
from lambdaops.tui import format as fmt
from lambdaops.tui.reads import Reads
from lambdaops.tui.session import Session, error_text
from lambdaops.tui.bindings import GLOBAL, WRITE_ACTIONS, bindings
from lambdaops.tui.commands import palette_commands, run_command, suggestions
from lambdaops.tui.fleet_fetch import fetch_fleet
from lambdaops.tui.fleet_model import PENDING, build_fleet_model, missing_figures
from lambdaops.tui.messages import AccountKnown, Connected, FleetDone, FleetProgress, FleetRows, WorkFailed
from lambdaops.tui.quick_exit import DaemonExecutor, quick_driver
from lambdaops.tui.screens.fleet import FleetScreen
from lambdaops.tui.tuning_traffic import TuningTraffic


FIRST_FRAME_S = 0.2  # keys are taken this long after mount: the first frame is up by then


@dataclass
class ErrorEntry:
    at: datetime
    source: str
    text: str


class LambdaopsApp(App):
    TITLE = "lambdaops"
    BINDINGS = bindings(GLOBAL)

    def __init__(self, session: Session, *, reads: Reads | None = None, auto_poll: bool = True) -> None:
        super().__init__()
        self.session = session
        self.reads = reads or Reads(session)  # every read from AWS goes through it, in a worker
        self.auto_poll = auto_poll  # tests and screenshots: one poll, no timer
        self.exiting = False
        # Keys that arrive before the first frame were typed at a shell prompt or while the
        # terminal switched modes (a backspace came through as a literal ``^?`` filter): dropped.
        self.keys_open = False
        self.account: str | None = None
        self.generation = 0
        self.polling = False
        self.progress = ""
        self.paused = False
        self.next_poll_at: datetime | None = None
        self.connected_once = False
        self.profiles: list[str] | None = None  # the profiles ``R`` offers (None: cannot switch)
        self.failed_regions: dict[str, str] = {}  # of the last complete poll: flagged in the header
        self.missing_figures = 0  # of the shown snapshot: figures that could not be fetched (header)
        self.functions: list[Any] = []
        self.snapshot = None
        self.fleet_records: list[dict] | None = None
        self.sparks: dict[str, list[float]] = {}
        self.error_log: list[ErrorEntry] = []
        self.tuning_traffic = TuningTraffic()  # this session's tuning invocations: not the fleet's findings
        self._timer: Timer | None = None
        self.fleet_screen = FleetScreen()

    @property
    def settings_write(self) -> bool:
        return self.session.settings.write

    # -- quitting --------------------------------------------------------------------------
    def exit(self, *args, **kwargs) -> None:
        self.exiting = True
        super().exit(*args, **kwargs)

    async def action_quit(self) -> None:
        """``q`` and ctrl+c: cancel the workers and leave at once; their threads are not waited for
        (see :mod:`lambdaops.tui.quick_exit`)."""
        self.workers.cancel_all()
        self.exit()

    def get_driver_class(self):
        return quick_driver(super().get_driver_class())  # q does not wait for the input thread

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not self.keys_open:
            return
        await super().on_event(event)

    def push_screen(self, screen, *args, **kwargs):
        # Keys typed right after ``q`` ("qu", "q" then enter) are still delivered while the app
        # closes; a screen pushed then is never composed and its on_mount raises (a traceback and
        # exit code 1 in the terminal). Nothing new opens once quitting has begun.
        if self.exiting:
            return None
        return super().push_screen(screen, *args, **kwargs)

    # -- start -----------------------------------------------------------------------------
    def run(self, *args, **kwargs):
        # What was typed at the shell while Python started (a backspace, a stray /) sits in the
        # terminal's input queue: discarded before the app reads it, or it became a filter.
        import sys

        try:
            import termios

            if sys.stdin is not None and sys.stdin.isatty():
                termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
        except (ImportError, OSError, ValueError):
            pass
        return super().run(*args, **kwargs)

    def on_load(self) -> None:
        import asyncio

        asyncio.get_running_loop().set_default_executor(DaemonExecutor())

    def on_mount(self) -> None:
        self.push_screen(self.fleet_screen)
        # Keys open once the first frame is up (a short timer after mount).
        self.set_timer(FIRST_FRAME_S, self._open_keys)
        # After the first frame: the demo account's start-up holds the GIL for seconds.
        self.call_after_refresh(self.connect)

    def _open_keys(self) -> None:
        self.keys_open = True

    @work(thread=True, exclusive=True, exit_on_error=False, group="connect")
    def connect(self) -> None:
        try:
            ctx = self.session.ctx  # the demo account starts here, with the frame already on screen
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.post_message(WorkFailed("connect", error_text(exc)))
            return
        # The fleet is listed while STS says whose account it is: the rows do not wait for that call.
        self.post_message(Connected(None, list(ctx.regions), account_due=True))
        try:
            account = self.session.account_id()
            profiles = self.session.profiles() if self.session.can_switch_profile else None
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.post_message(WorkFailed("connect", error_text(exc)))
            account, profiles = None, None
        self.post_message(AccountKnown(account, profiles))

    @work(thread=True, exclusive=True, exit_on_error=False, group="connect")
    def switch_profile(self, profile: str, regions: list[str]) -> None:
        try:
            account = self.session.switch_profile(profile, regions)
            profiles = self.session.profiles()
        except Exception as exc:  # noqa: BLE001 - the old profile stays on screen
            self.post_message(WorkFailed(f"profile {profile}", error_text(exc)))
            return
        self.post_message(Connected(account, self.session.regions, profiles, switched=True))

    def on_connected(self, msg: Connected) -> None:
        self.account = PENDING if msg.account_due else msg.account  # the header says it is coming
        self.profiles = msg.profiles
        self.connected_once = True
        if msg.switched:
            # Another account: nothing on screen belongs to it; back to its fleet.
            self.go_home()
            self.functions, self.sparks = [], {}
            self.snapshot = self.fleet_records = None
            self.failed_regions = {}
            self.notify(f"watching profile {self.session.profile} (account {msg.account or '?'})")
            self.poll(relist=True)
        else:
            self.fleet_screen.table.empty_text = "listing functions…"
            self.poll()
        self.refresh_headers()

    def on_account_known(self, msg: AccountKnown) -> None:
        if self.account != PENDING:
            return  # a profile switched meanwhile: its own account is shown
        self.account = msg.account
        self.profiles = msg.profiles
        self.refresh_headers()

    # -- the fleet poll --------------------------------------------------------------------
    def poll(self, *, relist: bool = False) -> None:
        """Start a poll now, cancelling the pending timer; whatever is still in flight becomes stale.
        ``relist``: show the bare inventory first (start, new regions or window) instead of keeping
        the current figures on screen until the new ones arrive."""
        if not self.connected_once:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.generation += 1
        self.polling = True
        self.next_poll_at = None
        self.fetch_fleet(self.generation, first_paint=relist or not self.functions)

    @work(thread=True, exclusive=True, exit_on_error=False, group="fleet")
    def fetch_fleet(self, generation: int, first_paint: bool) -> None:
        fetch_fleet(self, generation, first_paint, get_current_worker())

    def on_fleet_rows(self, msg: FleetRows) -> None:
        if msg.generation != self.generation:
            return  # stale: a newer request is under way
        if self.closing:
            return
        self.functions = msg.functions
        if msg.sparks:
            self.sparks = msg.sparks
        if msg.snapshot is not None:
            self.snapshot, self.fleet_records = msg.snapshot
            self.missing_figures = missing_figures(self.fleet_records)
        self.fleet_screen.show_rows(msg)

    def on_fleet_progress(self, msg: FleetProgress) -> None:
        if msg.generation == self.generation:
            self.progress = msg.text
            self.refresh_headers()

    @property
    def closing(self) -> bool:
        """Quitting, or the screens are being taken down: a poll that answers now draws nothing."""
        return self.exiting or not self.screen_stack or not self.fleet_screen.ready

    def refresh_headers(self) -> None:
        from lambdaops.tui.widgets.status_header import StatusHeader

        if self.closing:
            return

        for header in self.screen.query(StatusHeader):
            header.refresh()

    def on_fleet_done(self, msg: FleetDone) -> None:
        if msg.generation != self.generation or self.closing:
            return
        if msg.ok:
            self.failed_regions = msg.failed_regions
        self.polling = False
        self.progress = ""
        self.fleet_screen.update_status()
        self.schedule_poll()
        self.refresh_headers()

    def schedule_poll(self) -> None:
        if self.paused or not self.auto_poll:
            return
        every = self.session.settings.refresh_s
        self.next_poll_at = self.session.now() + timedelta(seconds=every)
        self._timer = self.set_timer(every, self.tick)

    def tick(self) -> None:
        """The automatic refresh: the fleet, and the screen in front if it shows live data. Skipped
        for that screen while a modal is open (the user is busy with it; the next tick catches up)."""
        self.poll()
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh) and not isinstance(self.screen, ModalScreen):
            refresh(quiet=True)

    def after_write(self, key: str, *, memory_mb: int | None = None, dlq_depth: int | None = None) -> None:
        """A write changed one function (a memory applied, a DLQ redriven or purged, a tuning run
        ended): its row shows what is known now at once, without waiting a refresh period, and a poll
        starts to confirm it. ``dlq_depth``: the messages left in its DLQs as the write counted them."""
        import dataclasses

        fn = self.function_by_key(key)
        if fn is not None and memory_mb is not None:
            self.functions = [dataclasses.replace(f, memory_mb=memory_mb) if f is fn else f for f in self.functions]
        if dlq_depth is not None:
            record = self.record_of(key)
            if record is not None:
                record["dlq_depth"] = dlq_depth
                if dlq_depth == 0:  # the finding it raised no longer holds
                    record["findings"] = [f for f in record.get("findings") or [] if f.code != "dlq_not_empty"]
        if self.fleet_records is not None and self.snapshot is not None:
            self.fleet_records = self.without_tuning(self.fleet_records, self.snapshot.window)
        label = fmt.window_label(self.session.settings.window_s)
        model = build_fleet_model(self.functions, self.fleet_records, self.sparks, window_label=label)
        self.fleet_screen.show_rows(FleetRows(self.generation, "snapshot" if self.fleet_records else "inventory",
                                              model, self.functions))
        if memory_mb is not None:
            self.reads.relist_next = True  # the kept listing has the old memory size
        self.poll(relist=memory_mb is not None)

    def without_tuning(self, records: list[dict], window) -> list[dict]:
        """The rows with the findings of functions this session tuned worked out without its own
        test invocations (:mod:`lambdaops.tui.tuning_traffic`)."""
        return self.tuning_traffic.apply(records, window.start, window.end, self.session.settings.thresholds)

    # -- errors ----------------------------------------------------------------------------
    def on_work_failed(self, msg: WorkFailed) -> None:
        if msg.generation is not None and msg.generation != self.generation:
            return
        self.record_error(msg.source, msg.error)

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every notification of the app (screens' and widgets' ``notify`` end here): its text names
        functions, queues and AWS's own error messages, so it is escaped and never read as markup
        (``upstream call [/api/v1/orders] failed`` once crashed the app). No caller passes markup."""
        super().notify(safe_text(str(message), 2000, single_line=False), title=safe_text(str(title), 200),
                       severity=severity, timeout=timeout, markup=False)

    def record_error(self, source: str, text: str) -> None:
        self.error_log.append(ErrorEntry(self.session.now(), source, text))
        # The toast: one line (an HTML error page reduced to its title); the log keeps it all.
        self.notify(fmt.error_summary(text), title=source, severity="error", timeout=8)
        if self.fleet_screen.is_mounted:
            self.fleet_screen.update_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The safety net: a worker that raised (a bug) is logged and shown, and the app goes on.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.record_error(f"worker {event.worker.group}", error_text(event.worker.error))
            if event.worker.group == "fleet":
                self.polling = False
                self.schedule_poll()

    # -- global actions --------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and not self.settings_write:
            return False
        return True

    def action_refresh(self) -> None:
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()
        else:
            self.reads.relist_next = True  # r: list the functions afresh, not a listing kept for minutes
            self.poll()

    def action_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.next_poll_at = None
            self.notify("automatic refresh paused (p resumes)")
        else:
            self.notify("automatic refresh resumed")
            if not self.polling:
                self.poll()

    def set_window(self, seconds: int) -> None:
        self.session.settings.window_s = seconds
        self.snapshot = self.fleet_records = None
        self.poll(relist=True)
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()

    def set_regions(self, regions: list[str]) -> str | None:
        """Watch ``regions``; a name that is no region of the partition refuses the change (its
        text, for the caller to show)."""
        from lambdaops.aws.regions import partition_of, unknown_regions

        current = self.session.regions or ["us-east-1"]
        bad = unknown_regions(regions, partition_of(current[0]))
        if bad:
            return f"no such region: {', '.join(bad)} (regions unchanged)"
        self.session.set_regions(regions)
        self.snapshot = self.fleet_records = None
        self.poll(relist=True)

    def action_window(self) -> None:
        from lambdaops.tui.screens.window import WindowScreen

        self.push_screen(WindowScreen(self.session.settings.window_s),
                         lambda seconds: seconds and self.set_window(seconds))

    def action_regions(self) -> None:
        from lambdaops.tui.screens.regions import RegionsScreen

        if not self.session.connected:
            self.notify("still connecting to AWS", severity="warning")
            return
        self.push_screen(RegionsScreen(self.session.regions, self.known_regions(), profile=self.session.profile,
                                       profiles=self.profiles), self.apply_where)

    def apply_where(self, where) -> None:
        """What ``R`` was closed with: a new profile (checked in a worker; its regions are the
        ones chosen), else new regions."""
        if where is None:
            return
        if where.profile:
            self.switch_profile(where.profile, where.regions or self.session.regions)
        elif where.regions and where.regions != self.session.regions:
            problem = self.set_regions(where.regions)
            if problem:
                self.notify(problem, severity="error")

    def known_regions(self) -> list[str]:
        found = {f.region for f in self.functions}
        return sorted(found | set(self.session.regions) | {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
                                                            "ap-southeast-1", "ap-northeast-1"})

    def action_help(self) -> None:
        from lambdaops.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_errors(self) -> None:
        from lambdaops.tui.screens.error_log import ErrorLogScreen

        if not isinstance(self.screen, ErrorLogScreen):
            self.push_screen(ErrorLogScreen(self.error_log))

    def action_command_line(self) -> None:
        from lambdaops.tui.screens.command_line import CommandLineScreen

        self.push_screen(CommandLineScreen(self.command_suggestions()),
                         lambda text: text and self.run_command(text))

    def run_command(self, text: str) -> None:
        problem = run_command(self, text)
        if problem:
            self.notify(problem, severity="warning")

    def command_suggestions(self) -> list[str]:
        return suggestions(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        return palette_commands(self)  # the palette offers what ":" offers

    # -- navigation ------------------------------------------------------------------------
    def function_by_key(self, key: str | None):
        if not key:
            return None
        return next((f for f in self.functions if f"{f.region}/{f.name}" == key), None)

    def record_of(self, key: str) -> dict | None:
        return next((r for r in self.fleet_records or [] if f"{r['region']}/{r['name']}" == key), None)

    def go_home(self) -> None:
        while len(self.screen_stack) > 2:  # [default screen, fleet, ...]
            self.pop_screen()

    def open_function(self, key: str, tab: str | None = None) -> None:
        from lambdaops.tui.screens.function import FunctionScreen

        fn = self.function_by_key(key)
        if fn is None:
            self.notify(f"no function {key} in the fleet (yet)", severity="warning")
            return
        self.push_screen(FunctionScreen(fn, tab=tab))

    def open_dlq(self, key: str | None = None, queue_arn: str | None = None) -> None:
        from lambdaops.tui.screens.dlq import DlqScreen

        self.push_screen(DlqScreen(focus_function=self.function_by_key(key), focus_queue=queue_arn))

    def open_tuning(self, key: str | None) -> None:
        from lambdaops.tui.screens.tuning import TuningScreen

        fn = self.function_by_key(key)
        if fn is None:
            self.notify("select a function to tune first", severity="warning")
            return
        self.push_screen(TuningScreen(fn))
