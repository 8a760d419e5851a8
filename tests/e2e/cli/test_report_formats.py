"""``report`` in the human formats: --compare-previous shows the change beside each figure (table,
Markdown, HTML), the HTML has readable window times, cells that do not wrap and costs with enough
digits to compare; through the real entry point against ``demo serve``."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from lambdaops.cli import report_render as rr
from tests.helpers import run_cli as run

CHANGE = re.compile(r"\((?:[+-]\d+%|=|was 0)\)")


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_compare_previous_shows_the_change_beside_figures(cli_demo, fmt):
    res = run(cli_demo, "report", "--since", "2h", "--compare-previous", "-o", fmt)
    assert res.exit_code == 0, res.stderr
    assert len(CHANGE.findall(res.stdout)) > 20, res.stdout[:2000]
    plain = run(cli_demo, "report", "--since", "2h", "-o", fmt)
    assert not CHANGE.findall(plain.stdout)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self.style = ""
        self._cls = None
        self._in_style = False
        self.svg_text: list[str] = []
        self._in_svg_text = False

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._cls = dict(attrs).get("class", "")
            self.cells.append((self._cls, ""))
        self._in_style = tag == "style"
        self._in_svg_text = tag == "text"

    def handle_endtag(self, tag):
        self._in_style = False
        self._in_svg_text = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        elif self._in_svg_text:
            self.svg_text.append(data)
        elif self.cells and self._cls is not None:
            cls, text = self.cells[-1]
            self.cells[-1] = (cls, text + data)


def test_html_is_readable(cli_demo):
    res = run(cli_demo, "report", "--since", "3h", "-o", "html")
    assert res.exit_code == 0, res.stderr
    doc = res.stdout
    assert re.search(r"window \d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC", doc)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d+Z", doc.split("<body>", 1)[1])  # no raw ISO stamps shown
    p = _Cells()
    p.feed(doc)
    assert "white-space:nowrap" in p.style
    assert any(cls == "l" and text == "us-east-1" for cls, text in p.cells)
    costs = [t for t in p.svg_text if t.endswith(" $")]
    assert costs and not any(t.startswith("0.00 ") for t in costs), costs


def test_cost_and_time_formatters():
    assert rr._cost(0.000123456) == "0.000123" and rr._cost(0.0123) == "0.0123" and rr._cost(1.234) == "1.23"
    assert rr._cost(0) == "0" and rr._cost(None) == "-" and rr._cost(1234.5) == "1,234"
    assert rr._when("2026-12-01T17:58:06.679964Z") == "2026-12-01 17:58 UTC"
    assert rr._delta(110, 100, 1.1) == "+10%" and rr._delta(5, 0, None) == "was 0" and rr._delta(0, 0, None) == ""
    assert rr._delta(100, 100, 1.0) == "="
