"""Plural-correct messages and trace JSON without presentation padding, through the real entry point."""

from __future__ import annotations

import json

from tests.helpers import run_cli as run
from lambdaops.plural import plural


def test_plural_helper():
    assert [plural(1, "function"), plural(2, "function"), plural(0, "function")] == \
        ["1 function", "2 functions", "0 functions"]
    assert plural(1, "API call") == "1 API call" and plural(7, "API call") == "7 API calls"
    assert plural(2, "retry") == "2 retries" and plural(1204, "API call", sep=True) == "1,204 API calls"


def test_report_header_counts_one_function_in_the_singular(cli_demo):
    res = run(cli_demo, "report", "--functions", "checkout-api", "--since", "1h")
    assert res.exit_code == 0, res.stderr
    assert "1 function in" in res.stdout and "1 functions" not in res.stdout
    assert "API calls" in res.stdout  # several calls: plural
    res = run(cli_demo, "report", "--functions", "checkout-*", "--since", "1h", "-o", "markdown")
    assert "2 functions in" in res.stdout


def test_trace_json_has_depth_and_unpadded_span_names(cli_demo):
    res = run(cli_demo, "traces", "tax-calculator", "--since", "6h", "--top", "1", "-o", "json")
    assert res.exit_code == 0, res.stderr
    trace_id = json.loads(res.stdout)[0]["trace_id"]
    res = run(cli_demo, "traces", "tax-calculator", "--id", trace_id, "-o", "json")
    assert res.exit_code == 0, res.stderr
    spans = json.loads(res.stdout)
    assert spans and all(s["span"] == s["span"].strip() for s in spans)
    assert {s["depth"] for s in spans} >= {0, 1}
