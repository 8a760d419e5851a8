"""``lambdaops query``: rows name function and region, ordering is overall, tables round and JSON is
exact, ``--list`` and the names in ``--help``; through the real entry point against ``demo serve``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lambdaops.cli import query_rows as qr
from lambdaops.cli.main import app
from tests.helpers import run_cli as run

runner = CliRunner()


def test_slowest_rows_name_function_and_region_and_are_ordered_overall(cli_demo):
    res = run(cli_demo, "query", "slowest", "--since", "6h", "-o", "json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows and all(r["function"] and r["region"] in ("us-east-1", "eu-west-1") for r in rows)
    assert {r["region"] for r in rows} == {"us-east-1", "eu-west-1"}  # both regions merged...
    durations = [r["durationMs"] for r in rows]
    assert durations == sorted(durations, reverse=True)  # ...into one descending order
    assert len(rows) <= 25  # the query's own limit, over all regions
    assert all(isinstance(d, (int, float)) for d in durations)  # JSON: numbers, exact


def test_errors_rows_name_their_function(cli_demo):
    res = run(cli_demo, "query", "errors", "-o", "json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows and all(r["function"] for r in rows)
    stamps = [r["@timestamp"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_table_rounds_numbers(cli_demo):
    res = run(cli_demo, "query", "cold-starts", "--since", "6h")
    assert res.exit_code == 0, res.stderr
    header = res.stdout.splitlines()[0].split()
    assert header[:2] == ["function", "region"]
    cells = [c for line in res.stdout.splitlines()[1:] for c in line.split()]
    decimals = [c for c in cells if c.replace(".", "", 1).isdigit() and "." in c]
    assert decimals and all(len(c.split(".")[1]) <= 2 for c in decimals)


def test_functions_takes_an_arn(cli_demo):
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:checkout-api-eu"
    res = run(cli_demo, "query", "cold-starts", "--functions", arn, "-o", "json")
    assert res.exit_code == 0, res.stderr
    assert [(r["function"], r["region"]) for r in json.loads(res.stdout)] == [("checkout-api-eu", "eu-west-1")]


def test_list_and_help_name_the_queries():
    res = runner.invoke(app, ["query", "--list", "-o", "json"])
    assert res.exit_code == 0, res.stderr
    names = [r["query"] for r in json.loads(res.stdout)]
    assert {"cold-starts", "errors", "slowest"} <= set(names)
    res = runner.invoke(app, ["query", "--help"])
    assert res.exit_code == 0 and all(n in res.stdout for n in names)
    res = runner.invoke(app, ["query"])
    assert res.exit_code == 2 and "slowest" in res.stderr


def test_window_options_like_report():
    res = runner.invoke(app, ["query", "slowest", "--since", "3h", "--start", "2026-01-01T00:00:00Z"])
    assert res.exit_code == 2 and "not both" in res.stderr


def test_merge_and_rounding_units():
    rows = [{"function": "a", "region": "us-east-1", "durationMs": "10.5"},
            {"function": "b", "region": "eu-west-1", "durationMs": "933.5640000000001"},
            {"function": "c", "region": "eu-west-1", "durationMs": "2"}]
    merged = qr.merge(rows, "fields x | sort durationMs desc | limit 2")
    assert [r["function"] for r in merged] == ["b", "a"]
    assert qr.rounded("933.5640000000001") == "933.56" and qr.rounded("15029") == "15029"
    assert qr.exact(rows[1])["durationMs"] == 933.5640000000001
    owners = {("us-east-1", "/aws/lambda/shared"): ["x", "y"]}
    row = {"@log": "123:/aws/lambda/shared", "@logStream": "2026/12/01/y[$LATEST]abc"}
    assert qr.label([row], "us-east-1", owners, ["/aws/lambda/shared"])[0]["function"] == "y"
    assert qr.label([{"@log": "1:/aws/lambda/shared", "@logStream": "2026/12/01/[$LATEST]a"}], "us-east-1",
                    owners, [])[0]["function"] is None  # shared group, no name in the stream: unknown
