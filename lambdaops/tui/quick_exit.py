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
