"""Make moto's SQS backend scale to DLQs of tens of thousands of messages, and safe under
concurrent clients (same answers, faster, no races).

moto 5.2 reads the clock through ``datetime`` arithmetic (~9 us a call) once or twice per message per
scan, recomputes every queue attribute (three full scans of the queue) several times per message
sent or received, and finds a receipt handle by scanning the queue. A 10,000-message DLQ then takes
minutes to fill and hours to redrive, which makes the demo account useless for redrive benchmarks.

:func:`apply` replaces exactly those hot spots with equivalent code:

- the clock: ``time.time()`` (what moto's naive-UTC arithmetic computes, without the allocations);
- queue attributes: the three message counts in one scan, and not at all inside SendMessage paths,
  which only read ``ContentBasedDeduplication``;
- retention checks on receive: read the queue's field instead of building all attributes three times;
- receipt handles: an index maintained on receive, so deletes and visibility changes do not scan;
  generated with one ``choices()`` call instead of 185 ``choice()`` calls.

One answer is changed to match AWS: SendMessageBatch reports each entry apart. moto checks every
entry first and refuses the whole request when one is too long or breaks a FIFO rule; AWS answers
HTTP 200 with that entry in ``Failed`` and sends the others ("The result of sending each message is
reported individually in the response. Because the batch request can result in a combination of
successful and unsuccessful actions, you should check for batch errors even when the call returns
an HTTP status code of 200", SendMessageBatch, Amazon SQS API Reference).

moto's SQS is also not thread-safe, and the demo server answers requests on many threads: two
concurrent ReceiveMessage calls can hand out the same message, and two concurrent deletes can undo
each other (each rebuilds the message list from the same old one). Receive, send, delete, visibility
changes and purge therefore run under the queue's own lock (moto's ``_messages_lock``, reentrant;
a long-polling receive releases it while it waits).

FIFO groups are locked only by messages really in flight, as in SQS: a message group with a message
in flight returns no more messages until that message is deleted or becomes visible again, e.g. when
its visibility timeout ends (Amazon SQS Developer Guide, "FIFO queue delivery logic in Amazon SQS",
Receiving messages; "Using the message group ID with Amazon SQS FIFO queues"). moto keeps a received
message in its in-flight set until its receive loop happens to reach it after its timeout ran out
(also one made visible with ChangeMessageVisibility 0, when its check read the same clock value as
the change), and decides which groups are locked before that: a group whose messages were all in
flight and have all come back returned its second message before its first, or nothing. Each
receive pass now first drops the messages whose timeout has ended from the in-flight set (one walk of
that set, which moto walks anyway to find the locked groups) and reads one clock instant for the
whole pass; a long poll waits with the lock released and decides again on each pass.

Patches are process-wide and idempotent; :func:`restore` undoes them (tests). They apply only to the
moto release they were written against: any other version is left alone (correct, just slow).
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

SUPPORTED_PREFIX = "5.2."
_COUNT_KEYS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
               "ApproximateNumberOfMessagesDelayed")

_state: dict[str, Any] = {"applied": False, "originals": {}}
_light = threading.local()  # set while moto runs a SendMessage path: attribute counts are not needed
_handles: "weakref.WeakValueDictionary[str, Any]" = weakref.WeakValueDictionary()
_lock = threading.Lock()


def _clock() -> float:
    """Seconds now; inside a receive pass, the one instant that pass decides at (see _receive_message)."""
    pinned = getattr(_light, "now", None)
    return time.time() if pinned is None else pinned


def _fast_unix_time(dt=None) -> float:
    if dt is not None:
        return _state["originals"]["unix_time"](dt)
    return _clock()


def _fast_unix_time_millis(dt=None) -> float:
    if dt is not None:
        return _state["originals"]["unix_time_millis"](dt)
    return _clock() * 1000.0


def _counts(queue) -> tuple[int, int, int]:
    now = _clock() * 1000.0
    visible = not_visible = delayed = 0
    for m in queue._messages:
        is_visible = now > m.visible_at
        is_delayed = now < m.delayed_until
        if is_visible and not is_delayed:
            visible += 1
        if not is_visible:
            not_visible += 1
        if is_delayed:
            delayed += 1
    return visible, not_visible, delayed


_NAME_CACHE: dict[str, str] = {}


def _attr_name(key: str) -> str:
    name = _NAME_CACHE.get(key)
    if name is None:
        from moto.core.utils import camelcase_to_underscores

        name = _NAME_CACHE[key] = camelcase_to_underscores(key)
    return name


def _attributes(self) -> dict[str, Any]:
    """moto's ``Queue.attributes`` with the counts computed once (or skipped in send paths)."""
    import json

    result: dict[str, Any] = {}
    light = getattr(_light, "on", False)
    counts = None if light else _counts(self)
    for attribute in self.BASE_ATTRIBUTES:
        if attribute in _COUNT_KEYS:
            if counts is not None:
                result[attribute] = counts[_COUNT_KEYS.index(attribute)]
            continue
        result[attribute] = getattr(self, _attr_name(attribute))
    if self.fifo_queue:
        for attribute in self.FIFO_ATTRIBUTES:
            result[attribute] = getattr(self, _attr_name(attribute))
    if self.kms_master_key_id:
        for attribute in self.KMS_ATTRIBUTES:
            result[attribute] = getattr(self, _attr_name(attribute))
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)
    for key in result:
        if isinstance(result[key], bool):
            result[key] = str(result[key]).lower()
    return result


def _messages(self) -> list:
    now = _clock() * 1000.0
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _queue_locked(name: str, light: bool = False):
    """Run moto's backend method ``name`` under the queue's lock (and in "light" mode for sends)."""
    original = _state["originals"][name]

    def wrapper(self, queue_name, *args, **kwargs):
        queue = self.get_queue(queue_name)
        with queue._messages_lock:
            if not light:
                return original(self, queue_name, *args, **kwargs)
            outer = getattr(_light, "on", False)
            _light.on = True
            try:
                return original(self, queue_name, *args, **kwargs)
            finally:
                _light.on = outer

    wrapper.__name__ = original.__name__
    return wrapper


def _expire(queue, now_ms: float) -> float | None:
    """Take out of moto's in-flight set the messages whose visibility timeout has ended by ``now_ms``:
    they are visible again and no longer lock their FIFO group. Returns when the next of the others
    ends (epoch ms), None when nothing is in flight."""
    pending = queue._pending_messages
    ended = [m for m in pending if now_ms > m.visible_at]
    for m in ended:
        pending.discard(m)
    return min((m.visible_at for m in pending), default=None)


_POLL_S = 1.0  # a long poll looks again at least this often (as moto's does); a send wakes it at once


def _receive_message(self, queue_name: str, count: int, wait_seconds_timeout: int, visibility_timeout: int,
                     message_attribute_names: list[str] | None = None) -> list:
    """moto's ReceiveMessage one pass at a time, under the queue's lock: each pass first returns the
    messages whose visibility timeout has ended to view (so a FIFO group is locked only by a message
    still in flight), then runs moto's own pass with the clock read once. moto's long poll computes the
    locked groups once for its whole wait, and its wait returns at once while any message is visible
    (one of a locked group, too): it spun holding the lock, so the delete that would unlock the group
    waited for the poll to end. Here a long poll waits with the lock released and decides again."""
    original = _state["originals"]["receive_message"]
    queue = self.get_queue(queue_name)
    deadline = time.time() + int(wait_seconds_timeout or 0)
    with queue._messages_lock:
        while True:
            now = time.time()
            next_end = _expire(queue, now * 1000.0)
            outer = getattr(_light, "now", None)
            _light.now = now
            try:
                result = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            finally:
                _light.now = outer
            left = deadline - time.time()
            if result or left <= 0:
                return result
            wake = min(left, _POLL_S)
            if next_end is not None:  # an in-flight message comes back sooner: look again then
                wake = min(wake, max(0.001, next_end / 1000.0 - time.time()))
            queue._messages_lock.wait(timeout=wake)


def _retention_ok(self, queue_name: str, message) -> bool:
    queue = self.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > time.time()


def _mark_received(self, visibility_timeout=None) -> None:
    _state["originals"]["mark_received"](self, visibility_timeout)
    _handles[self.receipt_handle] = self
    self.lambdaops_received_ms = time.time() * 1000.0


def _find(queue, receipt_handle: str):
    """The message of ``queue`` holding ``receipt_handle`` (current or past), or None."""
    msg = _handles.get(receipt_handle)
    if msg is not None:
        for m in queue._messages:
            if m is msg:
                return m
        return None
    for m in queue._messages:  # handles issued before the patch
        if m.had_receipt_handle(receipt_handle):
            return m
    return None


def _delete_message(self, receipt_handle: str) -> None:
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    with self._messages_lock:
        if receipt_handle in self.deleted_messages:
            return
        msg = _find(self, receipt_handle)
        if msg is None:
            raise ReceiptHandleIsInvalid()
        self.pending_messages.discard(msg)
        self.deleted_messages.update(msg.all_receipt_handles)
        self._messages = [m for m in self._messages if m is not msg]


def _send_message_batch(self, queue_name: str, entries: dict[str, dict[str, Any]]):
    """moto's SendMessageBatch with the request-wide checks kept (entry ids, count, total size) and
    each entry's own refusal (size, FIFO parameters, delay) reported in ``Failed``."""
    import re

    from moto.sqs import exceptions as sx
    from moto.sqs.models import MAXIMUM_MESSAGE_LENGTH

    if any(not re.match(r"^[\w-]{1,80}$", entry["Id"]) for entry in entries.values()):
        raise sx.InvalidBatchEntryId()
    body_length = sum(len(entry["MessageBody"]) for entry in entries.values())
    if body_length > MAXIMUM_MESSAGE_LENGTH:
        raise sx.BatchRequestTooLong(body_length)
    ids = [entry["Id"] for entry in entries.values()]
    duplicate = next((i for n, i in enumerate(ids) if i in ids[:n]), None)
    if duplicate:
        raise sx.BatchEntryIdsNotDistinct(duplicate)
    if len(entries) > 10:
        raise sx.TooManyEntriesInBatchRequest(len(entries))
    messages, failed = [], []
    for entry in entries.values():
        try:
            message = self.send_message(queue_name, entry["MessageBody"], message_attributes=entry["MessageAttributes"],
                                        delay_seconds=entry["DelaySeconds"], group_id=entry.get("MessageGroupId"),
                                        deduplication_id=entry.get("MessageDeduplicationId"))
        except (sx.InvalidParameterValue, sx.MissingParameter) as err:
            failed.append({"Id": entry["Id"], "SenderFault": True, "Code": err.code, "Message": err.message})
            continue
        message.user_id = entry["Id"]  # type: ignore[attr-defined]
        messages.append(message)
    return messages, failed


def _delete_message_batch(self, queue_name: str, receipts: list[dict[str, Any]]):
    """One rebuild of the message list per batch instead of one per entry."""
    queue = self.get_queue(queue_name)
    success, errors, doomed = [], [], []
    with queue._messages_lock:
        for entry in receipts:
            handle = entry["ReceiptHandle"]
            msg = None if handle in queue.deleted_messages else _find(queue, handle)
            if msg is None and handle not in queue.deleted_messages:
                errors.append({"Id": entry["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid",
                               "Message": f'The input receipt handle "{handle}" is not a valid receipt handle.'})
                continue
            if msg is not None and not any(msg is d for d in doomed):
                doomed.append(msg)
            success.append(entry["Id"])  # deleting an already deleted message succeeds, as in moto
        if doomed:
            ids = {id(m) for m in doomed}
            for m in doomed:
                queue.pending_messages.discard(m)
                queue.deleted_messages.update(m.all_receipt_handles)
            queue._messages = [m for m in queue._messages if id(m) not in ids]
    return success, errors


def _change_message_visibility(self, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
    from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid

    queue = self.get_queue(queue_name)
    with queue._messages_lock:
        message = _find(queue, receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid
        given = time.time() * 1000.0 + int(visibility_timeout) * 1000
        # AWS counts the 12 hours from the receive (moto counts from the send, which refuses any
        # change on a message older than 12 hours, e.g. releasing a day-old DLQ message).
        received = getattr(message, "lambdaops_received_ms", None) or message.sent_timestamp
        if given - received > 43200 * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                "VisibilityTimeout for the message is beyond the limit [43200 seconds]")
        message.change_visibility(visibility_timeout)
        # Hidden again, the message is in flight and locks its FIFO group, also when its timeout had
        # ended and a receive already took it out of the in-flight set (_expire); visible, it does not.
        if message.visible:
            queue.pending_messages.discard(message)
        else:
            queue.pending_messages.add(message)


def _receipt_handle() -> str:
    import string

    from moto.moto_api._internal import mock_random

    # moto draws 185 letters one random.choice() at a time; choices() draws them in one call.
    return "".join(mock_random.choices(string.ascii_lowercase, k=185))


def _supported() -> bool:
    try:
        import moto
    except ImportError:
        return False
    return str(getattr(moto, "__version__", "")).startswith(SUPPORTED_PREFIX)


def is_applied() -> bool:
    return bool(_state["applied"])


def apply() -> bool:
    """Install the patches (once). Returns whether they are active."""
    with _lock:
        if _state["applied"]:
            return True
        if not _supported():
            return False
        from moto.sqs import models

        orig = _state["originals"]
        orig.update(
            unix_time=models.unix_time, unix_time_millis=models.unix_time_millis,
            attributes=models.Queue.__dict__["attributes"], messages=models.Queue.__dict__["messages"],
            queue_delete_message=models.Queue.delete_message,
            send_message=models.SQSBackend.send_message, send_message_batch=models.SQSBackend.send_message_batch,
            retention=models.SQSBackend.is_message_valid_based_on_retention_period,
            mark_received=models.Message.mark_received,
            delete_message_batch=models.SQSBackend.delete_message_batch,
            change_message_visibility=models.SQSBackend.change_message_visibility,
            generate_receipt_handle=models.generate_receipt_handle,
            receive_message=models.SQSBackend.receive_message, purge_queue=models.SQSBackend.purge_queue,
            send_message_batch_per_entry=_send_message_batch,
        )
        models.unix_time = _fast_unix_time
        models.unix_time_millis = _fast_unix_time_millis
        models.Queue.attributes = property(_attributes)
        models.Queue.messages = property(_messages)
        models.Queue.delete_message = _delete_message
        models.SQSBackend.send_message = _queue_locked("send_message", light=True)
        models.SQSBackend.send_message_batch = _queue_locked("send_message_batch_per_entry", light=True)
        models.SQSBackend.receive_message = _receive_message
        models.SQSBackend.purge_queue = _queue_locked("purge_queue")
        models.SQSBackend.is_message_valid_based_on_retention_period = _retention_ok
        models.Message.mark_received = _mark_received
        models.SQSBackend.delete_message_batch = _delete_message_batch
        models.SQSBackend.change_message_visibility = _change_message_visibility
        models.generate_receipt_handle = _receipt_handle
        _state["applied"] = True
        return True


def restore() -> None:
    """Put moto's own code back."""
    with _lock:
        if not _state["applied"]:
            return
        from moto.sqs import models

        orig = _state["originals"]
        models.unix_time = orig["unix_time"]
        models.unix_time_millis = orig["unix_time_millis"]
        models.Queue.attributes = orig["attributes"]
        models.Queue.messages = orig["messages"]
        models.Queue.delete_message = orig["queue_delete_message"]
        models.SQSBackend.send_message = orig["send_message"]
        models.SQSBackend.send_message_batch = orig["send_message_batch"]
        models.SQSBackend.is_message_valid_based_on_retention_period = orig["retention"]
        models.Message.mark_received = orig["mark_received"]
        models.SQSBackend.delete_message_batch = orig["delete_message_batch"]
        models.SQSBackend.change_message_visibility = orig["change_message_visibility"]
        models.generate_receipt_handle = orig["generate_receipt_handle"]
        models.SQSBackend.receive_message = orig["receive_message"]
        models.SQSBackend.purge_queue = orig["purge_queue"]
        _state["applied"] = False
