"""Decode DLQ messages by shape, and show any body safely. Pure: no I/O, no boto3.

Shapes (AWS Lambda Developer Guide: "Dead-letter queues", "Adding a destination", and the
Kinesis and DynamoDB event source mappings' "on-failure destination" sections):

- ``lambda-dlq``: a function's DeadLetterConfig: the body is the original event; attributes
  ``RequestID``, ``ErrorCode``, ``ErrorMessage``;
- ``async-destination``: an async on-failure destination record (``requestContext``,
  ``requestPayload``, ``responseContext``, ``responsePayload``);
- ``kinesis-batch`` / ``dynamodb-batch``: a stream mapping's on-failure record; only batch info, the
  records themselves must be read back from the stream;
- ``sns-notification``: an SNS envelope (subscription without raw delivery), unwrapped first;
- ``sqs-message``: anything else, e.g. a message an SQS source queue moved to its DLQ.

Messages are dicts as boto3's ReceiveMessage returns them (``BinaryValue`` as bytes) or as the JSON
wire / AWS CLI shows them (``BinaryValue`` base64 text): both decode alike.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from lambdaops.models import StreamBatch  # noqa: F401 - the decoded shape of a stream failure record
from lambdaops.safe_text import safe_text  # noqa: F401 - the one terminal escaper; re-exported for callers

SHAPES = ("lambda-dlq", "async-destination", "kinesis-batch", "dynamodb-batch", "sns-notification", "sqs-message")
_LAMBDA_DLQ_ATTRS = ("RequestID", "ErrorCode", "ErrorMessage")
_BATCH_KEYS = {"KinesisBatchInfo": "kinesis-batch", "DDBStreamBatchInfo": "dynamodb-batch"}


@dataclass
class DecodedMessage:
    message_id: str
    shape: str
    body_format: str  # json | text | empty
    body_bytes: int
    md5_of_body: str | None = None
    event: Any = None  # the original event: parsed JSON, or text when it was not JSON
    request_id: str | None = None
    function: str | None = None
    error_code: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    condition: str | None = None
    attempts: int | None = None
    receive_count: int | None = None
    timestamp: str | None = None  # when the failure was recorded (record timestamp, else SentTimestamp)
    source_arn: str | None = None  # DeadLetterQueueSourceArn, SNS topic, or the batch's stream
    group_id: str | None = None
    dedup_id: str | None = None
    batch: StreamBatch | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # message attributes, JSON-safe
    system_attributes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inner_body: str | None = None  # the SNS Message an envelope carried

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("inner_body")
        if self.batch is None:
            out.pop("batch")
        return out


# --------------------------------------------------------------------------------------------
# attributes


def attribute_value(attr: dict) -> Any:
    """The value of a message attribute: text for String/Number types, bytes for Binary ones."""
    if "StringValue" in attr:
        return attr["StringValue"]
    raw = attr.get("BinaryValue")
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    if isinstance(raw, str):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return raw.encode()
    return raw


def json_safe_attributes(attrs: dict | None) -> dict[str, dict]:
    """Message attributes as the SQS JSON protocol and the AWS CLI write them: binary as base64."""
    out: dict[str, dict] = {}
    for name, attr in (attrs or {}).items():
        entry = {"DataType": attr.get("DataType", "String")}
        if "StringValue" in attr:
            entry["StringValue"] = attr["StringValue"]
        elif "BinaryValue" in attr:
            value = attribute_value(attr)
            entry["BinaryValue"] = base64.b64encode(value).decode() if isinstance(value, bytes) else value
        out[name] = entry
    return out


def boto_attributes(attrs: dict | None) -> dict[str, dict]:
    """Message attributes ready for boto3's SendMessage(Batch): binary as bytes, lists dropped
    (SQS has never accepted StringListValues/BinaryListValues)."""
    out: dict[str, dict] = {}
    for name, attr in (attrs or {}).items():
        entry = {"DataType": attr["DataType"]}
        if "StringValue" in attr:
            entry["StringValue"] = attr["StringValue"]
        elif "BinaryValue" in attr:
            entry["BinaryValue"] = attribute_value(attr)
        out[name] = entry
    return out


def _attr_text(attrs: dict, name: str) -> str | None:
    attr = attrs.get(name)
    if not attr:
        return None
    value = attribute_value(attr)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# --------------------------------------------------------------------------------------------
# bodies


# A body is parsed only when it is small and shallow enough to be handled safely everywhere after:
# SQS accepts any text up to 1 MiB (SendMessage API reference, MessageBody), so 100,000 ``[`` is a
# legal body, and Python's parser, ``dataclasses.asdict``, the JSON encoder, JMESPath and Rich all
# recurse once per level. Deeper or bigger documents stay opaque text; the body itself is never
# changed, so export and redrive still carry it byte for byte.
MAX_JSON_DEPTH = 100
MAX_PARSE_CHARS = 2 * 1024 * 1024
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects more than ``limit`` deep (brackets inside strings
    do not count). Counted without recursion, before anything parses it."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_json_text(text: str) -> tuple[str, Any, str | None]:
    """(format, value, note) of any text that may be JSON: ``json`` and the document, or ``text``
    and the text itself with the reason it was not parsed (None: simply not JSON), or ``empty``.
    Never raises: every body and record of a DLQ goes through here."""
    if text is None or text == "":
        return "empty", None, None
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else str(text)
    stripped = text.lstrip()
    if not (stripped[:1] in ("{", "[", '"', "-") or stripped[:1].isdigit()
            or stripped[:4] in ("true", "fals", "null")):
        return "text", text, None
    if len(text) > MAX_PARSE_CHARS:
        return "text", text, f"not parsed as JSON: {len(text):,} characters is over the {MAX_PARSE_CHARS:,} limit"
    if json_too_deep(text):
        return "text", text, f"not parsed as JSON: nested more than {MAX_JSON_DEPTH} levels deep; shown as text"
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return "text", text, None
    if _SURROGATE_ESCAPE.search(text):
        try:  # a lone \\udXXX escape parses to a str that cannot be written as UTF-8 anywhere
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return "text", text, "not parsed as JSON: it spells an unpaired UTF-16 surrogate (\\udXXX); shown as text"
    return "json", doc, None


def parse_body(body: str | None) -> tuple[str, Any]:
    """(format, value): ``json`` and the parsed document, ``text`` and the text, or ``empty``."""
    fmt, value, _ = parse_json_text(body)
    return fmt, value


def _as_text(value: Any) -> str | None:
    """A field read from a message's JSON as text: records are written by Lambda, but a body is
    whatever its sender wrote, so a "timestamp" may be an object."""
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _utf8_len(body: Any) -> int:
    if not body:
        return 0
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    return len(str(body).encode("utf-8", "surrogatepass"))


def _ms_to_iso(value: Any) -> str | None:
    try:
        ms = int(value)
        return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _function_name(arn: Any) -> str | None:
    arn = _as_text(arn)
    if not arn:
        return None
    parts = arn.split(":")
    if len(parts) >= 7 and parts[5] == "function":
        return parts[6]
    return arn


def unwrap_sns(doc: Any) -> dict | None:
    """The SNS envelope of a non-raw subscription, or None."""
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and isinstance(doc.get("TopicArn"), str) \
            and isinstance(doc.get("Message"), str):
        return doc
    return None


def sns_attributes(envelope: dict) -> dict[str, dict]:
    """SNS envelope attributes ({"Type": ..., "Value": ...}) as SQS-style message attributes."""
    out = {}
    for name, attr in _dict(envelope.get("MessageAttributes")).items():
        attr = _dict(attr)
        dtype = _as_text(attr.get("Type")) or "String"
        value = attr.get("Value", "")
        if dtype.startswith("Binary"):
            out[str(name)] = {"DataType": dtype, "BinaryValue": value if isinstance(value, str) else _as_text(value)}
        else:
            out[str(name)] = {"DataType": dtype, "StringValue": value if isinstance(value, str) else _as_text(value)}
    return out


def decode_message(msg: dict, kind: str | None = None) -> DecodedMessage:
    """Decode one received message. ``kind`` (the queue's kind from discovery) is only a hint: the
    shape is read from the message itself, so a queue serving several purposes still decodes right."""
    body = msg.get("Body")
    sysattrs = {k: str(v) for k, v in (msg.get("Attributes") or {}).items()}
    attrs = dict(msg.get("MessageAttributes") or {})
    fmt, doc, why = parse_json_text(body)
    out = DecodedMessage(
        message_id=msg.get("MessageId", ""), shape="sqs-message", body_format=fmt,
        body_bytes=_utf8_len(body), md5_of_body=msg.get("MD5OfBody"),
        receive_count=_int(sysattrs.get("ApproximateReceiveCount")),
        timestamp=_ms_to_iso(sysattrs.get("SentTimestamp")),
        source_arn=sysattrs.get("DeadLetterQueueSourceArn"),
        group_id=sysattrs.get("MessageGroupId"), dedup_id=sysattrs.get("MessageDeduplicationId"),
        system_attributes=sysattrs,
    )
    if why:
        out.notes.append(why)
    envelope = unwrap_sns(doc) if fmt == "json" else None
    if envelope is not None:
        out.notes.append(f"unwrapped from an SNS notification of {envelope['TopicArn']}")
        out.source_arn = out.source_arn or envelope["TopicArn"]
        attrs = {**sns_attributes(envelope), **attrs}
        out.inner_body = envelope.get("Message")
        fmt, doc, why = parse_json_text(out.inner_body)
        out.body_format = fmt
        if why:
            out.notes.append(f"SNS Message {why}")
        out.shape = "sns-notification"
    out.attributes = json_safe_attributes(attrs)

    if fmt == "json" and isinstance(doc, dict):
        batch_key = next((k for k in _BATCH_KEYS if isinstance(doc.get(k), dict)), None)
        if batch_key and isinstance(doc.get("requestContext"), dict):
            _decode_batch(out, doc, batch_key)
            return out
        if isinstance(doc.get("requestContext"), dict) and "requestPayload" in doc:
            _decode_destination(out, doc)
            return out
    out.event = doc
    if any(name in attrs for name in _LAMBDA_DLQ_ATTRS):
        out.shape = "lambda-dlq"
        out.request_id = _attr_text(attrs, "RequestID")
        out.error_code = _attr_text(attrs, "ErrorCode")
        out.error_message = _attr_text(attrs, "ErrorMessage")
        if out.error_message and ":" in out.error_message.split("\n", 1)[0]:
            head = out.error_message.split(":", 1)[0]
            if head and " " not in head and len(head) < 80:
                out.error_type = head
    elif out.shape == "sns-notification" and kind in ("function-dlq", "sns-dlq"):
        out.shape = "lambda-dlq"
    out.attempts = out.receive_count if out.shape == "sqs-message" else None
    if kind in ("function-dlq", "sns-dlq") and out.shape == "sqs-message":
        out.notes.append("no RequestID/ErrorCode/ErrorMessage attributes: not written by Lambda")
    return out


def _invocation_record_context(out: DecodedMessage, doc: dict) -> dict:
    """The fields every Lambda invocation record shares (destinations and stream batch info);
    returns its responseContext."""
    ctx = _dict(doc.get("requestContext"))
    resp_ctx = _dict(doc.get("responseContext"))
    out.request_id = _as_text(ctx.get("requestId"))
    out.function = _function_name(ctx.get("functionArn"))
    out.condition = _as_text(ctx.get("condition"))
    out.attempts = _int(ctx.get("approximateInvokeCount"))
    out.timestamp = _as_text(doc.get("timestamp")) or out.timestamp
    if resp_ctx.get("statusCode") is not None:
        out.error_code = str(resp_ctx.get("statusCode"))
    return resp_ctx


def _decode_destination(out: DecodedMessage, doc: dict) -> None:
    resp_ctx = _invocation_record_context(out, doc)
    payload = doc.get("responsePayload")
    out.shape = "async-destination"
    out.event = doc.get("requestPayload")
    if isinstance(payload, dict):
        out.error_type = _as_text(payload.get("errorType") or resp_ctx.get("functionError"))
        out.error_message = _as_text(payload.get("errorMessage"))
    elif payload is not None:
        out.error_message = _as_text(payload)
        out.error_type = _as_text(resp_ctx.get("functionError"))
    else:
        out.error_type = _as_text(resp_ctx.get("functionError"))


def _decode_batch(out: DecodedMessage, doc: dict, key: str) -> None:
    resp_ctx = _invocation_record_context(out, doc)
    info = doc[key]
    out.shape = _BATCH_KEYS[key]
    out.error_type = _as_text(resp_ctx.get("functionError"))
    out.batch = StreamBatch(
        stream="kinesis" if key == "KinesisBatchInfo" else "dynamodb",
        stream_arn=_as_text(info.get("streamArn")) or "", shard_id=_as_text(info.get("shardId")) or "",
        start_sequence_number=_as_text(info.get("startSequenceNumber")) or "",
        end_sequence_number=_as_text(info.get("endSequenceNumber")) or "",
        batch_size=_int(info.get("batchSize")),
        first_arrival=_as_text(info.get("approximateArrivalOfFirstRecord")),
        last_arrival=_as_text(info.get("approximateArrivalOfLastRecord")),
    )
    out.source_arn = out.batch.stream_arn or out.source_arn


def replay_payload(decoded: DecodedMessage, body: str | None) -> str | None:
    """The payload ``--invoke`` sends back to the function: the original event. None when there is
    none to send: stream batch info (the records must be read back and wrapped first) or a body
    that is not JSON (Lambda only accepts JSON payloads)."""
    if decoded.shape in ("kinesis-batch", "dynamodb-batch"):
        return None
    if decoded.shape == "async-destination":
        return json.dumps(decoded.event)
    if decoded.body_format != "json":
        return None
    return decoded.inner_body if decoded.inner_body is not None else body


# --------------------------------------------------------------------------------------------
# stream records read back


def decode_stream_data(data: Any) -> dict:
    """A Kinesis record's data: JSON, text, or (for binary frames) base64."""
    if isinstance(data, str):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            data = data.encode("utf-8", "surrogatepass")
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        data = str(data).encode("utf-8", "surrogatepass")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return {"format": "binary", "base64": base64.b64encode(bytes(data)).decode(), "bytes": len(data)}
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
        return {"format": "binary", "base64": base64.b64encode(bytes(data)).decode(), "bytes": len(data)}
    fmt, value, why = parse_json_text(text)
    out = {"format": fmt, "value": value, "bytes": len(data)}
    if why:
        out["note"] = why
    return out


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        except (ValueError, OverflowError, OSError):
            return value
    return value


def decode_kinesis_record(rec: dict) -> dict:
    return {"sequenceNumber": rec.get("SequenceNumber"), "partitionKey": rec.get("PartitionKey"),
            "approximateArrivalTimestamp": _iso(rec.get("ApproximateArrivalTimestamp")),
            "data": decode_stream_data(rec.get("Data", b""))}


def decode_dynamodb_record(rec: dict) -> dict:
    ddb = dict(rec.get("dynamodb") or {})
    if "ApproximateCreationDateTime" in ddb:
        ddb["ApproximateCreationDateTime"] = _iso(ddb["ApproximateCreationDateTime"])
    return {"eventID": rec.get("eventID"), "eventName": rec.get("eventName"), "sequenceNumber": ddb.get("SequenceNumber"),
            "dynamodb": ddb}


# --------------------------------------------------------------------------------------------
# safe display

def preview(value: Any, limit: int = 200) -> str:
    """One safe line for any decoded value (event, attribute, record data)."""
    if value is None:
        return "-"
    if isinstance(value, bytes):
        return f"<binary {len(value)} bytes: {value[:24].hex()}{'…' if len(value) > 24 else ''}>"
    if isinstance(value, str):
        return safe_text(value, limit)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return safe_text(text, limit)


def attribute_preview(attr: dict, limit: int = 60) -> str:
    value = attribute_value(attr)
    dtype = attr.get("DataType", "String")
    if isinstance(value, bytes):
        return f"{dtype} <{len(value)} bytes {value[:12].hex()}{'…' if len(value) > 12 else ''}>"
    return f"{dtype} {safe_text(value, limit)}"


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return value


def stream_event(batch: StreamBatch, records: list[dict]) -> dict:
    """The event Lambda gave the function for this batch, rebuilt from records read back, for replay."""
    region = batch.stream_arn.split(":")[3] if batch.stream_arn.count(":") >= 5 else ""
    out = []
    for rec in records:
        if batch.stream == "kinesis":
            data = rec.get("Data", b"")
            data_b64 = data if isinstance(data, str) else base64.b64encode(bytes(data)).decode()
            out.append({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": rec.get("PartitionKey"),
                                    "sequenceNumber": rec.get("SequenceNumber"), "data": data_b64,
                                    "approximateArrivalTimestamp": _epoch(rec.get("ApproximateArrivalTimestamp"))},
                        "eventSource": "aws:kinesis", "eventVersion": "1.0",
                        "eventID": f"{batch.shard_id}:{rec.get('SequenceNumber')}", "eventName": "aws:kinesis:record",
                        "awsRegion": region, "eventSourceARN": batch.stream_arn})
        else:
            ddb = {k: _epoch(v) for k, v in (rec.get("dynamodb") or {}).items()}
            out.append({"eventID": rec.get("eventID"), "eventName": rec.get("eventName"),
                        "eventVersion": rec.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
                        "awsRegion": rec.get("awsRegion", region), "dynamodb": ddb, "eventSourceARN": batch.stream_arn})
    return {"Records": out}
