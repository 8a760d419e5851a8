"""A FIFO group with a message left behind stays closed for the rest of the run, across receives:
a later receive that hands over the group's next messages (the held message's visibility ran out,
or the server did not lock the group) must not let them overtake it."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from lambdaops.dlq.decode import DecodedMessage
from lambdaops.dlq.redrive_model import _Target
from lambdaops.dlq.redrive_send import SendMixin


class Sender(SendMixin):
    """The send half of a Redriver: a target that refuses the messages named in ``refuse``."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse, self.sent, self.failed, self.held = refuse, [], [], []
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._closed_groups: set[tuple[str, str]] = set()

    def _entry(self, i, m, decoded, target):
        return {"Id": str(i), "MessageBody": "x", "MessageGroupId": decoded.group_id}

    def _send_batch(self, target, chunk):
        ok = [m for m, _ in chunk if m["MessageId"] not in self.refuse]
        self.sent += [m["MessageId"] for m in ok]
        return ok

    def _fail(self, items, target=None, refused=False):
        self.failed += [(m["MessageId"], code) for m, code, _ in items]

    def _hold(self, m):
        self.held.append(m["MessageId"])


def msg(n: int, group: str):
    return ({"MessageId": f"m{n}"}, DecodedMessage(message_id=f"m{n}", shape="raw", body_format="text",
                                                    body_bytes=1, group_id=group))


TARGET = _Target(SimpleNamespace(arn="arn:aws:sqs:us-east-1:123456789012:t.fifo", name="t.fifo"), True, 262_144)


def test_a_group_left_behind_stays_closed_in_the_next_receive():
    s = Sender(refuse={"m1"})
    s._send_fifo(TARGET, [msg(0, "a"), msg(1, "b"), msg(2, "a"), msg(3, "b")])  # first receive
    assert s.sent == ["m0", "m2"] and ("m3", "GroupBlocked") in s.failed
    s._send_fifo(TARGET, [msg(4, "b"), msg(5, "a")])  # a later receive hands over group b's next one
    assert "m4" not in s.sent and ("m4", "GroupBlocked") in s.failed and s.sent[-1] == "m5"


def test_the_same_group_on_another_target_is_not_closed():
    s = Sender(refuse={"m1"})
    s._send_fifo(TARGET, [msg(1, "b")])
    other = _Target(SimpleNamespace(arn="arn:aws:sqs:us-east-1:123456789012:u.fifo", name="u.fifo"), True, 262_144)
    s._send_fifo(other, [msg(2, "b")])
    assert s.sent == ["m2"]
