"""Ctrl-C during a tuning run: the first stops the measuring, none cuts the cleanup in half.

The policy, for one run (or one ``tune --cleanup``):
- while measuring, the first Ctrl-C raises KeyboardInterrupt as usual and the shield starts deferring;
- from then on (and during the cleanup after a normal end) Ctrl-C is counted and acknowledged: the
  AWS call in flight finishes and the cleanup goes on;
- the third Ctrl-C of the run aborts the cleanup (:class:`CleanupAborted`); the caller then prints the
  ``lambdaops tune --cleanup`` command that finishes the job.

Signals can only be caught on the main thread (the TUI runs the engine on a worker, where Textual
owns Ctrl-C): elsewhere the shield installs nothing and only counts the KeyboardInterrupts that reach
a cleanup step (raised by a wrapped call in the fault-injection tests, or by the default handler in
the instant before the shield was installed).
"""

from __future__ import annotations

import signal
import threading
from typing import Callable

ABORT_AT = 3  # the third Ctrl-C of a run may abort its cleanup


class CleanupAborted(KeyboardInterrupt):
    """The third Ctrl-C: the cleanup stopped part-way; ``tune --cleanup`` finishes it."""


class InterruptShield:
    def __init__(self, on_message: Callable[[str], None] | None = None, *, deferring: bool = False) -> None:
        self.on_message = on_message or (lambda text: None)
        self.count = 0  # Ctrl-C (or KeyboardInterrupt) seen during this run
        self.deferring = deferring
        self._previous = None
        self._installed = False

    # -- installing ----------------------------------------------------------------------------------
    def install(self) -> "InterruptShield":
        if threading.current_thread() is not threading.main_thread():
            return self
        try:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        except (ValueError, OSError):  # no signals here (an embedded interpreter): count only
            self._installed = False
        return self

    def uninstall(self) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)
            self._installed = False

    def __enter__(self) -> "InterruptShield":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.uninstall()

    # -- the policy ----------------------------------------------------------------------------------
    def _on_sigint(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        self.count += 1
        if not self.deferring:
            self.deferring = True  # before raising: a second Ctrl-C on the way to the cleanup is deferred too
            raise KeyboardInterrupt
        self._acknowledge()

    def enter_cleanup(self, exc: BaseException | None) -> None:
        """The run is over (``exc`` is why, None on a normal end): defer from now on. A KeyboardInterrupt
        the handler did not raise (the deferring flag is still off) is counted here."""
        if isinstance(exc, KeyboardInterrupt) and not self.deferring:
            self.count += 1
        self.deferring = True

    def interrupted(self, exc: KeyboardInterrupt) -> None:
        """A KeyboardInterrupt reached a cleanup step: count it (the handler's abort passes through)."""
        if isinstance(exc, CleanupAborted):
            raise exc
        self.count += 1
        self._acknowledge()

    def _acknowledge(self) -> None:
        if self.count >= ABORT_AT:
            raise CleanupAborted()
        try:
            left = ABORT_AT - self.count
            self.on_message("Ctrl-C: still restoring the function, the cleanup goes on ("
                            + ("one more Ctrl-C" if left == 1 else f"{left} more Ctrl-C") + " stops it and leaves "
                            "the rest to `lambdaops tune --cleanup`)")
        except Exception:  # noqa: BLE001 - a message must never be what breaks the cleanup
            pass
