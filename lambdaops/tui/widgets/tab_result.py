"""What the function screen's tabs do with a worker's answer before showing it."""

from __future__ import annotations

from textual.widgets import Static

from lambdaops.safe_text import rich_text


def accept(pane, msg, status_id: str, failed: str, source: str) -> Static | None:
    """The tab's status line when ``msg`` answers its latest request and did not fail, else None.

    A stale answer (the tab asked again since) is dropped; a failure goes to the status line as
    ``failed: error`` and to the app's error log as ``function: source``."""
    if msg.request != pane.request:
        return None
    status = pane.query_one(status_id, Static)
    if msg.error:
        status.update(rich_text(f"{failed}: {msg.error}"))  # AWS's error text: never markup
        pane.app.record_error(f"{pane.fn.name}: {source}", msg.error)
        return None
    return status
