"""Poison messages in a DLQ: `dlq show` (table, markdown, json), `dlq export`, `dlq redrive --dry-run`, a
real redrive, and the TUI's DLQ screen, against a served demo account of this module's own.

Each message is one a real DLQ can hold: SQS takes any text of the XML character range up to 1 MiB,
which includes C1 controls (U+009B is an 8-bit CSI) and bidi overrides, and JSON inside a body can
spell ESC and BEL as ``\\u001b``/``\\u0007`` (SendMessage API reference, MessageBody). The checks:
no traceback, the right exit code, no raw control byte in human output, markup shown literally,
bodies and attributes carried byte for byte, and a TUI that does not crash.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from tests.conftest import start_served_demo, stop_served_demo

pytestmark = pytest.mark.e2e
REGION = "us-east-1"
DLQ = "email-dlq"
ACCOUNT = "123456789012"
runner = CliRunner()

MARKUP = "upstream call [/api/v1/orders] failed [bold]boom[/]"
ESCAPED_ESC = "\\u001b]0;pwned\\u0007 \\u001b[2J"  # JSON text: ESC ] 0 ; pwned BEL, ESC [ 2 J once decoded
# Anything a terminal acts on: C0 but tab/newline, DEL, C1, bidi embeddings/overrides/isolates.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _record(**over) -> str:
    rec = {"version": "1.0", "timestamp": "\u001b[2J2026-11-30T06:13:20.123Z",
           "requestContext": {"requestId": "\u001b]0;req\u0007", "condition": "RetriesExhausted",
                              "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f\u001b[31m",
                              "approximateInvokeCount": 3},
           "requestPayload": {"order": "\u001b[2J"},
           "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
           "responsePayload": {"errorType": "[bold]Err\u001b[0m", "errorMessage": MARKUP + " \u001b]0;t\u0007"}}
    rec.update(over)
    return json.dumps(rec)


POISON = {
    "deep": ("[" * 100_000, {}),
    "deep-object": ('{"a":' * 5_000 + "1" + "}" * 5_000, {}),
    "lambda-dlq": ('{"note": "' + ESCAPED_ESC + ' [/] [bold]b"}', {
        "RequestID": {"DataType": "String", "StringValue": "\u009b2J-req-\u202eevil"},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": MARKUP + " \u009d0;pwned\u009c"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\xff\xfe\x1b[2J\x00"}}),
    "destination": (_record(), {}),
    "stream": (json.dumps({"requestContext": {"requestId": "r", "condition": "RetryAttemptsExhausted"},
                           "responseContext": {"functionError": "[red]x"},
                           "KinesisBatchInfo": {"shardId": "shardId-\u001b[2J",
                                                "streamArn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s\u001b]0;x\u0007",
                                                "startSequenceNumber": "1", "endSequenceNumber": "2",
                                                "batchSize": 1e999}}), {}),
    "sns": (json.dumps({"Type": "Notification", "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:t\u001b[2J",
                        "Message": "[" * 5_000, "MessageAttributes": {"a": {"Type": "String", "Value": "\u001b]0;x\u0007"}}}),
            {}),
    "not-json": ("{not json \u009b2J " + MARKUP, {}),
    "surrogate": ('{"a": "\\ud800 lone"}', {}),
    "big": ("B" * 262_000, {}),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # Its own account: it purges email-dlq and fills it with poison messages.
    d = start_served_demo(tmp_path_factory.mktemp("hostile-demo"), truth=False)
    sqs = d.client("sqs", REGION)
    # email-dlq: the redrive target of the demo's email-queue (an SQS event source), so discovery and
    # the TUI list it; emptied first, so that it holds the poison messages only
    dlq = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    sqs.purge_queue(QueueUrl=dlq)
    sqs.create_queue(QueueName="poison-target")
    d.sent = {}
    for name, (body, attrs) in POISON.items():
        kw = {"MessageAttributes": attrs} if attrs else {}
        mid = sqs.send_message(QueueUrl=dlq, MessageBody=body, **kw)["MessageId"]
        d.sent[mid] = (name, body, attrs)
    yield d
    stop_served_demo(d)


@pytest.fixture
def cli(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "demo")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "demo")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def invoke(*args: str):
        return runner.invoke(app, ["--endpoint-url", demo.endpoint, "--region", REGION, *args])

    return invoke


def assert_inert(text: str, what: str) -> None:
    found = RAW_CONTROL.search(text)
    assert found is None, f"{what}: raw {found.group()!r} at {found.start()}: {text[max(0, found.start() - 60):found.end() + 20]!r}"
    assert "Traceback" not in text and "internal error" not in text, f"{what}: {text[-2000:]}"


def test_show_table_is_inert_and_shows_markup_literally(cli, demo):
    res = cli("dlq", "show", DLQ, "--max", "20")
    assert res.exit_code == 0, res.stderr[-2000:]
    assert_inert(res.stdout, "stdout")
    assert_inert(res.stderr, "stderr")
    assert res.stdout.count("── ") == len(POISON)
    assert "upstream call [/api/v1/orders] failed" in res.stdout and "[bold]" in res.stdout
    assert "request    \\x1b]0;req\\x07" in res.stdout  # a record's OSC request id, shown escaped
    assert "\\x1b[2J2026-11-30T06:13:20.123Z" in res.stdout  # its timestamp, which would clear the screen
    assert "\\x9d0;pwned\\x9c" in res.stdout  # an 8-bit OSC in ErrorMessage
    assert "request    \\x9b2J-req-\\u202eevil" in res.stdout  # 8-bit CSI and a bidi override
    assert "stream/s\\x1b]0;x\\x07" in res.stdout and "notification of arn:aws:sns:us-east-1:123456789012:t\\x1b[2J" \
        in res.stdout  # stream and topic ARNs
    assert "nested more than 100 levels" in res.stdout  # the deep body: opaque text with a note


def test_show_markdown_and_csv(cli, demo):
    res = cli("dlq", "show", DLQ, "--max", "20", "-o", "markdown")
    assert res.exit_code == 0, res.stderr[-2000:]
    assert_inert(res.stdout, "markdown")
    rows = [ln for ln in res.stdout.splitlines() if ln.startswith("| ")]
    assert len(rows) == 2 + len(POISON)  # a newline or pipe in a field never breaks a row
    assert "\\[/api/v1/orders\\]" in res.stdout  # markup characters escaped for Markdown
    res = cli("dlq", "show", DLQ, "--max", "20", "-o", "csv")
    assert res.exit_code == 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr


def test_show_json_is_exact_json_with_controls_escaped(cli, demo):
    res = cli("dlq", "show", DLQ, "--max", "20", "-o", "json")
    assert res.exit_code == 0, res.stderr[-2000:]
    assert_inert(res.stdout, "json")  # C1 and bidi characters written as \u escapes too
    docs = json.loads(res.stdout)
    assert {d["message_id"]: d["body"] for d in docs} == {mid: body for mid, (_, body, _) in demo.sent.items()}
    by_name = {demo.sent[d["message_id"]][0]: d for d in docs}
    assert by_name["deep"]["body_format"] == "text" and by_name["deep"]["event"] == "[" * 100_000
    assert by_name["destination"]["error_message"].startswith(MARKUP)
    assert by_name["destination"]["timestamp"].startswith("\u001b[2J")  # data stays exact
    assert by_name["stream"]["batch"]["batch_size"] is None  # 1e999: not a size
    assert by_name["lambda-dlq"]["attributes"]["RequestID"]["StringValue"] == "\u009b2J-req-\u202eevil"


def test_export_carries_every_body_and_attribute_byte_for_byte(cli, demo, tmp_path):
    out = tmp_path / "poison.jsonl"
    res = cli("dlq", "export", DLQ, "--to", str(out))
    assert res.exit_code == 0, res.stderr[-2000:]
    assert_inert(res.stdout, "stdout")
    assert_inert(res.stderr, "stderr")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {d["message_id"]: d["body"] for d in lines} == {mid: body for mid, (_, body, _) in demo.sent.items()}
    blob = next(d for d in lines if demo.sent[d["message_id"]][0] == "lambda-dlq")["message_attributes"]["blob"]
    assert blob["BinaryValue"] == "//4bWzJKAA=="  # base64 of the raw bytes


def test_redrive_dry_run_decodes_every_message(cli, demo):
    res = cli("dlq", "redrive", DLQ, "--to", "poison-target", "--by-hand", "--dry-run")
    assert res.exit_code == 0, res.stderr[-2000:]
    assert_inert(res.stdout, "stdout")
    assert_inert(res.stderr, "stderr")
    assert res.stdout.count("send") == len(POISON)


def test_tui_dlq_screen_shows_every_poison_message_without_crashing(demo):
    import asyncio

    from rich.console import Console

    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.tui.app import LambdaopsApp
    from lambdaops.tui.session import Session, TuiSettings
    from tests.tui.harness import settle, wait_until
    from lambdaops.tui.screens.dlq import DlqScreen, message_detail

    ctx = AwsContext(regions=[REGION], endpoint_url=demo.endpoint, credentials=StaticCredentials("demo", "demo"),
                     max_attempts=2)
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{DLQ}"

    async def drive() -> None:
        tui = LambdaopsApp(Session(lambda: ctx, settings=TuiSettings(write=False), label="hostile"), auto_poll=False)
        async with tui.run_test(size=(160, 45)) as pilot:
            screen = DlqScreen(focus_queue=arn)
            tui.push_screen(screen)
            await wait_until(pilot, lambda: len(screen.messages) == len(POISON) or tui.error_log, timeout=90,
                             what="the poison messages")
            assert not tui.error_log, tui.error_log
            await settle(pilot, tui)
            for i in range(len(screen.messages)):  # every detail drawn on the real screen
                screen.query_one("#messages").move_cursor(row=i)
                await pilot.pause(0.05)
            tui.record_error("DLQ", MARKUP + " \u001b]0;pwned\u0007")  # a notification and an error-log row
            await pilot.press("E")
            await settle(pilot, tui)
            await pilot.press("escape")
            for m in screen.messages:
                console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
                console.print(message_detail(m))
                shown = console.export_text()
                assert_inert(shown, f"detail of {m.message_id}")
                if m.error_message and MARKUP in m.error_message:
                    assert "upstream call [/api/v1/orders] failed" in shown
            assert tui.is_running and tui.return_code is None

    asyncio.run(drive())


def test_redrive_moves_poison_bodies_and_attributes_unchanged(cli, demo):
    res = cli("dlq", "redrive", DLQ, "--to", "poison-target", "--by-hand", "--yes")
    assert res.exit_code == 0, res.stderr[-2000:]
    assert_inert(res.stdout, "stdout")
    assert_inert(res.stderr, "stderr")
    sqs = demo.client("sqs", REGION)
    url = sqs.get_queue_url(QueueName="poison-target")["QueueUrl"]
    got = {}
    for _ in range(10):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                     WaitTimeSeconds=0).get("Messages", []):
            got[m["Body"]] = m.get("MessageAttributes", {})
        if len(got) == len(POISON):
            break
    assert set(got) == {body for _, body, _ in demo.sent.values()}
    for _, body, attrs in demo.sent.values():
        assert got[body] == attrs
