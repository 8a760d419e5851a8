"""The Logs tab's one wiring point to the AWS layer for following a log group live: widgets never
import ``aws/`` themselves. No textual here."""

from __future__ import annotations


def follower(*args, **kwargs):
    """A :class:`lambdaops.aws.live_logs.LogFollower` (StartLiveTail, else FilterLogEvents polling)."""
    from lambdaops.aws.live_logs import LogFollower

    return LogFollower(*args, **kwargs)


def follow_status():
    """The follower's status type (:class:`lambdaops.aws.live_logs.FollowStatus`)."""
    from lambdaops.aws.live_logs import FollowStatus

    return FollowStatus
