"""FUNCTION arguments are looked up in every selected region (and by ARN); several matches list the
candidates with exit 2. Through the real entry point, against moto's in-process mock."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from lambdaops.cli.main import app

runner = CliRunner()
REGIONS = "us-east-1,eu-west-1,ap-southeast-2"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


@pytest.fixture
def account(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
        for region, name in (("us-east-1", "dup"), ("eu-west-1", "dup"), ("eu-west-1", "checkout-api-eu")):
            boto3.client("lambda", region_name=region).create_function(
                FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                Code={"ZipFile": _zip()})
        yield


def invoke(*args):
    return runner.invoke(app, ["--region", REGIONS, *args])


def test_traces_finds_a_function_outside_the_first_region(account):
    res = invoke("traces", "checkout-api-eu", "-o", "json")
    # found in eu-west-1: the X-Ray call goes there (moto has no GetTraceSummaries: that is its error)
    assert "not found" not in res.stderr and "GetTraceSummaries failed in eu-west-1" in res.stderr


def test_ambiguous_name_lists_each_candidate_and_exits_2(account):
    for cmd in (["traces", "dup"], ["tune", "dup", "--num", "5"]):
        res = invoke(*cmd)
        assert res.exit_code == 2, res.stderr
        assert "--region us-east-1 dup" in res.stderr and "--region eu-west-1 dup" in res.stderr
        assert "2 regions" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_an_arn_names_its_region(account):
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:dup"
    res = invoke("traces", arn, "-o", "json")
    assert "exists in" not in res.stderr and "GetTraceSummaries failed in eu-west-1" in res.stderr


def test_unknown_function_names_every_region_searched(account):
    res = invoke("tune", "nope", "--num", "5")
    assert res.exit_code == 254
    assert "Function not found" in res.stderr and "us-east-1, eu-west-1, ap-southeast-2" in res.stderr


def test_tune_cleanup_finds_the_function_in_its_region(account):
    res = invoke("tune", "--cleanup", "checkout-api-eu")
    assert res.exit_code == 0, res.stderr
    assert "nothing to clean up on checkout-api-eu" in res.stdout
