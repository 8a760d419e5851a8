"""How a tuning result is shown: rows for table/csv/markdown, the recommendation line, a small chart."""

from __future__ import annotations

from lambdaops.cli.output import Column
from lambdaops.safe_text import safe_text
from lambdaops.tuning.engine import ArchOutcome, TuneResult


def _ms(v) -> str:
    return "-" if v is None else f"{v:,.1f}"


def _usd(v) -> str:
    return "-" if v is None else f"{v:.10f}".rstrip("0")


def _per_m(v) -> str:
    return "-" if v is None else f"{v:,.4f}"


def _int(v) -> str:
    return "-" if v is None else f"{int(v):,}"


def _pct(v) -> str:
    return "-" if v is None else f"{v:+.1f}%"


COLUMNS = [
    Column("architecture", "Arch"),
    Column("memory_mb", "Memory MB", "right", _int),
    Column("invocations", "Invocations", "right", _int),
    Column("errors", "Errors", "right", _int),
    Column("cold_starts", "Cold", "right", _int),
    Column("duration_trimmed_ms", "Duration ms (trimmed)", "right", _ms),
    Column("duration_p50_ms", "p50", "right", _ms),
    Column("duration_p90_ms", "p90", "right", _ms),
    Column("duration_p99_ms", "p99", "right", _ms),
    Column("duration_stddev_ms", "stddev", "right", _ms),
    Column("billed_ms_mean", "Billed ms", "right", _ms),
    Column("max_memory_used_mb", "Max used MB", "right", _int),
    Column("cost_per_invocation_usd", "$/invocation", "right", _usd),
    Column("cost_per_million_usd", "$/million", "right", _per_m),
    Column("note", "Note"),
]


def _rows_for(out: ArchOutcome, result: TuneResult, winner: tuple[str, int] | None) -> list[dict]:
    rows = []
    for s in out.results:
        notes = []
        if (out.architecture, s.memory_mb) == winner:
            notes.append("recommended")
        if (out.architecture, s.memory_mb) == (result.architecture, result.original_memory_mb):
            notes.append("current")
        d = s.duration_ms
        rows.append({"architecture": out.architecture, "memory_mb": s.memory_mb, "invocations": s.invocations,
                     "errors": s.errors, "cold_starts": s.cold_starts, "duration_trimmed_ms": d.mean_trimmed,
                     "duration_p50_ms": d.p50, "duration_p90_ms": d.p90, "duration_p99_ms": d.p99,
                     "duration_stddev_ms": d.stddev, "billed_ms_mean": s.billed_ms_mean,
                     "max_memory_used_mb": s.max_memory_used_mb, "cost_per_invocation_usd": s.cost_per_invocation_usd,
                     "cost_per_million_usd": s.cost_per_million_usd, "note": ", ".join(notes) or None})
    for sk in out.skipped:
        rows.append({"architecture": out.architecture, "memory_mb": sk["memory_mb"],
                     "note": f"skipped: {sk['reason']}"})
    return sorted(rows, key=lambda r: r["memory_mb"])


def winner_of(result: TuneResult) -> tuple[str, int] | None:
    rec = result.best_overall or result.primary.recommendation
    return (rec.architecture, rec.memory_mb) if rec else None


def rows(result: TuneResult) -> list[dict]:
    win = winner_of(result)
    out = _rows_for(result.primary, result, win)
    if result.other is not None:
        out += _rows_for(result.other, result, win)
    return out


def columns(result: TuneResult) -> list[Column]:
    return COLUMNS if result.other is not None else [c for c in COLUMNS if c.key != "architecture"]


def recommendation_line(result: TuneResult) -> str:
    """One line for the terminal; the function name is escaped, as everything AWS returned."""
    return safe_text(_recommendation_line(result), None)


def _recommendation_line(result: TuneResult) -> str:
    rec = result.primary.recommendation
    if rec is None:
        return f"No recommendation: every memory size of {result.function} failed."
    line = (f"Recommended ({result.strategy}): {rec.memory_mb} MB for {result.function} ({rec.reason}); "
            f"now {result.original_memory_mb} MB")
    if rec.saving_pct is not None:
        line += f"; cost {_pct(-rec.saving_pct)}, duration {_pct(-rec.speedup_pct)} versus now"
    if result.best_overall is not None and result.best_overall.architecture != result.architecture:
        b = result.best_overall
        line += (f". Across architectures: {b.memory_mb} MB on {b.architecture} "
                 f"(cost {_pct(-b.saving_pct)}, duration {_pct(-b.speedup_pct)} versus now)")
    return line + "."


_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar with 1/8-character resolution."""
    if maximum <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / maximum * width * 8))
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def chart(result: TuneResult, width: int = 24):
    """Cost and duration against memory, as two bar columns (Rich table)."""
    from rich.table import Table

    outcomes = [result.primary] + ([result.other] if result.other else [])
    stats = [(o.architecture, s) for o in outcomes for s in o.results]
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, title=None)
    table.add_column("Memory", justify="right")
    table.add_column("Cost per million", no_wrap=True)
    table.add_column("Duration (trimmed mean)", no_wrap=True)
    if not stats:
        return table
    max_cost = max(s.cost_per_million_usd for _, s in stats)
    max_dur = max(s.duration_ms.mean_trimmed for _, s in stats)
    win = winner_of(result)
    for arch, s in sorted(stats, key=lambda x: (x[0] != result.architecture, x[1].memory_mb)):
        label = f"{s.memory_mb} MB" + (f" {arch}" if result.other else "")
        style = "bold green" if (arch, s.memory_mb) == win else None
        table.add_row(label,
                      f"[cyan]{bar(s.cost_per_million_usd, max_cost, width):<{width}}[/] "
                      f"${s.cost_per_million_usd:,.4f}",
                      f"[magenta]{bar(s.duration_ms.mean_trimmed, max_dur, width):<{width}}[/] "
                      f"{s.duration_ms.mean_trimmed:,.1f} ms", style=style)
    return table
