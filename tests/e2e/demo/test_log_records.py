"""The demo account's log records in the shapes AWS writes them, and its truth recomputed from them.

The e2e tests read the raw events with plain boto3 (FilterLogEvents) from the served demo and parse them
here with their own patterns, written from the documented formats (Lambda Developer Guide, "Working with Lambda function logs"), not with
the product's parser; the figures they add up must equal the truth file's.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime

import numpy as np
import pytest

from lambdaops.demo.fleet import SHARED_LOG_GROUP, build_fleet
from lambdaops.demo.traffic import OOM, TIMEOUT, aws_billed_ms, billed_duration_ms, billed_restore_ms, generate_function

T1 = 1_790_000_000_000
T0 = T1 - 3 * 3600_000
NEW = ("storefront-cart", "storefront-search", "storefront-reviews", "reports-backfill", "legacy-image-meta",
       "audit-trail-writer", "fx-rates-api", "geo-lookup")
ORIGINAL = ("checkout-api", "orders-api", "auth-authorizer", "payments-async", "image-resize", "orders-stream-consumer",
            "inventory-sync", "order-queue-worker", "billing-fifo-worker", "quote-service", "metrics-rollup",
            "email-sender", "pdf-render", "search-indexer", "webhook-receiver", "user-profile-api", "checkout-api-eu",
            "gdpr-export", "tax-calculator", "notifications-fanout", "ledger-fifo-consumer", "session-cleanup",
            "price-feed-consumer", "thumbnail-eu")

RID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Text REPORT: tab-separated fields, a trailing tab and newline, an XRAY line when the trace was sampled.
REPORT_RE = re.compile(
    rf"^REPORT RequestId: (?P<rid>{RID})\tDuration: (?P<d>\d+\.\d\d) ms\tBilled Duration: (?P<b>\d+) ms\t"
    r"Memory Size: (?P<m>\d+) MB\tMax Memory Used: (?P<u>\d+) MB"
    r"(?:\tInit Duration: (?P<i>\d+\.\d\d) ms)?"
    r"(?:\tRestore Duration: (?P<r>\d+\.\d\d) ms\tBilled Restore Duration: (?P<br>\d+) ms)?"
    r"(?:\tStatus: (?P<st>timeout|error)(?:\tError Type: (?P<et>[\w.]+))?)?\t\n"
    r"(?:XRAY TraceId: 1-[0-9a-f]{8}-[0-9a-f]{24}\tSegmentId: [0-9a-f]{16}\tSampled: true\t\n)?$")
TIMEOUT_RE = re.compile(rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z (?P<rid>{RID}) Task timed out after "
                        r"(?P<s>\d+\.\d\d) seconds$")
OLD_OOM_RE = re.compile(rf"^RequestId: (?P<rid>{RID}) Error: Runtime exited with error: signal: killed\nRuntime\.ExitError$")
CUSTOM_STREAM_RE = re.compile(r"^\d{4}/\d\d/\d\d/(?P<fn>[^\[/]+)\[(?:\$LATEST|\d+)\][0-9a-f]+$")
DEFAULT_STREAM_RE = re.compile(r"^\d{4}/\d\d/\d\d/\[(?:\$LATEST|\d+)\][0-9a-f]+$")


def _ceil(x: float) -> int:
    return math.ceil(round(x, 6))


# ------------------------------------------------------------------------------------------------
# unit: the billing rules and the fleet, no server


def test_the_original_fleet_keeps_its_names_and_gains_the_awkward_shapes():
    names = [f.name for f in build_fleet()]
    assert tuple(names[:24]) == ORIGINAL and tuple(names[24:]) == NEW
    assert [f.name for f in build_fleet(functions=24)] == list(ORIGINAL)
    specs = {f.name: f for f in build_fleet()}
    assert sum(f.log_group_name == SHARED_LOG_GROUP for f in specs.values()) >= 2
    assert not specs["reports-backfill"].has_log_group and specs["reports-backfill"].traffic == "none"
    assert specs["audit-trail-writer"].log_group_class == "INFREQUENT_ACCESS"
    assert specs["legacy-image-meta"].legacy_lines and specs["legacy-image-meta"].runtime == "nodejs12.x"


def test_billed_duration_includes_init_unless_the_function_leaves_it_out():
    specs = {f.name: f for f in build_fleet()}
    # a real INIT-billed line ("AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog): Init 1293.83 + Duration 1049.63 -> Billed 2344
    args = (np.array([1049.63, 20.2]), np.array([1293.83, np.nan]), np.array([5, 6], dtype=np.uint64))
    assert billed_duration_ms(specs["orders-api"], *args).tolist() == [2344, 21]
    assert billed_duration_ms(specs["geo-lookup"], *args).tolist() == [1050, 21]


def test_snapstart_billed_duration_already_holds_the_smaller_billed_restore():
    spec = next(f for f in build_fleet() if f.name == "quote-service")
    restore = np.linspace(50, 3000, 400)
    lo = np.arange(400, dtype=np.uint64) * np.uint64(7919) << np.uint64(7)
    br = billed_restore_ms(restore, lo)
    assert (br > 0).all() and (br < restore).all() and len(set(br / restore)) > 100
    duration = np.full(400, 306.34)
    billed = billed_duration_ms(spec, duration, restore, lo)
    assert (billed == np.ceil(np.round(duration + br, 6))).all()


def test_aws_bills_init_even_when_the_line_leaves_it_out():
    fleet = build_fleet()
    i, spec = next((i, f) for i, f in enumerate(fleet) if f.name == "geo-lookup")
    rec = generate_function(spec, i, 7, T0, T1)
    cold = rec.cold
    assert cold.any()
    assert (rec.billed_ms[cold] == np.ceil(rec.duration_ms[cold])).all()  # the line leaves INIT out
    billed = aws_billed_ms(spec, rec)
    assert (billed[cold] == np.ceil(np.round(rec.duration_ms[cold] + rec.init_ms[cold], 6))).all()
    assert (billed[~cold] == rec.billed_ms[~cold]).all()


def test_generation_is_deterministic_and_the_never_ran_function_has_no_records():
    from lambdaops.demo.log_lines import render_function

    fleet = build_fleet()
    for name in ("legacy-image-meta", "storefront-reviews", "reports-backfill"):
        i, spec = next((i, f) for i, f in enumerate(fleet) if f.name == name)
        a, b = generate_function(spec, i, 7, T0, T1), generate_function(spec, i, 7, T0, T1)
        assert (a.billed_ms == b.billed_ms).all() and (a.rid == b.rid).all()
        assert render_function(spec, a).equals(render_function(spec, b))
        assert (a.n == 0) == (name == "reports-backfill")


# ------------------------------------------------------------------------------------------------
# e2e: the served demo, read with plain boto3


def _window_ms(truth):
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return int(parse(truth["window"]["start"]).timestamp() * 1000), int(parse(truth["window"]["end"]).timestamp() * 1000)


def _events(logs, group, start, end):
    out, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=group, startTime=start, endTime=end,
                                      filterPattern='?REPORT ?"Task timed out" ?"signal: killed" ?"platform.report"',
                                      **kw)
        out += page["events"]
        token = page.get("nextToken")
        if not token:
            return out


class Figures:
    def __init__(self) -> None:
        self.reports: list[dict] = []
        self.timed_out: set[str] = set()
        self.oom: set[str] = set()
        self.report_ts: dict[str, int] = {}
        self.after_report: list[bool] = []

    def add(self, message: str, ts: int) -> bool:
        m = REPORT_RE.match(message)
        if m:
            g = m.groupdict()
            rep = {"rid": g["rid"], "d": float(g["d"]), "b": int(g["b"]), "m": int(g["m"]), "u": int(g["u"]),
                   "i": None if g["i"] is None else float(g["i"]), "r": None if g["r"] is None else float(g["r"]),
                   "br": None if g["br"] is None else int(g["br"]), "status": g["st"], "text": True}
            if g["st"] == "timeout":
                self.timed_out.add(g["rid"])
            if g["et"] == "Runtime.OutOfMemory":
                self.oom.add(g["rid"])
            self.reports.append(rep)
            self.report_ts[g["rid"]] = ts
            return True
        for pattern, bucket in ((TIMEOUT_RE, self.timed_out), (OLD_OOM_RE, self.oom)):
            m = pattern.match(message)
            if m:
                bucket.add(m["rid"])
                self.after_report.append(ts >= self.report_ts.get(m["rid"], 2**62))
                return True
        if message.startswith("{"):
            doc = json.loads(message)
            if doc.get("type") != "platform.report":
                return False
            rec, met = doc["record"], doc["record"]["metrics"]
            self.reports.append({"rid": rec["requestId"], "d": met["durationMs"], "b": met["billedDurationMs"],
                                 "m": met["memorySizeMB"], "u": met["maxMemoryUsedMB"], "i": met.get("initDurationMs"),
                                 "r": met.get("restoreDurationMs"), "br": met.get("billedRestoreDurationMs"),
                                 "status": rec["status"], "text": False})
            if rec["status"] == "timeout":
                self.timed_out.add(rec["requestId"])
            if rec.get("errorType") == "Runtime.OutOfMemory":
                self.oom.add(rec["requestId"])
            return True
        return False

    def billed_ms(self) -> int:
        """AWS's rule ("AWS Lambda standardizes billing for INIT Phase"): Billed Duration, and for an INIT cold start at least
        ceil(Duration + Init Duration); a SnapStart line's Billed Duration already holds the restore."""
        return sum(max(r["b"], _ceil(r["d"] + r["i"])) if r["i"] is not None else r["b"] for r in self.reports)


@pytest.fixture(scope="module")
def records(served_demo):
    """Per new function (and quote-service, the text SnapStart one): the figures its raw log events give."""
    truth = served_demo.truth
    start, end = _window_ms(truth)
    wanted = {t["name"]: t for t in truth["functions"] if t["name"] in NEW + ("quote-service",)}
    figures: dict[str, Figures] = {}
    streams: dict[str, set[str]] = {}
    for region, group in sorted({(t["region"], t["log_group"]) for t in wanted.values() if t["log_group_exists"]}):
        owners = [t["name"] for t in truth["functions"] if t["region"] == region and t["log_group"] == group]
        for ev in _events(served_demo.client("logs", region), group, start, end):
            stream = ev["logStreamName"]
            custom = CUSTOM_STREAM_RE.match(stream)
            if custom:
                fn = custom["fn"]
            else:
                assert DEFAULT_STREAM_RE.match(stream) and len(owners) == 1, stream
                fn = owners[0]
            streams.setdefault(group, set()).add(fn)
            assert figures.setdefault(fn, Figures()).add(ev["message"], ev["timestamp"]), repr(ev["message"])
    return truth, wanted, figures, streams


def test_truth_equals_the_figures_recomputed_from_the_raw_log_events(records):
    truth, wanted, figures, _ = records
    for name, t in wanted.items():
        if not t["log_group_exists"]:
            continue
        f = figures[name]
        mem = {r["m"] for r in f.reports}
        assert mem == {t["memory_mb"]}, name
        assert len(f.reports) == t["invocations"] > 0, name
        assert sum(r["i"] is not None or r["r"] is not None for r in f.reports) == t["cold_starts"] > 0, name
        assert len(f.timed_out) == t["timeouts"], name
        assert len(f.oom) == t["out_of_memory"], name
        assert f.billed_ms() == t["billed_ms"], name
        assert f.billed_ms() / 1000 * t["memory_mb"] / 1024 == pytest.approx(t["billed_gb_seconds"], rel=1e-9), name


def test_report_lines_bill_as_aws_does(records):
    _, wanted, figures, _ = records
    specs = {f.name: f for f in build_fleet()}
    for name, f in figures.items():
        spec = specs[name]
        for r in f.reports:
            if r["r"] is not None:  # SnapStart: the smaller billed restore is already in Billed Duration
                assert spec.snapstart and r["br"] < r["r"] and r["b"] == _ceil(r["d"] + r["br"]), (name, r)
            elif r["i"] is not None and spec.init_in_billed_line:
                assert r["b"] == _ceil(r["d"] + r["i"]), (name, r)
            else:  # warm, or a line that leaves INIT out although AWS bills it
                assert r["b"] == max(1, _ceil(r["d"])), (name, r)
    assert any(r["r"] is not None and not r["text"] for r in figures["fx-rates-api"].reports)  # JSON SnapStart
    assert any(r["r"] is not None and r["text"] for r in figures["quote-service"].reports)
    geo = [r for r in figures["geo-lookup"].reports if r["i"] is not None]
    assert geo and all(r["b"] < _ceil(r["d"] + r["i"]) for r in geo)


def test_the_old_runtime_writes_separate_timeout_and_killed_lines(records):
    truth, _, figures, _ = records
    f = figures["legacy-image-meta"]
    assert all(r["status"] is None for r in f.reports)  # no Status: on any REPORT line
    t = next(x for x in truth["functions"] if x["name"] == "legacy-image-meta")
    assert t["timeouts"] > 0 and t["out_of_memory"] > 0
    assert len(f.after_report) == t["timeouts"] + t["out_of_memory"] and all(f.after_report)


def test_the_shared_group_holds_streams_of_each_of_its_functions(records):
    truth, _, figures, streams = records
    sharing = {t["name"] for t in truth["functions"] if t["log_group"] == SHARED_LOG_GROUP}
    assert len(sharing) >= 2 and streams[SHARED_LOG_GROUP] == sharing
    assert all(t["log_group_shared"] for t in truth["functions"] if t["name"] in sharing)
    assert {r["text"] for n in sharing for r in figures[n].reports} == {True, False}  # text and JSON in one group


def test_the_function_that_never_ran_has_no_log_group(served_demo):
    from botocore.exceptions import ClientError

    truth = served_demo.truth
    t = next(x for x in truth["functions"] if x["name"] == "reports-backfill")
    logs = served_demo.client("logs", t["region"])
    names = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=t["log_group"])["logGroups"]]
    assert t["log_group"] not in names
    cfg = served_demo.client("lambda", t["region"]).get_function(FunctionName=t["name"])["Configuration"]
    assert cfg["LoggingConfig"]["LogGroup"] == t["log_group"]
    with pytest.raises(ClientError) as err:
        logs.start_query(logGroupNames=[t["log_group"]], startTime=0, endTime=10, queryString="fields @message")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert t["invocations"] == t["errors"] == t["throttles"] == 0 and not t["log_group_exists"]
    for key in ("cold_starts", "timeouts", "out_of_memory", "billed_gb_seconds", "memory_used_max_mb"):
        assert t[key] is None and "no log group" in t["notes"][key]


def test_the_infrequent_access_group_reports_its_class(served_demo):
    truth = served_demo.truth
    t = next(x for x in truth["functions"] if x["name"] == "audit-trail-writer")
    logs = served_demo.client("logs", t["region"])
    (group,) = logs.describe_log_groups(logGroupNamePrefix=t["log_group"])["logGroups"]
    assert group["logGroupClass"] == "INFREQUENT_ACCESS" == t["log_group_class"]
    ia = [g["logGroupName"] for g in logs.describe_log_groups(logGroupClass="INFREQUENT_ACCESS")["logGroups"]]
    assert ia == [t["log_group"]]
    other = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/tax-calculator")["logGroups"][0]
    assert other["logGroupClass"] == "STANDARD"


def test_only_current_runtimes_write_init_start_lines():
    from lambdaops.demo.log_lines import render_function

    fleet = build_fleet()
    starts = {}
    for name in ("legacy-image-meta", "orders-api", "fx-rates-api"):
        i, spec = next((i, f) for i, f in enumerate(fleet) if f.name == name)
        msgs = render_function(spec, generate_function(spec, i, 7, T0, T1))["@message"]
        kinds = {m.split(" ", 1)[0] if not m.startswith("{") else json.loads(m).get("type") for m in msgs}
        starts[name] = kinds & {"INIT_START", "RESTORE_START", "platform.initStart", "platform.restoreStart"}
    assert starts == {"legacy-image-meta": set(), "orders-api": {"INIT_START"},
                      "fx-rates-api": {"platform.restoreStart"}}
