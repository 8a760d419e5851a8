"""User-facing errors and the AWS-CLI-like exit codes they map to.

Every failure a user can cause (bad flag, missing credentials, unknown function, throttling that
outlived its retries) ends as one of these, printed as one line on stderr; never as a traceback.
"""

from __future__ import annotations

import threading

# Exit codes users already know from the AWS CLI.
EXIT_OK = 0
EXIT_FINDINGS = 1  # `report --fail-on`: a finding at or above the threshold exists
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_CONFIG = 253  # credentials, profile, region, config file
EXIT_SERVICE = 254  # the service answered with an error
EXIT_OTHER = 255

# A figure or detail that could not be fetched, in every human format and the TUI: distinct from "-"
# (no data, does not apply) and from a real 0.
MISSING_MARK = "?"


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



class ErrorTally:
    """Failures that left a gap (a figure or a detail that could not be fetched), counted per
    (region, operation, error code): one ``errors`` entry each, so a throttled fleet of 300 functions
    gives one entry saying how many calls failed, not 300 lines, and never an empty ``errors`` list.
    Entries: ``{"region", "operation", "count", "message", "exit_code"}``.

    Thread-safe: the per-function workers of one region add to the same tally."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, dict] = {}

    def add(self, region: str | None, operation: str | None, message: str, *, code: str | None = None,
            exit_code: int = EXIT_SERVICE, count: int = 1) -> None:
        """``count`` more failures. ``code`` groups failures whose messages differ only by resource
        (an AccessDenied names the function); the first message is kept."""
        key = (region or "", operation or "", code or message)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = entry = {"region": region, "operation": operation, "count": 0,
                                              "message": " ".join(message.split()), "exit_code": exit_code}
            entry["count"] += count

    def add_error(self, err: LambdaopsError, *, region: str | None = None, operation: str | None = None,
                  count: int = 1) -> None:
        self.add(region or getattr(err, "region", None), operation or getattr(err, "operation", None),
                 err.one_line(), code=getattr(err, "code", None), exit_code=err.exit_code, count=count)

    def entries(self) -> list[dict]:
        with self._lock:
            return [dict(e) for _, e in sorted(self._entries.items(), key=lambda kv: kv[0])]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def error_line(entry: dict) -> str:
    """The one stderr line of an ``errors`` entry: region, operation, how many failed, message."""
    where = entry.get("region") or "-"
    op = entry.get("operation")
    count = entry.get("count") or 1
    head = f"{where}: {op}" if op else where
    times = f" ({count} failed)" if count > 1 else ""
    message = " ".join(str(entry.get("message", "")).split())
    from lambdaops.safe_text import safe_text  # AWS's text: inert in a terminal

    return f"{head}{times}: {safe_text(message, None)}"
