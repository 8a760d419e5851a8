"""Invoke for the demo account: durations from the memory model, cold starts, REPORT lines, errors.

moto's no-Docker Invoke echoes the payload and ignores ``Qualifier=``; power tuning needs what AWS
does instead: the version that ran, a log tail with a REPORT line whose numbers depend on the memory
of *that* version, cold starts per execution environment, out-of-memory deaths and timeouts.

- Resolution: ``name``, ``name:qualifier`` or an ARN, plus ``Qualifier=``; aliases resolve to their
  version. Each published version keeps the memory it was published with (moto copies $LATEST).
- Durations: ``memory_model`` for the function's spec in the fleet (a small default model for
  functions a client created), with lognormal noise seeded by the account seed and a per-function
  invocation counter, so a serial sequence of invokes gives the same numbers every run.
- Execution environments: a pool per (function, version, configuration). An invoke takes an idle
  environment that was used in the last 5 minutes (warm) or starts a new one (cold). Synchronous
  invokes hold their environment for a scaled-down share of the simulated duration, so concurrent
  invokes need (and cold-start) several environments, as on AWS, while serial ones reuse one.
- Every invoke (not DryRun) is recorded in ``account.state``, so metrics, logs and traces see it.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.fleet import ACCOUNT_ID, FunctionSpec
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway
from lambdaops.demo.lambda_config import function_name
from lambdaops.demo.log_lines import json_report, legacy_oom_line, legacy_timeout_line, text_report
from lambdaops.demo.memory_model import expected_duration_ms, init_scale
from lambdaops.demo.traffic import OK, OOM, TIMEOUT, billed_duration_ms, billed_restore_ms, format_request_id

IDLE_RECLAIM_S = 300.0  # an environment idle longer than this is gone: the next invoke is cold
CPU_SIGMA = 0.08
IO_SIGMA = 0.15
INIT_SIGMA = 0.18
RESTORE_SIGMA = 0.25
TAIL_BYTES = 4096  # LogResult carries the last 4 KB of the log
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # (check: 256 KB before 2025)
# A synchronous invoke keeps its environment busy for duration x HOLD_SCALE of real time (at most
# HOLD_CAP_S): long enough for concurrent callers to need their own environments, short enough
# that tests and benchmarks do not wait for simulated seconds.
HOLD_SCALE = 0.01
HOLD_CAP_S = 0.02

# For functions not in the demo fleet (created by a client): a small, mostly I/O-bound handler.
DEFAULT_MODEL = FunctionSpec(name="", region="", runtime="python3.12", cpu_ms=20.0, parallel=0.0, io_ms=30.0,
                             working_set_mb=60, init_ms=200.0)


@dataclass(frozen=True)
class Target:
    """The function version an invoke runs."""

    region: str
    name: str
    version: str  # "$LATEST" or "3"
    memory_mb: int
    timeout_s: float
    runtime: str
    env_key: tuple  # execution environments are shared only within the same version and configuration
    model: FunctionSpec
    log_format: str  # Text | JSON
    snapstart: bool  # SnapStart applies: a published version of a function with ApplyOn=PublishedVersions

    @property
    def version_number(self) -> int:
        return 0 if self.version == "$LATEST" else int(self.version)


@dataclass
class Outcome:
    hi: int
    lo: int
    start_ms: int
    duration_ms: float
    billed_ms: int
    init_ms: float | None  # Init Duration, or the Restore Duration for SnapStart
    max_mem_mb: int
    status: int  # traffic.OK | TIMEOUT | OOM

    @property
    def request_id(self) -> str:
        return format_request_id(self.hi, self.lo)


@dataclass
class _Env:
    last_used: float
    busy: bool = True


@dataclass
class EnvironmentPool:
    """Warm execution environments per target; thread-safe."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pools: dict[tuple, list[_Env]] = field(default_factory=dict)

    def acquire(self, key: tuple, now: float) -> tuple[_Env, bool]:
        """An environment for an invoke at ``now`` and whether it had to be started (cold)."""
        with self.lock:
            envs = [e for e in self.pools.get(key, []) if e.busy or now - e.last_used <= IDLE_RECLAIM_S]
            self.pools[key] = envs
            for env in envs:
                if not env.busy:
                    env.busy = True
                    return env, False
            env = _Env(last_used=now)
            envs.append(env)
            return env, True

    def release(self, env: _Env, now: float) -> None:
        with self.lock:
            env.busy = False
            env.last_used = now


class InvokeSimulator:
    def __init__(self, account, clock=time.time) -> None:
        self.account = account
        self.clock = clock  # wall clock (seconds); tests move it to cross the idle limit
        self.specs = {(f.region, f.name): f for f in account.fleet}
        self.envs = EnvironmentPool()
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, str], int] = {}

    # -- resolution ------------------------------------------------------------------------------
    def resolve(self, region: str, ref: str, qualifier: str | None) -> Target:
        from moto.awslambda.exceptions import LambdaClientError
        from moto.awslambda.utils import get_backend

        name, derived = function_name(ref)
        if derived and qualifier and derived != qualifier:
            raise DemoApiError("InvalidParameterValueException",
                               "The derived qualifier from the function name does not match the specified qualifier.")
        qualifier = derived or qualifier
        arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}" + (f":{qualifier}" if qualifier else "")
        # get_backend picks the no-Docker backend the demo configures (lambda_simple_backends).
        backend = get_backend(ACCOUNT_ID, region)
        try:
            fn = backend.get_function(name, qualifier)
        except (LambdaClientError, KeyError):
            raise DemoApiError("ResourceNotFoundException", f"Function not found: {arn}", 404) from None
        if fn is None:
            raise DemoApiError("ResourceNotFoundException", f"Function not found: {arn}", 404)
        version = str(fn.version)
        version = "$LATEST" if version.upper() == "$LATEST" else version
        extra = self.account.overlay.get(region, name)
        spec = self.specs.get((region, name), DEFAULT_MODEL)
        log_format = (extra.get("LoggingConfig") or {}).get("LogFormat") or spec.log_format or "Text"
        snap_cfg = extra.get("SnapStart")
        snap_on = (snap_cfg or {}).get("ApplyOn") == "PublishedVersions" if snap_cfg is not None else spec.snapstart
        arch = (fn.architectures or ["x86_64"])[0]
        # Environments belong to one version and configuration: a change to $LATEST recycles them.
        # LastModified tells published versions apart too (moto reuses a deleted version's number).
        env_key = (region, name, version, fn.last_modified, fn.memory_size, arch, fn.timeout, fn.code_sha_256,
                   tuple(sorted((fn.environment_vars or {}).items())))
        return Target(region=region, name=name, version=version, memory_mb=int(fn.memory_size),
                      timeout_s=float(fn.timeout), runtime=fn.run_time or spec.runtime, env_key=env_key,
                      model=spec, log_format=log_format, snapstart=bool(snap_on) and version != "$LATEST")

    # -- the model ---------------------------------------------------------------------------------
    def _rng(self, t: Target) -> np.random.Generator:
        with self._lock:
            n = self._counters.get((t.region, t.name), 0)
            self._counters[(t.region, t.name)] = n + 1
        salt = zlib.crc32(f"{t.region}/{t.name}".encode())
        return np.random.default_rng([self.account.seed, salt, n])

    def simulate(self, t: Target, cold: bool, now_s: float) -> Outcome:
        m = t.model
        rng = self._rng(t)
        cpu = expected_duration_ms(m.cpu_ms, m.parallel, 0.0, t.memory_mb) * rng.lognormal(0.0, CPU_SIGMA)
        io = m.io_ms * rng.lognormal(0.0, IO_SIGMA)
        duration = cpu + io
        used = int(round(m.working_set_mb * rng.uniform(0.9, 1.0)))
        status = OK
        if t.memory_mb < m.working_set_mb:
            status, used = OOM, t.memory_mb
            duration *= rng.uniform(0.2, 0.6)  # dies while its working set grows
        elif duration >= t.timeout_s * 1000.0:
            status, duration = TIMEOUT, t.timeout_s * 1000.0
        duration = round(duration, 2)
        init = None
        if cold:
            if t.snapstart:
                init = round(m.init_ms * rng.lognormal(0.0, RESTORE_SIGMA), 2)
            else:
                init = round(m.init_ms * init_scale(t.memory_mb) * rng.lognormal(0.0, INIT_SIGMA), 2)
        hi, lo = (int(x) for x in rng.integers(0, 2**63, size=2))
        # The line's Billed Duration by Lambda's rules (traffic.billed_duration_ms): INIT inside since
        # 2025-08-01 unless the function's lines leave it out; a SnapStart restore's billed part inside.
        model = replace(m, snapstart=t.snapstart)
        billed = int(billed_duration_ms(model, np.array([duration]), np.array([np.nan if init is None else init]),
                                        np.array([lo], dtype=np.uint64))[0])
        return Outcome(hi=hi, lo=lo, start_ms=int(now_s * 1000), duration_ms=duration, billed_ms=billed,
                       init_ms=init, max_mem_mb=min(used, t.memory_mb), status=status)

    # -- the API ---------------------------------------------------------------------------------
    def handle(self, req: DemoRequest) -> DemoResponse:
        invocation_type = req.headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise DemoApiError("InvalidParameterValueException", f"Unsupported InvocationType: {invocation_type}")
        target = self.resolve(req.region, req.path_params.get("FunctionName", ""), req.param("Qualifier"))
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(req.body) > limit:
            raise DemoApiError("RequestTooLargeException",
                               f"{len(req.body)} byte payload is too large for the {invocation_type} invocation type "
                               f"(limit {limit} bytes)", 413)
        try:
            event = json.loads(req.body) if req.body else {}
        except ValueError:
            raise DemoApiError("InvalidRequestContentException", "Could not parse request body into json: "
                               "Unexpected character", 400) from None
        headers = {"X-Amz-Executed-Version": target.version}
        if invocation_type == "DryRun":
            return DemoResponse(204, b"", headers)

        env, cold = self.envs.acquire(target.env_key, self.clock())
        try:
            out = self.simulate(target, cold, self.clock())
            if invocation_type == "RequestResponse":
                time.sleep(min(HOLD_CAP_S, out.duration_ms * HOLD_SCALE / 1000.0))
        finally:
            self.envs.release(env, self.clock())
        self._record(target, out)
        if invocation_type == "Event":
            return DemoResponse(202, b"", headers)

        body: dict
        if out.status == OK:
            body = {"statusCode": 200, "body": json.dumps(event)}
        else:
            headers["X-Amz-Function-Error"] = "Unhandled"
            body = _error_payload(target, out)
        if req.headers.get("x-amz-log-type") == "Tail":
            tail = render_log_tail(target, out).encode()[-TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return DemoResponse.json("lambda", body, 200, headers)

    def _record(self, t: Target, out: Outcome) -> None:
        self._ensure_log_group(t)
        state = self.account.state
        if state is None:
            return
        state.record_invocation(t.region, t.name, ts_ms=out.start_ms, duration_ms=out.duration_ms,
                                billed_ms=out.billed_ms, init_ms=out.init_ms, max_mem_mb=out.max_mem_mb,
                                status=out.status, memory_mb=t.memory_mb, request_id_bits=(out.hi, out.lo),
                                version=t.version_number)


    def _ensure_log_group(self, t: Target) -> None:
        """The function's log group exists once it has run: "CloudWatch automatically creates a log group
        named /aws/lambda/<function name> for your function when it's first invoked" (and a missing custom
        group likewise; "Configuring CloudWatch log groups", AWS Lambda Developer Guide)."""
        from moto.logs.models import logs_backends

        cfg = self.account.overlay.get(t.region, t.name).get("LoggingConfig") or {}
        group = cfg.get("LogGroup") or f"/aws/lambda/{t.name}"
        with self._lock:  # concurrent first invokes must not replace each other's new group
            logs_backends[ACCOUNT_ID][t.region].ensure_log_group(group)


# ------------------------------------------------------------------------------------------------
# what the function returns and logs


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _timeout_message(t: Target, out: Outcome) -> str:
    end = out.start_ms + int(out.duration_ms)
    return f"{_iso(end)} {out.request_id} Task timed out after {t.timeout_s:.2f} seconds"


def _error_payload(t: Target, out: Outcome) -> dict:
    if out.status == TIMEOUT:
        return {"errorMessage": _timeout_message(t, out)}
    # Older runtimes report the killed process as Runtime.ExitError (doug-macleod/Pipe-1Dev#18).
    return {"errorType": "Runtime.ExitError" if t.model.legacy_lines else "Runtime.OutOfMemory",
            "errorMessage": f"RequestId: {out.request_id} Error: Runtime exited with error: signal: killed"}


def _runtime_version(runtime: str) -> str:
    family = next((f for f in ("python", "nodejs", "java", "dotnet", "ruby") if runtime.startswith(f)), None)
    if family is None:
        return "provided:al2023.v71"
    return f"{family}:{runtime[len(family):]}.v41"


def render_log_tail(t: Target, out: Outcome) -> str:
    """The log lines of one invoke, as Lambda writes them for the function's log format."""
    rid = out.request_id
    start, end = out.start_ms, out.start_ms + int(math.ceil(out.duration_ms))
    cold = out.init_ms is not None
    restore = int(billed_restore_ms(np.array([out.init_ms]), np.array([out.lo], dtype=np.uint64))[0]) \
        if cold and t.snapstart else None
    lines: list[str] = []
    if t.log_format == "JSON":
        if cold and t.snapstart:  # a restore is platform.restoreStart (Lambda Telemetry API event schema)
            lines.append(json.dumps({"time": _iso(start - int(out.init_ms)), "type": "platform.restoreStart",
                                     "record": {"runtimeVersion": _runtime_version(t.runtime), "functionName": t.name,
                                                "functionVersion": t.version}}))
        elif cold:
            lines.append(json.dumps({"time": _iso(start - int(out.init_ms)), "type": "platform.initStart", "record": {
                "initializationType": "on-demand", "phase": "init",
                "runtimeVersion": _runtime_version(t.runtime), "functionName": t.name,
                "functionVersion": t.version}}))
        lines.append(json.dumps({"time": _iso(start), "type": "platform.start",
                                 "record": {"requestId": rid, "version": t.version}}))
        app = {"timestamp": _iso(start + 1), "level": "INFO", "requestId": rid,
               "message": f"processed event for {t.name}"}
        if out.status == TIMEOUT:
            app.update(level="ERROR", message=_timeout_message(t, out))
        elif out.status == OOM:
            app.update(level="ERROR", message="Runtime exited with error: signal: killed",
                       errorType="Runtime.OutOfMemory")
        lines.append(json.dumps(app))
        lines.append(json_report(_iso(end), rid, out.duration_ms, out.billed_ms, t.memory_mb, out.max_mem_mb,
                                 out.init_ms if cold else None, t.snapstart, out.status, billed_restore_ms=restore))
        return "\n".join(lines) + "\n"

    legacy = t.model.legacy_lines
    if cold and not legacy:  # older runtimes wrote no INIT_START line (log_lines.render_function)
        kind = "RESTORE_START" if t.snapstart else "INIT_START"
        lines.append(f"{kind} Runtime Version: {_runtime_version(t.runtime)}\tRuntime Version ARN: "
                     f"arn:aws:lambda:{t.region}::runtime:{out.hi % 10**12:012x}")
    lines.append(f"START RequestId: {rid} Version: {t.version}")
    if out.status == TIMEOUT and not legacy:
        lines.append(_timeout_message(t, out))
    elif out.status == OOM and not legacy:
        lines.append(f"{_iso(end)} {rid} Error: Runtime exited with error: signal: killed\nRuntime.OutOfMemory")
    elif out.status == OK:
        lines.append(f"{_iso(start + 1)}\t{rid}\tINFO\tprocessed event for {t.name}")
    lines.append(f"END RequestId: {rid}")
    # The REPORT message ends with a tab and a newline of its own (text_report).
    lines.append(text_report(rid, out.duration_ms, out.billed_ms, t.memory_mb, out.max_mem_mb,
                             out.init_ms if cold else None, t.snapstart, out.status, billed_restore_ms=restore,
                             legacy=legacy).rstrip("\n"))
    if legacy and out.status == TIMEOUT:  # after the REPORT line, as older runtimes wrote it
        lines.append(legacy_timeout_line(_iso(end), rid, t.timeout_s))
    elif legacy and out.status == OOM:
        lines.append(legacy_oom_line(rid))
    return "\n".join(lines) + "\n"


def install(gw: Gateway, account) -> None:
    from lambdaops.demo import function_code

    sim = InvokeSimulator(account)
    account.invoke_simulator = sim  # tests reach the clock and the environment pools through it
    gw.handle("lambda", "Invoke")(sim.handle)
    # Architecture changes need UpdateFunctionCode with the code package: moto drops both parts.
    function_code.install(gw, account)
