"""The fleet report in every format: JSON envelope, CSV, Markdown, self-contained HTML, Rich table.

JSON (documented in the README): ``{"generated_at", "window": {"start", "end"}, "regions",
"functions": [{name, region, runtime, architecture, memory_mb, timeout_s, <every figure>, findings, missing}],
"errors", "notes", "api_calls", "api_retries", "cost", "inventory": {"listed_at", "age_s", "kept", "max_age_s"}}``; keys in a stable order so reports diff cleanly. ``missing``
names the figures that could not be fetched (null in JSON, ``?`` in the human formats), apart from
those that are null because they do not apply.
"""

from __future__ import annotations

import html
import json
import math
from datetime import datetime, timezone
from typing import Any

from lambdaops.analysis.fleet import FIGURES, IDENTITY, to_records
from lambdaops.durations import age
from lambdaops.cli.output import Column, json_default, make_console, to_csv, to_markdown
from lambdaops.safe_text import json_inert, safe_text
from lambdaops.errors import MISSING_MARK, error_line
from lambdaops.plural import plural

HEADERS = {
    "name": "Function", "region": "Region", "runtime": "Runtime", "architecture": "Arch", "memory_mb": "Mem MB",
    "timeout_s": "Timeout s", "invocations": "Invocations", "errors": "Errors", "error_rate": "Err %",
    "throttles": "Throttles", "throttle_rate": "Thr %", "cold_starts": "Cold starts", "cold_start_rate": "Cold %",
    "init_p50_ms": "Init p50 ms", "init_p99_ms": "Init p99 ms", "duration_p50_ms": "p50 ms",
    "duration_p90_ms": "p90 ms", "duration_p99_ms": "p99 ms", "duration_max_ms": "Max ms",
    "max_concurrency": "Max conc", "iterator_age_max_ms": "IterAge ms", "dlq_depth": "DLQ",
    "billed_gb_seconds": "GB-s", "cost_usd": "Cost $", "memory_used_max_mb": "Mem used MB", "timeouts": "Timeouts",
    "worst": "Worst finding",
}


def _pct(v):
    return "-" if v is None else f"{v * 100:.2f}"


def _num(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return f"{v:,}"


def _cost(v):
    """Dollars with three significant digits at least (0.000123, 0.0123, 1.23, 12.30): most functions
    cost fractions of a cent per window, and "0.00" for all of them compares nothing."""
    if v is None:
        return "-"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    decimals = max(2, 2 - math.floor(math.log10(abs(v))))
    return f"{v:.{decimals}f}"


def _when(iso: str) -> str:
    """'2026-12-01T17:58:06.679964Z' -> '2026-12-01 17:58 UTC' (the human formats; JSON keeps it exact)."""
    try:
        ts = datetime.fromisoformat(str(iso).replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return str(iso)
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def _delta(now, before, ratio) -> str:
    """The change beside a figure: '+12%', '-3%', 'was 0', '=' ; '' when there is nothing to compare."""
    if now is None or before is None or now == MISSING_MARK:
        return ""
    if ratio is None:
        return "" if not now else "was 0"
    pct = (ratio - 1) * 100
    return "=" if abs(pct) < 0.5 else f"{pct:+.0f}%"


def display_rows(env: dict, cols: list[Column]) -> list[dict]:
    """Rows of display strings for the human formats; with --compare-previous each figure carries
    its change against the preceding window, e.g. '1,234 (+12%)'."""
    out = []
    for r, f in zip(_flat_rows(env), env["functions"]):
        prev, change = f.get("previous") or {}, f.get("change") or {}
        row = {}
        for c in cols:
            v = r.get(c.key)
            text = (c.fmt or (lambda x: "-" if x is None else str(x)))(v)
            if "change" in f and c.key in change:
                d = _delta(v, prev.get(c.key), change.get(c.key))
                text = f"{text} ({d})" if d else text
            row[c.key] = text
        out.append(row)
    return out


def _plain(cols: list[Column]) -> list[Column]:
    return [Column(c.key, c.header, c.justify, None, c.max_width) for c in cols]


def _fmt_for(key: str):
    if key.endswith("_rate"):
        return _pct
    if key == "cost_usd":
        return _cost
    if key == "worst" or (key in IDENTITY and key not in ("memory_mb", "timeout_s")):
        return None
    return _num


TABLE_KEYS = ("name", "region", "runtime", "memory_mb", "invocations", "error_rate", "throttles", "cold_start_rate",
              "init_p99_ms", "duration_p50_ms", "duration_p99_ms", "max_concurrency", "iterator_age_max_ms",
              "dlq_depth", "cost_usd", "worst")


def _marked(fmt):
    """A formatter that shows the missing mark as it is."""
    if fmt is None:
        return None
    return lambda v: v if v == MISSING_MARK else fmt(v)


def columns(keys) -> list[Column]:
    return [Column(k, HEADERS.get(k, k), "left" if k in ("name", "region", "runtime", "architecture", "worst") else "right",
                   _marked(_fmt_for(k)), 36 if k == "name" else (60 if k == "worst" else None)) for k in keys]


def envelope(snapshot, top: int | None = None) -> dict[str, Any]:
    functions = to_records(snapshot.table, snapshot.previous)
    gaps = list(snapshot.table["missing"]) if "missing" in snapshot.table else [[] for _ in functions]
    for rec, gap in zip(functions, gaps):
        rec["missing"] = list(gap)
    if top:
        functions = functions[:top]
    return {
        "generated_at": snapshot.generated_at.isoformat().replace("+00:00", "Z"),
        "window": snapshot.window.to_dict(),
        "regions": list(snapshot.regions),
        "functions": functions,
        "errors": snapshot.errors,
        "notes": snapshot.notes,
        "api_calls": snapshot.api_calls,
        "api_retries": getattr(snapshot, "api_retries", {}),
        "cost": getattr(snapshot, "cost", {}),  # this run: calls, Insights bytes paid and saved by the store
        "inventory": getattr(snapshot, "inventory", {}),  # how old the function listing is (a kept one)
    }


def _flat_rows(env: dict, mark: bool = True) -> list[dict]:
    rows = []
    for f in env["functions"]:
        row = {k: f.get(k) for k in IDENTITY + FIGURES}
        for k in (f.get("missing") or ()) if mark else ():  # could not be fetched: "?", not "-"
            if k in row:
                row[k] = MISSING_MARK
        row["missing"] = list(f.get("missing") or ())
        worst = f["findings"][0] if f["findings"] else None
        row["worst"] = f"{worst['severity']}: {worst['message']}" if worst else None
        row["findings"] = "; ".join(f"{x['severity']}:{x['code']}" for x in f["findings"])
        if "change" in f:
            for k, v in f["change"].items():
                row[f"{k}_change"] = v
        rows.append(row)
    return rows


def render_json(env: dict) -> str:
    return json_inert(json.dumps(env, indent=2, default=json_default, ensure_ascii=False, allow_nan=False)) + "\n"


def render_csv(env: dict) -> str:
    rows = _flat_rows(env, mark=False)  # CSV keeps null cells empty; the missing column names them
    keys = list(IDENTITY + FIGURES) + ["findings", "missing"]
    if env["functions"] and "change" in env["functions"][0]:
        keys += [f"{k}_change" for k in FIGURES]
    return to_csv(rows, [Column(k, k) for k in keys])


def _summary_lines(env: dict) -> list[str]:
    fns = env["functions"]
    crit = sum(1 for f in fns if f["findings"] and f["findings"][0]["severity"] == "critical")
    warn = sum(1 for f in fns if f["findings"] and f["findings"][0]["severity"] == "warning")
    inv = sum(f["invocations"] or 0 for f in fns)
    cost = sum(f["cost_usd"] or 0 for f in fns)
    calls = sum(env["api_calls"].values())
    retries = sum((env.get("api_retries") or {}).values())
    gaps = sum(len(f.get("missing") or ()) for f in fns)
    short = sum(1 for f in fns if f.get("missing"))
    lines = [f"{plural(len(fns), 'function')} in {', '.join(env['regions'])}; window {_when(env['window']['start'])} "
             f"to {_when(env['window']['end'])}" + ("; changes against the preceding window" if
                                                     fns and "change" in fns[0] else ""),
             f"{plural(inv, 'invocation', sep=True)}, ${cost:,.4f} compute+requests; {crit} critical, {warn} warning; "
             f"{plural(calls, 'API call')}" + (f" ({plural(retries, 'retry')})" if retries else "")]
    inv_kept = (env.get("inventory") or {}).get("kept")
    if inv_kept:  # a function created since that listing is missing: say so, never silently
        lines.append(f"inventory as of {age(env['inventory']['age_s'] or 0)} ago ({', '.join(inv_kept)}: listing kept up to "
                     f"{age(env['inventory']['max_age_s'])}; --no-cache lists afresh)")
    if gaps or env["errors"]:
        lines.append(f"INCOMPLETE: {plural(gaps, 'figure')} of {plural(short, 'function')} could not be fetched (shown as "
                     f"{MISSING_MARK}); {plural(len(env['errors']), 'error')}")
    return lines


def _md(text) -> str:
    """AWS's text in a Markdown line: terminal controls escaped, markup and HTML characters too."""
    return safe_text(str(text), None).translate(str.maketrans({c: "\\" + c for c in "\\<>`*[]"}))


def render_markdown(env: dict) -> str:
    out = ["# lambdaops fleet report", ""] + [f"- {line}" for line in _summary_lines(env)] + [""]
    findings = [(f, x) for f in env["functions"] for x in f["findings"]]
    if findings:
        out += ["## Findings", ""]
        out += [f"- **{x['severity']}** `{f['name']}` ({f['region']}): {_md(x['message'])}" for f, x in findings]
        out.append("")
    cols = columns(TABLE_KEYS)
    out += ["## Functions", "", to_markdown(display_rows(env, cols), _plain(cols)).rstrip(), ""]
    if env["errors"]:
        out += ["## Errors", ""] + [f"- {_md(error_line(e))}" for e in env["errors"]] + [""]
    return "\n".join(out) + "\n"


def _bars(rows: list[dict], key: str, title: str, unit: str, fmt=None) -> str:
    fmt = fmt or _num
    vals = [(r["name"], r.get(key)) for r in rows if isinstance(r.get(key), (int, float))]
    if not vals:
        return ""
    top = max(v for _, v in vals) or 1
    h = 16 * len(vals) + 24
    parts = [f'<svg class="bars" width="520" height="{h}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="12" class="t">{html.escape(title)}</text>']
    for i, (name, v) in enumerate(vals):
        y = 22 + i * 16
        w = 300 * v / top
        parts.append(f'<text x="150" y="{y + 11}" text-anchor="end">{html.escape(name[:24])}</text>'
                     f'<rect x="156" y="{y}" width="{w:.1f}" height="12"></rect>'
                     f'<text x="{160 + w:.1f}" y="{y + 11}">{html.escape(fmt(v))} {unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(env: dict) -> str:
    rows = _flat_rows(env)
    cols = columns(TABLE_KEYS)
    head = "".join(f"<th>{html.escape(c.header)}</th>" for c in cols)
    body = []
    for r, f in zip(display_rows(env, cols), env["functions"]):
        sev = f["findings"][0]["severity"] if f["findings"] else "ok"
        cells = "".join(f'<td class="{"w" if c.key == "worst" else "l" if c.justify == "left" else "r"}">'
                        f'{html.escape(r[c.key])}</td>' for c in cols)
        body.append(f'<tr class="{sev}">{cells}</tr>')
    errors = "".join(f"<li>{html.escape(error_line(e))}</li>" for e in env["errors"])
    summary = "".join(f"<p>{html.escape(line)}</p>" for line in _summary_lines(env))
    charts = _bars(rows[:20], "invocations", "Invocations", "") + _bars(rows[:20], "duration_p99_ms", "p99 duration", "ms") \
        + _bars(rows[:20], "cost_usd", "Cost", "$", _cost)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lambdaops fleet report</title>
<style>
body{{font:13px/1.4 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d2430}}
table{{border-collapse:collapse;font-variant-numeric:tabular-nums}}th,td{{padding:3px 8px;border-bottom:1px solid #e3e6ea}}
th{{text-align:right;background:#f5f6f8}}td.r{{text-align:right}}td.l,td.w,th:first-child{{text-align:left}}
th,td.l,td.r{{white-space:nowrap}}td.w{{min-width:24em}}
tr.critical td:first-child{{border-left:4px solid #c62828}}tr.warning td:first-child{{border-left:4px solid #ef8f00}}
.bars rect{{fill:#4a78c2}}.bars text{{font-size:11px}}.bars .t{{font-weight:600}}.charts{{display:flex;flex-wrap:wrap;gap:24px}}
</style></head><body>
<h1>lambdaops fleet report</h1>{summary}
<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>
<div class="charts">{charts}</div>
{f'<h2>Errors</h2><ul>{errors}</ul>' if errors else ''}
</body></html>
"""


SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}


def render_table(env: dict, stream) -> None:
    from rich.table import Table

    from rich.text import Text

    console = make_console(stream)
    for line in _summary_lines(env):
        console.print(safe_text(line, None), markup=False)
    cols = columns(TABLE_KEYS)
    rows = display_rows(env, cols)
    table = Table(header_style="bold", box=None, pad_edge=False, show_edge=False)
    for c in cols:
        table.add_column(c.header, justify=c.justify, no_wrap=True, overflow="ellipsis", max_width=c.max_width)
    for r, f in zip(rows, env["functions"]):
        sev = f["findings"][0]["severity"] if f["findings"] else None
        table.add_row(*[Text(safe_text(r[c.key], None)) for c in cols], style=SEVERITY_STYLE.get(sev))  # cells are text, never markup
    console.print(table)
    for e in env["errors"]:
        console.print(f"[!] {error_line(e)}", style="red", markup=False)
    for n in env["notes"]:
        console.print(f"note: {safe_text(n, None)}", markup=False)
