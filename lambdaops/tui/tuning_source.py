"""The tuning screen's one wiring point to the AWS layer: the screen asks for the API of a region
of the session's account and never builds an AWS client itself. No textual here."""

from __future__ import annotations


def tuning_api(session, region: str):
    """The Lambda calls a tuning run makes (:class:`lambdaops.aws.tuning.TuningApi`), on the
    session's current context (profile, endpoint, retries)."""
    from lambdaops.aws.tuning import TuningApi

    return TuningApi(session.ctx, region)
