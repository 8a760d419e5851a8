"""The demo account needs only moto's core, Flask and flask-cors: the heavy packages of moto's
``server`` extra are blocked in a child process, which must still serve every service lambdaops calls."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib

import pytest

from tests.conftest import ROOT, ServedDemo, announced_endpoint, stop_served_demo

# What moto[server] / moto[all] add beyond moto's core and Flask (moto 5.2's extras).
BLOCKED = ("cfn_lint", "docker", "aws_xray_sdk", "openapi_spec_validator", "graphql", "antlr4", "joserfc",
           "jsonpath_ng", "py_partiql_parser", "sympy", "networkx", "jsonschema")

CHILD = f"""
import importlib.abc, sys, runpy
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {BLOCKED!r}:
            raise ImportError('blocked for the lean-install test: ' + name)
sys.meta_path.insert(0, Block())
sys.argv = ['lambdaops', 'demo', 'serve', '--port', '0']
runpy.run_module('lambdaops.cli.main', run_name='__main__')
"""


def test_pyproject_does_not_pull_moto_server_extra():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    moto = [d for d in deps if d.startswith("moto")]
    assert moto and all("[" not in d for d in moto), moto


@pytest.mark.e2e
def test_demo_serves_every_service_without_the_server_extras():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        endpoint = announced_endpoint(proc)
    except RuntimeError as exc:
        pytest.fail(f"with the extras blocked: {exc}")
    # Its own account: a start with the extras blocked is what this test checks.
    demo = ServedDemo(proc, endpoint, None)
    try:
        now = int(time.time())
        lam = demo.client("lambda")
        names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        assert names
        assert demo.client("sqs").list_queues()["QueueUrls"]
        assert demo.client("sns").list_topics()["Topics"] is not None
        assert demo.client("logs").describe_log_groups()["logGroups"]
        assert demo.client("cloudwatch").get_metric_data(
            MetricDataQueries=[{"Id": "i", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda",
                                                                     "MetricName": "Invocations"},
                                                          "Period": 300, "Stat": "Sum"}}],
            StartTime=now - 3600, EndTime=now)["MetricDataResults"]
        assert "TraceSummaries" in demo.client("xray").get_trace_summaries(StartTime=now - 3600, EndTime=now)
        assert demo.client("kinesis").list_streams()["StreamNames"] is not None
        assert demo.client("sts").get_caller_identity()["Account"]
        invoked = lam.invoke(FunctionName=names[0], Payload=b"{}", LogType="Tail")
        assert invoked["StatusCode"] == 200
    finally:
        assert stop_served_demo(demo) == 0, demo.stderr()[-2000:]
