"""tests/e2e/: the product against the demo account. Every test here is marked ``e2e`` (deselect
with ``-m "not e2e"``). They share the session's served account (``served_demo`` in
tests/conftest.py); a module starts its own only where it changes the account in ways the others
would see, or tests the start itself, and says why beside its fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def account():
    """A module's own in-process demo account (24 functions), for the modules that change it: tuning
    publishes versions, changes memory and invokes; invokes write log records, metrics and DLQ
    messages that the shared account's readers compare with the truth file."""
    from lambdaops.demo.server import DemoAccount

    acct = DemoAccount(functions=24).start()
    yield acct
    acct.stop()


@pytest.fixture
def fast_tuning(monkeypatch):
    """The demo's credentials, and tuning's 15 requests/s pacing lifted (it is tested in
    tests/unit/tuning; here it would only make the suite slow)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    monkeypatch.setattr("lambdaops.aws.tuning.CONTROL_PLANE_RPS", 500.0)
    monkeypatch.setattr("lambdaops.aws.tuning.CONTROL_PLANE_BURST", 500)
