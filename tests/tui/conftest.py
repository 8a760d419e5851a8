"""TUI tests: one in-process demo account for all of them, the clock frozen at the demo's "now", and
the fleet snapshot fetched once per module and replayed to every app of the module (a collection
takes seconds).

The account lives in this process, and moto's state is process-global: a ``mock_aws`` test would
reset it under the account. So the TUI tests run after every other test of the run (the hook below),
and test_write_mode.py, which redrives a DLQ and tunes a function, runs after the other TUI modules:
nothing that reads the account comes after its changes."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from lambdaops.tui.app import LambdaopsApp
from tests.tui.harness import ReplayBackend, demo_backend, demo_context, start_demo

SIZE = (160, 45)


@pytest.fixture(scope="session")
def demo():
    account = start_demo()
    yield account
    account.stop()


CHANGES_THE_ACCOUNT = ("test_write_mode.py",)


def pytest_collection_modifyitems(session, config, items):
    """Other tests first, then the TUI modules, those that change the account last (stable order)."""
    here = Path(__file__).parent

    def rank(item) -> int:
        path = Path(str(item.fspath))
        if here not in path.parents:
            return 0
        return 2 if path.name in CHANGES_THE_ACCOUNT else 1

    items[:] = sorted(items, key=rank)


@pytest.fixture(scope="module")
def module_ctx(demo):
    return demo_context(demo)


@pytest.fixture(scope="module")
def replay_cache():
    return {}


@pytest.fixture
def make_app(demo, module_ctx, replay_cache):
    def make(*, write: bool = False, ctx=None, cache=None, backend_cls=ReplayBackend, **backend_kw) -> LambdaopsApp:
        shared = replay_cache if cache is None else cache
        backend = demo_backend(demo, write=write, ctx=ctx or module_ctx,
                               cls=lambda *a, **kw: backend_cls(*a, cache=shared, **kw, **backend_kw))
        return LambdaopsApp(backend, auto_poll=False)

    return make


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """``async def`` tests run in a fresh event loop (the project has no asyncio plugin)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None
