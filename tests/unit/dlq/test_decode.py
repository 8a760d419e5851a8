"""DLQ message decoding by shape, safe display, and the other pure helpers of the dlq feature."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from lambdaops.dlq.decode import (StreamBatch, attribute_preview, boto_attributes, decode_message,
                                      decode_stream_data, json_safe_attributes, preview, replay_payload,
                                      safe_text, stream_event)
from lambdaops.aws.stream_records import sequence_key
from lambdaops.dlq.redrive import batches, compile_filter, matches
from lambdaops.dlq.journal import Journal, dedup_id
from lambdaops.cli.dlq_cmd import EACH_FUNCTION, rewrite_invoke
from lambdaops.errors import UsageError

RID = "8f5c3a1e-1b2c-4d3e-8f90-0123456789ab"
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:image-resize"


def _lambda_dlq_message(**over) -> dict:
    msg = {
        "MessageId": "m-1", "ReceiptHandle": "h", "MD5OfBody": "x",
        "Body": json.dumps({"orderId": "o-1", "amount": 12.5}),
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1718000000000"},
        "MessageAttributes": {
            "RequestID": {"DataType": "String", "StringValue": RID},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "KeyError: 'billingAddress'"},
        },
    }
    msg.update(over)
    return msg


def test_function_dlq_message_gives_event_error_and_request_id():
    d = decode_message(_lambda_dlq_message(), "function-dlq")
    assert d.shape == "lambda-dlq"
    assert d.event == {"orderId": "o-1", "amount": 12.5}
    assert (d.request_id, d.error_code, d.error_type) == (RID, "200", "KeyError")
    assert d.error_message == "KeyError: 'billingAddress'"
    assert d.receive_count == 2 and d.timestamp == "2024-06-10T06:13:20.000Z"


def test_async_destination_record():
    record = {
        "version": "1.0", "timestamp": "2024-06-10T06:13:20.123Z",
        "requestContext": {"requestId": RID, "functionArn": FN_ARN + ":$LATEST", "condition": "RetriesExhausted",
                           "approximateInvokeCount": 3},
        "requestPayload": {"Records": [{"s3": {"object": {"key": "a.jpg"}}}]},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "unsupported image", "errorType": "Error", "stackTrace": []},
    }
    d = decode_message({"MessageId": "m", "Body": json.dumps(record)})
    assert d.shape == "async-destination"
    assert (d.function, d.request_id, d.condition, d.attempts) == ("image-resize", RID, "RetriesExhausted", 3)
    assert (d.error_code, d.error_type, d.error_message) == ("200", "Error", "unsupported image")
    assert d.event == record["requestPayload"] and d.timestamp == record["timestamp"]
    assert json.loads(replay_payload(d, json.dumps(record))) == record["requestPayload"]


def test_async_destination_timeout_and_event_age_exceeded():
    record = {"version": "1.0", "timestamp": "t",
              "requestContext": {"requestId": RID, "functionArn": FN_ARN, "condition": "EventAgeExceeded",
                                 "approximateInvokeCount": 0},
              "requestPayload": {"a": 1}}
    d = decode_message({"MessageId": "m", "Body": json.dumps(record)})
    assert d.shape == "async-destination" and d.condition == "EventAgeExceeded" and d.attempts == 0
    assert d.error_code is None and d.error_message is None


@pytest.mark.parametrize("key,shape,stream", [("KinesisBatchInfo", "kinesis-batch", "kinesis"),
                                              ("DDBStreamBatchInfo", "dynamodb-batch", "dynamodb")])
def test_stream_batch_info(key, shape, stream):
    arn = ("arn:aws:kinesis:eu-west-1:123456789012:stream/price-feed" if stream == "kinesis"
           else "arn:aws:dynamodb:us-east-1:123456789012:table/inventory/stream/2024-06-10T00:00:00.000")
    record = {"requestContext": {"requestId": RID, "functionArn": FN_ARN, "condition": "RetryAttemptsExhausted",
                                 "approximateInvokeCount": 3},
              "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
              "version": "1.0", "timestamp": "2024-06-10T06:13:20.123Z",
              key: {"shardId": "shardId-000000000001", "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
                    "endSequenceNumber": "49601189658422359378836298521827638475320189012309704730", "batchSize": 4,
                    "streamArn": arn, "approximateArrivalOfFirstRecord": "a", "approximateArrivalOfLastRecord": "b"}}
    d = decode_message({"MessageId": "m", "Body": json.dumps(record)}, "stream-on-failure")
    assert d.shape == shape and d.batch.stream == stream and d.batch.batch_size == 4
    assert d.batch.shard_id == "shardId-000000000001" and d.source_arn == arn
    assert (d.condition, d.attempts, d.error_type) == ("RetryAttemptsExhausted", 3, "Unhandled")
    assert replay_payload(d, "{}") is None  # the records must be read back first


def test_sns_envelope_is_unwrapped_and_replays_the_inner_message():
    inner = json.dumps({"documentId": "d-1"})
    envelope = {"Type": "Notification", "MessageId": "n", "TopicArn": "arn:aws:sns:us-east-1:123456789012:pdf-dlq",
                "Message": inner, "MessageAttributes": {
                    "RequestID": {"Type": "String", "Value": RID}, "ErrorCode": {"Type": "Number", "Value": "200"},
                    "ErrorMessage": {"Type": "String", "Value": "boom"}}}
    d = decode_message({"MessageId": "m", "Body": json.dumps(envelope)}, "sns-dlq")
    assert d.shape == "lambda-dlq" and d.event == {"documentId": "d-1"}
    assert d.request_id == RID and d.error_message == "boom" and d.source_arn == envelope["TopicArn"]
    assert replay_payload(d, json.dumps(envelope)) == inner


def test_source_dlq_message_keeps_source_fifo_ids_and_attempts():
    msg = {"MessageId": "m", "Body": "{\"invoiceId\": \"inv-1\"}",
           "Attributes": {"ApproximateReceiveCount": "4", "MessageGroupId": "acct-001", "MessageDeduplicationId": "d-1",
                          "DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:123456789012:billing.fifo"},
           "MessageAttributes": {"sig": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
                                 "currency": {"DataType": "String.ISO4217", "StringValue": "EUR"}}}
    d = decode_message(msg, "source-dlq")
    assert d.shape == "sqs-message" and d.attempts == 4
    assert (d.group_id, d.dedup_id) == ("acct-001", "d-1")
    assert d.source_arn.endswith(":billing.fifo")
    assert d.attributes["sig"] == {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\xff").decode()}
    assert d.attributes["currency"]["DataType"] == "String.ISO4217"


def test_non_json_body_is_text_and_cannot_be_replayed():
    d = decode_message(_lambda_dlq_message(Body="To: a@example.com\r\nSubject: hi\r\n"))
    assert d.shape == "lambda-dlq" and d.body_format == "text" and d.event.startswith("To:")
    assert replay_payload(d, d.event) is None
    assert decode_message({"MessageId": "m", "Body": ""}).body_format == "empty"
    assert decode_message({"MessageId": "m", "Body": "{not json"}).body_format == "text"


def test_binary_attributes_in_both_wire_forms_decode_alike():
    raw = bytes(range(256))
    as_bytes = {"b": {"DataType": "Binary.gzip", "BinaryValue": raw}}
    as_b64 = {"b": {"DataType": "Binary.gzip", "BinaryValue": base64.b64encode(raw).decode()}}
    assert json_safe_attributes(as_bytes) == json_safe_attributes(as_b64)
    assert boto_attributes(as_b64) == {"b": {"DataType": "Binary.gzip", "BinaryValue": raw}}
    assert boto_attributes({"n": {"DataType": "Number.int", "StringValue": "3", "StringListValues": []}}) == {
        "n": {"DataType": "Number.int", "StringValue": "3"}}
    assert attribute_preview(as_bytes["b"]).startswith("Binary.gzip <256 bytes 000102")


def test_safe_text_keeps_letters_and_escapes_what_could_fool_a_terminal():
    assert safe_text("注文 🚚 مرحبا ההזמנה") == "注文 🚚 مرحبا ההזמנה"
    shown = safe_text("Welcome, \u202eevil\u202c\x1b[31mred\x07\n")
    assert "\u202e" not in shown and "\\u202e" in shown and "\\x1b" in shown and "\\x07" in shown
    assert "\\n" in shown and "\n" not in shown
    assert safe_text("zero\u200bwidth") == "zero\\u200bwidth"


def test_huge_bodies_are_cut_with_the_size_left_out():
    body = json.dumps({"blob": "A" * 220_000})
    d = decode_message({"MessageId": "m", "Body": body})
    assert d.body_bytes == len(body)
    shown = preview(d.event, 100)
    compact = json.dumps(d.event, separators=(",", ":"))
    assert len(shown) < 140 and shown.endswith(f"(+{len(compact) - 100:,} bytes)")


def test_stream_data_decoding():
    assert decode_stream_data(b'{"a": 1}') == {"format": "json", "value": {"a": 1}, "bytes": 8}
    frame = b"\x08\x96\x01\x12\x07abc"
    out = decode_stream_data(frame)
    assert out["format"] == "binary" and base64.b64decode(out["base64"]) == frame
    assert decode_stream_data(base64.b64encode(b"plain text").decode())["value"] == "plain text"


def test_sequence_numbers_compare_as_integers():
    assert sequence_key("10") > sequence_key("9")
    assert sequence_key("49601189658422359378836298521827638475320189012309704730") > sequence_key(
        "49601189658422359378836298521827638475320189012309704722")


def test_stream_event_rebuilds_what_lambda_sent():
    kb = StreamBatch("kinesis", "arn:aws:kinesis:us-east-1:123456789012:stream/s", "shardId-000000000000", "1", "2", 2)
    when = datetime(2024, 6, 10, tzinfo=timezone.utc)
    ev = stream_event(kb, [{"SequenceNumber": "1", "PartitionKey": "k", "Data": b"hi", "ApproximateArrivalTimestamp": when}])
    rec = ev["Records"][0]
    assert rec["eventSource"] == "aws:kinesis" and rec["eventID"] == "shardId-000000000000:1"
    assert base64.b64decode(rec["kinesis"]["data"]) == b"hi" and rec["kinesis"]["approximateArrivalTimestamp"] == when.timestamp()
    db = StreamBatch("dynamodb", "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x", "sh", "1", "1", 1)
    ev = stream_event(db, [{"eventID": "e", "eventName": "INSERT", "dynamodb": {"Keys": {"k": {"S": "a"}},
                                                                               "ApproximateCreationDateTime": when}}])
    assert ev["Records"][0]["eventSource"] == "aws:dynamodb" and ev["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] == when.timestamp()
    json.dumps(ev)  # a valid Invoke payload


def test_filters_use_jmespath_truthiness_over_the_decoded_message():
    d = decode_message(_lambda_dlq_message())
    assert matches(compile_filter("contains(error_message, 'billing')"), d)
    assert not matches(compile_filter("error_code == '500'"), d)
    assert matches(compile_filter("event.amount > `10`"), d)
    assert matches(compile_filter("receive_count"), d)  # 2: true
    assert not matches(compile_filter("batch"), d)  # absent: null
    assert matches(None, d)
    with pytest.raises(UsageError):
        compile_filter("event.[")


def test_batches_respect_count_and_bytes():
    sizes = [100] * 25 + [262_000, 200, 10]
    out = batches(sizes, lambda s: s, 256 * 1024)
    assert [len(b) for b in out] == [10, 10, 5, 1, 2]
    assert sum(len(b) for b in out) == len(sizes)


def test_dedup_ids_are_deterministic_and_valid():
    a = dedup_id("arn:aws:sqs:us-east-1:1:d.fifo", "m-1")
    assert a == dedup_id("arn:aws:sqs:us-east-1:1:d.fifo", "m-1") != dedup_id("arn:aws:sqs:us-east-1:1:d.fifo", "m-2")
    assert len(a) <= 128 and a.isalnum()


def test_journal_replays_states_and_survives_a_cut_line(tmp_path):
    j = Journal.create(tmp_path, {"dlq_arn": "arn:q", "dlq_name": "q"})
    j.intent([{"id": "a", "md5": "1", "dedup": "da", "target": "t"}, {"id": "b", "md5": "2", "dedup": "db", "target": "t"}])
    j.sent([{"id": "a", "new_id": "n-a", "target": "t"}])
    j.deleted(["a"])
    j.failed([{"id": "b", "code": "X", "message": "m"}])
    j.close()
    with open(j.path, "a") as fh:
        fh.write('{"ev":"sent","id":"b"')  # killed mid-write
    again = Journal.load(j.path)
    assert again.state == {"a": "deleted", "b": "failed"} and again.dedup == {"a": "da", "b": "db"}
    assert Journal.unfinished(tmp_path, "arn:q") == [j.path]
    again.end({})
    again.close()
    assert Journal.unfinished(tmp_path, "arn:q") == []


@pytest.mark.parametrize("args,expected", [
    (["q", "--invoke"], ["q", f"--invoke={EACH_FUNCTION}"]),
    (["--invoke", "q"], [f"--invoke={EACH_FUNCTION}", "q"]),
    (["q", "--invoke", "fn"], ["q", "--invoke", "fn"]),
    (["--invoke", "fn", "q"], ["--invoke", "fn", "q"]),
    (["q", "--invoke", "--yes"], ["q", f"--invoke={EACH_FUNCTION}", "--yes"]),
    (["q", "--to", "x", "--invoke"], ["q", "--to", "x", f"--invoke={EACH_FUNCTION}"]),
    (["q", "--yes"], ["q", "--yes"]),
])
def test_invoke_takes_an_optional_function(args, expected):
    assert rewrite_invoke(args) == expected


# --------------------------------------------------------------------------------------------
# hostile bodies: legal in SQS, never an exception


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000, "[" * 101 + "]" * 101],
                         ids=["100k-brackets", "5k-objects", "101-levels"])
def test_over_deep_json_is_opaque_text_with_a_note(body):
    d = decode_message({"MessageId": "m", "Body": body})
    assert d.body_format == "text" and d.event == body
    assert any("nested more than 100 levels" in n for n in d.notes)
    assert json.loads(json.dumps(d.to_dict()))["event"] == body  # every later step can handle it
    assert replay_payload(d, body) is None
    shallow = decode_message({"MessageId": "m", "Body": "[" * 100 + "]" * 100})
    assert shallow.body_format == "json" and not shallow.notes
    quoted = decode_message({"MessageId": "m", "Body": json.dumps({"text": "[" * 5_000, "list": [[1]]})})
    assert quoted.body_format == "json" and quoted.event["text"] == "[" * 5_000  # brackets in strings: no depth


def test_deep_sns_message_and_deep_stream_data_stay_text():
    envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "[" * 50_000}
    d = decode_message({"MessageId": "m", "Body": json.dumps(envelope)}, "sns-dlq")
    assert d.shape == "lambda-dlq" and d.body_format == "text" and any("SNS Message" in n for n in d.notes)
    out = decode_stream_data(b"[" * 50_000)
    assert out["format"] == "text" and "nested" in out["note"]


def test_lone_surrogate_escapes_and_huge_documents_stay_text():
    from lambdaops.dlq import decode as dlq_decode

    d = decode_message({"MessageId": "m", "Body": '{"a": "\\ud800"}'})
    assert d.body_format == "text" and d.event == '{"a": "\\ud800"}'
    json.dumps(d.to_dict(), ensure_ascii=False).encode("utf-8")  # writable as UTF-8 (exports, stdout)
    assert decode_message({"MessageId": "m", "Body": '{"a": "\\ud83d\\ude9a"}'}).event == {"a": "🚚"}  # a pair is fine
    big = "[" + "1," * (dlq_decode.MAX_PARSE_CHARS // 2) + "1]"
    d = decode_message({"MessageId": "m", "Body": big})
    assert d.body_format == "text" and d.body_bytes == len(big) and "limit" in d.notes[0]


def test_records_with_fields_of_the_wrong_type_decode_without_raising():
    record = {"timestamp": ["not", "a", "time"], "requestPayload": 1, "responseContext": 3,
              "requestContext": {"requestId": {"x": 1}, "functionArn": 5, "condition": None,
                                 "approximateInvokeCount": 1e999},
              "responsePayload": {"errorType": ["T"], "errorMessage": {"m": 1}}}
    d = decode_message({"MessageId": "m", "Body": json.dumps(record),
                        "Attributes": {"SentTimestamp": "9" * 30}})
    assert d.shape == "async-destination" and d.attempts is None
    for value in (d.timestamp, d.request_id, d.function, d.error_type, d.error_message):
        assert isinstance(value, str)
    batch = {"requestContext": {}, "KinesisBatchInfo": {"streamArn": 7, "shardId": None, "batchSize": "x",
                                                        "startSequenceNumber": 1, "endSequenceNumber": [2]}}
    d = decode_message({"MessageId": "m", "Body": json.dumps(batch)})
    assert d.batch.stream_arn == "7" and d.batch.shard_id == "" and d.batch.batch_size is None
    sns = {"Type": "Notification", "TopicArn": "t", "Message": "{}", "MessageAttributes": [1, 2]}
    assert decode_message({"MessageId": "m", "Body": json.dumps(sns)}).attributes == {}
    not_sns = {"Type": "Notification", "TopicArn": 1, "Message": {"x": 1}}
    assert decode_message({"MessageId": "m", "Body": json.dumps(not_sns)}).shape == "sqs-message"


def test_tuning_payloads_from_a_dlq_use_the_same_decoder():
    from lambdaops.tuning.dlq_payloads import decode_dlq_body

    for body in ("[" * 100_000, '{"a": "\\ud800"}', "plain text"):
        payload, why = decode_dlq_body(body)
        assert payload is None and why.startswith("body is not JSON")
    record = {"requestContext": {"requestId": "r"}, "requestPayload": {"b": 2}}
    assert decode_dlq_body(json.dumps(record)) == (b'{"b": 2}', None)


# --------------------------------------------------------------------------------------------
# terminal escaping (lambdaops.safe_text) and the output formats


def test_safe_text_escapes_c1_controls_osc_and_csi():
    from lambdaops.safe_text import markup_escaped, rich_text, term

    assert safe_text("\x1b]0;pwned\x07 \x1b[2J \x9b2J \x9d0;t\x9c", None) == \
        "\\x1b]0;pwned\\x07 \\x1b[2J \\x9b2J \\x9d0;t\\x9c"
    assert safe_text("a\ud800b", None) == "a\\ud800b"
    assert safe_text("x" * 10, None) == "x" * 10 and safe_text(None) == "-" and term(None) == ""
    assert safe_text("line\nnext\ttab", None, single_line=False) == "line\nnext\ttab"
    text = rich_text("upstream call [/api/v1/orders] failed \x1b[2J")
    assert text.plain == "upstream call [/api/v1/orders] failed \\x1b[2J" and not text.spans
    from rich.text import Text

    assert Text.from_markup(markup_escaped("[bold]x[/] [/api/v1/orders]")).plain == "[bold]x[/] [/api/v1/orders]"


def test_json_output_is_exact_json_with_terminal_controls_escaped():
    from lambdaops.cli.output import to_json

    doc = {"body": "\x1b]0;t\x07 \x9b2J \u202eevil \ud800 注文", "n": 1}
    text = to_json(doc)
    assert json.loads(text) == doc
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text and "\ud800" not in text
    assert "注文" in text  # letters stay readable
    text.encode("utf-8")


def test_table_and_markdown_cells_are_inert():
    import io

    from lambdaops.cli.output import Column, emit, to_csv, to_markdown

    rows = [{"a": "upstream call [/api/v1/orders] failed [bold]x[/] \x1b]0;t\x07", "b": "p|q\nr <b>"}]
    cols = [Column("a", "A"), Column("b", "B")]
    out = io.StringIO()
    emit(rows, cols, "table", stream=out)
    assert "[/api/v1/orders]" in out.getvalue() and "[bold]x[/]" in out.getvalue()
    assert "\x1b" not in out.getvalue() and "\\x1b]0;t\\x07" in out.getvalue()
    md = to_markdown(rows, cols)
    assert "\x1b" not in md and len(md.strip().splitlines()) == 3
    assert "p\\|q\\\\nr \\<b\\>" in md and "\\[/api/v1/orders\\]" in md
    assert list(__import__("csv").reader(io.StringIO(to_csv(rows, cols))))[1] == [rows[0]["a"], rows[0]["b"]]
