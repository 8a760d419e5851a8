"""TUI tests: one in-process demo account per module (moto keeps process-global state, so these
modules never use ``mock_aws``), the clock frozen at the demo's "now", and the fleet snapshot
fetched once per module and replayed to every app of the module (a collection takes seconds)."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from lambdaops.tui.app import LambdaopsApp
from tests.tui.harness import ReplayBackend, demo_backend, demo_context, start_demo

SIZE = (160, 45)


@pytest.fixture(scope="module")
def demo():
    account = start_demo()
    yield account
    account.stop()


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
