"""One way to write a length of time, shared by the report, the DLQ commands and the TUI."""

from __future__ import annotations

import pytest

from lambdaops.durations import age


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (59.9, "59s"), (60, "1m00s"), (432, "7m12s"), (3599, "59m59s"), (3600, "1h00m"),
    (7500, "2h05m"), (86399, "23h59m"), (86400, "1d00h"), (3 * 86400 + 4 * 3600 + 59, "3d04h"),
])
def test_age(seconds, text):
    assert age(seconds) == text


def test_the_cli_and_the_tui_write_an_age_alike():
    from lambdaops.cli.dlq_cmd import _age
    from lambdaops.tui import format as fmt

    for s in (5, 432, 21_000, 200_000):
        assert _age(s) == fmt.age_s(s) == age(s)
    assert _age(None) == fmt.age_s(None) == "-"
