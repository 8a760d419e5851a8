"""A power-tuning run: shared by ``lambdaops tune`` and the TUI (progress by callback, cancellable).

Per architecture and memory size: set the memory (and wait), publish a version, point a run-scoped
alias at it, invoke it N times through the alias (serially, or concurrently with ``parallel``), read
the REPORT lines, then delete that size's alias and version straight away. ``cold_only`` instead
publishes a fresh version before every invocation, after changing the ``LAMBDAOPS_TUNE_NONCE``
environment variable: the changed configuration makes Lambda publish a new version (it returns the
existing one when nothing changed) and a new version always starts in new execution environments.

Leave no trace: before changing anything the run tags the function with its id and the settings to
restore, and every change is written to the ledger before it is made (a call in flight at Ctrl-C may
have taken effect). The cleanup restores memory, architecture and environment and deletes the run's
aliases and versions on success, on error and on KeyboardInterrupt, then removes the tags once the
function reads back as it was. It runs shielded from Ctrl-C (:mod:`lambdaops.tuning.interrupts`): a
second Ctrl-C is acknowledged, only the third stops it. Whatever cleanup could not finish, and a run
killed hard, is undone from the markers by :func:`lambdaops.tuning.cleanup.cleanup_leftovers`
(``lambdaops tune --cleanup FUNCTION``); after an abnormal end :attr:`TuningRun.restored` and
:attr:`TuningRun.cleanup_problems` tell the caller whether to say so.

Cold-only runs follow AWS Lambda Power Tuning (lambda/executor.js: ``discardTopBottom`` is forced to 0
with ``onlyColdStarts``; utils.js adds the init duration to the duration): speed is Duration + Init
Duration (+ Restore Duration) and the trimmed mean keeps every invocation when all were cold.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from lambdaops.analysis.tuning_stats import (Recommendation, SizeStats, billed_ms_by_aws_rules, cold_duration_ms,
                                             recommend, size_stats)
from lambdaops.aws.tuning import (ALIAS_PREFIX, NONCE_VAR, TAG_RESTORE, TAG_RUN, VERSION_PREFIX, FunctionConfig,
                                  InvokeResult, LeftoversError, TuningApi, format_restore_tag)
from lambdaops.errors import EXIT_INTERRUPTED, LambdaopsError, ServiceError
from lambdaops.tuning.cleanup import Ledger, restore_function
from lambdaops.tuning.interrupts import CleanupAborted, InterruptShield
from lambdaops.tuning.options import TuneOptions, payload_plan

# Runtimes Lambda offers on x86_64 only (deprecated ones mostly); everything newer runs on both.
_X86_ONLY_RUNTIMES = frozenset({
    "python2.7", "python3.6", "python3.7", "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x",
    "java8", "go1.x", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet5.0",
    "ruby2.5", "provided",
})


def other_architecture(arch: str) -> str:
    return "arm64" if arch == "x86_64" else "x86_64"


def runtime_supports(runtime: str | None, arch: str) -> bool:
    return arch == "x86_64" or runtime is None or runtime not in _X86_ONLY_RUNTIMES


def cleanup_command(function: str, region: str | None = None) -> str:
    """The command that undoes what a run left (callers with more context, like the CLI, add flags)."""
    return f"lambdaops tune --cleanup {function}" + (f" --region {region}" if region else "")


def alias_name(run_id: str, memory_mb: int, arch_suffix: str | None = None) -> str:
    return f"{ALIAS_PREFIX}{run_id}-{memory_mb}" + (f"-{arch_suffix}" if arch_suffix else "")


class TuneCancelled(LambdaopsError):
    exit_code = EXIT_INTERRUPTED


class StrictFailure(ServiceError):
    """``--strict``: a memory size failed."""


class CleanupIncomplete(LambdaopsError):
    """Something the run changed could not be undone."""


@dataclass(frozen=True)
class TuneEvent:
    """Progress for a UI. ``kind``: start | size | invoke | skipped | cleanup | warning | done."""

    kind: str
    message: str
    architecture: str | None = None
    memory_mb: int | None = None
    done: int = 0
    total: int = 0


@dataclass
class ArchOutcome:
    architecture: str
    results: list[SizeStats] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    recommendation: Recommendation | None = None

    def stats_at(self, memory_mb: int) -> SizeStats | None:
        return next((s for s in self.results if s.memory_mb == memory_mb), None)


@dataclass
class TuneResult:
    function: str
    region: str
    architecture: str
    original_memory_mb: int
    strategy: str
    weight: float
    primary: ArchOutcome
    other: ArchOutcome | None = None
    best_overall: Recommendation | None = None
    run_id: str = ""
    notes: list[str] = field(default_factory=list)
    cleanup_problems: list[str] = field(default_factory=list)  # non-empty: run `tune --cleanup` to finish

    def to_dict(self, api_calls: dict[str, int] | None = None) -> dict:
        doc = {
            "function": self.function,
            "region": self.region,
            "architecture": self.architecture,
            "original_memory_mb": self.original_memory_mb,
            "strategy": self.strategy,
            "results": [s.to_dict() for s in self.primary.results],
            "recommendation": self.primary.recommendation.to_dict() if self.primary.recommendation else None,
            "skipped": self.primary.skipped,
        }
        if self.other is not None:  # only with --arch-compare: the base document keeps its exact shape
            doc["arch_compare"] = {
                "architecture": self.other.architecture,
                "results": [s.to_dict() for s in self.other.results],
                "recommendation": self.other.recommendation.to_dict() if self.other.recommendation else None,
                "skipped": self.other.skipped,
                "best_overall": self.best_overall.to_dict(with_architecture=True) if self.best_overall else None,
            }
        doc["api_calls"] = dict(api_calls or {})
        return doc


def _skip_reason(samples: list[InvokeResult], timeout_s: int) -> tuple[str | None, dict[str, int]]:
    """Why a size's measurements cannot be used (None when they can), and the errors by type."""
    n = len(samples)
    by_type = Counter(s.error_type or ("NoReportLine" if s.status == "noreport" else s.status)
                      for s in samples if s.status != "success")
    oom = by_type.get("Runtime.OutOfMemory", 0)
    timeouts = sum(1 for s in samples if s.status == "timeout")
    if oom:
        return f"out of memory (Runtime.OutOfMemory) in {oom} of {n} invocations", dict(by_type)
    if timeouts:
        return f"timed out (after {timeout_s} s) in {timeouts} of {n} invocations", dict(by_type)
    if sum(by_type.values()) == n:
        kinds = ", ".join(f"{k} x{v}" for k, v in by_type.most_common())
        return f"every invocation failed ({kinds})", dict(by_type)
    return None, dict(by_type)


class TuningRun:
    def __init__(self, api: TuningApi, function: str, options: TuneOptions, *,
                 on_event: Callable[[TuneEvent], None] | None = None, cancel: threading.Event | None = None,
                 run_id: str | None = None, cleanup_hint: str | None = None) -> None:
        self.api = api
        self.function = function
        self.opts = options.validate()
        self.on_event = on_event or (lambda ev: None)
        self.cancel = cancel or threading.Event()
        self.run_id = run_id or secrets.token_hex(3)
        self.ledger: Ledger | None = None
        self.cfg: FunctionConfig | None = None
        self._done = 0
        self._total = 0
        self._lock = threading.Lock()
        self.cleanup_hint = cleanup_hint or cleanup_command(function, getattr(api, "region", None))
        self.shield = InterruptShield(self._acknowledge)
        self.cleanup_problems: list[str] | None = None  # None until a cleanup ran; [] = fully restored
        self.restored: bool | None = None  # None: nothing was changed (the run stopped before its first change)

    # -- events ------------------------------------------------------------------------------------
    def _emit(self, kind: str, message: str, arch: str | None = None, mb: int | None = None) -> None:
        self.on_event(TuneEvent(kind, message, arch, mb, self._done, self._total))

    def _acknowledge(self, message: str) -> None:
        self._emit("warning", message)

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise TuneCancelled("tuning cancelled")

    # -- the run -------------------------------------------------------------------------------------
    def run(self) -> TuneResult:
        self.shield.install()
        try:
            return self._run()
        finally:
            self.shield.uninstall()

    def _run(self) -> TuneResult:
        api, opts = self.api, self.opts
        cfg = self.cfg = api.get_config(self.function)
        api.ensure_tunable(cfg)
        left = api.find_leftovers(cfg)
        if not left.empty:
            raise LeftoversError(f"an earlier tuning run left changes on {cfg.name} "
                                 f"(aliases {len(left.aliases)}, versions {len(left.versions)}, "
                                 f"run {', '.join(sorted(left.run_ids)) or '?'})",
                                 hint=f"run: {self.cleanup_hint}", code="ResourceConflict")
        sizes = sorted(set(opts.memory_sizes) | {cfg.memory_mb})
        notes = []
        if cfg.memory_mb not in opts.memory_sizes:
            notes.append(f"the current memory ({cfg.memory_mb} MB) is measured too, for the comparison")
        arches = [cfg.architecture]
        if opts.arch_compare:
            other = other_architecture(cfg.architecture)
            if runtime_supports(cfg.runtime, other):
                arches.append(other)
            else:
                notes.append(f"{cfg.runtime} does not run on {other}: no architecture comparison")
        self._total = len(arches) * len(sizes) * opts.num
        self.ledger = Ledger(run_id=self.run_id, name=cfg.name, arn=cfg.arn, original_memory_mb=cfg.memory_mb,
                             original_arch=cfg.architecture, original_env=cfg.environment)
        outcomes: list[ArchOutcome] = []
        self._emit("start", f"tuning {cfg.name} ({cfg.architecture}, {cfg.memory_mb} MB): "
                            f"{len(sizes)} sizes x {opts.num} invocations, run {self.run_id}")
        if opts.cold_only:
            notes.append("cold-only: speed is Duration + Init Duration (+ Restore Duration), and the trimmed mean "
                         "keeps every invocation when all were cold")
        try:
            self._mark()
            for arch in arches:
                if arch != cfg.architecture:
                    self._switch_architecture(arch)
                outcomes.append(self._measure_architecture(arch, sizes))
        except BaseException as exc:
            self.shield.enter_cleanup(exc)
            self._cleanup()
            raise
        self.shield.enter_cleanup(None)
        problems = self._cleanup()
        if self.shield.count:  # Ctrl-C during the final cleanup: deferred until it finished, honoured now
            raise KeyboardInterrupt
        result = self._result(cfg, outcomes, notes)
        result.cleanup_problems = problems
        return result

    def _mark(self) -> None:
        led = self.ledger
        led.tagged = True  # before the call: a TagResource in flight at Ctrl-C may have tagged the function
        try:
            self.api.tag(led.arn, {TAG_RUN: self.run_id,
                                   TAG_RESTORE: format_restore_tag(led.original_memory_mb, led.original_arch)})
        except LambdaopsError as err:  # version descriptions still carry the restore values
            led.tagged = False  # refused: there is nothing to untag (and UntagResource would be refused too)
            self._emit("warning", f"could not tag {led.name} with the run marker ({err.one_line()}); "
                                  "a killed run is still found by its aliases and versions")

    def _version_description(self, memory_mb: int, arch: str) -> str:
        led = self.ledger
        return (f"{VERSION_PREFIX}{self.run_id} size={memory_mb} arch={arch} "
                f"restore: {format_restore_tag(led.original_memory_mb, led.original_arch)}")

    def _switch_architecture(self, arch: str) -> None:
        led, cfg = self.ledger, self.cfg
        self._emit("size", f"switching {cfg.name} to {arch} (re-uploading its code)", arch)
        if led.code is None:
            led.code = self.api.download_code(cfg)
        led.arch_changed = True  # before the call: a half-done update must still be undone
        self.api.set_architecture(cfg.name, arch, led.code)

    def _measure_architecture(self, arch: str, sizes: list[int]) -> ArchOutcome:
        out = ArchOutcome(arch)
        for mb in sizes:
            self._check_cancel()
            stats, skip = self._measure_size(arch, mb)
            if stats is not None:
                out.results.append(stats)
            else:
                out.skipped.append(skip)
                self._emit("skipped", f"{mb} MB skipped: {skip['reason']}", arch, mb)
                if self.opts.strict:
                    raise StrictFailure(f"{mb} MB ({arch}) failed: {skip['reason']} (--strict)")
        return out

    def _measure_size(self, arch: str, mb: int) -> tuple[SizeStats | None, dict | None]:
        api, opts, led, name = self.api, self.opts, self.ledger, self.ledger.name
        self._emit("size", f"{mb} MB: configuring", arch, mb)
        description = self._version_description(mb, arch)
        try:
            qualifiers: list[str] = []
            if opts.cold_only:
                for i in range(opts.num):
                    self._check_cancel()
                    env = dict(led.original_env or {})
                    env[NONCE_VAR] = f"{self.run_id}-{mb}-{i}"
                    led.memory_changed = led.env_changed = True
                    api.update_config(name, memory_mb=mb, environment=env)
                    qualifiers.append(self._publish(description))
            else:
                led.memory_changed = True
                api.update_config(name, memory_mb=mb)
                version = self._publish(description)
                alias = alias_name(self.run_id, mb, arch if arch != led.original_arch else None)
                led.aliases.add(alias)
                api.create_alias(name, alias, version, description=description)
                qualifiers = [alias] * opts.num
        except ServiceError as err:
            if err.code not in ("InvalidParameterValueException", "InvalidParameterValue"):
                raise
            self._drop_size_resources()
            return None, {"memory_mb": mb, "reason": err.one_line(), "errors_by_type": {}}
        samples = self._invoke_all(arch, mb, qualifiers)
        self._drop_size_resources()
        reason, by_type = _skip_reason(samples, self.cfg.timeout_s)
        if reason is not None:
            return None, {"memory_mb": mb, "reason": reason, "errors_by_type": by_type}
        ok = [s.report for s in samples if s.report is not None]
        errors = sum(1 for s in samples if s.status != "success")
        cold = [r.cold_start for r in ok]
        all_cold = opts.cold_only and bool(ok) and all(cold)
        stats = size_stats(mb, arch, self.api.region,
                           durations_ms=[cold_duration_ms(r) if opts.cold_only else r.duration_ms for r in ok],
                           billed_ms=[billed_ms_by_aws_rules(r) for r in ok], cold=cold,
                           max_memory_mb=[r.max_memory_mb for r in ok], errors=errors,
                           discard=0.0 if all_cold else opts.discard)
        return stats, None

    def _publish(self, description: str) -> str:
        # Before the call: if it is cut short, Lambda may still have created the version; the cleanup then
        # finds it by the run's marker in its description.
        self.ledger.publishing = True
        pub = self.api.publish_version(self.ledger.name, description)
        if pub.ours:
            self.ledger.versions.add(pub.version)
        return pub.version

    def _drop_size_resources(self) -> None:
        """Delete the size's alias and versions now: a run killed later leaves less behind."""
        led = self.ledger
        for alias in sorted(led.aliases):
            try:
                self.api.delete_alias(led.name, alias)
                led.aliases.discard(alias)
            except LambdaopsError as err:
                self._emit("warning", f"could not delete alias {alias} yet: {err.one_line()}")
        for version in sorted(led.versions, key=int):
            try:
                self.api.delete_version(led.name, version)
                led.versions.discard(version)
            except LambdaopsError as err:
                self._emit("warning", f"could not delete version {version} yet: {err.one_line()}")

    def _invoke_one(self, qualifier: str, payload: bytes) -> InvokeResult:
        try:
            res = self.api.invoke(self.ledger.name, qualifier, payload, timeout_s=self.cfg.timeout_s)
        except ServiceError as err:  # the call failed, not the function: counted as a failed invocation
            res = InvokeResult(report=None, function_error="Service", error_type=err.code or "ServiceError",
                               executed_version=None)
        with self._lock:
            self._done += 1
        return res

    def _invoke_all(self, arch: str, mb: int, qualifiers: list[str]) -> list[InvokeResult]:
        plan = payload_plan(self.opts.payloads, len(qualifiers))
        results: list[InvokeResult] = []
        if not self.opts.parallel:
            for q, p in zip(qualifiers, plan):
                self._check_cancel()
                results.append(self._invoke_one(q, p))
                self._emit("invoke", f"{mb} MB: {len(results)}/{len(plan)} invocations", arch, mb)
            return results
        pool = ThreadPoolExecutor(max_workers=min(len(plan), self.opts.max_parallel),
                                  thread_name_prefix="lambdaops-tune")
        try:
            futures = [pool.submit(self._invoke_one, q, p) for q, p in zip(qualifiers, plan)]
            for fut in futures:
                self._check_cancel()
                results.append(fut.result())
                self._emit("invoke", f"{mb} MB: {len(results)}/{len(plan)} invocations", arch, mb)
        finally:
            # On Ctrl-C or cancel, do not wait for invocations still in flight: cleanup comes first.
            pool.shutdown(wait=False, cancel_futures=True)
        return results

    def _cleanup(self) -> list[str]:
        """Undo the run; problems are reported as warnings and returned (the caller decides the exit)."""
        if self.ledger is None:
            return []
        self._emit("cleanup", "cleaning up")
        self.cleanup_problems, self.restored = ["the cleanup did not finish"], False
        try:
            problems = restore_function(self.api, self.ledger, self.shield)
        except CleanupAborted:
            self.cleanup_problems = ["the cleanup was stopped by Ctrl-C part-way"]
            raise
        self.cleanup_problems, self.restored = problems, not problems
        for p in problems:
            self._emit("warning", f"cleanup: {p}")
        if problems:
            self._emit("warning", f"{self.ledger.name} is not fully restored: run {self.cleanup_hint}")
        return problems

    def _result(self, cfg: FunctionConfig, outcomes: list[ArchOutcome], notes: list[str]) -> TuneResult:
        opts = self.opts
        primary = outcomes[0]
        current = primary.stats_at(cfg.memory_mb)
        for out in outcomes:
            out.recommendation = recommend(out.results, opts.strategy, opts.weight, current)
        result = TuneResult(function=cfg.name, region=self.api.region, architecture=cfg.architecture,
                            original_memory_mb=cfg.memory_mb, strategy=opts.strategy, weight=opts.weight,
                            primary=primary, run_id=self.run_id, notes=notes)
        if len(outcomes) > 1:
            result.other = outcomes[1]
            both = [s for out in outcomes for s in out.results]
            result.best_overall = recommend(both, opts.strategy, opts.weight, current)
        self._emit("done", "done")
        return result


def run_tuning(api: TuningApi, function: str, options: TuneOptions, **kw) -> TuneResult:
    return TuningRun(api, function, options, **kw).run()


def apply_memory(api: TuningApi, function: str, memory_mb: int) -> None:
    """Set the winner (``--apply``)."""
    api.update_config(function, memory_mb=memory_mb)
