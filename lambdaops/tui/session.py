"""The TUI's session state: the AWS context (connected lazily: the demo account starts in a worker
while the first frame is already on screen), the clock (frozen in screenshots and tests), the
window and settings, what watching has cost so far, and switching profiles. No textual here.

What is read from AWS is ``lambdaops.collect``'s: screens start a thread worker that calls
``collect.fleet`` / ``collect.function`` / ``collect.query`` with this session's context, window and
meter, and post the result back as a message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from lambdaops.analysis.thresholds import Thresholds
from lambdaops.collect.meter import Meter
from lambdaops.config import REFRESH_FLOOR_S
from lambdaops.errors import ConfigError, LambdaopsError
from lambdaops.tui.api_cost import ApiUsage, estimate
from lambdaops.window import Window, parse_duration, since

# boto3 and the AWS layer are slow to import: the worker that first connects imports them.
if TYPE_CHECKING:
    from lambdaops.aws.context import AwsContext


@dataclass
class TuiSettings:
    window_s: int = 3 * 3600
    refresh_s: int = 60
    write: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    insights_concurrency: int = 10

    @classmethod
    def from_state(cls, state) -> "TuiSettings":
        s = state.settings()
        return cls(window_s=parse_duration(s.window), refresh_s=max(REFRESH_FLOOR_S, int(s.refresh)),
                   write=bool(s.write), thresholds=Thresholds.from_config(s.thresholds),
                   insights_concurrency=int(s.insights_concurrency))


class Session:
    def __init__(self, connect: Callable[[], "AwsContext"], *, clock: Callable[[], datetime] | None = None,
                 settings: TuiSettings | None = None, cache_dir: Any = None, label: str = "",
                 for_profile: Callable[[str, list[str]], "AwsContext"] | None = None,
                 profiles: Callable[[], list[str]] | None = None) -> None:
        self._connect = connect
        # ``R`` may switch profiles where these are given (a real account; the demo has one):
        # ``for_profile(name, regions)`` resolves and checks a context, ``profiles()`` lists the names.
        self._for_profile = for_profile
        self._profiles = profiles
        self._ctx: AwsContext | None = None
        self._lock = threading.Lock()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.settings = settings or TuiSettings()
        self.cache_dir = cache_dir
        self.label = label  # e.g. "demo": shown beside the account id
        self._account: str | None = None
        self.meter = Meter()  # metrics requested and Insights bytes scanned, for the cost in the header

    # -- connection ------------------------------------------------------------------------
    @property
    def ctx(self) -> "AwsContext":
        """The AWS context, connecting on first use (the demo account starts here, in a worker)."""
        with self._lock:
            if self._ctx is None:
                self._ctx = self._connect()
            return self._ctx

    @property
    def connected(self) -> bool:
        return self._ctx is not None

    def account_id(self) -> str | None:
        if self._account is None:
            self._account = self.ctx.account_id()
        return self._account

    @property
    def regions(self) -> list[str]:
        return list(self._ctx.regions) if self._ctx is not None else []

    @property
    def can_switch_profile(self) -> bool:
        return self._for_profile is not None

    @property
    def profile(self) -> str | None:
        return self._ctx.profile if self._ctx is not None else None

    def profiles(self) -> list[str]:
        return self._profiles() if self._profiles is not None else []

    def switch_profile(self, profile: str, regions: list[str] | None = None) -> str | None:
        """Resolve ``profile`` (credentials checked: an expired SSO token fails here, in one line)
        for ``regions`` (default: those watched now), then watch it; the old context stays if this
        raises. Returns the new account id. What watching cost is counted afresh: it is another
        account's bill."""
        if self._for_profile is None:
            raise ConfigError("this session cannot switch profiles (the demo account has one)")
        ctx = self._for_profile(profile, list(regions or self.regions))
        account = ctx.account_id()
        with self._lock:
            self._ctx, self._account = ctx, account
            self.meter.reset()
            self.label = profile
        return account

    def set_regions(self, regions: list[str]) -> None:
        # A new list, not an in-place edit: a worker iterating the old one keeps a consistent view.
        self.ctx.regions = list(regions)

    def now(self) -> datetime:
        return self.clock()

    def window(self, seconds: int | None = None) -> Window:
        """The watched window (or ``seconds`` long), ending at the session's clock."""
        return since(seconds or self.settings.window_s, self.now())

    def usage(self) -> ApiUsage:
        calls = self._ctx.calls.snapshot() if self._ctx is not None else {}
        return estimate(calls, *self.meter.read())


def error_text(exc: BaseException) -> str:
    """One line for a notification: our errors say it themselves; anything else is named."""
    if isinstance(exc, LambdaopsError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}"
