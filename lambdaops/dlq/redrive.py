"""Redrive: put DLQ messages back where they can be processed again, losing none.

Three ways, chosen by the command:

- ``move-task``: SQS's StartMessageMoveTask (DLQs of SQS queues, whole queue): AWS moves them;
- ``by-hand``: ReceiveMessage -> SendMessageBatch keeping the body, every message attribute and
  AWSTraceHeader (FIFO: the group id, and a new deterministic deduplication id) -> DeleteMessageBatch
  of exactly the entries SQS confirmed; per-entry failures are retried, then left in the DLQ;
- ``invoke``: an async Invoke of the original event (the body, an on-failure record's
  ``requestPayload``, or a stream batch rebuilt from its records); deleted once the Invoke is accepted.

Never delete first: a message leaves the DLQ only after its copy is confirmed. Every step is written
to the journal (:mod:`lambdaops.dlq.journal`) before the next one, so a run killed at any
moment resumes without losing a message, and sends again only what may not have arrived.

Every message received is accounted for at the end: moved (copy confirmed, then deleted), refused
(left in the DLQ), or returned (made visible again); one SQS would not let us return stays in flight
until its visibility timeout ends, and the result says how many. A first Ctrl-C (SIGINT) stops receiving,
lets the batches in hand finish (a batch not yet sent is returned instead), and ends with the
journal resumable; a second one leaves at once (:class:`RedriveInterrupted`): what was not deleted
is still in the DLQ.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, Callable

from lambdaops.aws import dlq as dlqapi
from lambdaops.aws.context import AwsContext
from lambdaops.dlq.decode import DecodedMessage, decode_message, replay_payload
from lambdaops.aws.ratelimit import RateLimiter
from lambdaops.dlq.journal import DELETED, INTENT, SENT, AuditLog, Journal
from lambdaops.dlq.redrive_model import (UNCONFIRMED, RedriveInterrupted, RedriveOptions,  # noqa: F401 - re-exported
                                         RedriveResult, _Target, batches, compile_filter, entry_size, matches)
from lambdaops.dlq.redrive_send import (DEFAULT_GROUP, FIFO_DEDUP_MARGIN_S, FIFO_DEDUP_WINDOW_S,  # noqa: F401
                                        MAX_BATCH_BYTES, SendMixin)
from lambdaops.errors import LambdaopsError

MOVE_TASK_MAX_RATE = 500

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


class Redriver(SendMixin):
    """One redrive run of one DLQ."""

    def __init__(self, ctx: AwsContext, dlq: dlqapi.QueueRef, opts: RedriveOptions, *,
                 kind: str | None = None, default_function: str | None = None,
                 journal: Journal | None = None, audit: AuditLog | None = None,
                 clients: ClientFactory | None = None,
                 progress: Callable[[int, int | None], None] | None = None) -> None:
        self.ctx = ctx
        self.dlq = dlq
        self.opts = opts
        self.kind = kind
        self.default_function = default_function
        self.journal = journal
        self.audit = audit
        self.clients = clients or ctx.client
        self.progress = progress or (lambda done, total: None)
        self.filter = compile_filter(opts.filter)
        self.limiter = RateLimiter(opts.rate, burst=max(1, min(10, int(opts.rate)))) if opts.rate else None
        self.result = RedriveResult(opts.mode, dlq.name, self._target_label(), dry_run=opts.dry_run,
                                    journal=str(journal.path) if journal else None,
                                    audit=str(audit.path) if audit else None, visibility_s=opts.visibility_s)
        self._lock = threading.Lock()
        self._closed_groups: set[tuple[str, str]] = set()  # (target, FIFO group) left behind (redrive_send)
        self._stop = threading.Event()  # no new receive (the DLQ is empty, --max is reached, or _halt)
        self._halt = threading.Event()  # interrupted or a worker failed: batches not yet sent go back
        self._abort = threading.Event()  # second Ctrl-C: no further call at all
        self._guarded = False
        self._seen: set[str] = set()
        self._held: dict[str, str] = {}  # message id -> latest receipt handle, kept back (not taken)
        self._handles: dict[str, str] = {}  # every message received -> its latest receipt handle
        self._gone: set[str] = set()  # deleted from the DLQ in this run
        self._sent: set[str] = set()  # ids whose copy was confirmed in this run
        # Resume: the state each message had in the journal when this run started.
        self._prior = dict(journal.state) if journal else {}
        self._prior_refused = set(journal.refused) if journal else set()
        self._prior_intent_at = dict(journal.intent_at) if journal else {}
        self._stale_rounds = 0
        self._targets: dict[str, _Target] = {}
        self._single_source: str | None | bool = False  # False: not looked up yet
        self._reserved = 0
        self._busy = 0  # workers between a receive and the end of its batch
        self._receiving = 0  # receives whose answer is not yet journaled (a hard exit waits for them)
        # Messages an earlier (killed) run of this journal received but did not finish.
        self._carryover = {mid for mid, st in (journal.state.items() if journal else ()) if st in (INTENT, SENT)}
        killed_visibility = int((journal.plan.get("visibility_s") if journal else None) or opts.visibility_s)
        self._carryover_deadline = time.monotonic() + killed_visibility + 2

    def _target_label(self) -> str:
        if self.opts.mode == "invoke":
            return f"lambda:{self.opts.function or self.default_function or '(each message’s function)'}"
        return self.opts.target.name if self.opts.target else "(original sources)"

    # -- entry points ---------------------------------------------------------------------------
    def request_stop(self, why: str = "interrupted") -> None:
        """Stop taking messages (the first Ctrl-C, or a caller's deadline): batches in hand finish."""
        with self._lock:
            if self.result.stopped is None:
                self.result.stopped = why
            if why == "interrupted":
                self.result.interrupted = True
        self._halt.set()
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._halt.is_set()

    @contextlib.contextmanager
    def interrupts(self):
        """While this lasts (the run, and a caller's report after it), the first SIGINT asks the run
        to stop; the second raises KeyboardInterrupt (leave at once). Only the main thread may set
        signal handlers: elsewhere nothing changes. Nested uses keep the outer handler."""
        if self._guarded or threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_sigint(signum, frame):
            if self.result.interrupted:
                raise KeyboardInterrupt
            self.request_stop("interrupted")

        previous = signal.signal(signal.SIGINT, on_sigint)
        self._guarded = True
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self._guarded = False

    def run(self) -> RedriveResult:
        if self.opts.mode == "move-task":
            from lambdaops.dlq.redrive_task import run_move_task

            return run_move_task(self)
        with self.interrupts():
            try:
                return self._run_loops()
            except KeyboardInterrupt:
                # A second Ctrl-C: no more calls. What was not deleted is still in the DLQ; what is
                # in hand comes back when its visibility timeout ends; the journal knows the rest.
                self._abort.set()
                self._halt.set()
                self._stop.set()
                self._settle_receives()
                with self._lock:
                    self.result.interrupted = True
                    self.result.stopped = "interrupted twice"
                    self.result.in_flight = len([m for m in self._handles if m not in self._gone])
                if self.journal and not self.opts.dry_run:
                    self.journal.stop(self.result.to_dict())
                raise RedriveInterrupted(self.result) from None

    def _run_loops(self) -> RedriveResult:
        if self.journal and not self.opts.dry_run:
            self._release_killed_run()
        # Workers always run in threads (the main thread takes Ctrl-C); under --rate, more workers than
        # batches per second would only hold messages while they wait.
        n = max(1, self.opts.workers)
        if self.opts.rate:
            n = max(1, min(n, math.ceil(self.opts.rate / 10)))
        pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="redrive")
        futures = [pool.submit(self._guarded_worker) for _ in range(n)]
        try:
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                if any(f.done() and f.exception() is not None for f in futures):
                    self._halt.set()
                    self._stop.set()
        finally:
            if self._abort.is_set():
                pool.shutdown(wait=False, cancel_futures=True)
        pool.shutdown(wait=True)
        error = next((f.exception() for f in futures if f.exception() is not None), None)
        if error is not None:
            with self._lock:
                self.result.stopped = self.result.stopped or f"error: {error}".splitlines()[0][:300]
        self._finish()
        if error is not None:
            raise error
        return self.result

    def _finish(self) -> None:
        """Account for every message received, return what is not moved, write the journal's end."""
        with self._lock:
            leftover = [h for mid, h in self._handles.items() if mid not in self._gone]
            self._held.clear()
            self.result.received = len(self._handles)  # also those received as the run was stopped
        stuck: list[str] = []
        if leftover:
            try:
                stuck = dlqapi.set_visibility(self._sqs(self.dlq.region), self.dlq.url, leftover, 0,
                                              profile=self.ctx.profile)
            except LambdaopsError:
                stuck = leftover  # they come back by themselves when their visibility timeout ends
        self.result.returned = len(leftover) - len(stuck)
        self.result.in_flight = len(stuck)
        try:
            attrs = self._attributes(self.dlq)
            self.result.left_visible = int(attrs.get("ApproximateNumberOfMessages", 0))
            self.result.left_hidden = (int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
                                       + int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)))
        except LambdaopsError:
            self.result.left_visible = self.result.left_hidden = None
        if self.journal and not self.opts.dry_run:
            if self.result.complete:
                self.journal.end(self.result.to_dict())
            else:
                self.journal.stop(self.result.to_dict())

    def _release_killed_run(self) -> None:
        """Resume: make the messages the killed run held visible again now, with the receipt handles
        its journal kept, rather than wait out their visibility timeout (see FIFO_DEDUP_WINDOW_S)."""
        handles = [h for mid, h in self.journal.handles.items() if self._prior.get(mid) != DELETED]
        if not handles:
            return
        try:
            dlqapi.set_visibility(self._sqs(self.dlq.region), self.dlq.url, handles, 0, profile=self.ctx.profile)
        except LambdaopsError:
            pass  # expired or stale handles: those messages are visible already, or come back by themselves

    # -- receiving and choosing -------------------------------------------------------------------
    def _guarded_worker(self) -> None:
        try:
            self._worker()
        except BaseException:
            self._halt.set()  # the other workers finish what they sent and stop
            self._stop.set()
            raise

    def _sqs(self, region: str):
        return self.clients("sqs", region)

    def _awaiting_killed_run(self) -> bool:
        """On resume, messages the killed run had received stay hidden until their visibility timeout
        ends. Wait for them (while SQS says some are in flight) rather than finish without them."""
        if not self._carryover or time.monotonic() > self._carryover_deadline:
            return False
        with self._lock:
            waiting = [mid for mid in self._carryover
                       if self.journal.state.get(mid) in (INTENT, SENT) and mid not in self._seen]
        if not waiting:
            return False
        in_flight = int(self._attributes(self.dlq).get("ApproximateNumberOfMessagesNotVisible", 0))
        return in_flight > 0

    def _attributes(self, ref: dlqapi.QueueRef) -> dict[str, str]:
        """``aws sqs get-queue-attributes --attribute-names All`` through this run's clients."""
        return dlqapi.queue_attributes_with(self._sqs(ref.region), ref.url, profile=self.ctx.profile)

    def _reserve(self) -> bool:
        """Take one of ``--max`` slots; False once they are all taken."""
        with self._lock:
            if self.opts.max_messages is not None and self._reserved >= self.opts.max_messages:
                return False
            self._reserved += 1
            return True

    def _worker(self) -> None:
        sqs = self._sqs(self.dlq.region)
        idle = 0.0
        while not self._stop.is_set():
            with self._lock:
                room = None if self.opts.max_messages is None else self.opts.max_messages - self._reserved
            if room is not None and room <= 0:
                self._stop.set()
                break
            want = 10 if room is None else min(10, room)
            with self._lock:
                self._busy += 1
            try:
                msgs = self._receive(sqs, want)
                if msgs:
                    idle = 0.0
                    self._process(sqs, msgs)
                    continue
            finally:
                with self._lock:
                    self._busy -= 1
            # Empty while another worker holds a batch proves nothing (FIFO groups stay locked); once
            # nobody is busy, one long-polling receive decides (short polls sample some servers).
            with self._lock:
                others = self._busy
            if others:  # back off: polling a FIFO queue whose groups are held only makes SQS scan
                idle = min(0.25, idle * 2 or 0.01)
                time.sleep(idle)
                continue
            msgs = self._receive(sqs, want, self.opts.empty_wait_s)
            if not msgs:
                if self._awaiting_killed_run():
                    time.sleep(0.5)
                    continue
                self._stop.set()
                break
            with self._lock:
                self._busy += 1
            try:
                self._process(sqs, msgs)
            finally:
                with self._lock:
                    self._busy -= 1

    def _call(self, fn, *args):  # one SQS call; lambdaops.aws.dlq translates botocore failures
        return fn(*args, profile=self.ctx.profile)

    def _receive(self, sqs, want: int, *wait) -> list[dict]:
        """ReceiveMessage, its handles recorded at once in memory and in the journal (a resume returns
        them); a second Ctrl-C waits for this, so no answer's handles are lost."""
        with self._lock:
            self._receiving += 1
        try:
            msgs = self._call(dlqapi.receive, sqs, self.dlq.url, want, self.opts.visibility_s, *wait)
            if msgs:
                with self._lock:
                    for m in msgs:
                        self._handles[m["MessageId"]] = m["ReceiptHandle"]
                if self.journal and not self.opts.dry_run:
                    self.journal.received([(m["MessageId"], m["ReceiptHandle"]) for m in msgs])
            return msgs
        finally:
            with self._lock:
                self._receiving -= 1

    def _settle_receives(self, limit_s: float = 1.0) -> None:  # before leaving at once (bounded)
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._receiving:
                    return
            time.sleep(0.01)

    def _process(self, sqs, msgs: list[dict]) -> None:
        take: list[tuple[dict, DecodedMessage]] = []
        resume_delete: list[dict] = []
        fresh = False
        if self._halt.is_set():
            return  # received as the run was stopped: returned to the DLQ at the end, untouched
        for m in msgs:
            mid = m["MessageId"]
            with self._lock:
                first = mid not in self._seen
                self._seen.add(mid)
                if first:
                    self.result.received += 1
                    fresh = True
                if mid in self._held:  # seen before and kept back: keep it back (new receipt handle)
                    self._held[mid] = m["ReceiptHandle"]
                    continue
                sent_here = mid in self._sent
            prior = self.journal.state.get(mid) if self.journal else None
            if (prior in (SENT, DELETED) or sent_here) and not self.opts.dry_run:
                resume_delete.append(m)  # its copy is confirmed: delete it (with this newest handle)
                continue
            if not first:
                # SQS delivers at least once: another worker has this message in hand right now.
                # Sending it again would duplicate it; keep this delivery back instead.
                self._hold(m)
                continue
            if (mid in self._prior_refused and not self.opts.retry_refused
                    and self.opts.mode != "move-task" and not self.opts.dry_run):
                self._hold(m)  # the target refused it in the run being resumed: left in the DLQ
                with self._lock:
                    self.result.skipped_refused += 1
                self._audit([self._audit_line(m, "skip", "refused by the target before; --retry-refused sends it again")])
                continue
            try:
                decoded = decode_message(m, self.kind)
            except Exception as exc:  # noqa: BLE001 - one message must not stop the run
                self._fail([(m, "DecodeError", f"{type(exc).__name__}: {exc}"[:300])])
                continue
            if not matches(self.filter, decoded):
                self._hold(m)
                with self._lock:
                    self.result.skipped += 1
                self._audit([self._audit_line(m, "skip", "filter did not match")])
                if self.opts.dry_run:
                    self._plan(m, decoded, "skip", None, "filter did not match")
                continue
            if not self._reserve():
                self._hold(m)
                self._stop.set()
                continue
            with self._lock:
                self.result.selected += 1
            take.append((m, decoded))
        if not fresh and not take and not resume_delete:
            with self._lock:
                self._stale_rounds += 1
                if self._stale_rounds >= 3:  # only messages already held come back: nothing new is left
                    self._stop.set()
        if resume_delete:
            self._delete(sqs, resume_delete, resumed=True)
        if not take:
            return
        if self.opts.dry_run:
            for m, decoded in take:
                self._hold(m)
                self._dry_run_plan(m, decoded)
            return
        if self.opts.mode == "invoke":
            done = self._invoke_all(take)
        else:
            done = self._send_all(take)
        if done:
            self._delete(sqs, done, resumed=False)
        self.progress(self.result.sent + self.result.resumed, None)

    def _hold(self, m: dict) -> None:
        """Keep ``m`` back: it stays in the DLQ and is made visible again at the end."""
        with self._lock:
            self._held[m["MessageId"]] = m["ReceiptHandle"]

    def _pace(self, n: int) -> bool:
        """Wait for ``n`` tokens of ``--rate``; False when the run is stopped meanwhile."""
        if self.limiter is None:
            return not self._abort.is_set()
        for _ in range(n):
            if not self.limiter.acquire(self._halt):
                return False
        return True

    # -- delete -------------------------------------------------------------------------------------
    def _delete(self, sqs, msgs: list[dict], resumed: bool) -> None:
        for start in range(0, len(msgs), 10):
            chunk = msgs[start:start + 10]
            pending = {str(i): m for i, m in enumerate(chunk)}
            for attempt in range(self.opts.retries + 1):
                ok, failed = self._call(dlqapi.delete_batch, sqs, self.dlq.url,
                                        [{"Id": i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in pending.items()])
                gone = [pending[s["Id"]] for s in ok if s.get("Id") in pending]
                if gone:
                    if self.journal:
                        self.journal.deleted([m["MessageId"] for m in gone])
                    with self._lock:
                        self._gone.update(m["MessageId"] for m in gone)
                        self.result.deleted += len(gone)
                        if resumed:
                            self.result.resumed += len(gone)
                    self._audit([self._audit_line(m, "delete", "deleted from the DLQ" + (" (sent by an earlier run)" if resumed else ""))
                                 for m in gone])
                retry = {f["Id"]: pending[f["Id"]] for f in failed if f.get("Id") in pending and not f.get("SenderFault")}
                lost = [pending[f["Id"]] for f in failed if f.get("Id") in pending and f.get("SenderFault")]
                if lost or (retry and attempt == self.opts.retries):
                    stuck = lost + (list(retry.values()) if attempt == self.opts.retries else [])
                    with self._lock:
                        self.result.delete_failed += len(stuck)
                    self._audit([self._audit_line(m, "delete", "failed: the copy was sent; the journal keeps it "
                                                              "for --resume") for m in stuck])
                if not retry or attempt == self.opts.retries:
                    break
                pending = retry
                time.sleep(self.opts.retry_delay_s * (2 ** attempt))

    # -- dry run ------------------------------------------------------------------------------------
    def _plan(self, m: dict, decoded: DecodedMessage, action: str, target: str | None, why: str | None) -> None:
        with self._lock:
            self.result.plan.append({"id": m["MessageId"], "shape": decoded.shape, "action": action,
                                     "target": target, "note": why, "group_id": decoded.group_id,
                                     "request_id": decoded.request_id})

    def _dry_run_plan(self, m: dict, decoded: DecodedMessage) -> None:
        if self.opts.mode == "invoke":
            function = self._function_for(decoded)
            if not function:
                self._plan(m, decoded, "fail", None, "unknown function: use --invoke FUNCTION")
            elif decoded.batch is None and replay_payload(decoded, m.get("Body")) is None:
                self._plan(m, decoded, "fail", f"lambda:{function}", "not a JSON event")
            else:
                note = "records are read back from the stream" if decoded.batch else None
                self._plan(m, decoded, "invoke", f"lambda:{function}", note)
            return
        ref = self.opts.target.arn if self.opts.target else self._source_for(decoded)
        if ref is None:
            self._plan(m, decoded, "fail", None, "unknown source queue: use --to")
        else:
            self._plan(m, decoded, "send", ref if isinstance(ref, str) else ref.arn, None)

    # -- audit --------------------------------------------------------------------------------------
    def _audit_line(self, m: dict, action: str, result: str, target: str | None = None,
                    new_id: str | None = None) -> dict:
        line = {"action": action, "dlq": self.dlq.arn, "message_id": m["MessageId"], "md5": m.get("MD5OfBody"),
                "result": result}
        if target:
            line["target"] = target
        if new_id:
            line["new_message_id"] = new_id
        return line

    def _audit(self, lines: list[dict]) -> None:
        if self.audit and not self.opts.dry_run and lines:
            self.audit.write(lines)
