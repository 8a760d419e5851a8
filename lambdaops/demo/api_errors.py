"""The one error type the demo's filled APIs raise; the gateway turns it into an AWS-shaped response."""

from __future__ import annotations


class DemoApiError(Exception):
    """An AWS-style service error: ``code`` is the AWS error code (``InvalidParameterValue``,
    ``MalformedQueryException``...), ``status`` the HTTP status AWS uses for it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
