"""moto_sqs_patches and FIFO message groups: a group is locked only by a message really in flight
(its visibility timeout running), as in SQS, whatever moto's receive loop happened to look at
before. No server: boto3 under mock_aws, with the demo's patches applied."""

from __future__ import annotations

import threading
import time

import pytest

from lambdaops.demo import moto_sqs_patches
from tests.unit.demo.test_seed_backends import aws  # noqa: F401 - boto3 under mock_aws


@pytest.fixture(scope="module", autouse=True)
def patched():
    mine = not moto_sqs_patches.is_applied()
    assert moto_sqs_patches.apply()
    yield
    if mine:
        moto_sqs_patches.restore()


class FakeClock:
    """The patches' clock (every moto SQS timestamp goes through it), moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(moto_sqs_patches, "time", fake)
    return fake


def fifo(sqs, name: str, *messages: tuple[str, str]) -> str:
    """A FIFO queue holding ``messages`` ((group, body) in this order)."""
    url = sqs.create_queue(QueueName=name + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for group, body in messages:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)
    return url


def receive(sqs, url: str, n: int, visibility: int, wait: int = 0) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, VisibilityTimeout=visibility,
                               WaitTimeSeconds=wait).get("Messages", [])


def bodies(msgs) -> list[str]:
    return [m["Body"] for m in msgs]


def test_a_group_whose_in_flight_message_came_back_delivers_again_and_one_still_in_flight_stays_locked(sqs, clock):
    url = fifo(sqs, "one", ("A", "a1"), ("A", "a2"), ("B", "b1"), ("B", "b2"))
    assert bodies(receive(sqs, url, 1, visibility=10)) == ["a1"]
    assert bodies(receive(sqs, url, 1, visibility=60)) == ["b1"]  # A is locked by a1
    clock.now += 11  # a1 is visible again; b1 is still in flight
    assert bodies(receive(sqs, url, 10, visibility=60)) == ["a1", "a2"]  # A again, in order; B locked


def test_a_group_whose_in_flight_messages_all_came_back_delivers_them_in_order(sqs, clock):
    url = fifo(sqs, "all", ("A", "a1"), ("A", "a2"), ("A", "a3"), ("B", "b1"), ("B", "b2"))
    assert bodies(receive(sqs, url, 2, visibility=10)) == ["a1", "a2"]  # two of A's in flight
    assert bodies(receive(sqs, url, 1, visibility=60)) == ["b1"]  # A is locked: B's first
    clock.now += 11  # a1 and a2 are visible again; b1 is still in flight
    # moto kept a1 and a2 in its in-flight set until its loop reached them: at a1, a2 still locked the
    # group, so a1 was skipped and a2 delivered ahead of it (["a2", "a3"]).
    assert bodies(receive(sqs, url, 10, visibility=60)) == ["a1", "a2", "a3"]
    assert receive(sqs, url, 10, visibility=60) == []  # A in flight again, B still locked by b1
    clock.now += 50  # b1 back (A's second delivery still in flight)
    assert bodies(receive(sqs, url, 10, visibility=60)) == ["b1", "b2"]


def test_messages_released_with_visibility_zero_come_back_in_order(sqs, clock):
    # What a resumed redrive does with the killed run's receipt handles. moto checks right after the
    # change whether the message is visible (now > visible_at): on the same clock reading (two
    # time.time() calls often return the same float) it is not, and it stayed in the in-flight set;
    # the next receive then skipped a1 (a2 still "in flight") and handed over a2 first.
    url = fifo(sqs, "zero", ("A", "a1"), ("A", "a2"), ("A", "a3"))
    held = receive(sqs, url, 2, visibility=60)
    assert bodies(held) == ["a1", "a2"]
    sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(held)])
    clock.now += 0.001
    assert bodies(receive(sqs, url, 10, visibility=60)) == ["a1", "a2", "a3"]


def test_a_message_hidden_again_after_its_timeout_ended_locks_its_group(sqs, clock):
    url = fifo(sqs, "hide", ("C", "c1"), ("A", "a1"), ("A", "a2"))
    first = receive(sqs, url, 2, visibility=10)
    assert bodies(first) == ["c1", "a1"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
    clock.now += 11  # a1's timeout has ended
    assert bodies(receive(sqs, url, 1, visibility=60)) == ["c1"]  # this receive saw a1 come back
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"], VisibilityTimeout=60)
    assert receive(sqs, url, 10, visibility=60) == []  # a1 hidden again: a2 waits behind it


def test_a_long_poll_waits_without_the_lock_and_sees_the_group_unlocked(sqs):
    url = fifo(sqs, "poll", ("A", "a1"), ("A", "a2"))
    a1 = receive(sqs, url, 1, visibility=60)[0]
    got: list[list[dict]] = []
    poller = threading.Thread(target=lambda: got.append(receive(sqs, url, 10, visibility=60, wait=4)))
    poller.start()
    time.sleep(0.3)  # the poll is waiting: a2 is visible but A is locked by a1
    t0 = time.monotonic()
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
    deleted_after = time.monotonic() - t0
    poller.join(10)
    # moto's long poll kept the queue's lock until its 4 s ended (a visible a2 ended each wait at once)
    # and kept A locked for the whole poll: the delete waited, the poll came back empty.
    assert deleted_after < 2.0
    assert bodies(got[0]) == ["a2"]
