"""Finding thresholds: defaults, overridable in the config file's ``[thresholds]`` table."""

from __future__ import annotations

from dataclasses import dataclass, fields

from lambdaops.errors import ConfigError


@dataclass(frozen=True)
class Thresholds:
    min_invocations: int = 20  # below this, rates are noise: no rate findings
    error_rate_warning: float = 0.01
    error_rate_critical: float = 0.05
    throttle_rate_warning: float = 0.0  # any throttle
    throttle_rate_critical: float = 0.01
    cold_start_rate_warning: float = 0.05
    cold_start_rate_critical: float = 0.15
    iterator_age_warning_ms: float = 60_000
    iterator_age_critical_ms: float = 300_000
    iterator_age_growth: float = 2.0  # last part of the window vs the first: "falling behind"
    dlq_depth_warning: int = 1
    dlq_depth_critical: int = 100
    memory_used_warning: float = 0.90  # peak memory / memory size
    memory_used_critical: float = 0.98
    memory_overprovisioned: float = 0.25  # peak below this share of memory (and memory > 256 MB)
    timeout_rate_critical: float = 0.01
    duration_near_timeout: float = 0.80  # p99 at or above this share of the timeout

    @classmethod
    def from_config(cls, table: dict | None) -> "Thresholds":
        table = table or {}
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"unknown threshold(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        values = {}
        for key, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"threshold {key} must be a number")
            values[key] = value
        return cls(**values)
