"""Global options, exit codes and one-line errors of the CLI shell."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lambdaops import __version__
from lambdaops.cli.main import app, hoist_globals

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_hoist_moves_globals_after_the_subcommand_to_the_front():
    assert hoist_globals(["functions", "--region", "eu-west-1", "-o", "json", "--demo", "--strict"]) == [
        "--region", "eu-west-1", "-o", "json", "--demo", "functions", "--strict"]
    assert hoist_globals(["report", "--profile=prod", "-ojson"]) == ["--profile=prod", "-ojson", "report"]
    assert hoist_globals(["query", "--", "--region"]) == ["query", "--", "--region"]


def test_version_and_help():
    res = invoke("--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"lambdaops {__version__}"
    res = invoke("--help")
    assert res.exit_code == 0
    assert "Exit codes" in res.stdout and "functions" in res.stdout and "LAMBDAOPS_" in res.stdout


def test_unknown_option_is_usage_error_on_one_line():
    res = invoke("functions", "--no-such-flag")
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "no-such-flag" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_output_format_is_usage_error():
    res = invoke("functions", "-o", "yaml", "--region", "us-east-1")
    assert res.exit_code == 2
    assert "yaml" in res.stderr


def test_no_credentials_exits_253_with_one_line():
    res = invoke("functions", "--region", "us-east-1")
    assert res.exit_code == 253, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "no AWS credentials" in lines[0]


def test_unknown_profile_exits_253(isolated_env):
    res = invoke("--profile", "nope", "functions", "--region", "us-east-1")
    assert res.exit_code == 253
    assert "'nope'" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_missing_region_exits_253(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    res = invoke("functions")
    assert res.exit_code == 253
    assert "no AWS region" in res.stderr


def test_expired_sso_token_says_how_to_log_in(isolated_env, monkeypatch):
    cache = isolated_env / "sso-cache"
    cache.mkdir()
    (isolated_env / "aws-config").write_text(
        "[profile corp]\nsso_session = s\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = eu-west-1\n"
        "[sso-session s]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n")
    monkeypatch.setenv("HOME", str(isolated_env))  # no cached token there: botocore raises SSOTokenLoadError
    res = invoke("--profile", "corp", "functions")
    assert res.exit_code == 253, res.stderr
    assert "aws sso login --profile corp" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_malformed_config_names_file_and_line(isolated_env, monkeypatch):
    cfg = isolated_env / "bad.toml"
    cfg.write_text('regions = ["us-east-1"]\nwindow = 3h\n')
    monkeypatch.setenv("LAMBDAOPS_CONFIG", str(cfg))
    res = invoke("config")
    assert res.exit_code == 253
    assert str(cfg) in res.stderr and "line 2" in res.stderr


def test_config_shows_sources(isolated_env, monkeypatch):
    cfg = isolated_env / "config" / "lambdaops" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('regions = ["eu-west-1"]\nrefresh = 120\n[profiles.sandbox]\nwrite = true\n')
    monkeypatch.setenv("LAMBDAOPS_WINDOW", "12h")
    (isolated_env / "aws-config").write_text("[profile sandbox]\n")  # a profile must exist to be used
    res = invoke("--profile", "sandbox", "config", "-o", "json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["profile"] == {"value": "sandbox", "source": "command line"}
    assert data["window"] == {"value": "12h", "source": "env LAMBDAOPS_WINDOW"}
    assert data["regions"]["value"] == "eu-west-1" and data["regions"]["source"] == str(cfg)
    assert data["write"]["value"] is True and "[profiles.sandbox]" in data["write"]["source"]
    assert data["refresh"]["value"] == 120
