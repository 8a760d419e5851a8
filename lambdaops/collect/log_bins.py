"""The fleet's log figures per closed time bin: a moving window pays Logs Insights only for what is new.

The query is ``queries/cold-starts`` (the same filter, parsing and billed-time rules) with its last
``stats`` replaced by one grouped by log group, stream function, 5-minute bin, INIT bucket and the
timeout / out-of-memory request id (``lambdaops.store.cells`` explains the bucket and why the ids).
Each row is then an exact part of a window's figures; ``Cell`` adds them up.

A window [S, E) (whole seconds, as StartQuery reads them: see ``collect.query``) is cut into its
closed bins (aligned to the epoch, wholly inside the window, ended at least ``INGEST_DELAY_S`` ago),
its unaligned head, and its open bins (the last one cut by E). Closed bins found in the store are
merged as they are. An open bin's beginning scanned by an earlier run ([bin start, x), a "partial"
in the store, provisional: a late line is caught when the bin closes) is merged too, and only
[x, E) is asked; each open bin's partial is then stored again, reaching E. A closed bin not in the
store is asked once in full (the authoritative version, which replaces its partial). So a refresh a
minute after the last asks Insights for that minute, the head, and every 5 minutes one closing bin:
about twice the data's new span plus the head, where re-asking every open bin read 15-20 minutes.
Cut points are whole seconds, each StartQuery ending one second before the next begins, so no line
is read twice; a request whose lines straddle a cut ("Task timed out" before it, its REPORT after)
is one request id in two cells, counted once by their union. The pieces one log group needs
(``plan``) are joined where contiguous into spans (``spans_of``), and groups with the same spans share
queries, 50 at a time.

Closed: CloudWatch Logs accepts events whose timestamp is up to 14 days old (PutLogEvents, Amazon
CloudWatch Logs API Reference), so no bin is final by rule; Lambda delivers its lines as it runs,
within seconds as measured ("Visualize CloudWatch Logs ingestion lag with Logs Insights", dev.to,
2023), but an extension or a throttled PutLogEvents can hold them back. 15 minutes leaves room for
that; a line arriving later still is missed by the store until the bin is dropped (``store.db.KEEP_S``)
or the store is cleared.

Limits: at most 50 log groups a query (collect.query's runner batches) and 10,000 rows a result
(GetQueryResults): a span is planned at ``ROWS_PER_QUERY`` (group x bin) cells at most, and a
result that comes back full is split in two (its time range, else its groups) and asked again.

One query a region (``source_prefix``, the caller's choice for a whole region's fleet, not a
selection): when the largest set of groups sharing a plan holds more than 50 groups named under the
prefix that the store shows were read before (so they exist: a cold run keeps its batches, whose 6
hours over groups outside the fleet would be billed), and each of its spans is at most
``SOURCE_MAX_S`` long and planned at ``ROWS_PER_QUERY`` rows, those groups are asked with
``SOURCE logGroups(namePrefix: [prefix])`` ("SOURCE - Amazon CloudWatch Logs",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Source.html): rows of
other groups (deleted functions, other tools) are dropped by their ``@log``; the bytes scanned are
what the query reports, other groups' included. A full result, or a refusal (more than 10,000 groups
under the prefix; the runner remembers the region for the run), asks the same range 50 groups at a time.

A log group that does not exist (StartQuery's ResourceNotFoundException) is kept in the store with
its functions' revisions (``revisions``) for ``store.db.MISSING_KEEP_S`` and left out meanwhile: it
is reported missing without a failed StartQuery each run, unless a function of it changed since.
"""

from __future__ import annotations

import hashlib
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lambdaops.aws.insights import MAX_GROUPS_PER_QUERY, InsightsRunner
from lambdaops.errors import ServiceError
from lambdaops.collect.meter import Meter, add
from lambdaops.query_files import load as load_query
from lambdaops.collect.log_rows import bin_start, merge_into, row_cell
from lambdaops.store.cells import R, Cell
from lambdaops.store.db import Store, StoreUnavailable, open_store
from lambdaops.window import Window

BIN_S = 300
INGEST_DELAY_S = 15 * 60
MAX_ROWS = 10_000  # GetQueryResults returns at most this many rows
ROWS_PER_QUERY = 2_000  # (group, bin) cells a query is planned for: each is at least one row
# A SOURCE query reads every group under the prefix: only over a refresh's new minutes (and a bin
# that closed meanwhile), so that the bytes of groups outside the fleet stay those of a short range.
SOURCE_MAX_S = 30 * 60
SOURCE_MIN_GROUPS = MAX_GROUPS_PER_QUERY + 1  # fewer fit one named query, which reads only them
TOO_MANY_ROWS = f"more than {MAX_ROWS:,} Logs Insights result rows in one 5-minute bin of one log group"

BIN_FIELD = f"bin({BIN_S // 60}m)"
SECOND_FIELD = "bin(1s)"  # the head's rows: per second, so a later window's head is read from the store
_STATS = """| fields floor(log(coldMs) / log({r})) as initBucket
| stats count(durationMs) as invocations,
        count(coldMs) as coldStarts,
        sum(billedMs) as billedMs,
        max(memoryMB) as maxMemoryUsedMB
  by @log, streamFunction, {bin}, initBucket, timeoutId, oomId"""


def binned_query(bin_field: str = BIN_FIELD) -> tuple[str, str]:
    """(query text, its id in the store): cold-starts' pipeline up to its stats, then ours. The id
    changes with either, so a new lambdaops never merges bins an older query computed."""
    base = load_query("cold-starts").text
    cut = base.rfind("| stats")
    if cut < 0:  # pragma: no cover - the shipped query ends in stats
        raise ValueError("queries/cold-starts has no stats command to bin")
    text = base[:cut].rstrip() + "\n" + _STATS.format(r=1 + R, bin=bin_field)
    return text, hashlib.sha256(text.encode()).hexdigest()[:16]


def store_for(ctx, functions, cache_dir) -> Store | None:
    """The store of this endpoint, profile and account (read from the functions' ARNs: no extra
    call); None without a cache directory (``--no-cache``, the in-process demo)."""
    account = next((f.arn.split(":")[4] for f in functions if f.arn.count(":") >= 5), None)
    return open_store(cache_dir, ctx.endpoint_url, ctx.profile, account)


def seconds_of(window: Window) -> tuple[int, int]:
    """[S, E) in whole seconds: exactly what ``collect.query.time_range`` makes StartQuery read."""
    return int(window.start.timestamp()), int((window.end.timestamp()) - 1) + 1


def closed_bins(start: int, end: int, now: float) -> list[int]:
    """Starts of the bins wholly inside [start, end) that ended ``INGEST_DELAY_S`` before ``now``."""
    first = -(-start // BIN_S) * BIN_S
    last = min(end // BIN_S * BIN_S, int(now - INGEST_DELAY_S) // BIN_S * BIN_S)
    return list(range(first, last, BIN_S))


def needed_spans(start: int, end: int, closed: list[int], stored: set[int]) -> list[tuple[int, int]]:
    """The contiguous parts of [start, end) not covered by ``stored`` closed bins."""
    spans: list[tuple[int, int]] = []
    t = start
    for b in closed:
        if b in stored:
            if t < b:
                spans.append((t, b))
            t = b + BIN_S
    if t < end:
        spans.append((t, end))
    return spans


@dataclass
class BinnedLogs:
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)  # (log group, stream function)
    failed: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    bytes_scanned: float = 0.0
    bytes_saved: float = 0.0  # what the stored bins and partials used here cost when they were scanned
    notes: list[str] = field(default_factory=list)
    scanned: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # kind -> [start, end) asked


@dataclass
class _Task:
    groups: list[str]
    start: int
    end: int
    per_second: bool = False  # the head of a closed bin, asked per second and stored so
    source: bool = False  # asked with SOURCE logGroups(namePrefix: ...) instead of naming the groups


def plan(start: int, end: int, closed: list[int], stored: set[int], partial: dict[int, int],
         head_stored: bool = False) -> list[tuple[str, int, int]]:
    """What one log group needs asked of Insights for [start, end): (kind, from, to) pieces in time
    order. ``stored``: its closed bins in the store; ``partial``: bin start -> the end of its stored
    beginning (an open bin, or the bin the window's end cuts). Kinds: "head" (the window's unaligned
    start), "closed" (a closed bin not stored: asked once in full, which also catches lines delivered
    late), "new" (the rest of an open bin after what was scanned of it). ``head_stored``: the head is
    in the store, per second, from an earlier run."""
    pieces: list[tuple[str, int, int]] = []
    first_edge = -(-start // BIN_S) * BIN_S
    if start < first_edge and not head_stored:
        pieces.append(("head", start, min(first_edge, end)))
    closed_set = set(closed)
    for b in range(first_edge, end, BIN_S):
        if b in closed_set:
            if b not in stored:
                pieces.append(("closed", b, b + BIN_S))
            continue
        e = min(b + BIN_S, end)
        x = partial.get(b, b)
        if not b < x <= e:  # none stored, or it reaches past this window's end: ask it whole
            x = b
        if x < e:
            pieces.append(("new", x, e))
    return pieces


def spans_of(pieces: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """Contiguous pieces joined: one query each (StartQuery reads one time range)."""
    spans: list[tuple[int, int]] = []
    for _, a, b in pieces:
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def source_fits(pieces: list[tuple[str, int, int]], n_groups: int, head_apart: bool = False) -> bool:
    """The plan's spans (its head aside when asked per second: a full result falls back) each fit one
    SOURCE query over ``n_groups``."""
    for a, b in spans_of([p for p in pieces if not (head_apart and p[0] == "head")]):
        bins = (b - 1) // BIN_S - a // BIN_S + 1
        if b - a > SOURCE_MAX_S or n_groups * bins > ROWS_PER_QUERY:
            return False
    return True


def collect(runner: InsightsRunner, region: str, groups: list[str], window: Window, store: Store | None, *,
            meter: Meter | None = None, concurrency: int = 10, now: float | None = None,
            source_prefix: str | None = None, revisions: dict[str, str] | None = None) -> BinnedLogs:
    """The log cells of ``groups`` over ``window``: stored closed bins and the stored beginnings of
    open bins merged, the rest queried; closed bins queried are stored, and so is what was scanned of
    each open bin (a partial: the next run of a moving window asks only what came after it).
    ``source_prefix``: the groups are the whole region's fleet, and those named under it may be asked
    in one SOURCE query; ``revisions``: log group -> its functions' revision, which keys the memory
    of groups that do not exist."""
    text, qid = binned_query()
    per_second_text, sqid = binned_query(SECOND_FIELD)
    now = datetime.now(timezone.utc).timestamp() if now is None else now
    start, end = seconds_of(window)
    closed = closed_bins(start, end, now) if store is not None else []
    closed_set = set(closed)
    first_edge = -(-start // BIN_S) * BIN_S
    open_bins = [b for b in range(first_edge, end, BIN_S) if b not in closed_set] if store is not None else []
    # The head's bin, when it is closed and the head reaches its end: its seconds are final, kept.
    head_bin = first_edge - BIN_S if store is not None and start < first_edge <= end \
        and first_edge + INGEST_DELAY_S <= now else None
    out = BinnedLogs()
    remembered: dict[str, str] = {}
    if store is not None:
        try:
            remembered = store.get_missing_groups(region, {g: (revisions or {}).get(g, "") for g in groups})
        except StoreUnavailable:
            pass  # the bins' read below says so
        out.missing.update(remembered)
        groups = [g for g in groups if g not in remembered]
    stored: dict[tuple[str, int], tuple[float, dict[str, Cell]]] = {}
    partials: dict[tuple[str, int], tuple[int, float, dict[str, Cell]]] = {}
    suffixes: dict[str, tuple[int, float, dict[int, dict[str, Cell]]]] = {}
    if closed or open_bins or head_bin is not None:
        try:
            stored = store.get_log_bins(region, qid, groups, closed)
            partials = store.get_log_partials(region, qid, groups, open_bins)
            if head_bin is not None:
                suffixes = {g: sfx for g, sfx in store.get_log_suffixes(region, sqid, groups, head_bin).items()
                            if sfx[0] <= start}
        except StoreUnavailable as exc:
            out.notes.append(f"{region}: local store not read ({exc}): Logs Insights scanned the whole window")
        while store.rebuilt:
            out.notes.append(f"local store {store.path} was moved aside and rebuilt: {store.rebuilt.pop(0)}")
    for (g, _), (nbytes, cells) in stored.items():
        out.bytes_saved += nbytes
        for fn, cell in cells.items():
            merge_into(out.cells, (g, fn), cell)
    # Groups with the same needs share queries (after a moving window: all of them).
    # The stored beginnings this window can use: those that end inside it (plan's rule).
    prior = {k: p for k, p in partials.items() if k[1] < p[0] <= min(k[1] + BIN_S, end)}
    by_plan: dict[tuple, list[str]] = {}
    if store is None:
        by_plan[(("new", start, end),)] = list(groups)
    else:
        for g in groups:
            have = {b for b in closed if (g, b) in stored}
            reach = {b: p[0] for b in open_bins if (p := prior.get((g, b))) is not None}
            by_plan.setdefault(tuple(plan(start, end, closed, have, reach, g in suffixes)), []).append(g)
    for (g, b), (_, nbytes, cells) in prior.items():
        out.bytes_saved += nbytes
        for fn, cell in cells.items():
            merge_into(out.cells, (g, fn), cell)
    for g, (from_s, nbytes, seconds) in suffixes.items():  # the head: its seconds from the window's start
        out.bytes_saved += nbytes * (first_edge - start) / max(1, first_edge - from_s)
        for sec, cells in seconds.items():
            if sec >= start:
                for fn, cell in cells.items():
                    merge_into(out.cells, (g, fn), cell)
    add(meter, saved_bytes=out.bytes_saved)
    units: list[list[_Task]] = []  # each run in order by one worker
    batched = dict(by_plan)
    if source_prefix and store is not None and region not in getattr(runner, "source_refused", {}):
        known = {g for g, _ in stored} | {g for g, _ in prior} | set(suffixes)  # read before: they exist
        under = {pieces: [g for g in members if g in known and g.startswith(source_prefix)]
                 for pieces, members in by_plan.items() if pieces}
        pieces = max(under, key=lambda p: len(under[p]), default=None)
        if pieces is not None and len(under[pieces]) >= SOURCE_MIN_GROUPS \
                and source_fits(list(pieces), len(under[pieces]), head_bin is not None):
            chosen, taken = under[pieces], set(under[pieces])
            batched[pieces] = [g for g in by_plan[pieces] if g not in taken]
            if head_bin is not None and pieces[0][0] == "head":
                units.append([_Task(chosen, pieces[0][1], pieces[0][2], per_second=True, source=True)])
                pieces = pieces[1:]
            units.extend([_Task(chosen, a, b, source=True)] for a, b in spans_of(list(pieces)))
    for pieces, members in batched.items():
        for i in range(0, len(members), MAX_GROUPS_PER_QUERY):
            batch = members[i:i + MAX_GROUPS_PER_QUERY]
            step = max(1, ROWS_PER_QUERY // len(batch)) * BIN_S
            rest, head = list(pieces), []
            if head_bin is not None and pieces and pieces[0][0] == "head":  # asked per second, on its own
                head, rest = [_Task(batch, pieces[0][1], pieces[0][2], per_second=True)], rest[1:]
            for a, b in spans_of(rest):
                edge = -(-a // BIN_S) * BIN_S  # cuts at bin edges only: a stored bin is queried whole
                cuts = [a] + list(range(edge + step, b, step)) + [b]
                units.extend([_Task(batch, x, y)] for x, y in zip(cuts, cuts[1:]))
            # The head after another query of its batch: a log group that does not exist is then known
            # to the runner and left out, not found missing by two StartQuery calls at once.
            if head and units and units[-1][0].groups is batch:
                units[-1].extend(head)
            elif head:
                units.append(head)
    open_set = set(open_bins)
    new_bins: dict[tuple[str, int], tuple[float, dict[str, Cell]]] = {}
    new_partials: dict[tuple[str, int], tuple[int, float, dict[str, Cell]]] = {}
    new_suffixes: dict[tuple[str, int], tuple[int, float, dict[int, dict[str, Cell]]]] = {}
    lock = threading.Lock()

    def run(unit: list[_Task]) -> None:
        pending = unit[::-1]
        while pending:
            t = pending.pop()
            if t.source:
                try:
                    res = runner.run_source(region, per_second_text if t.per_second else text, [source_prefix],
                                            _dt(t.start), _dt(t.end - 1), limit=MAX_ROWS)
                except ServiceError:  # refused (more than 10,000 groups under the prefix): name them
                    pending.extend(_batches(t))
                    continue
            else:
                res = runner.run(region, per_second_text if t.per_second else text, t.groups, _dt(t.start),
                                 _dt(t.end - 1), limit=MAX_ROWS)
            add(meter, insights_bytes=res.bytes_scanned)
            with lock:
                out.bytes_scanned += res.bytes_scanned
                out.missing.update(res.missing_groups)
                out.failed.update(res.failed_groups)
            if len(res.rows) >= MAX_ROWS and t.source:  # other groups' rows too: name ours instead
                pending.extend(_batches(t))
                continue
            if len(res.rows) >= MAX_ROWS:
                split = _split(t)
                if split is None and t.per_second:  # too busy to keep per second: ask it as one piece
                    split = [_Task(t.groups, t.start, t.end)]
                if split is None:
                    with lock:
                        out.failed.update({g: TOO_MANY_ROWS for g in t.groups})
                else:
                    pending.extend(split)
                continue
            ok = [g for g in t.groups if g not in res.failed_groups and g not in res.missing_groups]
            if t.per_second:
                _take_seconds(res.rows, res.bytes_scanned, t, ok, head_bin, out, new_suffixes, lock)
                continue
            _take(res.rows, res.bytes_scanned, t, ok, closed_set, open_set, prior, out, new_bins, new_partials, lock)

    if len(units) == 1:
        run(units[0])
    elif units:
        with ThreadPoolExecutor(max_workers=min(max(1, concurrency), len(units)), thread_name_prefix="bins") as pool:
            list(pool.map(run, units))
    bad = set(out.failed) | set(out.missing)
    for pieces, members in by_plan.items():  # what was read: a missing log group is asked, never scanned
        if not set(members) <= bad:
            for kind in sorted({k for k, _, _ in pieces}):
                out.scanned.setdefault(kind, []).extend(spans_of([p for p in pieces if p[0] == kind]))
    for kind, ranges in out.scanned.items():
        if meter is not None:
            meter.add_scan(kind, ranges)
    keep = {k: v for k, v in new_bins.items() if k[0] not in bad}
    keep_partials = {k: v for k, v in new_partials.items() if k[0] not in bad}
    keep_suffixes = {k: v for k, v in new_suffixes.items() if k[0] not in bad}
    found_missing = {g: ((revisions or {}).get(g, ""), why) for g, why in out.missing.items() if g not in remembered}
    if store is not None and found_missing:
        try:
            store.put_missing_groups(region, found_missing)
        except StoreUnavailable:
            pass  # asked again next run
    if store is not None and (keep or keep_partials or keep_suffixes):
        try:
            store.put_log_bins(region, qid, BIN_S, keep, keep_partials, (sqid, keep_suffixes))
        except StoreUnavailable as exc:
            out.notes.append(f"{region}: local store not written ({exc}): the next run scans these bins again")
    return out


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _batches(t: _Task) -> list[_Task]:
    """A SOURCE task's range asked of its groups by name, 50 at a time (in reverse: tasks are popped)."""
    return [_Task(t.groups[i:i + MAX_GROUPS_PER_QUERY], t.start, t.end, t.per_second)
            for i in range(0, len(t.groups), MAX_GROUPS_PER_QUERY)][::-1]


def _split(t: _Task) -> list[_Task] | None:
    """Two halves of a task whose result was full: by time at a bin edge (a stored bin is never
    assembled from parts), else by log group; None for one group in one bin."""
    edges = range(t.start - t.start % BIN_S + BIN_S, t.end, BIN_S)
    if edges:
        mid = min(edges, key=lambda e: abs(2 * e - t.start - t.end))
        return [_Task(t.groups, t.start, mid, t.per_second), _Task(t.groups, mid, t.end, t.per_second)]
    if len(t.groups) > 1:
        half = len(t.groups) // 2
        return [_Task(t.groups[:half], t.start, t.end, t.per_second),
                _Task(t.groups[half:], t.start, t.end, t.per_second)]
    return None


def _take(rows, nbytes: float, t: _Task, ok: list[str], closed: set[int], open_bins: set[int], prior: dict,
          out: BinnedLogs, new_bins: dict, new_partials: dict, lock) -> None:
    """Fold a task's rows into the window's cells; for its closed bins, into bins to store; for its
    open bins, into partials to store (the stored beginning this run extended, plus these rows, now
    reaching the task's end or the bin's). Each stored piece carries a share of the task's bytes by
    its REPORT lines (StartQuery reports one byte count per query), the estimate of what reading it
    from the store saves next time."""
    ok_set = set(ok)
    bins = [b for b in range(t.start - t.start % BIN_S, t.end, BIN_S)
            if b in closed and t.start <= b and b + BIN_S <= t.end]
    opened = [b for b in range(t.start - t.start % BIN_S, t.end, BIN_S) if b in open_bins]
    fresh: dict[tuple[str, int], dict[str, Cell]] = {(g, b): {} for g in ok for b in bins + opened}
    weight: dict[tuple[str, int], float] = {}
    window_cells: dict[tuple[str, str], Cell] = {}
    for row in rows:
        group = (row.get("@log") or "").split(":", 1)[-1]
        if group not in ok_set:
            continue
        fn = row.get("streamFunction") or ""
        cell = row_cell(row)
        merge_into(window_cells, (group, fn), cell)
        b = bin_start(row.get(BIN_FIELD))
        key = (group, b)
        weight[key] = weight.get(key, 0.0) + cell.invocations
        if key in fresh:
            merge_into(fresh[key], fn, cell)
    total = sum(weight.values())
    cells_in_task = max(1, len(ok) * math.ceil((t.end - t.start) / BIN_S))
    with lock:
        for k, c in window_cells.items():
            merge_into(out.cells, k, c)
        for (g, b), cells in fresh.items():
            share = nbytes * (weight.get((g, b), 0.0) / total if total else 1.0 / cells_in_task)
            if b in open_bins:
                covered = min(t.end, b + BIN_S)
                _, before, old = prior.get((g, b), (None, 0.0, {}))
                for fn, c in old.items():
                    merge_into(cells, fn, c)
                new_partials[(g, b)] = (covered, before + share, cells)
            else:
                new_bins[(g, b)] = (share, cells)


def _take_seconds(rows, nbytes: float, t: _Task, ok: list[str], head_bin: int, out: BinnedLogs,
                  new_suffixes: dict, lock) -> None:
    """Fold a per-second head task's rows into the window's cells, and keep them per second: the
    end of ``head_bin`` from the task's start, which a later window starting inside it reads."""
    ok_set = set(ok)
    seconds: dict[str, dict[int, dict[str, Cell]]] = {g: {} for g in ok}
    weight: dict[str, float] = {}
    window_cells: dict[tuple[str, str], Cell] = {}
    for row in rows:
        group = (row.get("@log") or "").split(":", 1)[-1]
        sec = bin_start(row.get(SECOND_FIELD))
        if group not in ok_set or sec is None:
            continue
        fn = row.get("streamFunction") or ""
        cell = row_cell(row)
        merge_into(window_cells, (group, fn), cell)
        merge_into(seconds[group].setdefault(sec, {}), fn, cell)
        weight[group] = weight.get(group, 0.0) + cell.invocations
    total = sum(weight.values())
    with lock:
        for k, c in window_cells.items():
            merge_into(out.cells, k, c)
        for g in ok:
            share = nbytes * (weight.get(g, 0.0) / total if total else 1.0 / max(1, len(ok)))
            new_suffixes[(g, head_bin)] = (t.start, share, seconds[g])
