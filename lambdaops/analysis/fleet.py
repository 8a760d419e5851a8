"""Per-function figures and findings from what was collected (pure pandas; no I/O).

Input: one record per function with the raw numbers collection fetched (``None`` = could not be
fetched, which stays missing here and is never shown as zero). Output: one DataFrame row per
function with every report figure under its documented name, and a list of findings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lambdaops.analysis.thresholds import Thresholds
from lambdaops.durations import age
from lambdaops.pricing import USD, function_cost

FIGURES = (
    "invocations", "errors", "error_rate", "throttles", "throttle_rate", "cold_starts", "cold_start_rate",
    "init_p50_ms", "init_p99_ms", "duration_p50_ms", "duration_p90_ms", "duration_p99_ms", "duration_max_ms",
    "max_concurrency", "iterator_age_max_ms", "dlq_depth", "dlq_in_flight", "billed_gb_seconds", "cost_usd", "memory_used_max_mb",
    "timeouts",
)
IDENTITY = ("name", "region", "runtime", "architecture", "memory_mb", "timeout_s", "ephemeral_storage_mb")
SEVERITY_RANK = {"critical": 2, "warning": 1}


@dataclass(frozen=True)
class Finding:
    severity: str  # warning | critical
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "code": self.code, "message": self.message}


def _rate(num, den):
    if num is None or den is None or (isinstance(num, float) and math.isnan(num)):
        return None
    return float(num) / float(den) if den else 0.0


def _nan_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def cost(billed_ms: float | None, invocations: float | None, memory_mb: float, region: str, architecture: str,
         ephemeral_storage_mb: float | None = None) -> tuple[float | None, str | None]:
    """(USD, note): billed duration at the region's and architecture's price, ephemeral storage above
    512 MB for the same duration, plus the request charge (lambdaops/pricing.py). None with the reason
    when the region has no price, or is priced in another currency (China: CNY, never summed as USD)."""
    got = function_cost(billed_ms, invocations, memory_mb, region, architecture,
                        ephemeral_storage_mb=ephemeral_storage_mb)
    if got.amount is None:
        return None, got.note
    if got.currency != USD:
        return None, f"{region} is priced in {got.currency}: {got.amount:.6g} {got.currency}, not in cost_usd"
    return got.amount, got.note


def figures_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Derived figures for every function. ``records`` carry identity keys and raw figures."""
    df = pd.DataFrame.from_records(records)
    for col in IDENTITY + FIGURES + ("billed_ms", "iterator_age_growth", "out_of_memory"):
        if col not in df.columns:
            df[col] = None
    num = lambda c: pd.to_numeric(df[c], errors="coerce")  # noqa: E731
    inv = num("invocations")
    df["error_rate"] = np.where(inv > 0, num("errors") / inv.where(inv > 0), np.where(inv == 0, 0.0, np.nan))
    attempts = inv + num("throttles")
    df["throttle_rate"] = np.where(attempts > 0, num("throttles") / attempts.where(attempts > 0),
                                   np.where(attempts == 0, 0.0, np.nan))
    log_inv = pd.to_numeric(df.get("log_invocations"), errors="coerce") if "log_invocations" in df else inv
    df["cold_start_rate"] = np.where(log_inv > 0, num("cold_starts") / log_inv.where(log_inv > 0),
                                     np.where(log_inv == 0, 0.0, np.nan))
    billed_s = (num("billed_ms")) / 1000.0
    df["billed_gb_seconds"] = billed_s * num("memory_mb") / 1024.0
    costs = [cost(_nan_to_none(b), _nan_to_none(i), _nan_to_none(m) or 128, r, a, _nan_to_none(e))
             for b, i, m, r, a, e in zip(num("billed_ms"), inv, num("memory_mb"), df["region"], df["architecture"],
                                         num("ephemeral_storage_mb"))]
    df["cost_usd"] = [c for c, _ in costs]
    df["cost_note"] = [n for _, n in costs]
    return df


def findings_for(row: dict[str, Any], t: Thresholds) -> list[Finding]:
    out: list[Finding] = []
    g = lambda k: _nan_to_none(row.get(k))  # noqa: E731
    inv = g("invocations") or 0
    enough = inv >= t.min_invocations

    er = g("error_rate")
    if er is not None and enough and er >= t.error_rate_warning:
        sev = "critical" if er >= t.error_rate_critical else "warning"
        out.append(Finding(sev, "high_error_rate", f"errors {er:.1%} of {inv:,.0f} invocations"))
    thr, trate = g("throttles"), g("throttle_rate")
    if thr and trate is not None and trate > t.throttle_rate_warning:
        sev = "critical" if trate >= t.throttle_rate_critical else "warning"
        out.append(Finding(sev, "throttling", f"{thr:,.0f} throttled requests ({trate:.1%})"))
    cr = g("cold_start_rate")
    if cr is not None and enough and cr >= t.cold_start_rate_warning:
        sev = "critical" if cr >= t.cold_start_rate_critical else "warning"
        out.append(Finding(sev, "cold_start_rate", f"cold starts {cr:.1%} of invocations (init p99 "
                                                   f"{_ms(g('init_p99_ms'))})"))
    age, growth = g("iterator_age_max_ms"), g("iterator_age_growth")
    if age is not None and (age >= t.iterator_age_warning_ms or (growth or 0) >= t.iterator_age_growth and age >= 10_000):
        growing = (growth or 0) >= t.iterator_age_growth
        sev = "critical" if age >= t.iterator_age_critical_ms and growing else "warning"
        out.append(Finding(sev, "iterator_age", f"IteratorAge {_duration(age)}" + (" and rising" if growing else "")))
    dlq = g("dlq_depth")
    if dlq is not None and dlq >= t.dlq_depth_warning:
        sev = "critical" if dlq >= t.dlq_depth_critical else "warning"
        out.append(Finding(sev, "dlq_not_empty", f"DLQ holds {_count(dlq, 'message')}"))
    used, mem = g("memory_used_max_mb"), g("memory_mb")
    oom = g("out_of_memory") or 0
    if used is not None and mem:
        share = used / mem
        if oom or share >= t.memory_used_warning:
            sev = "critical" if (oom or share >= t.memory_used_critical) else "warning"
            extra = f", {oom:,.0f} out-of-memory deaths" if oom else ""
            out.append(Finding(sev, "memory_near_limit", f"memory {share:.0%} of {mem} MB (OOM risk{extra})"))
        elif share <= t.memory_overprovisioned and mem > 256 and inv:
            out.append(Finding("warning", "memory_overprovisioned",
                               f"peak memory {used} MB of {mem} MB ({share:.0%}): over-provisioned"))
    timeouts = g("timeouts")
    if timeouts:
        rate = timeouts / inv if inv else 1.0
        sev = "critical" if rate >= t.timeout_rate_critical else "warning"
        out.append(Finding(sev, "timeouts", f"{_count(timeouts, 'invocation')} timed out ({rate:.2%})"))
    p99, timeout_s = g("duration_p99_ms"), g("timeout_s")
    if p99 is not None and timeout_s and p99 >= t.duration_near_timeout * timeout_s * 1000:
        out.append(Finding("warning", "duration_near_timeout",
                           f"p99 duration {_ms(p99)} is {p99 / (timeout_s * 1000):.0%} of the {timeout_s}s timeout"))
    out.sort(key=lambda f: -SEVERITY_RANK[f.severity])
    return out


def _count(n: float, noun: str) -> str:
    """``1 message``, ``30 messages``: findings are read as sentences."""
    return f"{n:,.0f} {noun}" + ("" if round(n) == 1 else "s")


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f}s" if value >= 1000 else f"{value:.0f}ms"


def _duration(ms: float) -> str:
    return age(ms / 1000) if ms >= 60_000 else f"{ms / 1000:.1f}s"


def analyze(records: list[dict[str, Any]], thresholds: Thresholds | None = None) -> pd.DataFrame:
    """Figures + findings + worst severity, sorted worst first (then by name)."""
    t = thresholds or Thresholds()
    df = figures_frame(records)
    findings = [findings_for(row, t) for row in df.to_dict("records")]
    df["findings"] = findings
    df["severity"] = [f[0].severity if f else None for f in findings]
    df["_rank"] = [max((SEVERITY_RANK[x.severity] for x in f), default=0) for f in findings]
    df = df.sort_values(["_rank", "region", "name"], ascending=[False, True, True], kind="stable").drop(columns="_rank")
    return df.reset_index(drop=True)


def iterator_age_growth(values: list[float]) -> float | None:
    """Last third's maximum over the first third's: > 1 means the consumer is falling behind."""
    if len(values) < 3:
        return None
    n = len(values)
    first = max(values[: max(1, n // 3)])
    last = max(values[-max(1, n // 3):])
    return float(last / first) if first > 0 else (float("inf") if last > 0 else 1.0)


def time_series(points: dict[str, tuple[list, list]], counts: tuple[str, ...] = ("invocations", "errors", "throttles")) -> pd.DataFrame:
    """Per-period series for charts: one column per figure on a shared time index; missing periods of
    counts are 0 (Lambda emits only non-zero datapoints), of gauges and percentiles stay NaN."""
    frames = {name: pd.Series(values, index=pd.to_datetime(ts, utc=True), dtype="float64")
              for name, (ts, values) in points.items()}
    if not frames:
        return pd.DataFrame()
    df = pd.DataFrame(frames).sort_index()
    for c in counts:
        if c in df:
            df[c] = df[c].fillna(0.0)
    return df


def to_records(df: pd.DataFrame, previous: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Rows for JSON/CSV with exactly the documented keys, NaN as None, findings as dicts."""
    prev = {}
    if previous is not None:
        prev = {(r["region"], r["name"]): r for r in previous.to_dict("records")}
    out = []
    for row in df.to_dict("records"):
        rec = {k: _nan_to_none(row.get(k)) for k in IDENTITY}
        for k in FIGURES:
            rec[k] = _round(_nan_to_none(row.get(k)), k)
        if previous is not None:
            p = prev.get((row["region"], row["name"]), {})
            rec["previous"] = {k: _round(_nan_to_none(p.get(k)), k) for k in FIGURES}
            rec["change"] = {k: _change(rec[k], rec["previous"][k]) for k in FIGURES}
        rec["cost_note"] = _nan_to_none(row.get("cost_note"))
        rec["findings"] = [f.to_dict() for f in row.get("findings") or []]
        out.append(rec)
    return out


def _change(now, before):
    if now is None or before is None:
        return None
    if before == 0:
        return None  # no ratio to a zero baseline; the previous value is shown beside it
    return round(now / before, 3)


_COUNTS = {"invocations", "errors", "throttles", "cold_starts", "max_concurrency", "dlq_depth", "dlq_in_flight",
           "timeouts"}


def _round(value, key):
    if value is None or not isinstance(value, float):
        return value
    if key in _COUNTS and value.is_integer():
        return int(value)
    if key.endswith("_rate"):
        return round(value, 6)
    if key == "cost_usd":
        return round(value, 8)
    if key == "billed_gb_seconds":
        return round(value, 3)
    return round(value, 2)
