"""botocore failures -> one-line LambdaopsErrors with AWS-CLI-like exit codes."""

from __future__ import annotations

import re

from botocore import exceptions as bx

from lambdaops.errors import ConfigError, LambdaopsError, NotFoundError, ServiceError

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "LimitExceededException", "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "SlowDown", "ProvisionedThroughputExceededException",
})
_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_AUTH_CODES = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
    "SignatureDoesNotMatch", "AuthFailure", "IncompleteSignature", "MissingAuthenticationToken",
})
_NOT_FOUND_CODES = frozenset({
    "ResourceNotFoundException", "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
    "NotFoundException", "ResourceNotFound",
})


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, bx.ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def is_throttle(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def translate(exc: BaseException, *, profile: str | None = None, region: str | None = None) -> LambdaopsError:
    """Map any botocore exception to the error the user should read. Unknown ones keep their text."""
    where = f" in {region}" if region else ""
    prof = profile or "default"
    if isinstance(exc, LambdaopsError):
        return exc
    if isinstance(exc, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError)) or (
        isinstance(exc, bx.TokenRetrievalError)
    ):
        return ConfigError(f"the SSO session for profile {prof!r} has expired or is missing",
                           hint=f"run: aws sso login --profile {prof}")
    if isinstance(exc, bx.ProfileNotFound):
        return ConfigError(f"AWS profile {exc.kwargs.get('profile', prof)!r} is not in ~/.aws/config or ~/.aws/credentials")
    if isinstance(exc, bx.NoCredentialsError):
        return ConfigError("no AWS credentials found",
                           hint="set AWS_PROFILE or --profile, run aws configure / aws sso login, or try --demo")
    if isinstance(exc, bx.PartialCredentialsError):
        return ConfigError(f"incomplete AWS credentials: {exc}")
    if isinstance(exc, bx.NoRegionError):
        return ConfigError("no AWS region configured", hint="pass --region, set AWS_REGION, or set a region in the profile")
    if isinstance(exc, bx.CredentialRetrievalError):
        return ConfigError(f"could not get credentials for profile {prof!r}: {exc}")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        return ServiceError(f"cannot reach the AWS endpoint{where}: {getattr(exc, 'kwargs', {}).get('endpoint_url', exc)}",
                            region=region)
    if isinstance(exc, bx.ReadTimeoutError):
        return ServiceError(f"the AWS endpoint{where} did not answer in time", region=region)
    if isinstance(exc, bx.ParamValidationError):
        return LambdaopsError(f"invalid request parameters: {exc}", exit_code=255)
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code") or "Unknown"
        message = _not_html(err.get("Message") or str(exc),
                            exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        op = getattr(exc, "operation_name", None)
        if code in _EXPIRED_CODES:
            return ConfigError(f"the AWS credentials for profile {prof!r} have expired ({code})",
                               hint=f"refresh them, e.g. aws sso login --profile {prof}")
        if code in _AUTH_CODES:
            return ConfigError(f"AWS rejected the credentials{where} ({code}): {message}")
        if code in _NOT_FOUND_CODES:
            return NotFoundError(f"{message}{where}", code=code, operation=op, region=region)
        if code in THROTTLING_CODES:
            return ServiceError(f"AWS throttled {op or 'the request'}{where} and retries ran out ({code})",
                                code=code, operation=op, region=region)
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return ServiceError(f"access denied{where} for {op or 'the request'}: {message}",
                                code=code, operation=op, region=region)
        return ServiceError(f"{op or 'AWS'} failed{where} ({code}): {message}", code=code, operation=op, region=region)
    if isinstance(exc, bx.BotoCoreError):
        return LambdaopsError(f"AWS client error: {exc}")
    return LambdaopsError(f"{type(exc).__name__}: {exc}")


_HTML = re.compile(r"^\s*<(!doctype\s+html|html)\b", re.IGNORECASE)
_TITLE = re.compile(r"<title>\s*([^<]{1,120}?)\s*</title>", re.IGNORECASE)


def _not_html(message: str, status) -> str:
    """An endpoint that is not an AWS API (a web server, a proxy, the demo's router for a path it
    does not serve) answers with an HTML page, which botocore passes on as the message: the user gets
    its title and what that usually means, never the page."""
    if not _HTML.match(message):
        return message
    m = _TITLE.search(message)
    title = f" ({m.group(1)})" if m else ""
    return (f"the endpoint answered HTTP {status or '?'} with an HTML page{title}, not an AWS API response: "
            "check --endpoint-url / AWS_ENDPOINT_URL")


def call_translated(fn, *args, region: str | None = None, **kwargs):
    """Run ``fn``; any botocore failure comes out as the one-line LambdaopsError ``translate`` gives.

    For callers above the aws layer (the CLI) that must not import botocore themselves."""
    try:
        return fn(*args, **kwargs)
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise translate(exc, region=region) from exc
