"""TUI tests: one in-process demo account for all of them, the clock frozen at the demo's "now", and
the fleet snapshot fetched once per run and replayed to every app (a collection takes seconds, half
a minute on a loaded machine). Tests that need the account's own answers after a change read it live
(the DLQ screen, the tuning screen) or pass a cache of their own.

The account lives in this process, and moto's state is process-global: a ``mock_aws`` test would
reset it under the account. So the TUI tests run after every other test of the run (the hook below),
and in the order of ``ORDER``: a module runs after none that changed what it reads. Browsing a DLQ
raises its messages' receive counts (SQS has no peek, and the demo behaves alike), which the DLQ
golden shows, so the goldens come before test_navigation.py's browsing; test_write_mode.py redrives
a DLQ and tunes a function, so it comes last, after test_dlq_resume.py's redrive."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from lambdaops.tui.app import LambdaopsApp
from tests.tui.harness import ReplayReads, demo_context, demo_tui_session, start_demo
from lambdaops.tui.session import Session

SIZE = (160, 45)


@pytest.fixture(scope="session")
def demo():
    account = start_demo()
    yield account
    account.stop()


ORDER = ("test_models.py", "test_filter_columns.py", "test_snapshots.py", "test_false_green.py", "test_keys.py",
         "test_live_logs.py", "test_navigation.py", "test_dlq_resume.py", "test_write_mode.py")


def pytest_collection_modifyitems(session, config, items):
    """Other tests first, then the TUI modules in ``ORDER`` (a module not listed: before the listed ones)."""
    here = Path(__file__).parent

    def rank(item) -> int:
        path = Path(str(item.fspath))
        if here not in path.parents:
            return 0
        return 1 + (ORDER.index(path.name) + 1 if path.name in ORDER else 0)

    items[:] = sorted(items, key=rank)


@pytest.fixture(scope="module")
def module_ctx(demo):
    return demo_context(demo)


@pytest.fixture(scope="session")
def replay_cache():
    return {}


@pytest.fixture
def make_app(demo, module_ctx, replay_cache):
    def make(*, write: bool = False, ctx=None, cache=None, reads_cls=ReplayReads, session_cls=Session,
             **session_kw) -> LambdaopsApp:
        shared = replay_cache if cache is None else cache
        session = demo_tui_session(demo, write=write, ctx=ctx or module_ctx,
                                   cls=lambda *a, **kw: session_cls(*a, **kw, **session_kw))
        return LambdaopsApp(session, reads=reads_cls(session, cache=shared), auto_poll=False)

    return make


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """``async def`` tests run in a fresh event loop (the project has no asyncio plugin)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None
