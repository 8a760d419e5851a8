"""``lambdaops cache info`` / ``cache clear`` and ``--no-cache``: no AWS call, no server."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lambdaops.cli.main import app, hoist_globals
from lambdaops.cli.state import CliState
from lambdaops.paths import cache_dir
from lambdaops.store import Cell, open_store

runner = CliRunner()


def test_info_shows_what_the_store_holds_and_clear_empties_it():
    store = open_store(cache_dir(), "http://127.0.0.1:1", "dev", "123456789012")
    store.put_log_bins("us-east-1", "q", 300, {("/aws/lambda/a", 600): (5.0, {"": Cell(invocations=2.0)}),
                                               ("/aws/lambda/b", 1200): (7.0, {})})
    (cache_dir() / "details-0123.json").write_text("{}")
    res = runner.invoke(app, ["cache", "info", "-o", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    [s] = doc["stores"]
    assert s["path"] == str(store.path) and s["size_bytes"] > 0 and s["age_s"] is not None
    assert s["scope"] == {"endpoint": "http://127.0.0.1:1", "profile": "dev", "account": "123456789012"}
    assert s["log_bins"]["bins"] == 2 and s["log_bins"]["log_groups"] == 2
    assert s["log_bins"]["oldest"] == "1970-01-01T00:10:00Z" and s["log_bins"]["newest"] == "1970-01-01T00:25:00Z"
    assert s["log_bins"]["insights_bytes_paid"] == 12.0
    assert [o["path"] for o in doc["other_files"]] == [str(cache_dir() / "details-0123.json")]
    table = runner.invoke(app, ["cache", "info"])
    assert table.exit_code == 0 and "2 Insights bins of 2 log groups" in table.stdout
    cleared = runner.invoke(app, ["cache", "clear", "-o", "json"])
    assert cleared.exit_code == 0
    assert set(json.loads(cleared.stdout)["removed"]) >= {str(store.path), str(cache_dir() / "details-0123.json")}
    empty = runner.invoke(app, ["cache", "info"])
    assert empty.exit_code == 0 and "nothing stored yet" in empty.stderr


def test_no_cache_is_a_global_option_that_turns_the_cache_off():
    assert hoist_globals(["report", "--since", "1h", "--no-cache"]) == ["--no-cache", "report", "--since", "1h"]
    assert CliState(no_cache=True).cache_dir() is None
    assert CliState().cache_dir() == cache_dir()
