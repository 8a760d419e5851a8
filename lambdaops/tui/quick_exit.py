"""Quitting without waiting for AWS calls in flight.

Textual runs thread workers on the event loop's default executor, and ``asyncio.run`` ends by
waiting for every thread of that executor (``loop.shutdown_default_executor``); Python's exit then
joins them once more. So ``q`` used to wait for the slowest call in flight: a Logs Insights poll or
a GetMetricData page, 3 s to more than 30 s on a loaded machine. Here each job runs on a daemon
thread that nobody joins: the workers are cancelled, their results would be dropped anyway, and
nothing they do needs finishing (a cache file is written whole or not at all).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable


class DaemonExecutor(ThreadPoolExecutor):
    """One daemon thread per job (workers are few and long: a pool would gain nothing). A
    ThreadPoolExecutor only by type (asyncio accepts no other as the default executor): none of
    its pooled threads is ever started."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._closed:
            raise RuntimeError("cannot schedule new work after shutdown")
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="lambdaops-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Never waits: this is the point of the class.
        self._closed = True


def leave_now(code: int) -> None:
    """End the process once the screen is restored, without joining the threads still in flight
    (the collection's own thread pools are not daemon threads: Python's exit would wait for their
    AWS calls, most of a second after ``q``). stdout and stderr are flushed first."""
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def quick_driver(driver_class: type) -> type:
    """``driver_class`` or, for Textual's POSIX terminal driver, a subclass whose input thread is not
    waited for once the app is quitting. That thread reads the terminal in ``select`` calls of 0.1 s
    and, told to stop, reads once more for 0.1 s: joining it held ``q`` for 0.2 s of the 0.35 s it
    took under load. The process ends right after (:func:`leave_now`), the thread with it; the
    terminal's settings are restored as before. Suspending (the driver stopped and started again
    while the app lives) still waits for it, so two input threads never read at once."""
    try:
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:  # Windows: its own driver
        return driver_class
    if not issubclass(driver_class, LinuxDriver):
        return driver_class

    class QuickExitDriver(driver_class):  # type: ignore[misc, valid-type]
        def disable_input(self) -> None:
            event = getattr(self, "exit_event", None)
            if not getattr(self._app, "exiting", False) or event is None:
                super().disable_input()
                return
            if event.is_set():
                return
            try:
                import signal
                import termios

                signal.signal(signal.SIGWINCH, signal.SIG_DFL)
                self._disable_mouse_support()
                event.set()  # the input thread ends at its next select; not waited for, not cleared
                termios.tcflush(self.fileno, termios.TCIFLUSH)
            except Exception:  # noqa: BLE001 - as Textual's own: leaving must not fail here
                pass

    return QuickExitDriver
