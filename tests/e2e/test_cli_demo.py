"""The CLI's first steps: ``--demo`` itself (the CLI starts the embedded account in a child process of
its own, the path a newcomer takes first, so that test cannot use the shared served account), and
global options given after the subcommand, against the shared one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from tests.conftest import demo_env

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.e2e
def test_demo_functions_json_lists_the_fleet(monkeypatch):
    from lambdaops.demo import launch

    made = []

    class Recorded(launch.DemoProcess):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            made.append(self)

    monkeypatch.setattr(launch, "DemoProcess", Recorded)
    res = invoke("--demo", "functions", "-o", "json")
    assert res.exit_code == 0, res.stderr
    # The account ran in a child process (not under this process's GIL), released when the command
    # ended: it stops by itself once it has written the demo cache.
    assert len(made) == 1 and made[0].endpoint
    assert made[0].proc.wait(timeout=120) == 0
    rows = json.loads(res.stdout)
    assert len(rows) >= 20
    assert {r["region"] for r in rows} == {"us-east-1", "eu-west-1"}
    by_name = {r["name"]: r for r in rows}
    assert by_name["payments-async"]["dead_letter_target"] == "payments-async-dlq"
    assert by_name["image-resize"]["on_failure_destination"] == "image-resize-failures"
    assert by_name["checkout-api"]["reserved_concurrency"] == 100
    assert by_name["checkout-api"]["log_format"] == "JSON"
    assert by_name["user-profile-api"]["log_group"] == "/app/user-profile-api"
    assert by_name["orders-stream-consumer"]["triggers"] == ["kinesis:orders-stream"]
    assert by_name["orders-stream-consumer"]["stream_on_failure"] == ["orders-stream-failures"]
    assert {r["architecture"] for r in rows} == {"x86_64", "arm64"}
    assert by_name["quote-service"]["snapstart"] is True
    for r in rows:
        assert set(r) >= {"name", "region", "runtime", "memory_mb", "timeout_s", "triggers"}


@pytest.mark.e2e
def test_functions_csv_with_global_options_after_the_subcommand(served_demo, monkeypatch):
    for key, value in demo_env(served_demo.endpoint).items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    res = invoke("functions", "--endpoint-url", served_demo.endpoint, "--region", "eu-west-1", "-o", "csv",
                 "--no-details")
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("name,region,runtime")
    from lambdaops.demo.fleet import build_fleet

    in_region = sum(f.region == "eu-west-1" for f in build_fleet())
    assert len(lines) - 1 == in_region and all(",eu-west-1," in ln for ln in lines[1:])
