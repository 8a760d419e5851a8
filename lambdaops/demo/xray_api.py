"""X-Ray for the demo account: GetTraceSummaries (exact times, filter expressions) and BatchGetTraces.

moto truncates Duration to whole seconds, fixes ResponseTime at 1.0 and answers any
FilterExpression with a 500. The demo derives traces from the sampled invocation records instead:
a service segment (``AWS::Lambda``) and a function segment (``AWS::Lambda::Function``) with
``Initialization`` (cold starts only), ``Invocation`` (with downstream calls) and ``Overhead``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.fleet import ACCOUNT_ID
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway
from lambdaops.demo.traffic import ERROR, OK, FunctionTraffic, format_request_id
from lambdaops.demo.xray_ids import sampled_mask, segment_id, trace_id

MAX_WINDOW_S = 6 * 3600  # GetTraceSummaries, AWS X-Ray API Reference: a time range of at most 6 hours
PAGE = 100
_DOWNSTREAM = {"api": ("DynamoDB", "GetItem"), "queue": ("DynamoDB", "PutItem"), "stream": ("S3", "PutObject"),
               "async": ("S3", "GetObject"), "cron": ("Athena", "StartQueryExecution"),
               "diurnal": ("remote", "POST https://hooks.partner.example/v1/events")}


# ---------------------------------------------------------------------------------------------
# filter expressions: service("x") [{ fault|error|throttle }], duration/responsetime comparisons,
# fault/error/throttle/ok, annotation.cold_start, AND/OR/NOT/parentheses


_TOKEN = re.compile(r'\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"[^"]*")|(?P<op>>=|<=|!=|=|<|>|\(|\)|\{|\})|'
                    r'(?P<word>[A-Za-z_][A-Za-z0-9_.]*))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise DemoApiError("InvalidRequestException", f"Invalid filter expression at position {pos}: {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1].lower() != value):
            raise DemoApiError("InvalidRequestException", f"Invalid filter expression: expected {value or 'a term'}")
        self.i += 1
        return tok

    def parse(self):
        expr = self.or_()
        if self.peek() is not None:
            raise DemoApiError("InvalidRequestException", f"Invalid filter expression near {self.peek()[1]!r}")
        return expr

    def or_(self):
        left = self.and_()
        while self.peek() and self.peek()[1].upper() == "OR":
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda t: a(t) | b(t))(left, right)
        return left

    def and_(self):
        left = self.not_()
        while self.peek() and self.peek()[1].upper() == "AND":
            self.take()
            right = self.not_()
            left = (lambda a, b: lambda t: a(t) & b(t))(left, right)
        return left

    def not_(self):
        if self.peek() and self.peek()[1] in ("!",) or (self.peek() and self.peek()[1].upper() == "NOT"):
            self.take()
            inner = self.not_()
            return lambda t: ~inner(t)
        return self.atom()

    def atom(self):
        tok = self.peek()
        if tok is None:
            raise DemoApiError("InvalidRequestException", "Invalid filter expression: unexpected end")
        kind, value = tok
        low = value.lower()
        if value == "(":
            self.take()
            inner = self.or_()
            self.take(")")
            return inner
        if kind != "word":
            raise DemoApiError("InvalidRequestException", f"Invalid filter expression near {value!r}")
        self.take()
        if low in ("fault", "error", "throttle", "ok"):
            return lambda t, k=low: t[k]
        if low in ("duration", "responsetime"):
            op = self.take()[1]
            kind, num = self.take()
            if kind != "num":
                raise DemoApiError("InvalidRequestException", f"Invalid filter expression: {low} {op} needs a number, got {num!r}")
            return _compare(low, op, float(num))
        if low == "service":
            self.take("(")
            name = self.take()[1].strip('"')
            self.take(")")
            pred = lambda t, n=name: t["service"] == n  # noqa: E731
            if self.peek() and self.peek()[1] == "{":
                self.take("{")
                inner = self.or_()
                self.take("}")
                return lambda t, a=pred, b=inner: a(t) & b(t)
            return pred
        if low.startswith("annotation."):
            key = value.split(".", 1)[1]
            op = self.take()[1]
            raw = self.take()[1].strip('"').lower()
            if key != "cold_start":
                return lambda t: np.zeros(t["n"], dtype=bool)
            want = raw in ("true", "1")
            match = lambda t: t["cold"] == want  # noqa: E731
            return match if op == "=" else (lambda t: ~match(t))
        raise DemoApiError("InvalidRequestException", f"Invalid filter expression: unsupported keyword {value!r}")


def _compare(field: str, op: str, num: float):
    ops = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal, "=": np.equal,
           "!=": np.not_equal}
    if op not in ops:
        raise DemoApiError("InvalidRequestException", f"Invalid filter expression: bad operator {op!r}")
    return lambda t: ops[op](t[field], num)


def compile_filter(text: str | None):
    if not text or not text.strip():
        return lambda t: np.ones(t["n"], dtype=bool)
    return _Parser(text).parse()


# ---------------------------------------------------------------------------------------------


@dataclass
class _Sampled:
    traffic: FunctionTraffic
    idx: np.ndarray  # indices into the records of the sampled invocations
    generation: int


class TraceStore:
    def __init__(self, state) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._sampled: dict[tuple[str, str], _Sampled] = {}

    def sampled(self, traffic: FunctionTraffic) -> _Sampled:
        key = (traffic.spec.region, traffic.spec.name)
        with self._lock:
            hit = self._sampled.get(key)
            if hit and hit.generation == traffic.generation:
                return hit
        rec = traffic.records()
        hit = _Sampled(traffic, np.flatnonzero(sampled_mask(traffic.spec, rec)), traffic.generation)
        with self._lock:
            self._sampled[key] = hit
        return hit

    def table(self, traffic: FunctionTraffic) -> dict:
        """Columns the filter expressions evaluate over, for one function's sampled invocations."""
        s = self.sampled(traffic)
        rec = traffic.records()
        idx = s.idx
        init = np.nan_to_num(rec.init_ms[idx])
        dwell = 2.0 + (rec.rid[idx, 1] % np.uint64(9)).astype(float)
        duration_s = (init + rec.duration_ms[idx] + dwell + 1.5) / 1000.0
        status = rec.status[idx]
        return {"n": idx.size, "idx": idx, "service": traffic.spec.name, "duration": duration_s,
                "responsetime": duration_s, "fault": status > ERROR, "error": status == ERROR,
                "throttle": np.zeros(idx.size, dtype=bool), "ok": status == OK, "cold": ~np.isnan(rec.init_ms[idx]),
                "start_ms": rec.ts_ms[idx] - init.astype(np.int64) - dwell.astype(np.int64)}

    def find(self, region: str, tid: str):
        for traffic in self.state.functions_in(region):
            s = self.sampled(traffic)
            rec = traffic.records()
            epoch = int(tid.split("-")[1], 16) if tid.count("-") == 2 else -1
            lo = np.searchsorted(rec.ts_ms[s.idx], epoch * 1000)
            hi = np.searchsorted(rec.ts_ms[s.idx], (epoch + 1) * 1000)
            for j in range(lo, hi):
                i = int(s.idx[j])
                if trace_id(rec, i) == tid:
                    return traffic, i
        return None


def _summary(traffic: FunctionTraffic, table: dict, j: int) -> dict:
    rec = traffic.records()
    i = int(table["idx"][j])
    spec = traffic.spec
    fn_arn = spec.arn
    return {
        "Id": trace_id(rec, i),
        "StartTime": float(table["start_ms"][j]) / 1000.0,
        "Duration": round(float(table["duration"][j]), 3),
        "ResponseTime": round(float(table["responsetime"][j]), 3),
        "HasFault": bool(table["fault"][j]), "HasError": bool(table["error"][j]), "HasThrottle": False,
        "IsPartial": False,
        "Http": {},
        "Annotations": {"cold_start": [{"AnnotationValue": {"BooleanValue": bool(table["cold"][j])}}]},
        "EntryPoint": {"Name": spec.name, "Names": [spec.name], "Type": "AWS::Lambda"},
        "ServiceIds": [{"Name": spec.name, "Names": [spec.name], "AccountId": ACCOUNT_ID, "Type": "AWS::Lambda"},
                       {"Name": spec.name, "Names": [spec.name], "AccountId": ACCOUNT_ID,
                        "Type": "AWS::Lambda::Function"}],
        "ResourceARNs": [{"ARN": fn_arn}],
        "Users": [], "Revision": 1,
        "MatchedEventTime": float(table["start_ms"][j]) / 1000.0,
    }


def trace_document(traffic: FunctionTraffic, i: int) -> dict:
    """The segments of one trace, as BatchGetTraces returns them (documents are JSON strings)."""
    spec = traffic.spec
    rec = traffic.records()
    tid = trace_id(rec, i)
    rid = format_request_id(int(rec.rid[i, 0]), int(rec.rid[i, 1]))
    init = float(np.nan_to_num(rec.init_ms[i]))
    dur = float(rec.duration_ms[i])
    status = int(rec.status[i])
    dwell = 2.0 + int(rec.rid[i, 1] % np.uint64(9))
    t_invoke = int(rec.ts_ms[i]) / 1000.0
    t_init = t_invoke - init / 1000.0
    t0 = t_init - dwell / 1000.0
    t_end = t_invoke + dur / 1000.0 + 0.0015
    fn_seg_id = segment_id(rec, i)
    svc_seg_id = f"{(int(rec.rid[i, 0]) >> 5) % (1 << 64):016x}"
    down_svc, down_op = _DOWNSTREAM.get(spec.traffic, ("DynamoDB", "Query"))
    d_start = t_invoke + dur * 0.15 / 1000.0
    d_end = d_start + min(spec.io_ms, dur * 0.8) / 1000.0
    subsegments = []
    if init:
        subsegments.append({"id": f"{(int(rec.rid[i, 1]) >> 7) % (1 << 64):016x}", "name": "Initialization",
                            "start_time": t_init, "end_time": t_invoke,
                            "aws": {"function_arn": spec.arn}})
    invocation = {"id": f"{(int(rec.rid[i, 1]) >> 9) % (1 << 64):016x}", "name": "Invocation",
                  "start_time": t_invoke, "end_time": t_invoke + dur / 1000.0,
                  "subsegments": [{"id": f"{(int(rec.rid[i, 1]) >> 11) % (1 << 64):016x}", "name": down_svc,
                                   "namespace": "aws" if down_svc != "remote" else "remote",
                                   "start_time": d_start, "end_time": d_end,
                                   "aws": {"operation": down_op}} ]}
    if status == ERROR:
        invocation["error"] = True
    elif status != OK:
        invocation["fault"] = True
    subsegments.append(invocation)
    subsegments.append({"id": f"{(int(rec.rid[i, 1]) >> 13) % (1 << 64):016x}", "name": "Overhead",
                        "start_time": t_invoke + dur / 1000.0, "end_time": t_end})
    function_segment = {"id": fn_seg_id, "name": spec.name, "trace_id": tid, "parent_id": svc_seg_id,
                        "start_time": t_init, "end_time": t_end, "origin": "AWS::Lambda::Function",
                        "aws": {"account_id": ACCOUNT_ID, "function_arn": spec.arn,
                                "resource_names": [spec.name], "request_id": rid},
                        "subsegments": subsegments}
    service_segment = {"id": svc_seg_id, "name": spec.name, "trace_id": tid, "start_time": t0, "end_time": t_end,
                       "origin": "AWS::Lambda", "http": {"response": {"status": 200}},
                       "aws": {"request_id": rid, "account_id": ACCOUNT_ID, "resource_names": [spec.name]}}
    if status != OK:
        function_segment["error" if status == ERROR else "fault"] = True
    return {"Id": tid, "Duration": round(t_end - t0, 3), "LimitExceeded": False,
            "Segments": [{"Id": svc_seg_id, "Document": json.dumps(service_segment)},
                         {"Id": fn_seg_id, "Document": json.dumps(function_segment)}]}


def _epoch(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    from datetime import datetime

    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def install(gw: Gateway, account) -> None:
    def store() -> TraceStore | None:
        state = account.state
        if state is None:
            return None
        if state.traces is None:
            state.traces = TraceStore(state)
        return state.traces

    @gw.handle("xray", "GetTraceSummaries")
    def summaries(req: DemoRequest) -> DemoResponse:
        body = req.json()
        if "StartTime" not in body or "EndTime" not in body:
            raise DemoApiError("InvalidRequestException", "StartTime and EndTime are required")
        start, end = _epoch(body["StartTime"]), _epoch(body["EndTime"])
        if end <= start:
            raise DemoApiError("InvalidRequestException", "EndTime must be after StartTime")
        if end - start > MAX_WINDOW_S:
            raise DemoApiError("InvalidRequestException", "Time range cannot be greater than 6 hours")
        predicate = compile_filter(body.get("FilterExpression"))
        offset = int(body.get("NextToken") or 0)
        out: list[dict] = []
        ts = store()
        matches: list[tuple[float, FunctionTraffic, dict, int]] = []
        for traffic in (account.state.functions_in(req.region) if ts else []):
            table = ts.table(traffic)
            if table["n"] == 0:
                continue
            in_range = (table["start_ms"] >= start * 1000) & (table["start_ms"] < end * 1000)
            hit = np.flatnonzero(in_range & predicate(table))
            matches.extend((float(table["start_ms"][j]), traffic, table, int(j)) for j in hit)
        matches.sort(key=lambda m: m[0])
        for _, traffic, table, j in matches[offset:offset + PAGE]:
            out.append(_summary(traffic, table, j))
        resp = {"TraceSummaries": out, "ApproximateTime": time.time(), "TracesProcessedCount": len(matches)}
        if offset + PAGE < len(matches):
            resp["NextToken"] = str(offset + PAGE)
        return DemoResponse.json("xray", resp)

    @gw.handle("xray", "BatchGetTraces")
    def batch(req: DemoRequest) -> DemoResponse:
        ids = req.json().get("TraceIds") or []
        if len(ids) > 5:
            raise DemoApiError("InvalidRequestException", "TraceIds: at most 5 trace ids per call")
        traces, missing = [], []
        ts = store()
        for tid in ids:
            found = ts.find(req.region, tid) if ts else None
            if found is None:
                missing.append(tid)
            else:
                traces.append(trace_document(*found))
        return DemoResponse.json("xray", {"Traces": traces, "UnprocessedTraceIds": missing})
