"""Events for a tuning run taken from a dead-letter queue (``tune --payload-from-dlq``): the
messages are sampled by :meth:`lambdaops.aws.tuning.TuningApi.sample_dlq_messages` and decoded here
with the one DLQ decoder, so ``dlq show``, ``dlq redrive --invoke`` and tuning agree on every body."""

from __future__ import annotations

from lambdaops.dlq.decode import decode_message, replay_payload


def decode_dlq_body(body: str) -> tuple[bytes | None, str | None]:
    """The event to replay from a DLQ message, or (None, why not). Lambda DLQs hold the event as-is;
    on-failure destination records hold it under ``requestPayload``; SNS envelopes under ``Message``;
    stream on-failure records hold only batch pointers (not replayable as an event). Read with the
    DLQ decoder that ``dlq show`` and ``dlq redrive --invoke`` use, so all three agree on every body."""
    decoded = decode_message({"MessageId": "", "Body": body})
    if decoded.shape in ("kinesis-batch", "dynamodb-batch"):
        return None, "stream failure record (batch pointers, not an event)"
    payload = replay_payload(decoded, body)
    if payload is None:
        why = "; ".join(n for n in decoded.notes if n.startswith(("not parsed", "SNS Message not")))
        return None, f"body is not JSON{f' ({why})' if why else ''}"
    return payload.encode("utf-8"), None


def payloads_from_dlq(api, queue: str, limit: int = 10) -> tuple[list[bytes], list[str]]:
    """Up to ``limit`` replayable events of ``queue``, and a note for each message left out."""
    payloads, notes = [], []
    for m in api.sample_dlq_messages(queue, limit=limit):
        payload, why = decode_dlq_body(m.get("Body", ""))
        if payload is None:
            notes.append(f"message {m['MessageId']} left out: {why}")
        else:
            payloads.append(payload)
    return payloads, notes
