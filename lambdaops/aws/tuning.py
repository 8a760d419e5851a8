"""Lambda (and SQS) calls for power tuning: the only code that talks to AWS for ``lambdaops tune``.

Each wrapper's docstring names the equivalent AWS CLI command. Control-plane calls share one token
bucket under Lambda's 15 requests/s account quota (GetFunction, used by the waiters, has its own
100/s quota and is not counted against it). Invoke gets its own client: no automatic retries (a
retried invoke runs the function again) and a read timeout longer than the function's timeout.

Markers the run leaves so a hard-killed run can be cleaned later (``lambdaops tune --cleanup``):
- function tags ``lambdaops:tune-run`` (run id) and ``lambdaops:tune-restore``
  (``memory=512 arch=x86_64``), set before anything is changed and removed last;
- aliases named ``lambdaops-tune-<runid>-<mb>[-<arch>]``;
- versions whose description starts with ``lambdaops-tune <runid>``;
- in ``--cold-only`` runs, the environment variable ``LAMBDAOPS_TUNE_NONCE`` on $LATEST.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from botocore import exceptions as bx

from lambdaops.aws.errors import error_code, translate
from lambdaops.aws.queues import queue_url_from_arn
from lambdaops.aws.ratelimit import RateLimiter
from lambdaops.errors import LambdaopsError, NotFoundError, ServiceError, UsageError
from lambdaops.report_line import Report, parse_report

TAG_RUN = "lambdaops:tune-run"
TAG_RESTORE = "lambdaops:tune-restore"
NONCE_VAR = "LAMBDAOPS_TUNE_NONCE"
ALIAS_PREFIX = "lambdaops-tune-"
VERSION_PREFIX = "lambdaops-tune "
# Lambda's control plane allows 15 requests/s per account and region for all of these together.
# A token bucket lets through (burst + rate) in any one second: 5 + 8 = 13 leaves room for others.
CONTROL_PLANE_RPS = 8.0
CONTROL_PLANE_BURST = 5
MAX_DIRECT_ZIP_BYTES = 50 * 1024 * 1024  # larger packages must go through S3
INVOKE_THROTTLE_RETRIES = 5


class FunctionBusyError(ServiceError):
    """The function is mid-update: tuning would collide with it (ResourceConflictException)."""


class ProvisionedLatestError(ServiceError):
    """Provisioned concurrency on $LATEST: changing its memory would disturb it."""


class LeftoversError(ServiceError):
    """A previous run's markers are still on the function."""


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    region: str
    memory_mb: int
    architecture: str
    runtime: str | None
    timeout_s: int
    package_type: str
    state: str
    last_update_status: str
    environment: dict[str, str] | None
    code_size: int
    code_location: str | None
    image_uri: str | None

    @classmethod
    def from_get_function(cls, doc: dict, region: str) -> "FunctionConfig":
        cfg, code = doc.get("Configuration", {}), doc.get("Code", {}) or {}
        env = (cfg.get("Environment") or {}).get("Variables")
        return cls(name=cfg["FunctionName"], arn=cfg["FunctionArn"].split(":$LATEST")[0], region=region,
                   memory_mb=int(cfg.get("MemorySize", 128)), architecture=(cfg.get("Architectures") or ["x86_64"])[0],
                   runtime=cfg.get("Runtime"), timeout_s=int(cfg.get("Timeout", 3)),
                   package_type=cfg.get("PackageType", "Zip"), state=cfg.get("State", "Active"),
                   last_update_status=cfg.get("LastUpdateStatus", "Successful"),
                   environment=dict(env) if env is not None else None, code_size=int(cfg.get("CodeSize") or 0),
                   code_location=code.get("Location"), image_uri=code.get("ImageUri"))


@dataclass(frozen=True)
class CodePackage:
    """What UpdateFunctionCode needs to put the same code back (to change the architecture)."""

    zip_bytes: bytes | None = None
    image_uri: str | None = None


@dataclass(frozen=True)
class Published:
    version: str
    ours: bool  # False when Lambda returned an existing version (nothing changed since it): never delete it


@dataclass
class InvokeResult:
    report: Report | None
    function_error: str | None  # Unhandled | Handled
    error_type: str | None  # Runtime.OutOfMemory, Sandbox.Timedout, the function's errorType...
    executed_version: str | None

    @property
    def status(self) -> str:
        """success | error | timeout | noreport"""
        if self.report is not None and self.report.status == "timeout":
            return "timeout"
        if self.function_error or (self.report is not None and self.report.status == "error"):
            return "error"
        return "success" if self.report is not None else "noreport"


@dataclass(frozen=True)
class Leftovers:
    run_ids: set[str]
    restore: dict[str, str]  # from the tag: memory, arch
    aliases: list[str]
    versions: list[str]  # versions with a run description
    nonce_set: bool

    @property
    def empty(self) -> bool:
        return not (self.run_ids or self.aliases or self.versions or self.nonce_set)


def parse_restore_tag(value: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in value.split() if "=" in part)


def format_restore_tag(memory_mb: int, architecture: str) -> str:
    return f"memory={memory_mb} arch={architecture}"  # tag values allow letters, digits, space and _.:/=+-@


def parse_log_tail(log_result_b64: str | None) -> Report | None:
    """The last REPORT (text line or JSON ``platform.report``) of an Invoke's LogResult."""
    if not log_result_b64:
        return None
    text = base64.b64decode(log_result_b64).decode("utf-8", "replace")
    found = None
    for line in text.splitlines():
        rep = parse_report(line)
        if rep is not None:
            found = rep
    return found


class TuningApi:
    """Lambda calls for one function's region. ``client``/``sqs`` may be injected (tests)."""

    def __init__(self, ctx: Any, region: str, *, client: Any = None, sqs: Any = None,
                 limiter: RateLimiter | None = None, waiter_delay_s: int = 1, sleep: Callable = time.sleep) -> None:
        self.ctx = ctx
        self.region = region
        self._client = client
        self._sqs = sqs
        self._invoke_client = client
        self.limiter = limiter or RateLimiter(CONTROL_PLANE_RPS, burst=CONTROL_PLANE_BURST)
        self.waiter_delay_s = waiter_delay_s
        self.sleep = sleep

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def lam(self) -> Any:
        if self._client is None:
            self._client = self.ctx.client("lambda", self.region)
        return self._client

    def _translate(self, exc: BaseException) -> LambdaopsError:
        return translate(exc, profile=getattr(self.ctx, "profile", None), region=self.region)

    def _call(self, op: str, *, control: bool = True, **params: Any) -> dict:
        if control:
            self.limiter.acquire()
        try:
            return getattr(self.lam, op)(**params)
        except (bx.ClientError, bx.BotoCoreError) as exc:
            raise self._translate(exc) from exc

    def _pages(self, op: str, key: str, **params: Any) -> Iterator[dict]:
        marker = None
        while True:
            page = self._call(op, **params, **({"Marker": marker} if marker else {}))
            yield from page.get(key, [])
            marker = page.get("NextMarker")
            if not marker:
                return

    def _invoker(self, timeout_s: int) -> Any:
        """A Lambda client for Invoke: one attempt, and a read timeout past the function's timeout."""
        if self._invoke_client is None:
            try:
                self._invoke_client = self.ctx.client("lambda", self.region, read_timeout=max(60, timeout_s + 30),
                                                      max_attempts=1)
            except TypeError:  # a test double without the options: use its client as is
                self._invoke_client = self.lam
        return self._invoke_client

    # -- reading -------------------------------------------------------------------------------
    def get_config(self, name: str) -> FunctionConfig:
        """``aws lambda get-function --function-name NAME``"""
        doc = self._call("get_function", control=False, FunctionName=name)
        return FunctionConfig.from_get_function(doc, self.region)

    def ensure_tunable(self, cfg: FunctionConfig) -> None:
        """Refuse functions a tuning run would collide with."""
        if cfg.last_update_status == "InProgress" or cfg.state == "Pending":
            raise FunctionBusyError(f"{cfg.name} is being updated (LastUpdateStatus {cfg.last_update_status}, "
                                    f"State {cfg.state}); try again when the update has finished",
                                    code="ResourceConflictException", region=self.region)
        if self.provisioned_on_latest(cfg.name):
            raise ProvisionedLatestError(f"{cfg.name} has provisioned concurrency on $LATEST; tuning changes "
                                         "$LATEST's memory and would disturb it", region=self.region)

    def provisioned_on_latest(self, name: str) -> bool:
        """``aws lambda get-provisioned-concurrency-config --function-name NAME --qualifier '$LATEST'``"""
        try:
            self._call("get_provisioned_concurrency_config", FunctionName=name, Qualifier="$LATEST")
        except ServiceError as err:
            # Not found (or $LATEST refused as a qualifier, as AWS does for provisioned concurrency): none.
            if err.code in ("ProvisionedConcurrencyConfigNotFoundException", "InvalidParameterValueException",
                            "ResourceNotFoundException", "AccessDeniedException", "AccessDenied"):
                return False
            raise
        return True

    def list_tags(self, arn: str) -> dict[str, str]:
        """``aws lambda list-tags --resource ARN``"""
        return dict(self._call("list_tags", Resource=arn).get("Tags") or {})

    def list_aliases(self, name: str) -> list[dict]:
        """``aws lambda list-aliases --function-name NAME``"""
        return list(self._pages("list_aliases", "Aliases", FunctionName=name))

    def list_versions(self, name: str) -> list[dict]:
        """``aws lambda list-versions-by-function --function-name NAME``"""
        return [v for v in self._pages("list_versions_by_function", "Versions", FunctionName=name)
                if v.get("Version") != "$LATEST"]

    def find_leftovers(self, cfg: FunctionConfig) -> Leftovers:
        tags = self.list_tags(cfg.arn)
        aliases = [a["Name"] for a in self.list_aliases(cfg.name) if a["Name"].startswith(ALIAS_PREFIX)]
        versions = [v["Version"] for v in self.list_versions(cfg.name)
                    if (v.get("Description") or "").startswith(VERSION_PREFIX)]
        run_ids = {tags[TAG_RUN]} if TAG_RUN in tags else set()
        return Leftovers(run_ids=run_ids, restore=parse_restore_tag(tags.get(TAG_RESTORE, "")), aliases=aliases,
                         versions=versions, nonce_set=NONCE_VAR in (cfg.environment or {}))

    def download_code(self, cfg: FunctionConfig) -> CodePackage:
        """The function's code package, to re-upload it with another architecture (GetFunction's
        presigned ``Code.Location``; container images are referenced by URI)."""
        if cfg.package_type == "Image":
            if not cfg.image_uri:
                raise ServiceError(f"GetFunction returned no ImageUri for {cfg.name}", region=self.region)
            return CodePackage(image_uri=cfg.image_uri)
        if cfg.code_size > MAX_DIRECT_ZIP_BYTES:
            raise UsageError(f"{cfg.name}'s code package is {cfg.code_size // 2**20} MB; switching the "
                             "architecture needs a direct upload (at most 50 MB)")
        if not cfg.code_location or not cfg.code_location.startswith(("https://", "http://")):
            raise ServiceError(f"GetFunction returned no code location for {cfg.name}", region=self.region)
        try:
            with urllib.request.urlopen(cfg.code_location, timeout=60) as resp:  # noqa: S310 - AWS's presigned URL
                return CodePackage(zip_bytes=resp.read())
        except OSError as exc:
            raise ServiceError(f"could not download {cfg.name}'s code package: {exc}", region=self.region) from exc

    # -- changing ------------------------------------------------------------------------------
    def wait_updated(self, name: str) -> None:
        """``aws lambda wait function-updated-v2 --function-name NAME``"""
        try:
            self.lam.get_waiter("function_updated_v2").wait(
                FunctionName=name, WaiterConfig={"Delay": self.waiter_delay_s, "MaxAttempts": 300})
        except bx.WaiterError as exc:
            cfg = (exc.last_response or {}).get("Configuration", {})
            why = cfg.get("LastUpdateStatusReason") or exc.kwargs.get("reason") or str(exc)
            raise ServiceError(f"the update of {name} did not finish: {why}", region=self.region) from exc
        except (bx.ClientError, bx.BotoCoreError) as exc:
            raise self._translate(exc) from exc

    def update_config(self, name: str, *, memory_mb: int | None = None,
                      environment: dict[str, str] | None = None) -> None:
        """``aws lambda update-function-configuration --function-name NAME --memory-size MB
        [--environment Variables={...}]`` then ``aws lambda wait function-updated-v2``."""
        params: dict[str, Any] = {"FunctionName": name}
        if memory_mb is not None:
            params["MemorySize"] = int(memory_mb)
        if environment is not None:
            params["Environment"] = {"Variables": dict(environment)}
        try:
            self._call("update_function_configuration", **params)
        except ServiceError as err:
            if err.code != "ResourceConflictException":
                raise
            self.wait_updated(name)  # an update was still running: wait for it, then try once more
            self._call("update_function_configuration", **params)
        self.wait_updated(name)

    def set_architecture(self, name: str, architecture: str, code: CodePackage) -> None:
        """``aws lambda update-function-code --function-name NAME --architectures ARCH --zip-file fileb://...``
        (or ``--image-uri``) then ``aws lambda wait function-updated-v2``."""
        params: dict[str, Any] = {"FunctionName": name, "Architectures": [architecture]}
        if code.image_uri:
            params["ImageUri"] = code.image_uri
        else:
            params["ZipFile"] = code.zip_bytes
        self._call("update_function_code", **params)
        self.wait_updated(name)

    def publish_version(self, name: str, description: str) -> Published:
        """``aws lambda publish-version --function-name NAME --description DESC`` (then
        ``aws lambda wait published-version-active`` while a SnapStart snapshot is being made)."""
        doc = self._call("publish_version", FunctionName=name, Description=description)
        version = str(doc["Version"])
        if doc.get("State", "Active") != "Active":
            try:
                self.lam.get_waiter("published_version_active").wait(
                    FunctionName=name, Qualifier=version,
                    WaiterConfig={"Delay": max(1, self.waiter_delay_s), "MaxAttempts": 300})
            except bx.WaiterError as exc:
                raise ServiceError(f"version {version} of {name} did not become active: {exc}",
                                   region=self.region) from exc
        return Published(version, ours=(doc.get("Description") or "") == description)

    def create_alias(self, name: str, alias: str, version: str, description: str) -> None:
        """``aws lambda create-alias --function-name NAME --name ALIAS --function-version V``"""
        self._call("create_alias", FunctionName=name, Name=alias, FunctionVersion=version, Description=description)

    def update_alias(self, name: str, alias: str, version: str) -> None:
        """``aws lambda update-alias --function-name NAME --name ALIAS --function-version V``"""
        self._call("update_alias", FunctionName=name, Name=alias, FunctionVersion=version)

    def delete_alias(self, name: str, alias: str) -> None:
        """``aws lambda delete-alias --function-name NAME --name ALIAS`` (gone already is fine)"""
        try:
            self._call("delete_alias", FunctionName=name, Name=alias)
        except NotFoundError:
            pass

    def delete_version(self, name: str, version: str) -> None:
        """``aws lambda delete-function --function-name NAME --qualifier V`` (gone already is fine)"""
        if not re.fullmatch(r"\d+", str(version)):
            raise ValueError(f"refusing to delete qualifier {version!r}: only numbered versions")
        try:
            self._call("delete_function", FunctionName=name, Qualifier=str(version))
        except NotFoundError:
            pass

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        """``aws lambda tag-resource --resource ARN --tags K=V``"""
        self._call("tag_resource", Resource=arn, Tags=tags)

    def untag(self, arn: str, keys: list[str]) -> None:
        """``aws lambda untag-resource --resource ARN --tag-keys K``"""
        self._call("untag_resource", Resource=arn, TagKeys=keys)

    # -- invoking ------------------------------------------------------------------------------
    def invoke(self, name: str, qualifier: str, payload: bytes, *, timeout_s: int = 900) -> InvokeResult:
        """``aws lambda invoke --function-name NAME --qualifier Q --log-type Tail --payload ...``;
        throttled invokes (the function never ran) are retried with backoff."""
        cli = self._invoker(timeout_s)
        for attempt in range(INVOKE_THROTTLE_RETRIES + 1):
            try:
                resp = cli.invoke(FunctionName=name, Qualifier=qualifier, InvocationType="RequestResponse",
                                  LogType="Tail", Payload=payload)
                break
            except bx.ClientError as exc:
                if error_code(exc) in ("TooManyRequestsException", "ThrottlingException") and \
                        attempt < INVOKE_THROTTLE_RETRIES:
                    self.sleep(min(5.0, 0.2 * 2 ** attempt))
                    continue
                raise self._translate(exc) from exc
            except bx.BotoCoreError as exc:
                raise self._translate(exc) from exc
        body = resp["Payload"].read() if resp.get("Payload") is not None else b""
        report = parse_log_tail(resp.get("LogResult"))
        function_error = resp.get("FunctionError")
        error_type = report.error_type if report is not None else None
        if report is not None and report.status == "timeout":
            error_type = error_type or "Sandbox.Timedout"
        if function_error and not error_type:
            try:
                error_type = json.loads(body or b"{}").get("errorType")
            except (ValueError, AttributeError):
                error_type = None
            error_type = error_type or f"Function.{function_error}"
        return InvokeResult(report=report, function_error=function_error, error_type=error_type,
                            executed_version=resp.get("ExecutedVersion"))

    # -- payloads from a dead-letter queue -----------------------------------------------------------
    def sample_dlq_messages(self, queue: str, limit: int = 10, *, visibility_s: int = 20) -> list[dict]:
        """Events from a DLQ without consuming them: ``aws sqs receive-message --visibility-timeout S``,
        then ``aws sqs change-message-visibility-batch`` back to 0. SQS has no true peek: each receive
        raises the message's receive count. Returns up to ``limit`` messages (decoded by the caller)."""
        sqs = self._sqs or self.ctx.client("sqs", self.region)
        try:
            if queue.startswith("arn:aws:sqs:"):
                url = queue_url_from_arn(queue)
            elif queue.startswith(("https://", "http://")):
                url = queue
            else:
                url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            seen: dict[str, dict] = {}
            for _ in range(3):  # short polling samples a subset of servers: a few tries fill the sample
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit), WaitTimeSeconds=0,
                                          VisibilityTimeout=visibility_s).get("Messages", [])
                for m in got:
                    seen.setdefault(m["MessageId"], m)
                if len(seen) >= limit or not got:
                    break
            handles = [m["ReceiptHandle"] for m in seen.values()]
            for i in range(0, len(handles), 10):
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                    {"Id": str(j), "ReceiptHandle": h, "VisibilityTimeout": 0}
                    for j, h in enumerate(handles[i:i + 10])])
        except (bx.ClientError, bx.BotoCoreError) as exc:
            raise self._translate(exc) from exc
        return list(seen.values())[:limit]
