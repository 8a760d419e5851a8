"""JSON keys of Lambda's platform records read in place (insights_fields._in_place) are exactly what
parsing each message gives, and anything not in Lambda's own shape is still parsed."""

from __future__ import annotations

import numpy as np

from lambdaops.demo import insights_fields as fields
from lambdaops.demo.fleet import build_fleet
from lambdaops.demo.log_lines import render_function
from lambdaops.demo.traffic import generate_function

T1 = 1_796_166_600_000
KEYS = ("type", "record.metrics.durationMs", "record.metrics.billedDurationMs", "record.metrics.initDurationMs",
        "record.metrics.restoreDurationMs", "record.metrics.maxMemoryUsedMB", "record.requestId", "level")
ODD = [
    '{"time": "2026-11-22T10:00:00.123Z", "type": "platform.report", "record": {"metrics": {"durationMs": 5}}}',
    '{"time":"2026-11-22T10:00:00.123Z","type":"platform.report","record":{"metrics":{"durationMs":"slow"}}}',
    '{"time":"2026-11-22T10:00:00.123Z","type":"platform.\\u0072eport","record":{"metrics":{"durationMs":7}}}',
    '{"time":"2026-11-22T10:00:00.123Z","type":"platform.report","record":{"metrics":{"initDurationMs":1.5}}}',
    '{"level":"INFO","type":"custom","record":{"metrics":{"durationMs":3}}}',
]


def _parsed(name: str, messages: np.ndarray, kind: np.ndarray) -> list:
    path = tuple(name.split("."))
    return [fields.dig(fields.load_json(m), path) if k in fields.JSON_KINDS else None
            for m, k in zip(messages.tolist(), kind.tolist())]


def test_in_place_reads_equal_parsing_every_message():
    specs = [f for f in build_fleet(7, None) if f.name in ("checkout-api", "fx-rates-api")]
    messages = np.concatenate([render_function(s, generate_function(s, i, 7, T1 - 1800_000, T1))["@message"].to_numpy()
                               for i, s in enumerate(specs)] + [np.array(ODD, dtype=object)])
    kind = fields.classify(messages, messages.tolist())
    assert (kind == fields.JSON_REPORT).sum() > 100
    for name in KEYS:
        got = fields.json_field(name, messages, kind, fields._nulls(len(messages)), np.zeros(len(messages), bool))
        want = _parsed(name, messages, kind)
        if got.dtype.kind == "f":
            want = np.array([np.nan if v is None else float(v) for v in want])
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            assert got.tolist() == [None if isinstance(v, (dict, list)) else v for v in want], name
