"""The demo's Insights engine over per-group memoised columns (insights_memo) answers exactly as over
the events themselves: the shipped queries and queries that redefine what the memo caches, over time
slices of several groups, Infrequent Access groups included; and each column is computed once."""

from __future__ import annotations

import pandas as pd
import pytest

from lambdaops.demo.insights import compile_query, run_query
from lambdaops.demo.insights_eval import NO_DISCOVERY
from lambdaops.demo.insights_memo import EventsMemo, GroupColumns, Segment
from lambdaops.query_files import load
from tests.unit.conformance.test_corpus import corpus_events

EXTRA = [  # JSON keys whose type differs between groups, and an application line
    '{"level":"ERROR","requestId":"r-1","message":"boom","code":42}',
    '{"level":"INFO","requestId":"r-2","message":"fine","code":"E42"}',
    "[INFO]\t2026-11-22T10:00:00.000Z\tr-3\tprocessed event",
]

QUERIES = [load(name).text for name in ("cold-starts", "cold-starts-over-time", "errors", "slowest")] + [
    "fields @message | parse @message /Duration: (?<d>[0-9.]+)/ | stats count(d) as n, sum(d) as s by @log",
    # @message redefined before parse and like: the memo (of the ingested message) must not answer
    'fields concat("Duration: 1.5 ", @message) as @message | parse @message /Duration: (?<d>[0-9.]+)/'
    " | stats sum(d) as s, count(*) as n by @log",
    'fields "REPORT x" as @message | filter @message like /^REPORT/ | stats count(*) as n',
    "filter @message not like /REPORT|START/ | fields @timestamp, @message, code, level | sort @timestamp asc",
    "filter code = 42 or code = \"E42\" | fields code, @log",
    "parse @logStream /\\[(?<ver>[^\\]]+)\\]/ | stats count(*) as n by ver, @type",
    "stats count(*) as n, count(@duration) as d, count(`record.metrics.durationMs`) as j by @log",
]


def groups() -> list[tuple[pd.DataFrame, bool]]:
    events = corpus_events()
    t0 = int(events["@timestamp"].min())
    extra = pd.DataFrame([{"@timestamp": t0 + 30_000 + k, "@message": m, "@logStream": "2026/11/22/[$LATEST]x",
                           "@log": events["@log"].iloc[k], "@ingestionTime": t0 + 30_200 + k}
                          for k, m in enumerate(EXTRA)])
    events = pd.concat([events, extra], ignore_index=True)
    out = []
    for i, (_, df) in enumerate(sorted(events.groupby("@log"), key=lambda kv: kv[0])):
        out.append((df.sort_values("@timestamp", kind="stable", ignore_index=True), i % 3 == 1))
    return out


def as_dataframe(segments: list[Segment]) -> pd.DataFrame:
    parts = []
    for s in segments:
        part = s.group.events.iloc[s.lo:s.hi]
        if NO_DISCOVERY not in part.columns and any(NO_DISCOVERY in x.group.events.columns for x in segments):
            part = part.assign(**{NO_DISCOVERY: False})
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("query", QUERIES)
def test_memo_answers_as_the_events_do(query):
    cols = [GroupColumns(df, ia) for df, ia in groups()]
    compiled = compile_query(query)
    whole = [Segment(c, 0, c.n) for c in cols]
    sliced = [Segment(c, 1, max(1, c.n - 1)) for c in cols[::2]]  # time slices of some groups
    for segments in (whole, sliced):
        expected = run_query(compiled, as_dataframe(segments))
        assert run_query(compiled, EventsMemo(segments)) == expected
        assert run_query(compiled, EventsMemo(segments)) == expected  # second time from the memo


def test_each_column_is_computed_once_per_group(monkeypatch):
    from lambdaops.demo import insights_fields

    calls = []
    real = insights_fields.classify
    monkeypatch.setattr(insights_fields, "classify", lambda *a: calls.append(1) or real(*a))
    cols = [GroupColumns(df, ia) for df, ia in groups()]
    compiled = compile_query(load("cold-starts").text)
    for lo in (0, 1, 2):
        run_query(compiled, EventsMemo([Segment(c, lo, c.n) for c in cols]))
    assert len(calls) == len(cols)
