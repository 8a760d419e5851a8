"""A demo account pauses Python's cyclic GC while it starts and resumes it once its traffic exists (a
process holding it for its life freezes what the start allocated). No server: the start is stubbed."""

from __future__ import annotations

import gc
import time

import pytest

from lambdaops.demo.server import DemoAccount


@pytest.fixture
def stubbed(monkeypatch):
    seen = {"during": [], "frozen": 0}

    def fake_start(self, early, eager):
        seen["during"].append(gc.isenabled())
        if getattr(self, "fail", False):
            raise OSError("port in use")
        self._finish(time.perf_counter())  # traffic=False: nothing to build, the GC resumes here
        return self

    def fake_freeze():
        seen["frozen"] += 1

    monkeypatch.setattr(DemoAccount, "_start", fake_start)
    monkeypatch.setattr(gc, "freeze", fake_freeze)  # never freeze the test process itself
    assert gc.isenabled()
    return seen


def test_the_gc_is_paused_while_an_account_starts_and_resumed_after(stubbed):
    DemoAccount(traffic=False, cache=False).start()
    assert stubbed["during"] == [False] and gc.isenabled() and stubbed["frozen"] == 0
    DemoAccount(traffic=False, cache=False, freeze_gc=True).start()
    assert stubbed["during"] == [False, False] and gc.isenabled() and stubbed["frozen"] == 1


def test_a_start_that_fails_resumes_the_gc(stubbed):
    account = DemoAccount(traffic=False, cache=False)
    account.fail = True
    with pytest.raises(OSError):
        account.start()
    assert gc.isenabled()
