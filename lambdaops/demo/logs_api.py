"""CloudWatch Logs for the demo account: Logs Insights queries and FilterLogEvents over the rendered
log groups, and PutLogEvents from clients captured so it shows up in both.

Insights queries run asynchronously in a small worker pool (Scheduled -> Running -> Complete), with
AWS's limits: at most 50 log groups (or ``SOURCE logGroups(namePrefix: [...])``, see insights_source),
a 10,000-character query string, a cap on concurrent queries (``LimitExceededException``), and
``MalformedQueryException`` for what the engine does not support.
A query naming a log group that does not exist fails as a whole (``ResourceNotFoundException``).
Log groups keep their class (``logGroupClass``, which moto drops): DescribeLogGroups shows it, and
Insights gives Infrequent Access groups no field discovery.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway
from lambdaops.demo.insights import compile_query, run_query
from lambdaops.demo.insights_eval import NO_DISCOVERY
from lambdaops.demo.insights_memo import EventsMemo, GroupColumns, Segment
from lambdaops.demo.insights_source import select_groups, split_source
from lambdaops.demo.log_lines import COLUMNS, LogStore
from lambdaops.demo.log_groups import INFREQUENT_ACCESS, STANDARD, log_group_class

MAX_GROUPS = 50
MAX_QUERY_CHARS = 10_000
MIN_RUNNING_S = 0.05  # clients should see Running at least once, as against AWS
FILTER_PAGE = 10_000


@dataclass
class _Query:
    query_id: str
    region: str
    groups: list[str]
    query_string: str
    created: float
    status: str = "Scheduled"
    results: list = field(default_factory=list)
    statistics: dict = field(default_factory=lambda: {"recordsMatched": 0.0, "recordsScanned": 0.0,
                                                      "bytesScanned": 0.0})
    done_at: float | None = None
    error: str | None = None


def _group_name(ident: str) -> str:
    """logGroupIdentifiers may be ARNs: arn:aws:logs:r:a:log-group:NAME[:*]."""
    if ident.startswith("arn:"):
        name = ident.split(":log-group:", 1)[1]
        return name[:-2] if name.endswith(":*") else name
    return ident


class LogsService:
    def __init__(self, account, max_concurrent: int = 30) -> None:
        self.account = account
        self.max_concurrent = max_concurrent
        self._queries: dict[str, _Query] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-insights")
        self._columns: dict[tuple[str, str], tuple] = {}  # (region, group) -> (events, IA?, GroupColumns)
        self._column_locks: dict[tuple[str, str], threading.Lock] = {}

    @property
    def store(self) -> LogStore | None:
        state = self.account.state
        if state is None:
            return None
        if state.logs is None:
            state.logs = LogStore(state)
        return state.logs

    def knows(self, region: str, group: str) -> bool:
        """The demo renders this group's events. A group exists only once created in moto (seeded, or
        CreateLogGroup by a client): a function that never ran has a LoggingConfig naming a group that
        does not exist (Lambda creates it on the first invocation; Lambda developer guide, "Working
        with Lambda function logs")."""
        state = self.account.state
        return state is not None and _moto_group(region, group) is not None and (
            state.function_by_log_group(region, group) is not None or (region, group) in state.extra_logs)

    def frame(self, region: str, groups: list[str], start_ms: int, end_ms: int) -> pd.DataFrame:
        parts = []
        store = self.store
        any_ia = any(group_class(region, g) == INFREQUENT_ACCESS for g in groups)
        for g in groups:
            df = store.group_frame(region, g) if store else None
            if df is None or df.empty:
                continue
            ts = df["@timestamp"].to_numpy()
            lo, hi = np.searchsorted(ts, start_ms, "left"), np.searchsorted(ts, end_ms, "right")
            part = df.iloc[lo:hi]
            if any_ia:
                part = part.assign(**{NO_DISCOVERY: group_class(region, g) == INFREQUENT_ACCESS})
            parts.append(part)
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("@timestamp", "@ingestionTime") else object)
                                 for c in COLUMNS})
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def group_columns(self, region: str, group: str) -> GroupColumns | None:
        """The group's events with their derived columns (insights_memo), new when the events change."""
        store = self.store
        df = store.group_events(region, group) if store else None  # a DataFrame or its stand-in
        if df is None:
            return None
        ia = group_class(region, group) == INFREQUENT_ACCESS
        with self._lock:
            group_lock = self._column_locks.setdefault((region, group), threading.Lock())
        with group_lock:  # not the service's lock: restoring stored columns takes a moment
            hit = self._columns.get((region, group))
            if hit is None or hit[0] is not df or hit[1] != ia:
                cols = GroupColumns(df, ia)
                seeded = store.seeded.get((region, group))
                cache = getattr(self.account, "cache", None)
                if cache is not None and seeded is not None and seeded.events is df:
                    cache.restore_columns(region, group, cols, ia)  # computed by an earlier run (demo_cache)
                hit = self._columns[(region, group)] = (df, ia, cols)
        return hit[2]

    def events(self, region: str, groups: list[str], start_ms: int, end_ms: int) -> EventsMemo:
        """The events an Insights query reads: each group's slice of [start_ms, end_ms]."""
        segments = []
        for g in groups:
            cols = self.group_columns(region, g)
            if cols is None or not cols.n:
                continue
            ts = cols.events["@timestamp"].to_numpy()
            segments.append(Segment(cols, int(np.searchsorted(ts, start_ms, "left")),
                                    int(np.searchsorted(ts, end_ms, "right"))))
        return EventsMemo(segments)

    # -- Insights -------------------------------------------------------------------------------
    def start_query(self, req: DemoRequest) -> dict:
        body = req.json()
        groups = body.get("logGroupNames") or ([body["logGroupName"]] if body.get("logGroupName") else [])
        groups = groups + [_group_name(g) for g in body.get("logGroupIdentifiers") or []]
        qs = body.get("queryString") or ""
        if not qs.strip():
            raise DemoApiError("InvalidParameterException", "queryString must not be empty")
        if len(qs) > MAX_QUERY_CHARS:
            raise DemoApiError("InvalidParameterException", f"queryString is longer than {MAX_QUERY_CHARS} characters")
        # SOURCE logGroups(namePrefix: [...]) selects the groups itself and StartQuery names none
        # (lambdaops.demo.insights_source cites AWS's page)
        source, qs = split_source(qs)
        if source is not None:
            if groups:
                raise DemoApiError("InvalidParameterException",
                                   "A query with SOURCE cannot also specify logGroupNames or logGroupIdentifiers")
            groups = select_groups(source, _region_groups(req.region))
        elif not groups:
            raise DemoApiError("InvalidParameterException", "at least one log group is required")
        elif len(groups) > MAX_GROUPS:
            raise DemoApiError("InvalidParameterException",
                               f"A query can reference at most {MAX_GROUPS} log groups, got {len(groups)}")
        # One missing group fails the whole request (CloudWatch Logs API reference, StartQuery:
        # ResourceNotFoundException), whatever the others hold.
        for g in groups:
            if _moto_group(req.region, g) is None:
                raise DemoApiError("ResourceNotFoundException", f"Log group '{g}' does not exist")
        start, end = body.get("startTime"), body.get("endTime")
        if start is None or end is None:
            raise DemoApiError("InvalidParameterException", "startTime and endTime are required")
        if end < start:
            raise DemoApiError("InvalidParameterException", "endTime must be at or after startTime")
        compiled = compile_query(qs)  # raises MalformedQueryException before anything is scheduled
        limit = int(body.get("limit") or 10_000)
        with self._lock:
            running = sum(1 for q in self._queries.values() if q.status in ("Scheduled", "Running"))
            if running >= self.max_concurrent:
                raise DemoApiError("LimitExceededException",
                                   f"Account maximum query concurrency limit of [{self.max_concurrent}] reached.")
            q = _Query(str(uuid.uuid4()), req.region, groups, qs, time.time())
            self._queries[q.query_id] = q

        def run() -> None:
            q.status = "Running"
            try:
                read = self.events if getattr(self.account, "insights_memo", True) else self.frame
                events = read(req.region, groups, int(start) * 1000, int(end) * 1000 + 999)
                q.results, q.statistics = run_query(compiled, events, limit=limit)
                if q.status == "Running":
                    q.status = "Complete"
                cache = getattr(self.account, "cache", None)
                if cache is not None and not getattr(self.account, "save_cache_on_stop", False):
                    cache.columns_computed(self)  # kept for the next run (demo_cache)
            except DemoApiError as err:
                q.status, q.error = "Failed", err.message
            except Exception as exc:  # a bug in the demo must not hang a client polling forever
                q.status, q.error = "Failed", f"{type(exc).__name__}: {exc}"
            q.done_at = time.time()

        self._pool.submit(run)
        return {"queryId": q.query_id}

    def get_results(self, req: DemoRequest) -> dict:
        qid = req.json().get("queryId")
        with self._lock:
            q = self._queries.get(qid)
        if q is None:
            raise DemoApiError("ResourceNotFoundException", f"Query {qid} not found")
        status = q.status
        if status == "Complete" and time.time() - q.created < MIN_RUNNING_S:
            status = "Running"
        out = {"status": status, "statistics": q.statistics, "results": q.results if status == "Complete" else []}
        return out

    def stop_query(self, req: DemoRequest) -> dict:
        qid = req.json().get("queryId")
        with self._lock:
            q = self._queries.get(qid)
        if q is None:
            raise DemoApiError("ResourceNotFoundException", f"Query {qid} not found")
        if q.status not in ("Scheduled", "Running"):
            raise DemoApiError("InvalidParameterException", f"Query {qid} is not running")
        q.status = "Cancelled"
        return {"success": True}

    # -- FilterLogEvents --------------------------------------------------------------------------
    def filter_events(self, req: DemoRequest) -> dict | None:
        body = req.json()
        group = body.get("logGroupName") or _group_name(body.get("logGroupIdentifier") or "")
        if not self.knows(req.region, group):
            return None  # moto answers (and says ResourceNotFound for unknown groups)
        start = int(body.get("startTime") or 0)
        end = int(body.get("endTime") or 2**62)
        df = self.frame(req.region, [group], start, end)
        streams = body.get("logStreamNames")
        if streams:
            df = df[df["@logStream"].isin(streams)]
        prefix = body.get("logStreamNamePrefix")
        if prefix:
            df = df[df["@logStream"].str.startswith(prefix)]
        pattern = body.get("filterPattern")
        if pattern:
            df = df[filter_pattern_mask(pattern, df["@message"])]
        offset = int(body.get("nextToken") or 0)
        limit = min(int(body.get("limit") or FILTER_PAGE), FILTER_PAGE)
        page = df.iloc[offset:offset + limit]
        events = [{"logStreamName": s, "timestamp": int(t), "message": m, "ingestionTime": int(i),
                   "eventId": f"{int(t):d}{offset + k:012d}"}
                  for k, (t, m, s, i) in enumerate(zip(page["@timestamp"], page["@message"], page["@logStream"],
                                                        page["@ingestionTime"]))]
        out = {"events": events, "searchedLogStreams": []}
        if offset + limit < len(df):
            out["nextToken"] = str(offset + limit)
        return out


def _moto_group(region: str, group: str):
    from moto.logs.models import logs_backends

    from lambdaops.demo.fleet import ACCOUNT_ID

    return logs_backends[ACCOUNT_ID][region].groups.get(group)


def _region_groups(region: str) -> list[tuple[str, str]]:
    """(name, log class) of every log group of the region, as SOURCE chooses among them."""
    from moto.logs.models import logs_backends

    from lambdaops.demo.fleet import ACCOUNT_ID

    return [(name, group_class(region, name)) for name in list(logs_backends[ACCOUNT_ID][region].groups)]


def group_class(region: str, group: str) -> str:
    """A log group's class (kept by :mod:`lambdaops.demo.log_groups`, since moto drops it); STANDARD,
    AWS's default (CreateLogGroup API reference), for a group that does not exist."""
    return log_group_class(region, group) or STANDARD


# ---------------------------------------------------------------------------------------------
# filter patterns: terms, "quoted phrases", ?optional terms (any of), -excluded, { $.json = value }

_JSON_PATTERN = re.compile(r"^\{\s*\$\.([\w.\[\]]+)\s*(=|!=|>=|<=|>|<)\s*(\"[^\"]*\"|[^\s}]+)\s*\}$")


def filter_pattern_mask(pattern: str, messages: pd.Series) -> np.ndarray:
    pattern = pattern.strip()
    m = _JSON_PATTERN.match(pattern)
    if m:
        return _json_mask(m.group(1), m.group(2), m.group(3), messages)
    if pattern.startswith("{") or pattern.startswith("["):
        raise DemoApiError("InvalidParameterException", f"Invalid filter pattern (not supported by the demo): {pattern}")
    terms = re.findall(r'-?\?"[^"]*"|-?\?\S+|-?"[^"]*"|\S+', pattern)
    must = np.ones(len(messages), dtype=bool)
    any_of = []
    for t in terms:
        neg = t.startswith("-")
        t = t[1:] if neg else t
        opt = t.startswith("?")
        t = t[1:] if opt else t
        t = t.strip('"')
        hit = messages.str.contains(t, regex=False).to_numpy()
        if opt:
            any_of.append(hit)
        elif neg:
            must &= ~hit
        else:
            must &= hit
    if any_of:
        must &= np.logical_or.reduce(any_of)
    return must


def _json_mask(path: str, op: str, raw: str, messages: pd.Series) -> np.ndarray:
    import json

    want_str = raw.startswith('"')
    want = raw.strip('"')
    out = np.zeros(len(messages), dtype=bool)
    keys = path.split(".")
    for k, msg in enumerate(messages):
        if not msg.startswith("{"):
            continue
        try:
            doc = json.loads(msg)
        except ValueError:
            continue
        for key in keys:
            doc = doc.get(key) if isinstance(doc, dict) else None
        if doc is None:
            continue
        if want_str or op in ("=", "!="):
            if want_str or not isinstance(doc, (int, float)):
                v, w = str(doc), want
                if "*" in w:
                    res = re.fullmatch(re.escape(w).replace(r"\*", ".*"), v) is not None
                else:
                    res = v == w
                out[k] = res if op == "=" else not res
                continue
        try:
            v, w = float(doc), float(want)
        except (TypeError, ValueError):
            continue
        out[k] = {"=": v == w, "!=": v != w, ">": v > w, ">=": v >= w, "<": v < w, "<=": v <= w}[op]
    return out


def install(gw: Gateway, account) -> None:
    svc = LogsService(account)
    account.logs_service = svc

    gw.handle("logs", "StartQuery")(lambda req: DemoResponse.json("logs", svc.start_query(req)))
    gw.handle("logs", "GetQueryResults")(lambda req: DemoResponse.json("logs", svc.get_results(req)))
    gw.handle("logs", "StopQuery")(lambda req: DemoResponse.json("logs", svc.stop_query(req)))

    @gw.handle("logs", "FilterLogEvents")
    def _filter(req: DemoRequest):
        out = svc.filter_events(req)
        return None if out is None else DemoResponse.json("logs", out)

    @gw.postprocess("logs", "PutLogEvents")
    def _capture(req: DemoRequest, status: int, doc: dict):
        body = req.json()
        if account.state is not None:
            account.state.add_log_events(req.region, body.get("logGroupName", ""), body.get("logStreamName", ""),
                                         body.get("logEvents") or [])
        return None
