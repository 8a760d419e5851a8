"""The one-line header on every screen: where we look, over what window, how fresh it is, and what
looking has cost the account so far (API calls and their approximate price)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from lambdaops.collect.meter import store_label
from lambdaops.tui import format as fmt


def fitting(extras: list[tuple[int, str]], room: int) -> list[str]:
    """The texts of ``extras`` ((priority, text), 0 first) that fit in ``room`` cells, taken by priority
    and kept in their order."""
    shown: set[int] = set()
    for i in sorted(range(len(extras)), key=lambda i: extras[i][0]):
        if len(extras[i][1]) <= room:
            shown.add(i)
            room -= len(extras[i][1])
    return [text for i, (_, text) in enumerate(extras) if i in shown]


class StatusHeader(Widget):
    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, crumb: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.crumb = crumb  # where we are: "Fleet", "Fleet / checkout-api", ...

    def on_mount(self) -> None:
        # Once a second: the clock, the countdown and the call counter move by themselves.
        self.set_interval(1.0, self.refresh)

    def render(self) -> Text:
        app = self.app
        session = app.session
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(" lambdaops ", style="bold reverse")
        line.append(f" {self.path()} ", style="bold")
        account = app.account or ("connecting…" if not session.connected else "account ?")
        line.append(f" {account}", style="bold")
        if session.label:
            line.append(f" ({session.label})", style="dim")
        line.append(" ")
        for region in session.regions or ["-"]:
            if region in app.failed_regions:  # the rest of the fleet is shown; this region is not
                line.append(f" {region} ✖", style="bold red")
            else:
                line.append(f" {region}")
        line.append(f"  last {fmt.window_label(session.settings.window_s)}")
        if getattr(app, "missing_figures", 0):  # cells marked ? could not be fetched (see the error log)
            line.append(f"  ? {app.missing_figures} missing", style="bold yellow")
        line.append("  ")
        line.append_text(self._refresh_state())
        if app.settings_write:
            line.append("  WRITE", style="bold reverse red")
        # What looking costs and what the figures rest on, each shown when it fits, the most telling
        # first: what the last refresh scanned (issue 15), the calls and price, how old a kept listing
        # is (a function created since is not shown yet), what the store saved.
        extras: list[tuple[int, str]] = []  # (priority, text), in display order
        extras.append((1, f"   {session.usage().label()}"))
        if session.cache_dir is not None:  # the local store is in use: what it saved beside what was paid
            extras.append((3, f" ({store_label(session.meter)})"))
            scanned = session.meter.scan_label()  # the last refresh: "Insights: 1m00s new + 5m00s closed · 0.4 MB"
            if scanned:
                extras.append((0, f"  {scanned}"))
        snap = getattr(app, "snapshot", None)
        kept = getattr(snap, "inventory", None) or {}
        if kept.get("kept"):  # functions listed minutes ago: one created since is not shown yet
            since = max(0.0, (session.now() - snap.generated_at).total_seconds())
            listed_ago = (kept["age_s"] or 0) + since
            if listed_ago >= 60:  # the first paint's own listing, taken again seconds later, is news to no one
                extras.append((2, f"  inventory {fmt.age_s(listed_ago)} old (r lists)"))
        for text in fitting(extras, self.size.width - line.cell_len - len(fmt.clock(session.now())) - 2):
            line.append(text, style="dim")
        right = f" {fmt.clock(session.now())} "
        pad = self.size.width - line.cell_len - len(right)
        if pad > 0:
            line.append(" " * pad)
        line.append(right, style="bold")
        return line

    def path(self) -> str:
        """Where we are, from the screens actually open beneath this one (``:fn x`` then ``:dlq``
        is Fleet / x / DLQs, not Fleet / DLQs). A screen names itself with ``crumb_title``."""
        try:
            mine = self.screen
        except Exception:  # noqa: BLE001 - not mounted yet
            return self.crumb
        titles = []
        for screen in self.app.screen_stack:
            title = getattr(screen, "crumb_title", None)
            if title:
                titles.append(title)
            if screen is mine:
                break
        return " / ".join(titles) if titles and getattr(mine, "crumb_title", None) else self.crumb

    def _refresh_state(self) -> Text:
        app = self.app
        every = f"every {fmt.window_label(app.session.settings.refresh_s)}"
        if app.polling:
            return Text(f"⟳ {app.progress or 'refreshing…'}", style="italic")
        if app.paused:
            return Text(f"⏸ paused ({every})", style="bold yellow")
        if app.next_poll_at is not None:
            return Text(f"↻ {every}, next {fmt.clock(app.next_poll_at)}")
        return Text(f"↻ {every}")
