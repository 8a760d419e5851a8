"""The lines ``demo serve`` prints reach the demo from the AWS CLI (v1 here when installed: its sqs
commands ignore AWS_ENDPOINT_URL, the printed alias does not) and from boto3."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, start_served_demo, stop_served_demo


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    demo = start_served_demo(tmp_path_factory.mktemp("serve"), truth=False)
    try:
        out = []
        for _ in range(40):
            line = demo.readline()
            if not line or line.startswith("press Ctrl-C"):
                break
            out.append(line)
        yield demo, [ln[2:].rstrip("\n") for ln in out if ln.startswith("  ")]
    finally:
        stop_served_demo(demo)


def _bash(script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDAOPS_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_MAX_ATTEMPTS"] = "1"
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_lines_are_valid_shell_with_an_alias(lines):
    demo, shell = lines
    assert f"export AWS_ENDPOINT_URL={demo.endpoint}" in shell
    assert f"alias awsdemo='aws --endpoint-url {demo.endpoint}'" in shell
    assert _bash("set -n\n" + "\n".join(shell)).returncode == 0


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_reaches_sqs_and_lambda_with_the_printed_lines(lines):
    demo, shell = lines
    setup = "shopt -s expand_aliases\n" + "\n".join(ln for ln in shell if not ln.startswith("lambdaops "))
    res = _bash(setup + "\nawsdemo sqs list-queues --output json && aws lambda list-functions --output json")
    assert res.returncode == 0, res.stderr[-1500:]
    assert "QueueUrls" in res.stdout and "Functions" in res.stdout


def test_boto3_reaches_sqs_with_the_exports_alone(lines):
    demo, shell = lines
    exports = "\n".join(ln for ln in shell if ln.startswith("export "))
    code = "import boto3; print(len(boto3.client('sqs').list_queues().get('QueueUrls', [])))"
    res = _bash(f"{exports}\n{__import__('sys').executable} -c \"{code}\"")
    assert res.returncode == 0, res.stderr[-1500:]
    assert int(res.stdout.strip()) > 0
