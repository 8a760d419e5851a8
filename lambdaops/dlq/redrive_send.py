"""The sending half of a by-hand redrive (SendMessageBatch to SQS targets, FIFO order, refusals)
and of ``--invoke`` (async Invoke), as a mixin of :class:`lambdaops.dlq.redrive.Redriver`: it uses
the run's journal, audit log, locks and stop flags."""

from __future__ import annotations

import json
import random
import time
from collections import OrderedDict, deque
from typing import Any

from lambdaops.aws import dlq as dlqapi
from lambdaops.aws import stream_records
from lambdaops.dlq.decode import DecodedMessage, boto_attributes, replay_payload, stream_event
from lambdaops.errors import ServiceError
from lambdaops.dlq.journal import FAILED, INTENT, dedup_id
from lambdaops.dlq.redrive_model import UNCONFIRMED, _Target, batches, entry_size

DEFAULT_GROUP = "lambdaops-redrive"  # FIFO target, message from a standard DLQ: one group keeps order
MAX_BATCH_BYTES = 256 * 1024
RETRYABLE_SEND_CODES = {"InternalError", "ServiceUnavailable", "RequestThrottled", "ThrottlingException",
                        "KmsThrottled", "KMS.ThrottlingException"}
INVOKE_REFUSAL_CODES = {"RequestTooLargeException", "InvalidRequestContentException"}  # Invoke: this payload, for good
# SendMessage "MessageDeduplicationId": "If a message with a particular message deduplication ID is
# sent successfully, any messages sent with the same message deduplication ID are accepted
# successfully but aren't delivered during the 5-minute deduplication interval" (Amazon SQS API
# Reference, SendMessage; Developer Guide "Exactly-once processing in Amazon SQS"). A resume resends
# a message the killed run may already have sent (an ``intent`` without ``sent``) with the same
# deduplication id only while that interval is safely open: SQS counts it from when it accepted the
# first copy, a little after our intent was written (so our age errs long, the safe way); the margin
# covers the resend's own latency and a resume run on another machine's clock. Past that the
# resend could be a second delivery, and SQS offers no way to look into a queue without taking
# messages from its consumers: the message stays in the DLQ and is reported, and
# ``--resend-unconfirmed`` sends it anyway. To stay inside the interval, a resume first makes the
# killed run's messages visible again with the receipt handles the journal kept (instead of waiting
# out their visibility timeout, which by default is the same 5 minutes: resends then landed exactly
# at the interval's edge).
FIFO_DEDUP_WINDOW_S = 300.0
FIFO_DEDUP_MARGIN_S = 60.0


class SendMixin:
    # -- targets ------------------------------------------------------------------------------------
    def _target(self, arn_or_ref) -> _Target:
        key = arn_or_ref.arn if isinstance(arn_or_ref, dlqapi.QueueRef) else arn_or_ref
        with self._lock:
            hit = self._targets.get(key)
        if hit is not None:
            return hit
        if isinstance(arn_or_ref, dlqapi.QueueRef):
            ref = arn_or_ref
        else:
            ref = dlqapi.resolve_queue(self.ctx, arn_or_ref)
        attrs = self._attributes(ref)
        target = _Target(ref, attrs.get("FifoQueue") == "true",
                         min(int(attrs.get("MaximumMessageSize", MAX_BATCH_BYTES)), 1024 * 1024))
        with self._lock:
            self._targets[key] = target
        return target

    def _source_for(self, decoded: DecodedMessage) -> str | None:
        """The queue a message came from: DeadLetterQueueSourceArn, else the DLQ's only source."""
        if decoded.source_arn and decoded.source_arn.startswith("arn:aws:sqs:"):
            return decoded.source_arn
        with self._lock:
            cached = self._single_source
        if cached is False:
            urls = dlqapi.dead_letter_sources(self.ctx, self.dlq)
            cached = None
            if len(urls) == 1:
                ref = dlqapi.resolve_queue(self.ctx, urls[0], [self.dlq.region])
                cached = ref.arn
            with self._lock:
                self._single_source = cached
        return cached

    # -- by hand ------------------------------------------------------------------------------------
    def _entry(self, i: int, m: dict, decoded: DecodedMessage, target: _Target) -> dict:
        entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
        attrs = boto_attributes(m.get("MessageAttributes"))
        if attrs:
            entry["MessageAttributes"] = attrs
        trace = (m.get("Attributes") or {}).get("AWSTraceHeader")
        if trace:
            entry["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
        if target.fifo:
            entry["MessageGroupId"] = decoded.group_id or DEFAULT_GROUP
            entry["MessageDeduplicationId"] = self._dedup(m["MessageId"])
        return entry

    def _dedup(self, mid: str) -> str:
        known = self.journal.dedup.get(mid) if self.journal else None
        return known or dedup_id(self.dlq.arn, mid)

    def _send_all(self, take: list[tuple[dict, DecodedMessage]]) -> list[dict]:
        """Send each message to its target; the messages whose copy SQS confirmed."""
        by_target: dict[str, list[tuple[dict, DecodedMessage]]] = {}
        targets: dict[str, _Target] = {}
        for m, decoded in take:
            ref = self.opts.target or self._source_for(decoded)
            if ref is None:
                self._fail([(m, "UnknownSource", "the message's source queue is unknown "
                                                  "(no DeadLetterQueueSourceArn, several sources): use --to")])
                continue
            target = self._target(ref)
            by_target.setdefault(target.ref.arn, []).append((m, decoded))
            targets[target.ref.arn] = target
        done: list[dict] = []
        for arn, items in by_target.items():
            target = targets[arn]
            if target.fifo:
                done += self._send_fifo(target, items)
                continue
            for chunk in batches(items, lambda it: entry_size(self._entry(0, it[0], it[1], target)), target.max_bytes):
                done += self._send_batch(target, chunk)
        return done

    def _send_fifo(self, target: _Target, items: list[tuple[dict, DecodedMessage]]) -> list[dict]:
        """FIFO order survives: each batch holds at most one message per group (SQS gives no order
        guarantee between entries of a batch when some fail), and once a message cannot be sent the
        rest of its group stays in the DLQ behind it, as FIFO processing would have it."""
        # Groups with a message left behind earlier in this run stay closed for the whole run, not only
        # within one receive: once that message's visibility runs out, or a server does not lock the
        # group, a later receive can hand over the group's next messages, which would then overtake it.
        closed = self._closed_groups
        groups: OrderedDict[str, deque] = OrderedDict()
        behind: list[tuple[dict, str, str]] = []
        for m, d in items:
            group = d.group_id or DEFAULT_GROUP
            if (target.ref.arn, group) in closed:
                behind.append((m, "GroupBlocked", f"an earlier message of group {group} could not be sent; "
                                                  "kept in the DLQ to preserve FIFO order"))
            else:
                groups.setdefault(group, deque()).append((m, d))
        self._fail(behind)
        done: list[dict] = []
        while groups:
            round_items = [q.popleft() for q in groups.values()]
            groups = OrderedDict((g, q) for g, q in groups.items() if q)
            for chunk in batches(round_items, lambda it: entry_size(self._entry(0, it[0], it[1], target)), target.max_bytes):
                ok = self._send_batch(target, chunk)
                done += ok
                ok_ids = {m["MessageId"] for m in ok}
                for m, d in chunk:
                    group = d.group_id or DEFAULT_GROUP
                    if m["MessageId"] not in ok_ids:
                        with self._lock:
                            closed.add((target.ref.arn, group))
                    if m["MessageId"] not in ok_ids and group in groups and self._halt.is_set():
                        for m2, _ in groups.pop(group):  # stopped: the rest of the group waits in the DLQ
                            self._hold(m2)
                    elif m["MessageId"] not in ok_ids and group in groups:
                        rest = groups.pop(group)
                        self._fail([(m2, "GroupBlocked", f"an earlier message of group {group} could not be sent; "
                                                         "kept in the DLQ to preserve FIFO order") for m2, _ in rest])
        return done

    def _unconfirmed(self, m: dict, target: _Target) -> bool:
        """A FIFO message the run being resumed may have sent, too long ago for SQS to drop the
        resend as a duplicate (see FIFO_DEDUP_WINDOW_S)."""
        if not target.fifo or self.opts.resend_unconfirmed or self.journal is None:
            return False
        mid = m["MessageId"]
        prior = self._prior.get(mid)
        if not (prior == INTENT or (prior == FAILED and self.journal.codes.get(mid) == UNCONFIRMED)):
            return False
        at = self._prior_intent_at.get(mid)
        return at is None or time.time() - at > FIFO_DEDUP_WINDOW_S - FIFO_DEDUP_MARGIN_S

    def _send_call(self, sqs, target: _Target, entries: list[dict]) -> tuple[list[dict], list[dict]]:
        """SendMessageBatch; a whole-request refusal comes back per entry (see :func:`dlqapi.send_batch`)."""
        return dlqapi.send_batch(sqs, target.ref.url, entries, profile=self.ctx.profile)

    def _send_batch(self, target: _Target, chunk: list[tuple[dict, DecodedMessage]]) -> list[dict]:
        if not self._pace(len(chunk)):
            for m, _ in chunk:
                self._hold(m)  # stopped before this batch went out: it goes back to the DLQ
            return []
        doubtful = [(m, d) for m, d in chunk if self._unconfirmed(m, target)]
        if doubtful:
            self._fail([(m, UNCONFIRMED, f"the run being resumed may have sent it to {target.ref.name} more than "
                                         f"{int(FIFO_DEDUP_WINDOW_S - FIFO_DEDUP_MARGIN_S)}s ago, outside SQS's 5-minute "
                                         "deduplication interval: check the target, then --resume --resend-unconfirmed")
                        for m, _ in doubtful], target=target.ref.arn)
            skip = {m["MessageId"] for m, _ in doubtful}
            chunk = [(m, d) for m, d in chunk if m["MessageId"] not in skip]
            if not chunk:
                return []
        entries = {str(i): (m, self._entry(i, m, d, target)) for i, (m, d) in enumerate(chunk)}
        if self.journal:
            self.journal.intent([{"id": m["MessageId"], "md5": m.get("MD5OfBody"),
                                  "dedup": e.get("MessageDeduplicationId"), "target": target.ref.arn,
                                  "rh": m.get("ReceiptHandle")}
                                 for m, e in entries.values()])
        sqs = self._sqs(target.ref.region)
        pending = dict(entries)
        confirmed: list[dict] = []
        for attempt in range(self.opts.retries + 1):
            ok, failed = self._send_call(sqs, target, [e for _, e in pending.values()])
            sent = [(pending[s["Id"]][0], s.get("MessageId")) for s in ok if s.get("Id") in pending]
            if sent:
                with self._lock:
                    self._sent.update(m["MessageId"] for m, _ in sent)
                if self.journal:
                    self.journal.sent([{"id": m["MessageId"], "new_id": new, "target": target.ref.arn} for m, new in sent])
                confirmed += [m for m, _ in sent]
                with self._lock:
                    self.result.sent += len(sent)
                self._audit([self._audit_line(m, "send", "sent", target=target.ref.arn, new_id=new) for m, new in sent])
            retry: dict[str, tuple[dict, dict]] = {}
            final: list[tuple[dict, str, str]] = []
            refused: list[tuple[dict, str, str]] = []
            for f in failed:
                item = pending.get(f.get("Id"))
                if item is None:
                    continue
                transient = not f.get("SenderFault") or f.get("Code") in RETRYABLE_SEND_CODES
                if transient and attempt < self.opts.retries:
                    retry[f["Id"]] = item
                elif transient:
                    final.append((item[0], f.get("Code", "Unknown"), f.get("Message", "")))
                else:
                    refused.append((item[0], f.get("Code", "Unknown"), f.get("Message", "")))
            self._fail(final, target=target.ref.arn)
            self._fail(refused, target=target.ref.arn, refused=True)
            if not retry:
                break
            pending = retry
            if self._halt.wait(self.opts.retry_delay_s * (2 ** attempt) * (0.5 + random.random())):
                for m, _ in pending.values():
                    self._hold(m)  # stopped: not retried now, back to the DLQ
                if self.journal:  # the target said no to these: a resume sends them without doubt
                    self.journal.failed([{"id": m["MessageId"], "code": "NotRetried", "refused": False,
                                          "message": "the run stopped before retrying"} for m, _ in pending.values()])
                break
        return confirmed

    def _fail(self, items: list[tuple[dict, str, str]], target: str | None = None, refused: bool = False) -> None:
        """Leave ``items`` in the DLQ, recorded. ``refused``: the target will not take them as they
        are (size, attributes, FIFO rules); a resume does not try them again unless asked."""
        if not items:
            return
        for m, _, _ in items:
            self._hold(m)  # stays in the DLQ, visible again at the end
        docs = [{"id": m["MessageId"], "code": code, "message": msg[:300], "refused": refused} for m, code, msg in items]
        if self.journal:
            self.journal.failed(docs)
        with self._lock:
            self.result.failed += docs
        self._audit([self._audit_line(m, "send", f"{'refused' if refused else 'failed'}: {code}: {msg[:200]}", target=target)
                     for m, code, msg in items])

    # -- invoke -------------------------------------------------------------------------------------
    def _function_for(self, decoded: DecodedMessage) -> str | None:
        return self.opts.function or decoded.function or self.default_function

    def _payload_for(self, m: dict, decoded: DecodedMessage) -> tuple[str | None, str | None]:
        payload = replay_payload(decoded, m.get("Body"))
        if payload is not None:
            return payload, None
        if decoded.batch is not None:
            fetched = stream_records.fetch_batch_records(self.ctx, decoded.batch)
            if not fetched.records or not fetched.complete:
                return None, fetched.note or "records unavailable"
            return json.dumps(stream_event(decoded.batch, fetched.records)), None
        return None, "the body is not a JSON event (Lambda accepts only JSON payloads)"

    def _invoke_all(self, take: list[tuple[dict, DecodedMessage]]) -> list[dict]:
        done: list[dict] = []
        for m, decoded in take:
            function = self._function_for(decoded)
            if not function:
                self._fail([(m, "UnknownFunction", "which function to invoke is unknown: use --invoke FUNCTION")])
                continue
            payload, why = self._payload_for(m, decoded)
            if payload is None:
                self._fail([(m, "NoEvent", why or "no event to replay")], refused=decoded.batch is None)
                continue
            if not self._pace(1):
                self._hold(m)  # stopped: back to the DLQ
                continue
            target = f"lambda:{function}"
            if self.journal:
                self.journal.intent([{"id": m["MessageId"], "md5": m.get("MD5OfBody"), "target": target,
                                      "rh": m.get("ReceiptHandle")}])
            region = function.split(":")[3] if function.startswith("arn:") else self.dlq.region
            try:
                resp = dlqapi.invoke_async(self.clients("lambda", region), function, payload,
                                           profile=self.ctx.profile)
            except ServiceError as exc:
                if not exc.code:
                    raise  # no answer from Lambda (endpoint, timeout): the run stops, the message stays
                self._fail([(m, exc.code, str(exc))], target=target, refused=exc.code in INVOKE_REFUSAL_CODES)
                continue
            if resp["status"] != 202:
                self._fail([(m, f"Status{resp['status']}", "the invoke was not accepted")], target=target)
                continue
            if self.journal:
                self.journal.sent([{"id": m["MessageId"], "target": target}])
            with self._lock:
                self._sent.add(m["MessageId"])
                self.result.sent += 1
            self._audit([self._audit_line(m, "invoke", "accepted", target=target)])
            done.append(m)
        return done
