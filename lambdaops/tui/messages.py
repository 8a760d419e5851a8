"""What thread workers post back to the UI thread: plain dataclasses.

Every fleet message carries the ``generation`` of the request that produced it: a result whose
generation is no longer current (the window, the regions or a manual refresh started a new request
meanwhile) is dropped on arrival instead of overwriting newer data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from lambdaops.tui.table_model import TableModel


@dataclass
class Connected(Message):
    account: str | None
    regions: list[str]
    profiles: list[str] | None = None  # what ``R`` offers; None: this session cannot switch
    switched: bool = False  # a new profile (``R``), not the first connection
    account_due: bool = False  # the account is still being asked (AccountKnown follows)


@dataclass
class AccountKnown(Message):
    """Who the account is (STS), asked while the fleet is already being listed."""

    account: str | None
    profiles: list[str] | None = None


@dataclass
class FleetRows(Message):
    """New rows for the fleet table; ``stage``: inventory | sparklines | snapshot."""

    generation: int
    stage: str
    model: TableModel
    functions: list[Any]  # FunctionInfo
    snapshot: Any = None  # FleetSnapshot once collected
    sparks: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class FleetProgress(Message):
    generation: int
    text: str

    def can_replace(self, message: Message) -> bool:
        # A burst of progress lines: only the latest matters.
        return isinstance(message, FleetProgress)


@dataclass
class FleetDone(Message):
    """The poll finished (well or not): the next one is scheduled from here, so polls never overlap."""

    generation: int
    ok: bool
    failed_regions: dict[str, str] = field(default_factory=dict)  # region -> its first error this poll


@dataclass
class WorkFailed(Message):
    """A worker's error, for a notification and the error log: never a crash."""

    source: str
    error: str
    generation: int | None = None
