"""A demo function's CloudWatch log events, rendered from its invocation records on demand.

Text-format functions get INIT_START / START / app lines / END / REPORT lines exactly as Lambda
writes them; JSON-format functions get ``platform.*`` records and JSON application logs. Rendering
is lazy (the first query touching a log group pays for it) and cached until the records change.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd

from lambdaops.demo.fleet import ACCOUNT_ID, FunctionSpec
from lambdaops.demo.traffic import ERROR, OOM, TIMEOUT, FunctionTraffic, Records, billed_restore_ms, format_request_id
from lambdaops.demo.xray_ids import sampled_mask, segment_id, trace_id

_RUNTIME_VERSION = {"python": "python:{v}.v41", "nodejs": "nodejs:{v}.v52", "java": "java:{v}.v33",
                    "provided": "provided:al2023.v71"}
_ERRORS = {
    "python": ("KeyError", "'customer_id'", ['  File "/var/task/app.py", line 42, in handler',
                                              '    customer = event["customer_id"]']),
    "nodejs": ("TypeError", "Cannot read properties of undefined (reading 'id')",
               ["    at Runtime.handler (file:///var/task/index.mjs:17:31)"]),
    "java": ("java.lang.IllegalStateException", "ledger entry already settled",
             ["\tat com.example.Handler.handleRequest(Handler.java:58)"]),
    "provided": ("Runtime.ExitError", "panic: runtime error: index out of range [3] with length 3",
                 ["goroutine 1 [running]:", "main.handle(...)"]),
}
COLUMNS = ["@timestamp", "@message", "@logStream", "@log", "@ingestionTime"]


def text_report(rid: str, duration_ms: float, billed_ms: int, memory_mb: int, used_mb: int, cold_ms: float | None,
                snapstart: bool, status: int, trace: tuple[str, str] | None = None, *,
                billed_restore_ms: int | None = None, legacy: bool = False) -> str:
    """A text-format REPORT line exactly as Lambda writes it (shared by the logs and Invoke's tail).

    Fields are tab-separated and the message ends with a tab and a newline; a sampled trace adds an
    ``XRAY`` line inside the same message (real messages quoted in public issues read
    "...Max Memory Used: 192 MB\t\n", e.g. DataBiosphere/azul#5720). SnapStart restores carry
    ``Restore Duration`` and ``Billed Restore Duration``, the latter already inside ``Billed Duration``
    ("Monitoring for Lambda SnapStart", AWS Lambda Developer Guide). ``legacy``: older runtimes put no
    ``Status`` on the line; the timeout or the crash is a separate message (alexa-samples issue #18:
    "REPORT ...\tMax Memory Used: 21 MB\t" then "<ts> <id> Task timed out after 3.07 seconds")."""
    line = (f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
            f"Memory Size: {memory_mb} MB\tMax Memory Used: {used_mb} MB")
    if cold_ms is not None and snapstart:
        if billed_restore_ms is None:
            raise ValueError("a SnapStart restore line needs its Billed Restore Duration")
        line += f"\tRestore Duration: {cold_ms:.2f} ms\tBilled Restore Duration: {billed_restore_ms} ms"
    elif cold_ms is not None:
        line += f"\tInit Duration: {cold_ms:.2f} ms"
    if status == TIMEOUT and not legacy:
        line += "\tStatus: timeout"
    elif status == OOM and not legacy:
        line += "\tStatus: error\tError Type: Runtime.OutOfMemory"
    line += "\t\n"
    if trace:
        line += f"XRAY TraceId: {trace[0]}\tSegmentId: {trace[1]}\tSampled: true\t\n"
    return line


def json_report(time_iso: str, rid: str, duration_ms: float, billed_ms: int, memory_mb: int, used_mb: int,
                cold_ms: float | None, snapstart: bool, status: int, trace: tuple[str, str] | None = None, *,
                billed_restore_ms: int | None = None) -> str:
    """A JSON-format ``platform.report`` record (compact, as Lambda writes it; metrics named as in the
    Telemetry API's platform.report schema: restoreDurationMs / billedRestoreDurationMs for SnapStart)."""
    metrics = (f'"durationMs":{duration_ms:.2f},"billedDurationMs":{billed_ms},"memorySizeMB":{memory_mb},'
               f'"maxMemoryUsedMB":{used_mb}')
    if cold_ms is not None and snapstart:
        if billed_restore_ms is None:
            raise ValueError("a SnapStart restore record needs its billedRestoreDurationMs")
        metrics += f',"restoreDurationMs":{cold_ms:.2f},"billedRestoreDurationMs":{billed_restore_ms}'
    elif cold_ms is not None:
        metrics += f',"initDurationMs":{cold_ms:.2f}'
    rec_status = "timeout" if status == TIMEOUT else "error" if status == OOM else "success"
    extra = ',"errorType":"Runtime.OutOfMemory"' if status == OOM else ""
    if trace:
        extra += (f',"tracing":{{"spanId":"{trace[1]}","type":"X-Amzn-Trace-Id",'
                  f'"value":"Root={trace[0]};Parent={trace[1]};Sampled=1"}}')
    return (f'{{"time":"{time_iso}","type":"platform.report","record":{{"requestId":"{rid}",'
            f'"metrics":{{{metrics}}},"status":"{rec_status}"{extra}}}}}')


def legacy_timeout_line(time_iso: str, rid: str, timeout_s: float) -> str:
    """The separate message an older runtime writes after the REPORT line of a timed-out invoke,
    space-separated as quoted in alexa-samples/skill-sample-nodejs-smarthome-switch#18 and
    awslabs/aws-lambda-redshift-loader#80."""
    return f"{time_iso} {rid} Task timed out after {timeout_s:.2f} seconds"


def legacy_oom_line(rid: str) -> str:
    """An older runtime's out-of-memory death: the runtime process is killed and Lambda reports
    Runtime.ExitError ("RequestId: <id> Error: Runtime exited with error: signal: killed" is the
    errorMessage quoted in doug-macleod/Pipe-1Dev#18); no Runtime.OutOfMemory anywhere."""
    return f"RequestId: {rid} Error: Runtime exited with error: signal: killed\nRuntime.ExitError"


def _family(runtime: str) -> str:
    return next((k for k in _RUNTIME_VERSION if runtime.startswith(k)), "provided")


def _iso_ms(ms: np.ndarray) -> list[str]:
    """Epoch ms -> '2026-11-22T10:00:00.123Z', vectorised (datetime objects per event are slow)."""
    if ms.size == 0:
        return []
    return [s + "Z" for s in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()]


def _stream_names(spec: FunctionSpec, rec: Records, starts_out: dict | None = None) -> np.ndarray:
    """One log stream per execution environment: a new one starts at each cold start. Default groups
    name it ``YYYY/MM/DD/[<version>]<id>``; a custom group (LoggingConfig.LogGroup) puts the function in
    front, ``YYYY/MM/DD/<function>[<version>]<id>``, so several functions can share the group
    ("Configuring CloudWatch log groups", AWS Lambda Developer Guide)."""
    if rec.n == 0:
        return np.array([], dtype=object)
    idx = np.arange(rec.n)
    env = np.maximum.accumulate(np.where(rec.cold, idx, 0))
    starts = np.unique(env)
    days = np.datetime_as_string(rec.ts_ms[starts].astype("datetime64[ms]").astype("datetime64[D]")).tolist()
    prefix = spec.name if spec.custom_log_group else ""
    versions = rec.version.tolist()
    names = {int(e): f"{d.replace('-', '/')}/{prefix}[{'$LATEST' if versions[e] == 0 else versions[e]}]"
                     f"{(int(rec.rid[e, 0]) ^ 0x5DEECE66D):016x}{int(rec.rid[e, 1]) % 10**8:08d}"
             for e, d in zip(starts.tolist(), days)}
    if starts_out is not None:  # the instant each name's date comes from (demo_cache shifts it)
        starts_out.update({names[e]: t for e, t in zip(starts.tolist(), rec.ts_ms[starts].tolist())})
    return np.array([names[e] for e in env.tolist()], dtype=object)


# Where a rendered message carries an ISO-8601 time ("2026-11-22T10:00:00.123Z"): demo_cache rewrites
# it when it moves a cached account to the present. NO_TIME: the message carries none.
NO_TIME = -1
_JSON_TIME = len('{"time":"')
_JSON_APP_TIME = len('{"timestamp":"')


def render_function(spec: FunctionSpec, rec: Records) -> pd.DataFrame:
    """All log events of one function, built column by column (one list comprehension per line
    kind, then a single sort) because per-event Python work is what makes this slow."""
    return render_function_parts(spec, rec).frame


def render_function_parts(spec: FunctionSpec, rec: Records) -> "RenderedGroup":
    """:func:`render_function`, with where each message writes a time (see :class:`RenderedGroup`)."""
    fam = _family(spec.runtime)
    version = "".join(ch for ch in spec.runtime if ch.isdigit() or ch == ".") or "al2023"
    runtime_version = _RUNTIME_VERSION[fam].format(v=version)
    err_type, err_msg, stack = _ERRORS[fam]
    n = rec.n
    ts = rec.ts_ms
    dur = rec.duration_ms
    end = ts + np.ceil(dur).astype(np.int64)
    rid = [format_request_id(h, l) for h, l in rec.rid.tolist()]
    status = rec.status
    cold = rec.cold
    init = rec.init_ms
    sampled = sampled_mask(spec, rec)
    traces = {i: (trace_id(rec, i), segment_id(rec, i)) for i in np.flatnonzero(sampled).tolist()}
    is_json = spec.log_format == "JSON"
    # (ts, order, messages, invocation index, where each message's ISO time starts, its trace id's time)
    parts: list[tuple[np.ndarray, int, list[str], np.ndarray, np.ndarray, np.ndarray]] = []

    def positions(at, n: int) -> np.ndarray:
        return np.full(n, at, dtype=np.int16) if np.isscalar(at) else np.asarray(at, dtype=np.int16)

    def part(idx: np.ndarray, when: np.ndarray, order: int, messages: list[str], tpos=NO_TIME, xpos=NO_TIME) -> None:
        parts.append((when.astype(np.int64), order, messages, idx, positions(tpos, len(messages)),
                      positions(xpos, len(messages))))

    legacy = spec.legacy_lines
    ci = np.flatnonzero(cold)
    # INIT_START lines (with the runtime version) came with runtime management controls ("Introducing
    # AWS Lambda runtime management controls", AWS Compute Blog, 2023): an older runtime's logs have none.
    si = ci[:0] if legacy else ci
    t_init = ts[si] - init[si].astype(np.int64)
    if is_json and spec.snapstart:  # a restore is platform.restoreStart (Lambda Telemetry API event schema)
        part(si, t_init, 0, [f'{{"time":"{t}","type":"platform.restoreStart","record":{{"runtimeVersion":'
                             f'"{runtime_version}","functionName":"{spec.name}","functionVersion":"$LATEST"}}}}'
                             for t in _iso_ms(t_init)], _JSON_TIME)
    elif is_json:
        part(si, t_init, 0, [f'{{"time":"{t}","type":"platform.initStart","record":{{"initializationType":"on-demand",'
                             f'"phase":"init","runtimeVersion":"{runtime_version}","functionName":"{spec.name}",'
                             f'"functionVersion":"$LATEST"}}}}' for t in _iso_ms(t_init)], _JSON_TIME)
    else:
        word = "RESTORE_START" if spec.snapstart else "INIT_START"
        part(si, t_init, 0, [f"{word} Runtime Version: {runtime_version}\tRuntime Version ARN: "
                             f"arn:aws:lambda:{spec.region}::runtime:{h % 10**12:012x}" for h in rec.rid[si, 0].tolist()])
    all_idx = np.arange(n)
    if is_json:
        part(all_idx, ts, 1, [f'{{"time":"{t}","type":"platform.start","record":{{"requestId":"{r}","version":"$LATEST"}}}}'
                              for t, r in zip(_iso_ms(ts), rid)], _JSON_TIME)
    else:
        part(all_idx, ts, 1, [f"START RequestId: {r} Version: $LATEST" for r in rid])

    # An older runtime's OOM death is reported after its REPORT line (below), not by the function.
    sample = (all_idx % 17 == 0) & ~((status == OOM) & legacy)
    logged = np.flatnonzero((status == ERROR) | ((status == OOM) & (not legacy)) | sample)
    stack_json = json.dumps(stack)
    msgs = []
    tpos = []
    for i, t in zip(logged.tolist(), _iso_ms(ts[logged] + 1)):
        st, r = int(status[i]), rid[i]
        tpos.append(_JSON_APP_TIME if is_json else 8 if st == ERROR else 0 if st == OOM else 7)
        if is_json:
            if st == ERROR:
                msgs.append(f'{{"timestamp":"{t}","level":"ERROR","requestId":"{r}","message":{json.dumps(f"{err_type}: {err_msg}")},'
                            f'"errorType":"{err_type}","stackTrace":{stack_json}}}')
            elif st == OOM:
                msgs.append(f'{{"timestamp":"{t}","level":"ERROR","requestId":"{r}","message":"Runtime exited with error: '
                            f'signal: killed","errorType":"Runtime.OutOfMemory"}}')
            else:
                msgs.append(f'{{"timestamp":"{t}","level":"INFO","requestId":"{r}","message":"processed event for {spec.name}"}}')
        elif st == ERROR:
            msgs.append(f"[ERROR] {t}\t{r}\t{err_type}: {err_msg}\nTraceback (most recent call last):\n" + "\n".join(stack))
        elif st == OOM:
            msgs.append(f"{t} {r} Error: Runtime exited with error: signal: killed\nRuntime.OutOfMemory")
        else:
            msgs.append(f"[INFO]\t{t}\t{r}\tprocessed event for {spec.name}")
    part(logged, ts[logged] + 1, 2, msgs, tpos)

    ti = np.flatnonzero(status == TIMEOUT)
    # Current runtimes write the timeout line before END and Status: timeout on the REPORT line (so one
    # invocation shows both forms); older ones write it only, after the REPORT line (order 6 below).
    part(ti, end[ti] + (2 if legacy else 0), 6 if legacy else 3,
         [legacy_timeout_line(t, rid[i], spec.timeout_s) for i, t in zip(ti.tolist(), _iso_ms(end[ti]))], 0)
    if legacy:
        oi = np.flatnonzero(status == OOM)
        part(oi, end[oi] + 2, 6, [legacy_oom_line(rid[i]) for i in oi.tolist()])
    if not is_json:
        part(all_idx, end, 4, [f"END RequestId: {r}" for r in rid])

    billed = rec.billed_ms.tolist()
    mem = rec.memory_mb.tolist()
    used = rec.max_mem_mb.tolist()
    durs = dur.tolist()
    inits = init.tolist()
    stats = status.tolist()
    times = _iso_ms(end) if is_json else None
    snap = spec.snapstart
    restores = [None] * n
    if snap and ci.size:
        for i, b in zip(ci.tolist(), billed_restore_ms(init[ci], rec.rid[ci, 1]).tolist()):
            restores[i] = b
    if is_json:
        reports = [json_report(times[i], rid[i], durs[i], billed[i], mem[i], used[i],
                               None if inits[i] != inits[i] else inits[i], snap, stats[i], traces.get(i),
                               billed_restore_ms=restores[i])
                   for i in range(n)]
    else:
        reports = [text_report(rid[i], durs[i], billed[i], mem[i], used[i],
                               None if inits[i] != inits[i] else inits[i], snap, stats[i], traces.get(i),
                               billed_restore_ms=restores[i], legacy=legacy)
                   for i in range(n)]
    # X-Ray trace ids start with the request's epoch seconds in hex ("1-5759e988-..."; X-Ray developer guide,
    # "Tracing header"): where a line carries one, demo_cache moves that time too.
    xpos = [NO_TIME] * n
    for i, (tid, _) in traces.items():
        xpos[i] = reports[i].find(tid) + 2
    part(all_idx, end + 1, 5, reports, _JSON_TIME if is_json else NO_TIME, xpos)

    when = np.concatenate([p[0] for p in parts])
    order = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
    inv = np.concatenate([p[3] for p in parts])
    messages = np.array([m for p in parts for m in p[2]], dtype=object)
    sort = np.lexsort((order, inv, when))
    stream_starts: dict[str, int] = {}
    streams = _stream_names(spec, rec, stream_starts)
    when = when[sort]
    tpos = np.concatenate([p[4] for p in parts])[sort]
    xpos = np.concatenate([p[5] for p in parts])[sort]
    frame = pd.DataFrame({
        "@timestamp": when,
        "@message": messages[sort],
        "@logStream": streams[inv[sort]] if n else np.array([], dtype=object),
        "@log": f"{ACCOUNT_ID}:{spec.log_group_name}",
        "@ingestionTime": when + 300,
    })
    return RenderedGroup(frame, tpos, xpos, stream_starts)


class RenderedGroup:
    """A log group's events as seeded, with what demo_cache needs to move them in time: where each
    message's ISO time starts and where the epoch seconds of its X-Ray trace id start (``NO_TIME``:
    none), and the instant each stream name's date comes from.

    ``events`` is what queries read: the ``frame`` itself for a group rendered here, or for a group
    demo_cache kept, its ``moved_events.MovedEvents`` (moved in time where read; ``frame`` is then
    made from it when something needs the whole DataFrame)."""

    def __init__(self, frame: pd.DataFrame | None, tpos: np.ndarray, xpos: np.ndarray, stream_starts: dict[str, int],
                 events=None) -> None:
        self._frame = frame
        self.events = frame if events is None else events
        self.tpos, self.xpos, self.stream_starts = tpos, xpos, stream_starts

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame if self._frame is not None else self.events.to_frame()

    def rows_frame(self, rows: np.ndarray) -> pd.DataFrame:
        """These events only, as a DataFrame indexed from 0."""
        if self._frame is None:
            return self.events.rows_frame(rows)
        return self._frame.iloc[rows].reset_index(drop=True)


class LogStore:
    """Rendered log groups, cached per function until its records change; plus client-put events.

    ``stored(region, group)`` gives a group's :class:`RenderedGroup` as seeded, or None (demo_cache keeps
    them between runs): asked instead of rendering while none of the group's functions has new records.
    Groups as seeded are kept in :attr:`seeded` (what demo_cache writes, and how it tells them apart)."""

    def __init__(self, state, stored=None) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._group_locks: dict[tuple[str, str], threading.Lock] = {}
        self._cache: dict[tuple[str, str], tuple[tuple, int, pd.DataFrame]] = {}
        self._stored = stored
        self.seeded: dict[tuple[str, str], RenderedGroup] = {}

    def warm(self) -> None:
        """Render every group ahead of the first query (run in a background thread); a group kept by
        demo_cache is only opened (its messages move in time where queries read them)."""
        for region, group in sorted({(t.spec.region, t.spec.log_group_name) for t in self.state.traffic.values()}):
            self.group_events(region, group)

    def group_frame(self, region: str, group: str) -> pd.DataFrame | None:
        """All events of a log group (None when the demo knows nothing of it): every function logging
        to it (a custom group may be shared) plus what clients put there."""
        events = self.group_events(region, group)
        return events if events is None or isinstance(events, pd.DataFrame) else events.to_frame()

    def group_events(self, region: str, group: str):
        """:meth:`group_frame`, or for a group as seeded that demo_cache kept, its events moved in
        time where read (``moved_events.MovedEvents``, a stand-in for the DataFrame). The same
        object until the group's events change."""
        key = (region, group)
        with self._lock:
            group_lock = self._group_locks.setdefault(key, threading.Lock())
        with group_lock:  # one render per group, however many queries ask at once
            functions: list[FunctionTraffic] = functions_logging_to(self.state, region, group)
            extra = self.state.extra_logs.get(key, [])
            gen = tuple((t.spec.name, t.generation) for t in functions)
            hit = self._cache.get(key)
            if hit and hit[0] == gen and hit[1] == len(extra):
                return hit[2]
            as_seeded = not extra and all(g == 0 for _, g in gen)
            rendered = self._stored(region, group) if as_seeded and self._stored is not None else None
            if rendered is None:
                rendered = self._render(functions)
                if rendered is None and not extra:
                    return None
            if as_seeded and rendered is not None:
                self.seeded[key] = rendered
            if rendered is not None and not extra:
                self._cache[key] = (gen, 0, rendered.events)
                return rendered.events
            frames = [rendered.frame] if rendered is not None else []
            if extra:
                df = pd.DataFrame(list(extra))
                df["@log"] = f"{ACCOUNT_ID}:{group}"
                df["@ingestionTime"] = df["@timestamp"]
                frames.append(df[COLUMNS])
            frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True).sort_values(
                "@timestamp", kind="stable", ignore_index=True)
            self._cache[key] = (gen, len(extra), frame)
            return frame

    @staticmethod
    def _render(functions: list[FunctionTraffic]) -> RenderedGroup | None:
        parts = [render_function_parts(t.spec, t.records()) for t in functions]
        if len(parts) <= 1:
            return parts[0] if parts else None
        frame = pd.concat([p.frame for p in parts], ignore_index=True)
        order = np.argsort(frame["@timestamp"].to_numpy(), kind="stable")
        return RenderedGroup(frame.iloc[order].reset_index(drop=True), np.concatenate([p.tpos for p in parts])[order],
                             np.concatenate([p.xpos for p in parts])[order],
                             {k: v for p in parts for k, v in p.stream_starts.items()})


def functions_logging_to(state, region: str, group: str) -> list[FunctionTraffic]:
    """The fleet's functions whose log events land in ``group``: all of them for a shared custom group,
    none for a function that never ran (Lambda creates its default group on the first invocation; an
    Invoke through the demo makes it appear)."""
    return [t for (r, _), t in sorted(state.traffic.items()) if r == region and t.spec.log_group_name == group
            and (t.spec.has_log_group or t.records().n > 0)]
