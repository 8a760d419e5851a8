"""Tuning: a power-tuning run for one function, watched live: progress per memory size, the cost and
duration curves, the results and the recommendation; then Apply.

The engine (:mod:`lambdaops.tuning.engine`, shared with ``lambdaops tune``) does the work and puts the
function back as it was whatever happens (also when this screen is left mid-run: leaving cancels,
and the engine cleans up). This screen builds its options from the form, runs it in a thread worker,
turns its progress events into messages and draws. Start and Apply change the function: bound only
with --write, always confirmed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar, Select, Static

from lambdaops.errors import LambdaopsError, UsageError
from lambdaops.models import FunctionInfo
from lambdaops.safe_text import markup_escaped, rich_text
from lambdaops.tui.session import error_text
from lambdaops.tui.bindings import TUNING, WRITE_ACTIONS, bindings
from lambdaops.tui.screens.confirm import Change, ConfirmScreen
from lambdaops.tui.tuning_source import tuning_api
from lambdaops.tui.tuning_traffic import CountingApi
from lambdaops.tui.widgets.key_input import KeyInput
from lambdaops.tui.widgets.status_header import StatusHeader
from lambdaops.tui.widgets.time_chart import Series, TimeChart

DEFAULT_MEMORY = "128,256,512,1024,1536,3008"
NOT_AVAILABLE = "The power-tuning engine (lambdaops/tuning) is not available: the run cannot start."


def engine():
    """The engine module, or None (the screen then explains instead of failing)."""
    try:
        from lambdaops.tuning import engine as mod
    except ImportError:
        return None
    return mod


@dataclass
class TuningProgress(Message):
    run: int
    event: object  # lambdaops.tuning.engine.TuneEvent

    def can_replace(self, message: Message) -> bool:
        # Invocation ticks of one size arrive in bursts: the latest says it all.
        mine, other = self.event, getattr(message, "event", None)
        return (isinstance(message, TuningProgress) and mine.kind == "invoke" and other is not None
                and other.kind == "invoke" and other.memory_mb == mine.memory_mb)


@dataclass
class MemoryApplied(Message):
    memory_mb: int


@dataclass
class TuningFinished(Message):
    run: int
    outcome: object = None
    error: str | None = None
    restored: bool | None = None  # after an error: None = nothing was changed, False = leftovers remain
    cleanup_hint: str | None = None


class TuningScreen(Screen):
    BINDINGS = bindings(TUNING)
    AUTO_FOCUS = "#results"  # not the memory input: q, ? and : stay the app's keys until i or a click
    DEFAULT_CSS = """
    TuningScreen #form { height: auto; padding: 0 1; }
    TuningScreen #form Input { width: 30; }
    TuningScreen #form Select { width: 22; }
    TuningScreen #form Label { padding: 1 1 0 1; }
    TuningScreen #tuning-status { height: auto; padding: 0 1; }
    TuningScreen #progress { height: auto; padding: 0 1; }
    TuningScreen #charts { height: 14; }
    TuningScreen TimeChart { width: 1fr; height: 14; }
    TuningScreen DataTable { height: 1fr; }
    """

    def __init__(self, fn: FunctionInfo) -> None:
        super().__init__()
        self.fn = fn
        self.crumb_title = f"tuning {fn.name}"
        self.run = 0
        self.sizes: dict[int, str] = {}  # memory -> state text, from the progress events
        self.results: dict[int, object] = {}  # memory -> SizeStats
        self.outcome = None
        self.running = False
        self.cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield StatusHeader(f"Fleet / {self.fn.name} / tuning")
        with Horizontal(id="form"):
            yield Label("Memory MB")
            yield KeyInput(DEFAULT_MEMORY, id="memory")
            yield Label("Invocations")
            yield KeyInput("10", id="invocations", type="integer")
            yield Label("Strategy")
            yield Select([("cost", "cost"), ("speed", "speed"), ("balanced", "balanced")], value="cost",
                         allow_blank=False, id="strategy")
            yield Label("Payload")
            yield KeyInput("{}", id="payload")
        yield Static("", id="tuning-status")
        with Vertical(id="progress"):
            yield ProgressBar(total=1, show_eta=False, id="bar")
        with Horizontal(id="charts"):
            yield TimeChart("Cost per invocation (µ$)", id="cost-chart")
            yield TimeChart("Duration ms", id="duration-chart")
        yield DataTable(cursor_type="row", id="results")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        table.add_column("Memory MB", width=11)
        table.add_column("State", width=34)
        table.add_columns("Invocations", "Errors", "Cold", "Mean ms", "p50 ms", "p90 ms", "p99 ms", "Billed ms",
                          "Max mem MB", "$ per million")
        for chart in self.query(TimeChart):
            chart.say("start a run to draw the curves over memory size")
        self.show_status()

    def show_status(self, extra: str | Text = "") -> None:
        """The status line: our own markup, then ``extra`` (a Text holding AWS text is never parsed)."""
        if engine() is None:
            text = f"[yellow]{NOT_AVAILABLE}[/]"
        elif not self.app.settings_write:
            text = ("Read-only: a run publishes versions and aliases and changes memory, so it needs --write "
                    "(then ctrl+s starts it, with a confirmation).")
        else:
            text = (f"ctrl+s starts the run on {markup_escaped(self.fn.name)} (now {self.fn.memory_mb} MB), "
                    "with a confirmation.")
        status = Text.from_markup(text)
        if extra:
            status.append("\n")
            status.append(extra if isinstance(extra, Text) else Text.from_markup(extra))
        self.query_one("#tuning-status", Static).update(status)

    # -- form ------------------------------------------------------------------------------
    def plan(self):
        """The engine's options from the form (its own parsing and validation: the CLI's rules)."""
        import json

        from lambdaops.tuning.options import TuneOptions, WeightedPayload, parse_memory

        try:
            payload = json.dumps(json.loads(self.query_one("#payload", Input).value or "{}")).encode()
        except ValueError as exc:
            raise UsageError(f"payload is not JSON: {exc}") from None
        return TuneOptions(memory_sizes=parse_memory(self.query_one("#memory", Input).value),
                           num=int(self.query_one("#invocations", Input).value or 0),
                           payloads=[WeightedPayload(payload)], strategy=str(self.query_one(Select).value)).validate()

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and not self.app.settings_write:
            return False
        if action == "apply_memory" and self.outcome is None:
            return None  # shown disabled until there is a recommendation
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit(self) -> None:
        self.set_focus(self.query_one("#memory", Input))  # at once: focus() waits for the next message

    def leave_input(self, _input: Input) -> None:
        self.set_focus(self.query_one("#results", DataTable))

    def on_memory_applied(self, msg: "MemoryApplied") -> None:
        # The function has the new memory now: the text, the next run's baseline and the fleet
        # row follow it (they said "now 2048 MB" after 1024 MB was applied).
        import dataclasses

        self.fn = dataclasses.replace(self.fn, memory_mb=msg.memory_mb)
        self.app.after_write(f"{self.fn.region}/{self.fn.name}", memory_mb=msg.memory_mb)
        self.show_status(f"applied: {self.fn.name} now has {msg.memory_mb} MB")

    def action_start_tuning(self) -> None:
        if self.running:
            self.app.notify("a run is in progress (esc leaves and cancels it)", severity="warning")
            return
        mod = engine()
        if mod is None:
            self.app.notify(NOT_AVAILABLE, severity="warning", timeout=8)
            return
        try:
            plan = self.plan()
        except LambdaopsError as exc:
            self.app.notify(exc.one_line(), severity="error")
            return
        change = Change("Start power tuning", self.app.account or "?", self.fn.region, self.fn.name,
                        f"{len(plan.memory_sizes)} memory sizes x {plan.num} invocations",
                        "publishes versions and aliases; memory is restored when the run ends")
        self.app.push_screen(ConfirmScreen(change), lambda yes: yes and self.begin(plan))

    def begin(self, plan) -> None:
        self.run += 1
        self.sizes = {mb: "waiting" for mb in sorted(set(plan.memory_sizes) | {self.fn.memory_mb})}
        self.results, self.outcome = {}, None
        self.cancel = threading.Event()
        self.running = True
        self.query_one("#bar", ProgressBar).update(total=len(self.sizes) * plan.num, progress=0)
        self.draw_results()
        self.show_status("running… (esc leaves and cancels: the function is put back as it was)")
        self.refresh_bindings()
        self.tune(self.run, plan, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tuning")
    def tune(self, run: int, plan, cancel: threading.Event) -> None:
        mod = engine()
        tuning = None
        try:
            # Its invocations are counted as they answer: the fleet's findings leave them out.
            api = CountingApi(tuning_api(self.app.session, self.fn.region), self.app.tuning_traffic,
                              f"{self.fn.region}/{self.fn.name}", self.app.session.now)
            tuning = mod.TuningRun(api, self.fn.name, plan, cancel=cancel,
                                   on_event=lambda ev: self.post_message(TuningProgress(run, ev)))
            result = tuning.run()
        except Exception as exc:  # noqa: BLE001 - say what happened, and whether the function is back
            self.post_message(TuningFinished(run, error=error_text(exc),
                                             restored=tuning.restored if tuning else None,
                                             cleanup_hint=tuning.cleanup_hint if tuning else None))
            return
        self.post_message(TuningFinished(run, result))

    def on_unmount(self) -> None:
        self.cancel.set()  # leaving mid-run: the engine stops and restores the function

    def on_tuning_progress(self, msg: TuningProgress) -> None:
        if msg.run != self.run:
            return
        ev = msg.event
        self.query_one("#bar", ProgressBar).update(total=max(1, ev.total), progress=ev.done)
        if ev.memory_mb is not None and ev.kind in ("size", "invoke", "skipped"):
            for mb, state in self.sizes.items():  # sizes run in order: earlier ones are finished
                if mb < ev.memory_mb and state not in ("done", "skipped") and not state.startswith("skipped"):
                    self.sizes[mb] = "measured"
            self.sizes[ev.memory_mb] = ev.message.split(": ", 1)[-1] if ev.kind != "skipped" else "skipped"
            self.draw_results()
        if ev.kind in ("warning", "cleanup", "skipped"):
            self.show_status(rich_text(ev.message, single_line=False))  # may quote an AWS error

    def on_tuning_finished(self, msg: TuningFinished) -> None:
        if msg.run != self.run:
            return
        self.running = False
        # The run's own invocations (out-of-memory deaths at small sizes) leave the row's findings now.
        self.app.after_write(f"{self.fn.region}/{self.fn.name}")
        if msg.error:
            self.app.record_error(f"tuning {self.fn.name}", msg.error)
            if msg.restored is False:
                after = f"the function is NOT fully restored: run {msg.cleanup_hint}"
            elif msg.restored:
                after = "the function was restored"
            else:
                after = "nothing was changed"
            self.show_status(Text.assemble(("the run failed: ", "red"), rich_text(msg.error, "red"), f" ({after})"))
            return
        self.outcome = result = msg.outcome
        self.results = {s.memory_mb: s for s in result.primary.results}
        for mb in self.sizes:
            self.sizes[mb] = "done" if mb in self.results else "skipped"
        for skip in result.primary.skipped:
            self.sizes[int(skip["memory_mb"])] = f"skipped: {skip['reason']}"
        self.draw_results()
        self.show_status(markup_escaped(recommendation_text(result), single_line=False))
        self.refresh_bindings()

    def draw_results(self) -> None:
        table = self.query_one("#results", DataTable)
        table.clear()
        for mb, state in self.sizes.items():
            s = self.results.get(mb)
            marker = " (now)" if mb == self.fn.memory_mb else ""
            if s is None:
                table.add_row(f"{mb}{marker}", rich_text(state), *["-"] * 10)  # states quote AWS errors
                continue
            d = s.duration_ms
            table.add_row(f"{mb}{marker}", rich_text(state), str(s.invocations), str(s.errors), str(s.cold_starts),
                          _f(d.mean_trimmed), _f(d.p50), _f(d.p90), _f(d.p99), _f(s.billed_ms_mean),
                          str(s.max_memory_used_mb), f"{s.cost_per_million_usd:,.2f}")
        sizes = sorted(self.results)
        if not sizes:
            return
        labels = (f"{sizes[0]} MB", f"{sizes[-1]} MB")
        self.query_one("#cost-chart", TimeChart).show(
            [Series("$ per million", [self.results[m].cost_per_million_usd for m in sizes], "yellow")], labels)
        self.query_one("#duration-chart", TimeChart).show(
            [Series("mean", [self.results[m].duration_ms.mean_trimmed for m in sizes], "green"),
             Series("p99", [self.results[m].duration_ms.p99 for m in sizes], "red")], labels)

    def action_apply_memory(self) -> None:
        rec = self.outcome.primary.recommendation if self.outcome is not None else None
        best = rec.memory_mb if rec is not None else None
        if best is None or best == self.fn.memory_mb:
            self.app.notify("nothing to apply: the recommendation is the current memory", severity="warning")
            return
        change = Change("Apply memory", self.app.account or "?", self.fn.region, self.fn.name,
                        f"memory {self.fn.memory_mb} MB → {best} MB")
        self.app.push_screen(ConfirmScreen(change), lambda yes: yes and self.apply(int(best)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="tuning-apply")
    def apply(self, memory_mb: int) -> None:
        try:
            engine().apply_memory(tuning_api(self.app.session, self.fn.region), self.fn.name, memory_mb)
        except Exception as exc:  # noqa: BLE001
            self.post_message(TuningFinished(self.run, error=f"apply: {error_text(exc)}"))
            return
        self.app.call_from_thread(self.app.notify, f"{self.fn.name}: memory set to {memory_mb} MB")
        self.post_message(MemoryApplied(memory_mb))


def recommendation_text(result) -> str:
    rec = result.primary.recommendation
    if rec is None:
        return "[yellow]no memory size could be measured: nothing to recommend[/]"
    parts = [f"[b]Recommended: {rec.memory_mb} MB[/b] ({result.strategy}: {rec.reason})"]
    if rec.memory_mb == result.original_memory_mb:
        return parts[0] + "".join(f"\n{markup_escaped(n, single_line=False)}" for n in result.notes)  # "0.0% cheaper than itself" says nothing
    if rec.saving_pct is not None:
        parts.append(f"{abs(rec.saving_pct):.1f}% {'cheaper' if rec.saving_pct >= 0 else 'dearer'}")
    if rec.speedup_pct is not None:
        parts.append(f"{abs(rec.speedup_pct):.1f}% {'faster' if rec.speedup_pct >= 0 else 'slower'} than now "
                     f"({result.original_memory_mb} MB)")
    tail = "  ctrl+a applies it" if rec.memory_mb != result.original_memory_mb else ""
    return ", ".join(parts) + tail + "".join(f"\n{markup_escaped(n, single_line=False)}" for n in result.notes)


def _f(v) -> str:
    return "-" if v is None else f"{v:,.0f}"
