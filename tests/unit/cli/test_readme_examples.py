"""The README's CLI examples parse: every option they use exists where they use it (each example is
parsed with --help appended, which stops before any work). scripts/readme_examples.py runs them all
for real against `lambdaops demo serve`."""

from __future__ import annotations

import importlib.util
import shlex

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
readme = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme)
EXAMPLES = [c for c in readme.examples() if c.startswith("lambdaops ")]


def test_examples_are_found():
    assert len(EXAMPLES) > 20
    assert any(c.startswith("lambdaops --demo query") for c in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_parses(example):
    args = shlex.split(example)[1:]
    res = CliRunner().invoke(app, [*args, "--help"])
    assert res.exit_code == 0, res.stderr
    assert "Usage:" in res.stdout


def test_parsing_with_help_still_refuses_unknown_options():
    res = CliRunner().invoke(app, ["tune", "x", "--no-such-option", "--help"])
    assert res.exit_code == 2
