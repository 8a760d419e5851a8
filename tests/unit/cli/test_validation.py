"""Validation before any work: nothing starts (no demo, no call) when the command line or the
configuration is wrong, and the exit code says which (2 usage, 253 configuration)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from lambdaops.cli import state as state_mod

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_demo(monkeypatch):
    """Starting the demo here would be a failure of 'before any work'."""
    def refuse(self):
        raise AssertionError("the demo was started before validation")

    monkeypatch.setattr(state_mod.CliState, "start_demo", refuse)


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


@pytest.mark.parametrize("url", ["notaurl", "ftp://host", "http://", "http://host:notaport"])
def test_bad_endpoint_url_is_a_usage_error(url):
    res = invoke("--endpoint-url", url, "functions", "--region", "us-east-1")
    assert res.exit_code == 2, res.stderr
    assert "--endpoint-url" in res.stderr and "internal error" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_demo_and_endpoint_url_conflict():
    res = invoke("--demo", "--endpoint-url", "http://127.0.0.1:1", "functions")
    assert res.exit_code == 2 and "not both" in res.stderr


def test_unknown_region_refused_before_the_demo_starts():
    res = invoke("--demo", "--region", "xx-fake-9", "functions")
    assert res.exit_code == 2, res.stderr
    assert "'xx-fake-9' is not an AWS region" in res.stderr and "<" not in res.stderr


def test_regions_of_two_partitions_refused():
    res = invoke("--region", "us-east-1,cn-north-1", "functions")
    assert res.exit_code == 2 and "partitions" in res.stderr


def test_region_of_another_partition_alone_is_accepted_until_credentials():
    res = invoke("--region", "cn-north-1", "functions")
    assert res.exit_code == 253  # past validation: no credentials in the isolated environment


def test_bad_region_from_the_environment_refused():
    res = invoke("functions", env={"AWS_REGION": "moon-1"})
    assert res.exit_code == 2 and "env AWS_REGION" in res.stderr


def test_missing_named_config_file_is_253(tmp_path):
    res = invoke("config", env={"LAMBDAOPS_CONFIG": str(tmp_path / "nope.toml")})
    assert res.exit_code == 253 and "nope.toml" in res.stderr


def test_config_with_unknown_profile_is_253():
    res = invoke("--profile", "doesnotexist", "config")
    assert res.exit_code == 253, res.stdout
    assert "'doesnotexist'" in res.stderr and res.stdout == ""


def test_config_with_known_profile_is_fine(tmp_path, monkeypatch):
    cfg = tmp_path / "awsconfig"
    cfg.write_text("[profile sandbox]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    res = invoke("--profile", "sandbox", "config", "-o", "json")
    assert res.exit_code == 0, res.stderr


def test_dlq_export_to_existing_file_refused_before_the_demo(tmp_path):
    existing = tmp_path / "existing.jsonl"
    existing.write_text("{}\n")
    res = invoke("--demo", "dlq", "export", "orders-dlq", "--to", str(existing))
    assert res.exit_code == 2 and "exists" in res.stderr
    assert existing.read_text() == "{}\n"


def test_dlq_export_into_missing_directory_refused(tmp_path):
    res = invoke("--demo", "dlq", "export", "orders-dlq", "--to", str(tmp_path / "no" / "x.jsonl"))
    assert res.exit_code == 2 and "does not exist" in res.stderr


def test_an_html_error_page_is_summarised_in_one_line(monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Page(BaseHTTPRequestHandler):
        def _page(self):
            body = b"<!doctype html>\n<html><head><title>404 Not Found</title></head><body><h1>Nope</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    try:
        res = invoke("--endpoint-url", f"http://127.0.0.1:{server.server_port}", "--region", "us-east-1", "functions")
    finally:
        server.shutdown()
    assert res.exit_code == 254, res.stderr
    assert "<" not in res.stderr and "HTML page (404 Not Found)" in res.stderr
