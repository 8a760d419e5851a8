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
