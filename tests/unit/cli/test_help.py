"""Help reads like the AWS CLI's: placeholders are words (FUNCTION, DURATION, MB,...), never Python
types, arguments are not in braces, and every command shows an example."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app

runner = CliRunner()
COMMANDS = [[], ["functions"], ["report"], ["query"], ["traces"], ["tune"], ["config"], ["demo"], ["demo", "serve"],
            ["dlq"], ["dlq", "list"], ["dlq", "show"], ["dlq", "export"], ["dlq", "redrive"], ["dlq", "purge"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "lambdaops")
def test_help_has_word_placeholders_and_an_example(cmd):
    res = runner.invoke(app, [*cmd, "--help"])
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert not re.search(r"<(str|int|float|bool|list\[[a-z]+\]|path|int range|float range)>", out), out
    usage = out.splitlines()[0]
    assert "{" not in usage, usage
    assert re.search(r"^  Examples?:\n  +lambdaops ", out, re.MULTILINE), out


def test_named_placeholders():
    out = runner.invoke(app, ["tune", "--help"]).stdout
    assert "tune [OPTIONS] FUNCTION\n" in out and "--memory MB,..." in out
    out = runner.invoke(app, ["report", "--help"]).stdout
    assert "--since DURATION" in out and "--functions FUNCTION" in out and "--start TIME" in out
    out = runner.invoke(app, ["dlq", "show", "--help"]).stdout
    assert "[OPTIONS] QUEUE" in out
    out = runner.invoke(app, ["--help"]).stdout
    assert "--region REGION" in out and "--output FORMAT" in out
