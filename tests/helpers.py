"""What the mock_aws tests of the AWS layer share."""

from __future__ import annotations

import io
import zipfile


def handler_zip() -> bytes:
    """A deployment package with a trivial Python handler (``app.handler``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    return buf.getvalue()


def run_cli(demo, *args):
    """``lambdaops --endpoint-url DEMO --region us-east-1,eu-west-1 ARGS`` in-process (Typer's CliRunner)."""
    from typer.testing import CliRunner

    from lambdaops.cli.main import app

    return CliRunner().invoke(app, ["--endpoint-url", demo.endpoint, "--region", "us-east-1,eu-west-1", *args])


def lambda_client(account, region: str):
    """A boto3 Lambda client on a demo account that never retries (a test sees each answer as given)."""
    import boto3
    import botocore.config

    return boto3.client("lambda", region_name=region, endpoint_url=account.endpoint, aws_access_key_id="demo",
                        aws_secret_access_key="demo", config=botocore.config.Config(retries={"total_max_attempts": 1}))
