"""Lambda's log lines in every shape AWS writes them, each case with the figures AWS's rules give.

Sources of the shapes (written from these, not from the demo):
- Text REPORT line, tab-separated, ``Init Duration`` on cold starts only; ``Status``/``Error Type`` on
  failed invokes; an ``XRAY TraceId`` line on traced functions: Lambda developer guide, "Working with
  Lambda function logs" and "Using CloudWatch Logs Insights with Lambda".
- JSON ``platform.report`` record (``LogFormat=JSON``): Lambda developer guide, "Configuring JSON and
  plain text log formats"; Telemetry API ``platform.report`` schema (``metrics.durationMs``,
  ``billedDurationMs``, ``memorySizeMB``, ``maxMemoryUsedMB``, ``initDurationMs``,
  ``restoreDurationMs``, ``billedRestoreDurationMs``; ``status``; ``errorType``).
- SnapStart: ``Restore Duration`` and ``Billed Restore Duration``, with ``Billed Duration`` already
  including the billed restore (real lines quoted in public bug reports: 2338.66 + 182 -> 2521,
  306.34 + 303 -> 610, 149.53 + 163 -> 313).
- INIT billed since 2025-08-01 ("AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog):
  inside Billed Duration (Init 1293.83 + Duration 1049.63 -> Billed 2344) or, on some lines, not shown
  there; a cold start bills max(Billed Duration, ceil(Duration + Init Duration)).
- Older runtimes: a separate ``<time>\t<requestId>\tTask timed out after 3.00 seconds`` line and no
  ``Status`` on the REPORT line; out-of-memory deaths as ``RequestId: <id> Error: Runtime exited with
  error: signal: killed`` followed by ``Runtime.ExitError``.
- Streams: ``YYYY/MM/DD/[$LATEST]<id>`` in a function's own group, ``YYYY/MM/DD/<function>[<version>]<id>``
  in a custom group (Lambda developer guide, "Sending Lambda function logs to CloudWatch Logs").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

OWN = "2026/11/22/[$LATEST]5b2c0f3e9a7d4c1b8e6f2a0d9c3b7e41"


def rid(n: int) -> str:
    return f"{n:08x}-1f2e-4d3c-9b8a-7f6e5d4c3b2a"


def tab(*parts: str) -> str:
    return "\t".join(parts)


def text(n: int, duration: str, billed: int, memory: int, used: int, *extra: str, sep: str = "\t") -> str:
    return sep.join([f"REPORT RequestId: {rid(n)}", f"Duration: {duration} ms", f"Billed Duration: {billed} ms",
                     f"Memory Size: {memory} MB", f"Max Memory Used: {used} MB", *extra])


def record(n: int, metrics: dict, status: str = "success", **more) -> str:
    rec = {"requestId": rid(n), "metrics": metrics, **more, "status": status}
    return json.dumps({"time": "2026-11-22T10:00:00.000Z", "type": "platform.report", "record": rec},
                      separators=(",", ":"))


def metrics(duration: float, billed: int, memory: int, used: int, **more) -> dict:
    return {"durationMs": duration, "billedDurationMs": billed, "memorySizeMB": memory, "maxMemoryUsedMB": used,
            **more}


@dataclass
class Case:
    name: str
    lines: list[str]  # one invocation's (or a few) log events, in order
    invocations: int
    cold_starts: int
    billed_ms: int  # what AWS bills
    max_memory_mb: int
    timeouts: int = 0
    out_of_memory: int = 0
    memory_size_mb: int = 128
    stream: str = OWN
    extra: dict = field(default_factory=dict)


TRACE = "1-6740a1b2-0123456789abcdef01234567"

CASES = [
    Case("text warm", [text(1, "15.74", 16, 128, 56)], 1, 0, 16, 56),
    Case("text cold, INIT inside Billed Duration (container image)",
         [text(2, "1049.63", 2344, 1024, 300, "Init Duration: 1293.83 ms")], 1, 1, 2344, 300, memory_size_mb=1024),
    Case("text cold, INIT left out of Billed Duration: billed anyway",
         [text(3, "15.74", 16, 128, 56, "Init Duration: 130.49 ms")], 1, 1, 147, 56),
    Case("text SnapStart restores: Billed Duration already holds the billed restore",
         [text(4, "2338.66", 2521, 2048, 188, "Restore Duration: 398.97 ms", "Billed Restore Duration: 182 ms"),
          text(5, "306.34", 610, 2048, 190, "Restore Duration: 420.10 ms", "Billed Restore Duration: 303 ms"),
          text(6, "149.53", 313, 2048, 191, "Restore Duration: 301.00 ms", "Billed Restore Duration: 163 ms")],
         3, 3, 2521 + 610 + 313, 191, memory_size_mb=2048),
    Case("text warm and cold with X-Ray lines",
         [text(7, "20.00", 20, 256, 80, "Init Duration: 180.25 ms", "") + f"\nXRAY TraceId: {TRACE}\t"
          "SegmentId: 1a2b3c4d5e6f7a8b\tSampled: true",
          text(8, "12.01", 13, 256, 81, "") + f"\nXRAY TraceId: {TRACE}\tSegmentId: 2a2b3c4d5e6f7a8b\tSampled: true"],
         2, 1, 201 + 13, 81, memory_size_mb=256),
    Case("text with spaces instead of tabs",
         [text(9, "100.50", 101, 512, 120, "Init Duration: 250.00 ms", sep=" "),
          text(10, "3000.00", 3000, 512, 121, "Status: timeout", sep="  ")],
         2, 1, 351 + 3000, 121, timeouts=1, memory_size_mb=512),
    Case("text timeout, new form (Status: timeout)",
         [text(11, "3000.00", 3000, 128, 60, "Status: timeout")], 1, 0, 3000, 60, timeouts=1),
    Case("text timeout, old form (separate Task timed out line, no Status)",
         [tab("2026-11-22T10:00:03.010Z", rid(12), "Task timed out after 3.00 seconds"),
          text(12, "3003.17", 3000, 128, 61)], 1, 0, 3000, 61, timeouts=1),
    Case("text timeout in both forms for one invocation: counted once",
         [f"2026-11-22T10:00:03.010Z {rid(13)} Task timed out after 3.00 seconds",
          text(13, "3000.00", 3000, 128, 62, "Init Duration: 200.00 ms", "Status: timeout")],
         1, 1, 3200, 62, timeouts=1),
    Case("text out of memory, new form",
         [text(14, "812.33", 813, 128, 128, "Status: error", "Error Type: Runtime.OutOfMemory")],
         1, 0, 813, 128, out_of_memory=1),
    Case("text out of memory, old form (signal: killed)",
         [f"RequestId: {rid(15)} Error: Runtime exited with error: signal: killed", "Runtime.ExitError",
          text(15, "790.00", 790, 128, 128)], 1, 0, 790, 128, out_of_memory=1),
    Case("text out of memory in both forms: counted once",
         [f"RequestId: {rid(16)} Error: Runtime exited with error: signal: killed",
          text(16, "790.00", 790, 128, 128, "Status: error", "Error Type: Runtime.OutOfMemory")],
         1, 0, 790, 128, out_of_memory=1),
    Case("text error that is not a timeout or OOM",
         [text(17, "45.00", 45, 128, 70, "Status: error", "Error Type: Runtime.ExitError")], 1, 0, 45, 70),
    Case("JSON warm", [record(18, metrics(12.5, 13, 128, 80))], 1, 0, 13, 80),
    Case("JSON cold, INIT inside billedDurationMs",
         [record(19, metrics(1049.63, 2344, 1024, 300, initDurationMs=1293.83))], 1, 1, 2344, 300,
         memory_size_mb=1024),
    Case("JSON cold, INIT left out of billedDurationMs",
         [record(20, metrics(693.92, 694, 128, 84, initDurationMs=397.68))], 1, 1, 1092, 84),
    Case("JSON SnapStart restore",
         [record(21, metrics(2338.66, 2521, 2048, 188, restoreDurationMs=398.97, billedRestoreDurationMs=182))],
         1, 1, 2521, 188, memory_size_mb=2048),
    Case("JSON traced, timeout and out of memory",
         [record(22, metrics(3000.0, 3000, 128, 90), "timeout",
                 tracing={"spanId": "1a2b3c4d5e6f7a8b", "type": "X-Amzn-Trace-Id",
                          "value": f"Root={TRACE};Parent=1a2b3c4d5e6f7a8b;Sampled=1"}),
          record(23, metrics(700.0, 700, 128, 128), "error", errorType="Runtime.OutOfMemory")],
         2, 0, 3700, 128, timeouts=1, out_of_memory=1),
    Case("JSON with spaces after colons", [json.dumps({"time": "2026-11-22T10:00:00.000Z", "type": "platform.report",
                                                       "record": {"requestId": rid(24), "metrics": metrics(
                                                           50.25, 51, 128, 70, initDurationMs=99.5),
                                                           "status": "success"}})], 1, 1, 150, 70),
    Case("shared group stream: function named in the stream",
         [text(25, "10.00", 10, 128, 40)], 1, 0, 10, 40, stream="2026/11/22/orders-worker[7]0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
]


def all_lines() -> list[tuple[str, str]]:
    return [(c.stream, line) for c in CASES for line in c.lines]
