"""Undoing what a tuning run changed: during the run (its ledger) and after a run killed hard.

The run records every change in a :class:`Ledger` before making it; :func:`restore_function` undoes
each step on its own, so one failure does not stop the others. A step cut by Ctrl-C is counted by the
run's :class:`~lambdaops.tuning.interrupts.InterruptShield` and done again (every step is idempotent:
the call in flight may or may not have taken effect). Versions are also swept by their run marker in
the description, so a PublishVersion that was in flight when the run stopped (created on Lambda's
side, never answered) is found too. The marker tags go last, and only once the function reads back
as it was. :func:`cleanup_leftovers` rebuilds a ledger from the markers a killed run left (tags, alias
names, version descriptions, the nonce variable) for ``tune --cleanup``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from lambdaops.aws.tuning import (ALIAS_PREFIX, NONCE_VAR, TAG_RESTORE, TAG_RUN, VERSION_PREFIX, CodePackage,
                                  TuningApi, parse_restore_tag)
from lambdaops.errors import LambdaopsError
from lambdaops.tuning.interrupts import InterruptShield


@dataclass
class Ledger:
    """Everything a run changed on the function: the cleanup's to-do list."""

    run_id: str
    name: str
    arn: str
    original_memory_mb: int
    original_arch: str
    original_env: dict[str, str] | None
    code: CodePackage | None = None
    tagged: bool = False
    memory_changed: bool = False
    env_changed: bool = False
    arch_changed: bool = False
    aliases: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    publishing: bool = False  # a PublishVersion was sent: sweep versions by the run's description

    @property
    def sweepable(self) -> bool:
        """One run's markers are known exactly (a cleanup of several killed runs lists them all anyway)."""
        return bool(self.run_id) and all(ch not in self.run_id for ch in ",? ")


def _sweep(api: TuningApi, ledger: Ledger) -> None:
    """Add the run's aliases and versions Lambda has but the ledger missed (a call in flight at Ctrl-C)."""
    alias_prefix, version_prefix = f"{ALIAS_PREFIX}{ledger.run_id}-", f"{VERSION_PREFIX}{ledger.run_id} "
    ledger.aliases.update(a["Name"] for a in api.list_aliases(ledger.name) if a["Name"].startswith(alias_prefix))
    if ledger.publishing or ledger.versions:
        ledger.versions.update(v["Version"] for v in api.list_versions(ledger.name)
                               if (v.get("Description") or "").startswith(version_prefix))


def _differences(api: TuningApi, ledger: Ledger) -> list[str]:
    """What still differs from the ledger's original settings, read back from Lambda."""
    cfg = api.get_config(ledger.name)
    out = []
    if cfg.memory_mb != ledger.original_memory_mb:
        out.append(f"memory is {cfg.memory_mb} MB, not {ledger.original_memory_mb} MB")
    if cfg.architecture != ledger.original_arch:
        out.append(f"architecture is {cfg.architecture}, not {ledger.original_arch}")
    if NONCE_VAR in (cfg.environment or {}):
        out.append(f"environment variable {NONCE_VAR} is still set")
    return out


def restore_function(api: TuningApi, ledger: Ledger, shield: InterruptShield | None = None) -> list[str]:
    """Undo what the ledger says, each step on its own (one failure does not stop the others).
    Returns the problems; the marker tags are removed only when there were none. Raises
    :class:`~lambdaops.tuning.interrupts.CleanupAborted` at the run's third Ctrl-C."""
    shield = shield or InterruptShield(deferring=True)
    problems: list[str] = []

    def step(what: str, fn: Callable[[], None]) -> bool:
        while True:  # ends: each KeyboardInterrupt is counted and the third aborts
            try:
                fn()
                return True
            except LambdaopsError as err:
                problems.append(f"{what}: {err.one_line()}")
                return False
            except KeyboardInterrupt as exc:
                shield.interrupted(exc)  # the call may or may not have happened: do it again

    if ledger.memory_changed or ledger.env_changed or ledger.arch_changed:
        step("waiting for the last update", lambda: api.wait_updated(ledger.name))
    if ledger.arch_changed and ledger.code is None:
        problems.append(f"restoring architecture {ledger.original_arch}: the code package was not kept")
    elif ledger.arch_changed:
        def arch() -> None:
            api.set_architecture(ledger.name, ledger.original_arch, ledger.code)
            ledger.arch_changed = False
        step(f"restoring architecture {ledger.original_arch}", arch)
    if ledger.memory_changed or ledger.env_changed:
        def config() -> None:
            env = (ledger.original_env or {}) if ledger.env_changed else None
            api.update_config(ledger.name, memory_mb=ledger.original_memory_mb, environment=env)
            ledger.memory_changed = ledger.env_changed = False
        step(f"restoring memory {ledger.original_memory_mb} MB", config)
    if ledger.sweepable:
        step("listing the run's aliases and versions", lambda: _sweep(api, ledger))
    for alias in sorted(ledger.aliases):
        def drop_alias(a=alias) -> None:
            api.delete_alias(ledger.name, a)
            ledger.aliases.discard(a)
        step(f"deleting alias {alias}", drop_alias)
    for version in sorted(ledger.versions, key=int):
        def drop_version(v=version) -> None:
            api.delete_version(ledger.name, v)
            ledger.versions.discard(v)
        step(f"deleting version {version}", drop_version)
    if not problems:
        def verify() -> None:
            problems.extend(_differences(api, ledger))
        step("reading the function back", verify)
    if ledger.tagged and not problems:
        def untag() -> None:
            api.untag(ledger.arn, [TAG_RUN, TAG_RESTORE])
            ledger.tagged = False
        step("removing the run's tags", untag)
    return problems


@dataclass
class CleanupReport:
    function: str
    actions: list[str]
    problems: list[str]


def _restore_from_versions(api: TuningApi, name: str, versions: list[str]) -> dict[str, str]:
    for v in api.list_versions(name):
        desc = v.get("Description") or ""
        if v.get("Version") in versions and "restore:" in desc:
            return parse_restore_tag(desc.split("restore:", 1)[1])
    return {}


def cleanup_leftovers(api: TuningApi, function: str, shield: InterruptShield | None = None) -> CleanupReport:
    """Undo a run that could not clean up after itself (killed hard, or its cleanup aborted), from the
    markers it left. ``shield`` defers Ctrl-C while it works (see :mod:`lambdaops.tuning.interrupts`)."""
    cfg = api.get_config(function)
    left = api.find_leftovers(cfg)
    if left.empty:
        return CleanupReport(cfg.name, [], [])
    restore = left.restore or _restore_from_versions(api, cfg.name, left.versions)
    env = cfg.environment
    if left.nonce_set:
        env = {k: v for k, v in (cfg.environment or {}).items() if k != NONCE_VAR}
    ledger = Ledger(run_id=",".join(sorted(left.run_ids)) or "?", name=cfg.name, arn=cfg.arn,
                    original_memory_mb=int(restore.get("memory", cfg.memory_mb)),
                    original_arch=restore.get("arch", cfg.architecture), original_env=env,
                    tagged=bool(left.run_ids) or bool(left.restore), aliases=set(left.aliases),
                    versions=set(left.versions))
    actions = []
    ledger.memory_changed = ledger.original_memory_mb != cfg.memory_mb
    ledger.env_changed = left.nonce_set
    if ledger.memory_changed:
        actions.append(f"memory {cfg.memory_mb} -> {ledger.original_memory_mb} MB")
    if left.nonce_set:
        actions.append(f"removed environment variable {NONCE_VAR}")
    if ledger.original_arch != cfg.architecture:
        ledger.arch_changed = True
        ledger.code = api.download_code(cfg)
        actions.append(f"architecture {cfg.architecture} -> {ledger.original_arch}")
    actions += [f"deleted alias {a}" for a in sorted(left.aliases)]
    actions += [f"deleted version {v}" for v in sorted(left.versions, key=int)]
    if ledger.tagged:
        actions.append("removed the run's tags")
    problems = restore_function(api, ledger, shield)
    return CleanupReport(cfg.name, actions, problems)
