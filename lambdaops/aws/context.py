"""One place that turns profile, regions and endpoint into boto3 clients.

- Region order: ``--region`` / lambdaops settings, then ``AWS_REGION``, ``AWS_DEFAULT_REGION``
  (resolved by :mod:`lambdaops.config`), then the profile's region from ``~/.aws/config``.
- Endpoint: ``--endpoint-url``; otherwise botocore applies ``AWS_ENDPOINT_URL_<SERVICE>`` /
  ``AWS_ENDPOINT_URL`` itself.
- Clients use the ``standard`` retry mode explicitly (botocore's default is still ``legacy``), bounded
  timeouts, and are cached per (service, region). boto3 clients are thread-safe, Sessions are not, so
  clients are built under a lock and then shared by worker threads.
- Every API request is counted per operation, each retried attempt too (the count is part of every
  result: the tool watches accounts that pay per request), retries also apart; with ``debug`` each
  call is logged to stderr with its latency.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
import botocore.config
from botocore import exceptions as bx

from lambdaops import __version__
from lambdaops.aws.errors import translate
from lambdaops.errors import ConfigError


@dataclass
class CallCounter:
    """Thread-safe count of API requests per ``service.Operation``: every HTTP attempt, botocore's
    retries included (an account pays for, and is throttled on, each attempt), and apart from it how
    many of those attempts were retries."""

    counts: Counter = field(default_factory=Counter)
    retry_counts: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, key: str, n: int = 1, *, retry: bool = False) -> None:
        with self._lock:
            self.counts[key] += n
            if retry:
                self.retry_counts[key] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.counts.items()))

    def retries(self) -> dict[str, int]:
        """Per operation, how many of the counted attempts were retries (0s left out)."""
        with self._lock:
            return {k: v for k, v in sorted(self.retry_counts.items()) if v}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())


@dataclass
class StaticCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def available_profiles() -> list[str]:
    """The profiles of ``~/.aws/config`` and ``~/.aws/credentials`` (``aws configure list-profiles``);
    reads files only, no call."""
    try:
        return sorted(boto3.Session().available_profiles)
    except bx.BotoCoreError:
        return []


class AwsContext:
    """Resolved AWS settings plus a client factory shared by every command and the TUI."""

    def __init__(self, *, profile: str | None = None, regions: list[str] | None = None,
                 endpoint_url: str | None = None, credentials: StaticCredentials | None = None,
                 debug: bool = False, max_attempts: int = 5, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0, max_pool: int = 20,
                 debug_sink: Callable[[str], None] | None = None) -> None:
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.debug = debug
        self.calls = CallCounter()
        self._debug_sink = debug_sink or (lambda line: print(line, file=sys.stderr))
        self._lock = threading.Lock()
        self._clients: dict[tuple, Any] = {}
        self._config = botocore.config.Config(
            # total_max_attempts counts the first attempt; the older ``max_attempts`` key counts
            # retries only (botocore "Config Reference", retries), which gave one attempt more
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool,
            user_agent_extra=f"lambdaops/{__version__}",
        )
        try:
            if credentials is not None:
                self._session = boto3.Session(
                    aws_access_key_id=credentials.access_key_id,
                    aws_secret_access_key=credentials.secret_access_key,
                    aws_session_token=credentials.session_token,
                )
            else:
                self._session = boto3.Session(profile_name=profile)
        except bx.BotoCoreError as exc:
            raise translate(exc, profile=profile) from exc
        self.regions = list(regions or [])
        if not self.regions and self._session.region_name:
            self.regions = [self._session.region_name]

    # -- resolution -------------------------------------------------------------------------
    def require_regions(self) -> list[str]:
        if not self.regions:
            raise ConfigError("no AWS region configured",
                              hint="pass --region (repeatable or comma-separated), set AWS_REGION, or set one in the profile")
        return self.regions

    def check_credentials(self) -> None:
        """Fail early, with the right one-line message, when there are no usable credentials."""
        try:
            creds = self._session.get_credentials()
            if creds is None:
                raise bx.NoCredentialsError()
            creds.get_frozen_credentials()  # SSO and assume-role resolve lazily: force it here
        except bx.BotoCoreError as exc:
            raise translate(exc, profile=self.profile) from exc

    def credentials_tag(self) -> str:
        """A short hash of the access key id in use ("" without credentials): what a local cache
        of account data is keyed by, so that other credentials under the same profile name (another
        account) are never served it. The key id itself is never written anywhere."""
        try:
            creds = self._session.get_credentials()
            key = creds.get_frozen_credentials().access_key if creds is not None else ""
        except bx.BotoCoreError:
            key = ""
        return hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""

    # -- clients ------------------------------------------------------------------------------
    def client(self, service: str, region: str, *, read_timeout: float | None = None,
               max_attempts: int | None = None) -> Any:
        """A cached, counted client. ``read_timeout`` / ``max_attempts`` give a separately configured
        one, e.g. for Invoke: one attempt (a retried invoke runs the function again) and a read
        timeout longer than the function's own timeout."""
        key = (service, region, read_timeout, max_attempts)
        with self._lock:
            cli = self._clients.get(key)
            if cli is None:
                config = self._config
                if read_timeout is not None or max_attempts is not None:
                    extra: dict[str, Any] = {}
                    if read_timeout is not None:
                        extra["read_timeout"] = read_timeout
                    if max_attempts is not None:
                        extra["retries"] = {"mode": "standard", "total_max_attempts": max_attempts}
                    config = config.merge(botocore.config.Config(**extra))
                try:
                    cli = self._session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                               config=config)
                except bx.BotoCoreError as exc:
                    raise translate(exc, profile=self.profile, region=region) from exc
                self._instrument(cli, service, region)
                self._clients[key] = cli
        return cli

    def _instrument(self, cli: Any, service: str, region: str) -> None:
        """Count every attempt: ``response-received`` is emitted once per HTTP attempt, retries
        included, with the call's context, whose ``retries.attempt`` is 1 for the first one
        (botocore endpoint.py ``_send_request``). A call answered without HTTP (a before-call
        handler, e.g. botocore's Stubber) counts as one attempt when it ends."""
        events = cli.meta.events

        def before_call(model, params, request_signer=None, context=None, **_kw):
            if context is not None:
                context["lambdaops_attempts"] = 0
                if self.debug:
                    context["lambdaops_t0"] = time.perf_counter()

        def attempt(context=None, event_name="", **_kw):
            op = event_name.rsplit(".", 1)[-1]
            number = 1
            if context is not None:
                context["lambdaops_attempts"] = context.get("lambdaops_attempts", 0) + 1
                number = (context.get("retries") or {}).get("attempt", context["lambdaops_attempts"])
            self.calls.add(f"{service}.{op}", retry=number > 1)

        def ended(op: str, context=None):
            if context is not None and context.get("lambdaops_attempts", 0) == 0:
                self.calls.add(f"{service}.{op}")

        def after_call(http_response, parsed, model, context=None, **_kw):
            ended(model.name, context)
            if self.debug:
                t0 = (context or {}).get("lambdaops_t0")
                ms = (time.perf_counter() - t0) * 1000 if t0 else 0.0
                status = getattr(http_response, "status_code", "?")
                retries = ((parsed or {}).get("ResponseMetadata") or {}).get("RetryAttempts") or 0
                again = f" after {retries} retries" if retries else ""
                self._debug_sink(f"[debug] {service}.{model.name} {region} -> {status} in {ms:.0f} ms{again}")

        def after_call_error(context=None, event_name="", **_kw):
            ended(event_name.rsplit(".", 1)[-1], context)

        events.register("before-call", before_call)
        events.register("response-received", attempt)
        events.register("after-call", after_call)
        events.register("after-call-error", after_call_error)

    def call(self, service: str, region: str, operation: str, **params: Any) -> dict:
        """``client.operation(**params)`` with botocore errors translated to one-line errors."""
        cli = self.client(service, region)
        try:
            return getattr(cli, operation)(**params)
        except bx.ClientError as exc:
            raise translate(exc, profile=self.profile, region=region) from exc
        except bx.BotoCoreError as exc:
            raise translate(exc, profile=self.profile, region=region) from exc

    def account_id(self, region: str | None = None) -> str | None:
        """``aws sts get-caller-identity``; None when it cannot be had (shown as unknown)."""
        region = region or (self.regions[0] if self.regions else "us-east-1")
        try:
            return self.client("sts", region).get_caller_identity().get("Account")
        except (bx.BotoCoreError, bx.ClientError):
            return None
