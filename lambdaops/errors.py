"""User-facing errors and the AWS-CLI-like exit codes they map to.

Every failure a user can cause (bad flag, missing credentials, unknown function, throttling that
outlived its retries) ends as one of these, printed as one line on stderr; never as a traceback.
"""

from __future__ import annotations

# Exit codes users already know from the AWS CLI.
EXIT_OK = 0
EXIT_FINDINGS = 1  # `report --fail-on`: a finding at or above the threshold exists
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_CONFIG = 253  # credentials, profile, region, config file
EXIT_SERVICE = 254  # the service answered with an error
EXIT_OTHER = 255


class LambdaopsError(Exception):
    exit_code = EXIT_OTHER

    def __init__(self, message: str, *, exit_code: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(LambdaopsError):
    exit_code = EXIT_USAGE


class ConfigError(LambdaopsError):
    """Credentials, profile, region or config-file problems."""

    exit_code = EXIT_CONFIG


class ServiceError(LambdaopsError):
    """AWS (or the endpoint) answered with an error."""

    exit_code = EXIT_SERVICE

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None,
                 region: str | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.code = code
        self.operation = operation
        self.region = region


class NotFoundError(ServiceError):
    """An unknown function, queue or stream."""
