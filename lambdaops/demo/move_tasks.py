"""SQS message move tasks for the demo account, which moto lacks.

Answers ``StartMessageMoveTask``, ``ListMessageMoveTasks`` and ``CancelMessageMoveTask`` (SQS JSON
protocol) with AWS's rules: the source must be the dead-letter queue of some SQS queue, one active
task per source, at most 500 messages per second, task handles, RUNNING -> COMPLETED / CANCELLED /
FAILED. Messages move in a background thread through the demo endpoint itself (receive, send with
body, every attribute, AWSTraceHeader and FIFO group id, delete only what was sent), so everything
else the account does (metrics, origins) sees them like any client's.

Moving "back to the original source" needs each message's source queue. AWS keeps it as the
``DeadLetterQueueSourceArn`` system attribute; moto does not, so this module remembers which queue
every message id was sent to (SendMessage / SendMessageBatch responses) and adds the attribute to
ReceiveMessage answers for messages that now sit in another queue (moto moves a message to its DLQ
keeping its id). Also installs :mod:`lambdaops.demo.moto_sqs_patches`, so DLQs of thousands of
messages stay fast and concurrent consumers do not see one message twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway

MAX_RATE = 500
ORIGINS_KEPT = 1_000_000  # message ids remembered (oldest forgotten first)
VISIBILITY_S = 120  # longer than a batch can take, so no message is received twice by one task
ACTIVE = ("RUNNING", "CANCELLING")


class MessageOrigins:
    """message id -> ARN of the queue it was sent to (bounded, thread-safe)."""

    def __init__(self, limit: int = ORIGINS_KEPT) -> None:
        self._data: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def record(self, message_id: str, queue_arn: str) -> None:
        with self._lock:
            self._data[message_id] = queue_arn
            if len(self._data) > self.limit:
                self._data.popitem(last=False)

    def get(self, message_id: str) -> str | None:
        with self._lock:
            return self._data.get(message_id)


def parse_queue_arn(arn: str | None) -> tuple[str, str, str]:
    """``arn:aws:sqs:REGION:ACCOUNT:NAME`` -> (region, account, name); InvalidAddress otherwise."""
    parts = (arn or "").split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        raise DemoApiError("InvalidAddress", f"Value {arn!r} is not a valid SQS queue ARN.")
    return parts[3], parts[4], parts[5]


def queue_arn_from_url(url: str, region: str, account: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{url.rstrip('/').rsplit('/', 1)[-1]}"


@dataclass
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started_ms: int
    status: str = "RUNNING"
    moved: int = 0
    to_move: int = 0
    failure_reason: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def handle(self) -> str:
        token = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn}, separators=(",", ":"))
        return base64.b64encode(token.encode()).decode()

    def entry(self) -> dict:
        out = {"Status": self.status, "SourceArn": self.source_arn,
               "ApproximateNumberOfMessagesMoved": self.moved, "ApproximateNumberOfMessagesToMove": self.to_move,
               "StartedTimestamp": self.started_ms}
        if self.status == "RUNNING":
            out["TaskHandle"] = self.handle
        if self.destination_arn:
            out["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        return out


class MoveTasks:
    """The account's move tasks and the thread that runs each."""

    def __init__(self, account, origins: MessageOrigins) -> None:
        self.account = account
        self.origins = origins
        self._lock = threading.Lock()
        self._tasks: dict[str, list[MoveTask]] = {}  # source ARN -> tasks, newest first
        self._by_id: dict[str, MoveTask] = {}

    # -- moto lookups (the demo runs moto in this process) -------------------------------------
    def _queue(self, arn: str, what: str):
        from moto.sqs.models import sqs_backends

        region, account, name = parse_queue_arn(arn)
        queue = sqs_backends[account][region].queues.get(name)
        if queue is None:
            raise DemoApiError("ResourceNotFoundException",
                               f"The resource that you specified for the {what} parameter doesn't exist.")
        return queue

    def _sources_of(self, dlq) -> list:
        from moto.sqs.models import sqs_backends

        region, account, _ = parse_queue_arn(dlq.queue_arn)
        return [q for q in sqs_backends[account][region].queues.values() if q.dead_letter_queue is dlq]

    # -- API ------------------------------------------------------------------------------------
    def start(self, req: DemoRequest) -> DemoResponse:
        body = req.json()
        source_arn = body.get("SourceArn")
        if not source_arn:
            raise DemoApiError("MissingParameter", "The request must contain the parameter SourceArn.")
        source = self._queue(source_arn, "SourceArn")
        sources = self._sources_of(source)
        if not sources:
            raise DemoApiError("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
        dest_arn = body.get("DestinationArn") or None
        if dest_arn:
            dest = self._queue(dest_arn, "DestinationArn")
            if dest is source:
                raise DemoApiError("InvalidParameterValue", "The destination queue can't be the source queue.")
            if bool(dest.fifo_queue) != bool(source.fifo_queue):
                raise DemoApiError("InvalidParameterValue",
                                   "The destination queue must be of the same type (FIFO or standard) as the source queue.")
        rate = body.get("MaxNumberOfMessagesPerSecond")
        if rate is not None:
            if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= MAX_RATE:
                raise DemoApiError("InvalidParameterValue",
                                   f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                                   f"Reason: must be between 1 and {MAX_RATE}.")
        with self._lock:
            if any(t.status in ACTIVE for t in self._tasks.get(source_arn, ())):
                raise DemoApiError("UnsupportedOperation",
                                   "There is already a task running. Only one active task is allowed for each "
                                   "source queue arn at a given time.")
            task = MoveTask(str(uuid.uuid4()), source_arn, dest_arn, rate, int(time.time() * 1000),
                            to_move=len(source.messages))
            self._tasks.setdefault(source_arn, []).insert(0, task)
            self._by_id[task.task_id] = task
        single_source = sources[0].queue_arn if len(sources) == 1 else None
        threading.Thread(target=self._run, args=(task, single_source), name=f"move-task-{task.task_id[:8]}",
                         daemon=True).start()
        return DemoResponse.json("sqs", {"TaskHandle": task.handle})

    def list(self, req: DemoRequest) -> DemoResponse:
        body = req.json()
        source_arn = body.get("SourceArn")
        if not source_arn:
            raise DemoApiError("MissingParameter", "The request must contain the parameter SourceArn.")
        self._queue(source_arn, "SourceArn")
        limit = body.get("MaxResults", 1)
        if not isinstance(limit, int) or not 1 <= limit <= 10:
            raise DemoApiError("InvalidParameterValue",
                               f"Value {limit} for parameter MaxResults is invalid. Reason: must be between 1 and 10.")
        with self._lock:
            tasks = list(self._tasks.get(source_arn, ()))[:limit]
            results = [t.entry() for t in tasks]
        return DemoResponse.json("sqs", {"Results": results})

    def cancel(self, req: DemoRequest) -> DemoResponse:
        handle = req.json().get("TaskHandle")
        if not handle:
            raise DemoApiError("MissingParameter", "The request must contain the parameter TaskHandle.")
        try:
            task_id = json.loads(base64.b64decode(handle))["taskId"]
        except (ValueError, KeyError, TypeError):
            raise DemoApiError("ResourceNotFoundException", "Task does not exist.") from None
        with self._lock:
            task = self._by_id.get(task_id)
            if task is None:
                raise DemoApiError("ResourceNotFoundException", "Task does not exist.")
            if task.status != "RUNNING":
                raise DemoApiError("UnsupportedOperation",
                                   f"Only a RUNNING task can be cancelled; this one is {task.status}.")
            task.status = "CANCELLING"
            task.cancel.set()
            moved = task.moved
        return DemoResponse.json("sqs", {"ApproximateNumberOfMessagesMoved": moved})

    # -- the mover ------------------------------------------------------------------------------
    def _finish(self, task: MoveTask, status: str, reason: str | None = None) -> None:
        with self._lock:
            task.status = status
            task.failure_reason = reason

    def _run(self, task: MoveTask, single_source: str | None) -> None:
        try:
            self._move(task, single_source)
        except DemoApiError as exc:
            self._finish(task, "FAILED", exc.message)
        except Exception as exc:  # a failed task reports why, like AWS's FailureReason
            self._finish(task, "FAILED", f"{type(exc).__name__}: {exc}")
        else:
            self._finish(task, "CANCELLED" if task.cancel.is_set() else "COMPLETED")

    def _move(self, task: MoveTask, single_source: str | None) -> None:
        from lambdaops.demo.seed import client

        region, account, source_name = parse_queue_arn(task.source_arn)
        sqs = client(self.account.endpoint, "sqs", region)
        source_url = sqs.get_queue_url(QueueName=source_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        urls: dict[str, str] = {}
        t0 = time.monotonic()
        while task.moved < task.to_move and not task.cancel.is_set():
            want = min(10, task.to_move - task.moved, task.rate or 10)
            got = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=want, VisibilityTimeout=VISIBILITY_S,
                                      MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])
            if not got:
                break  # the rest is in flight elsewhere or gone: AWS ends the task too
            by_dest: dict[str, list[dict]] = {}
            for msg in got:
                dest = task.destination_arn or msg.get("Attributes", {}).get("DeadLetterQueueSourceArn") or single_source
                if dest is None:
                    raise DemoApiError("InvalidParameterValue",
                                       f"cannot tell the source queue of message {msg['MessageId']}; pass DestinationArn")
                by_dest.setdefault(dest, []).append(msg)
            for dest, msgs in by_dest.items():
                if dest not in urls:
                    d_region, d_account, d_name = parse_queue_arn(dest)
                    urls[dest] = client(self.account.endpoint, "sqs", d_region).get_queue_url(
                        QueueName=d_name, QueueOwnerAWSAccountId=d_account)["QueueUrl"]
                moved = self._send_and_delete(sqs, task, source_url, urls[dest], dest, msgs)
                with self._lock:
                    task.moved += moved
            if task.rate:
                ahead = task.moved / task.rate - (time.monotonic() - t0)
                if ahead > 0:
                    task.cancel.wait(ahead)

    def _send_and_delete(self, sqs, task: MoveTask, source_url: str, dest_url: str, dest_arn: str,
                         msgs: list[dict]) -> int:
        from lambdaops.demo.seed import client

        d_region = parse_queue_arn(dest_arn)[0]
        dest_sqs = sqs if d_region == parse_queue_arn(task.source_arn)[0] else client(self.account.endpoint, "sqs", d_region)
        entries = []
        for i, msg in enumerate(msgs):
            entry = {"Id": str(i), "MessageBody": msg["Body"]}
            if msg.get("MessageAttributes"):
                entry["MessageAttributes"] = msg["MessageAttributes"]
            attrs = msg.get("Attributes", {})
            if attrs.get("AWSTraceHeader"):
                entry["MessageSystemAttributes"] = {
                    "AWSTraceHeader": {"DataType": "String", "StringValue": attrs["AWSTraceHeader"]}}
            if attrs.get("MessageGroupId"):
                entry["MessageGroupId"] = attrs["MessageGroupId"]
                # Deterministic: a resend of the same message by this task is deduplicated by SQS.
                entry["MessageDeduplicationId"] = hashlib.sha256(
                    f"{task.task_id}:{msg['MessageId']}".encode()).hexdigest()
            entries.append(entry)
        resp = dest_sqs.send_message_batch(QueueUrl=dest_url, Entries=entries)
        sent = {e["Id"] for e in resp.get("Successful", [])}
        ok = [m for i, m in enumerate(msgs) if str(i) in sent]
        if ok:
            dresp = sqs.delete_message_batch(QueueUrl=source_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ok)])
            if dresp.get("Failed"):
                raise DemoApiError("InternalError", f"could not delete {len(dresp['Failed'])} moved messages")
        failed = [m for i, m in enumerate(msgs) if str(i) not in sent]
        if failed:
            sqs.change_message_visibility_batch(QueueUrl=source_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(failed)])
            first = resp["Failed"][0]
            raise DemoApiError("InternalError", f"the destination refused {len(failed)} messages: "
                                                f"{first.get('Code')}: {first.get('Message')}")
        return len(ok)


# --------------------------------------------------------------------------------------------
# origins: which queue each message was sent to


def _wants_source_arn(body: dict) -> bool:
    names = set(body.get("MessageSystemAttributeNames") or []) | set(body.get("AttributeNames") or [])
    return bool(names & {"All", "DeadLetterQueueSourceArn"})


def install(gw: Gateway, account) -> None:
    from lambdaops.demo import moto_sqs_patches

    moto_sqs_patches.apply()
    origins = MessageOrigins()
    tasks = MoveTasks(account, origins)
    account.move_tasks = tasks

    gw.handle("sqs", "StartMessageMoveTask")(tasks.start)
    gw.handle("sqs", "ListMessageMoveTasks")(tasks.list)
    gw.handle("sqs", "CancelMessageMoveTask")(tasks.cancel)

    def queue_arn(req: DemoRequest, body: dict) -> str | None:
        url = body.get("QueueUrl")
        return queue_arn_from_url(url, req.region, account.account_id) if url else None

    @gw.postprocess("sqs", "SendMessage")
    def on_send(req: DemoRequest, status: int, doc: dict) -> None:
        arn = queue_arn(req, req.json())
        if arn and doc.get("MessageId"):
            origins.record(doc["MessageId"], arn)

    @gw.postprocess("sqs", "SendMessageBatch")
    def on_send_batch(req: DemoRequest, status: int, doc: dict) -> None:
        arn = queue_arn(req, req.json())
        if arn:
            for entry in doc.get("Successful") or []:
                origins.record(entry["MessageId"], arn)

    @gw.postprocess("sqs", "ReceiveMessage")
    def on_receive(req: DemoRequest, status: int, doc: dict) -> dict | None:
        body = req.json()
        if not doc.get("Messages") or not _wants_source_arn(body):
            return None
        here = queue_arn(req, body)
        amended = False
        for msg in doc["Messages"]:
            origin = origins.get(msg.get("MessageId", ""))
            if origin and origin != here:
                msg.setdefault("Attributes", {})["DeadLetterQueueSourceArn"] = origin
                amended = True
        return doc if amended else None
