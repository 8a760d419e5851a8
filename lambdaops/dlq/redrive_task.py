"""Redrive with SQS's own message move task: AWS moves the messages, this starts the task and follows it.

Only for DLQs whose sources are SQS queues (StartMessageMoveTask), the whole queue, no filter. The
rate is ``MaxNumberOfMessagesPerSecond``: an integer from 1 to 500 ("The maximum number of messages
per second that can be transferred ... the maximum value is 500", StartMessageMoveTask, Amazon SQS
API Reference); anything else is refused before a call is made. A first Ctrl-C while the task runs
cancels it (CancelMessageMoveTask): what it moved stays moved, the rest stays in the DLQ.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lambdaops.aws import dlq as dlqapi
from lambdaops.errors import UsageError

if TYPE_CHECKING:
    from lambdaops.dlq.redrive import Redriver, RedriveResult

MOVE_TASK_MAX_RATE = 500
CANCEL_WAIT_S = 10.0  # how long to follow a cancelled task before reporting it as still cancelling


def move_task_rate(rate: float | None) -> int | None:
    """``--rate`` as MaxNumberOfMessagesPerSecond, or a UsageError (exit 2) before any call."""
    if rate is None:
        return None
    if rate != int(rate) or not 1 <= rate <= MOVE_TASK_MAX_RATE:
        raise UsageError(f"--rate: a message move task takes a whole number of messages per second from 1 to "
                         f"{MOVE_TASK_MAX_RATE} (MaxNumberOfMessagesPerSecond), not {rate:g}")
    return int(rate)


def run_move_task(r: "Redriver") -> "RedriveResult":
    res = r.result
    dest = r.opts.target.arn if r.opts.target else None
    rate = move_task_rate(r.opts.rate)
    if r.opts.dry_run:
        visible, _ = dlqapi.approximate_depth(r.ctx, r.dlq)
        res.selected = visible
        res.plan.append({"action": "start-message-move-task", "source_arn": r.dlq.arn,
                         "destination_arn": dest or "(original sources)", "messages": visible,
                         "rate": rate})
        return res
    with r.interrupts():
        handle = None
        if r.journal and r.journal.task_handles:
            for task in dlqapi.list_move_tasks(r.ctx, r.dlq, 10):
                if task.get("Status") == "RUNNING" and task.get("TaskHandle") in r.journal.task_handles:
                    handle = task["TaskHandle"]
        if handle is None and not r.stopping:
            handle = dlqapi.start_move_task(r.ctx, r.dlq, dest, rate)
            if r.journal:
                r.journal.task(handle)
            r._audit([{"action": "move-task", "dlq": r.dlq.arn, "target": dest or "(original sources)",
                       "result": "started", "task": handle}])
        task: dict = {}
        cancelled_at = None
        while handle is not None:
            tasks = dlqapi.list_move_tasks(r.ctx, r.dlq, 10)
            task = next((t for t in tasks if t.get("TaskHandle") == handle), None) or (tasks[0] if tasks else {})
            r.progress(int(task.get("ApproximateNumberOfMessagesMoved", 0)), task.get("ApproximateNumberOfMessagesToMove"))
            if task.get("Status") not in ("RUNNING", "CANCELLING"):
                break
            if r.stopping and cancelled_at is None:
                cancelled_at = time.monotonic()
                if task.get("Status") == "RUNNING":
                    dlqapi.cancel_move_task(r.ctx, r.dlq.region, handle)
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_WAIT_S:
                break
            r._halt.wait(r.opts.poll_s) if cancelled_at is None else time.sleep(min(r.opts.poll_s, 0.5))
    res.task_status = task.get("Status")
    res.task_failure = task.get("FailureReason")
    res.sent = res.deleted = int(task.get("ApproximateNumberOfMessagesMoved", 0))
    res.selected = int(task.get("ApproximateNumberOfMessagesToMove") or res.sent)
    res.left_visible = dlqapi.approximate_depth(r.ctx, r.dlq)[0]
    r._audit([{"action": "move-task", "dlq": r.dlq.arn, "target": dest or "(original sources)",
               "result": f"{res.task_status}: {res.sent} moved" + (f" ({res.task_failure})" if res.task_failure else ""),
               "task": handle}])
    if r.journal:
        if res.interrupted or res.task_status != "COMPLETED":
            r.journal.stop(res.to_dict())
        else:
            r.journal.end(res.to_dict())
    return res
