"""What the demo fleet's failed events look like: original events, error texts, awkward bodies.

Pure and deterministic (a ``random.Random`` per function), so two accounts seeded alike hold the
same messages. :mod:`lambdaops.demo.dlq_seed` wraps these payloads in the shapes AWS delivers them in.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
from dataclasses import dataclass
from datetime import datetime, timezone

from lambdaops.demo.fleet import ACCOUNT_ID, FunctionSpec
from lambdaops.demo.traffic import ERROR, OOM, TIMEOUT

ERROR_MESSAGE_MAX = 1024  # Lambda keeps the first 1 KB of the error message in the DLQ attribute


@dataclass(frozen=True)
class Failure:
    """One failed invocation of the traffic records."""

    request_id: str
    ts_ms: int
    status: int
    duration_ms: float


def iso_ms(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_s(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def rng_for(seed: int, name: str, purpose: str = "") -> random.Random:
    return random.Random(f"{seed}:{name}:{purpose}")


def truncate_utf8(text: str, limit: int = ERROR_MESSAGE_MAX) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


# --------------------------------------------------------------------------------------------
# errors as the runtime reports them


_EXCEPTIONS = {
    "payments-async": [("PaymentGatewayError", "upstream psp returned 502 Bad Gateway for capture"),
                       ("IdempotencyConflict", "payment already captured with a different amount"),
                       ("KeyError", "'billingAddress'")],
    "image-resize": [("Error", "Input buffer contains unsupported image format"),
                     ("AccessDenied", "Access Denied (Service: S3, Status Code: 403)")],
    "pdf-render": [("java.lang.IllegalStateException", "template 'invoice-v3' references missing font 'Inter'"),
                   ("com.example.render.RenderException", "page 14: table exceeds page height")],
    "gdpr-export": [("ExportError", "export bucket quota exceeded"),
                    ("ClientError", "An error occurred (ThrottlingException) when calling the Query operation")],
    "thumbnail-eu": [("PIL.UnidentifiedImageError", "cannot identify image file <_io.BytesIO object>"),
                     ("OSError", "image file is truncated (24 bytes not processed)")],
}
_GENERIC = [("Error", "unexpected response from downstream service"), ("TypeError", "Cannot read properties of undefined (reading 'id')")]


def error_for(spec: FunctionSpec, failure: Failure, rng: random.Random) -> tuple[str, str, list[str]]:
    """(errorType, errorMessage, stackTrace) the way the function's runtime reports this failure."""
    if failure.status == TIMEOUT:
        msg = f"{iso_ms(failure.ts_ms)} {failure.request_id} Task timed out after {spec.timeout_s:.2f} seconds"
        return "Sandbox.Timedout", msg, []
    if failure.status == OOM:
        return "Runtime.ExitError", f"RequestId: {failure.request_id} Error: Runtime exited with error: signal: killed", []
    etype, msg = rng.choice(_EXCEPTIONS.get(spec.name, _GENERIC))
    if spec.runtime.startswith("python"):
        trace = ['  File "/var/task/app.py", line 42, in handler\n    return process(event)\n',
                 f'  File "/var/task/app.py", line 88, in process\n    raise {etype.split(".")[-1]}(msg)\n']
    elif spec.runtime.startswith("java"):
        trace = ["com.example.Handler.handleRequest(Handler.java:57)", "com.example.Service.run(Service.java:131)"]
    else:
        trace = [f"{etype}: {msg}", "    at process (/var/task/index.js:31:11)", "    at Runtime.handler (/var/task/index.js:12:18)"]
    return etype, msg, trace


def error_message_attribute(spec: FunctionSpec, failure: Failure, rng: random.Random) -> str:
    etype, msg, _ = error_for(spec, failure, rng)
    if failure.status in (TIMEOUT, OOM):
        return truncate_utf8(msg)
    return truncate_utf8(f"{etype}: {msg}")


# --------------------------------------------------------------------------------------------
# original events


def _s3_event(region: str, bucket: str, key: str, size: int, ts_ms: int, rng: random.Random) -> dict:
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region, "eventTime": iso_ms(ts_ms),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": f"203.0.113.{rng.randint(2, 250)}"},
        "responseElements": {"x-amz-request-id": f"{rng.getrandbits(64):016X}"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "on-upload",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": size, "eTag": f"{rng.getrandbits(128):032x}",
                          "sequencer": f"{rng.getrandbits(64):016X}"}},
    }]}


def async_event(spec: FunctionSpec, failure: Failure, rng: random.Random, n: int) -> dict:
    """The event an async invoker sent (S3 notification, app payload...)."""
    if spec.name in ("image-resize", "thumbnail-eu"):
        bucket = "media-uploads-prod" if spec.name == "image-resize" else "eu-photos-prod"
        ext = rng.choice(("jpg", "png", "heic", "webp"))
        key = f"uploads/{2024 + n % 2}/{rng.randint(1, 12):02d}/{rng.getrandbits(40):010x}.{ext}"
        return _s3_event(spec.region, bucket, key, rng.randint(40_000, 18_000_000), failure.ts_ms, rng)
    if spec.name == "payments-async":
        return {"type": "payment.capture", "paymentId": f"pay_{rng.getrandbits(48):012x}",
                "orderId": f"ord-{100000 + n}", "amount": {"value": round(rng.uniform(5, 900), 2), "currency": "USD"},
                "customer": {"id": f"cus_{rng.getrandbits(32):08x}", "country": rng.choice(("US", "CA", "MX"))},
                "requestedAt": iso_ms(failure.ts_ms - rng.randint(50, 900))}
    if spec.name == "pdf-render":
        return {"documentId": f"doc-{rng.getrandbits(40):010x}", "template": rng.choice(("invoice-v3", "contract-v2")),
                "locale": rng.choice(("en-US", "de-DE", "ja-JP")), "pages": rng.randint(1, 40),
                "callbackUrl": "https://documents.internal.example/render-callback"}
    if spec.name == "gdpr-export":
        return {"exportId": f"exp-{rng.getrandbits(32):08x}", "userId": f"u-{rng.getrandbits(40):010x}",
                "formats": ["json", "csv"], "requestedAt": iso_s(failure.ts_ms - 3600_000),
                "legalBasis": "GDPR Art. 15"}
    return {"id": f"evt-{rng.getrandbits(40):010x}", "function": spec.name, "n": n}


# --------------------------------------------------------------------------------------------
# SQS source messages (what producers put on the queues)


@dataclass
class SourceMessage:
    body: str
    attributes: dict[str, dict]
    group_id: str | None = None
    dedup_id: str | None = None


def _attr_s(value: str, dtype: str = "String") -> dict:
    return {"DataType": dtype, "StringValue": value}


def _attr_n(value, dtype: str = "Number") -> dict:
    return {"DataType": dtype, "StringValue": str(value)}


def _attr_b(value: bytes, dtype: str = "Binary") -> dict:
    return {"DataType": dtype, "BinaryValue": value}


UNICODE_SUBJECTS = (
    "Your order has shipped 🚚📦",
    "ご注文ありがとうございます — 注文番号のご案内",
    "تم تأكيد طلبك بنجاح",  # Arabic (RTL)
    "ההזמנה שלך נשלחה",  # Hebrew (RTL)
    "Ünïcödé naïve café – “quotes” ‘and’ ½ ∑",
    "Welcome, \u202eevil\u202c user 👋",  # an RTL override a naive terminal would render reversed
)


def source_message(spec: FunctionSpec, failure: Failure | None, rng: random.Random, n: int, *,
                   big: bool = False, text: bool = False) -> SourceMessage:
    """A message a producer put on the function's SQS source queue. ``big``: a body over 200 KB;
    ``text``: a legacy producer's non-JSON body."""
    queue = spec.source.name if spec.source else spec.name
    ts = failure.ts_ms if failure else 0
    if queue.startswith("orders"):
        body = {"orderId": f"ord-{200000 + n}", "status": "PLACED", "placedAt": iso_ms(ts),
                "items": [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 4),
                           "price": round(rng.uniform(3, 120), 2)} for _ in range(rng.randint(1, 5))],
                "shipping": {"method": rng.choice(("standard", "express")), "country": "US"}}
        if big:
            blob = base64.b64encode(rng.randbytes(160_000)).decode()
            body["attachments"] = [{"name": "proof-of-delivery.jpg", "contentType": "image/jpeg", "contentBase64": blob}]
        attrs = {"eventType": _attr_s("OrderPlaced"), "schemaVersion": _attr_n(3, "Number.int"),
                 "correlationId": _attr_s(f"{rng.getrandbits(128):032x}", "String.uuid"),
                 "traceparent": _attr_s(f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01")}
        return SourceMessage(json.dumps(body, separators=(",", ":")), attrs)
    if queue.startswith("email"):
        subject = UNICODE_SUBJECTS[n % len(UNICODE_SUBJECTS)]
        attrs = {"locale": _attr_s(rng.choice(("en-US", "ja-JP", "ar-EG", "he-IL"))),
                 "templateVersion": _attr_n(rng.randint(1, 9)),
                 "dkimSignature": _attr_b(rng.randbytes(32), "Binary.sha256")}
        if text:
            body = (f"To: customer{n}@example.com\r\nSubject: {subject}\r\nX-Campaign: spring-sale\r\n\r\n"
                    f"Hello,\tthanks for your order.\r\n-- \r\nsent by legacy-mailer/1.4\r\n")
            return SourceMessage(body, attrs)
        body = {"to": f"customer{n}@example.com", "template": "order-confirmation", "subject": subject,
                "vars": {"name": rng.choice(("Zoë", "李雷", "محمد", "Ольга", "Siobhán")), "orderId": f"ord-{200000 + n}"}}
        return SourceMessage(json.dumps(body, ensure_ascii=False), attrs)
    if queue.startswith("notifications"):
        payload = {"title": "Price drop on your watchlist", "items": [rng.randint(1, 10**6) for _ in range(5)]}
        attrs = {"channel": _attr_s(rng.choice(("push", "sms", "email"))),
                 "payload.gz": _attr_b(gzip.compress(json.dumps(payload).encode(), mtime=0), "Binary.gzip"),
                 "priority": _attr_n(rng.randint(1, 5))}
        body = {"userId": f"u-{rng.getrandbits(40):010x}", "kind": "watchlist", "sentAt": iso_ms(ts)}
        return SourceMessage(json.dumps(body), attrs)
    if queue.startswith(("billing", "ledger")):
        account = f"acct-{rng.randint(1, 6):03d}"  # few groups: FIFO order matters per account
        if queue.startswith("billing"):
            body = {"invoiceId": f"inv-{300000 + n}", "accountId": account, "amountCents": rng.randint(100, 99_999),
                    "currency": rng.choice(("USD", "EUR")), "period": "2024-06"}
        else:
            body = {"entryId": f"le-{400000 + n}", "account": account, "debit": rng.randint(0, 5000),
                    "credit": rng.randint(0, 5000), "memo": rng.choice(("refund", "chargeback", "settlement"))}
        attrs = {"accountId": _attr_s(account), "amountCents": _attr_n(body.get("amountCents", body.get("debit", 0))),
                 "currency": _attr_s(body.get("currency", "EUR"), "String.ISO4217"),
                 "signature": _attr_b(rng.randbytes(20))}
        dedup = f"{queue.split('.')[0]}-{n:06d}-{rng.getrandbits(32):08x}"
        return SourceMessage(json.dumps(body), attrs, group_id=account, dedup_id=dedup)
    body = {"id": f"msg-{rng.getrandbits(40):010x}", "queue": queue, "n": n}
    return SourceMessage(json.dumps(body), {"producer": _attr_s("demo")})


# --------------------------------------------------------------------------------------------
# stream records


def kinesis_record(stream: str, rng: random.Random, ts_ms: int, n: int) -> bytes:
    if stream.startswith("orders"):
        doc = {"type": "OrderUpdated", "orderId": f"ord-{200000 + n}", "status": rng.choice(("PAID", "PACKED", "SHIPPED")),
               "at": iso_ms(ts_ms)}
    elif stream.startswith("click"):
        doc = {"session": f"s-{rng.getrandbits(40):010x}", "page": rng.choice(("/", "/search", "/p/123", "/cart")),
               "ua": "Mozilla/5.0", "at": iso_ms(ts_ms)}
    elif stream.startswith("price"):
        doc = {"symbol": rng.choice(("ACME", "INIT", "GLOBX")), "bid": round(rng.uniform(10, 500), 4),
               "ask": round(rng.uniform(10, 500), 4), "at": iso_ms(ts_ms)}
    else:
        doc = {"n": n, "at": iso_ms(ts_ms)}
    if n % 17 == 5:  # producers that write binary (protobuf-like) frames instead of JSON
        return b"\x08\x96\x01\x12\x07" + rng.randbytes(12)
    return json.dumps(doc).encode()


def inventory_item(rng: random.Random, n: int) -> dict:
    return {"sku": {"S": f"SKU-{1000 + n % 40:04d}"}, "qty": {"N": str(rng.randint(0, 500))},
            "warehouse": {"S": rng.choice(("IAD-1", "PDX-2", "DUB-1"))}, "updatedBy": {"S": "erp-sync"}}


def function_arn(spec: FunctionSpec, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{spec.region}:{ACCOUNT_ID}:function:{spec.name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def status_is_failure(status: int) -> bool:
    return status in (ERROR, TIMEOUT, OOM)
