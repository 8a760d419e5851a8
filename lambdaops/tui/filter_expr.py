"""The fleet filter: words and field expressions, k9s style.

- a word matches a whole name or field, or a whole part of one (``checkout`` matches
  ``checkout-api``; ``ok`` does not match ``webhook-receiver``); ``*`` and ``?`` are wildcards;
- ``!term`` excludes what ``term`` matches (any of the forms here);
- ``field>N``, ``>=``, ``<``, ``<=``, ``=``: a figure in the unit its column shows (``err>1`` is an
  error rate above 1 %, ``p99>1000`` milliseconds, ``cost>0.5`` dollars);
- ``field:pattern``: a text field (``region:eu-west-1``, ``runtime:java*``, ``finding:dlq``,
  ``tag:team=payments``); findings match by code or by a part of one (``dlq`` in ``dlq_not_empty``).

Pure: the fleet model gives each row a dict of fields; terms are compiled once per filter change.
A row with no value for a figure (not fetched yet, or failed) matches no comparison on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Callable

# What the user may type -> the field key the fleet model fills.
NUMBER_FIELDS = {
    "err": "err", "error": "err", "errors": "err", "cold": "cold", "p99": "p99", "p50": "p50",
    "dlq": "dlq", "cost": "cost", "mem": "mem", "memory": "mem", "count": "count", "inv": "count",
    "invocations": "count", "thr": "thr", "throttles": "thr", "conc": "conc", "age": "age",
}
TEXT_FIELDS = {"name": "name", "region": "region", "runtime": "runtime", "arch": "arch", "finding": "finding",
               "tag": "tag", "severity": "severity"}
_COMPARE = re.compile(r"^([a-z0-9]+)(>=|<=|>|<|=)(-?[0-9]*\.?[0-9]+)$")
_PARTS = re.compile(r"[-_./:=]")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
}

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Filter:
    text: str
    terms: list[Predicate]
    problems: list[str]  # terms that could not be read (shown; they match nothing)

    def __call__(self, fields: dict[str, Any]) -> bool:
        return all(t(fields) for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms


def _word_matches(pattern: str, values: list[str]) -> bool:
    """``pattern`` equals (or globs) one of the values or one of their dash/underscore parts."""
    for v in values:
        if fnmatchcase(v, pattern):
            return True
        if any(fnmatchcase(p, pattern) for p in _PARTS.split(v) if p):
            return True
    return False


def _term(raw: str, problems: list[str]) -> Predicate:
    if raw.startswith("!") and len(raw) > 1:
        inner = _term(raw[1:], problems)
        return lambda f: not inner(f)
    m = _COMPARE.match(raw)
    if m:
        name, op, number = m.group(1), m.group(2), float(m.group(3))
        key = NUMBER_FIELDS.get(name)
        if key is None:
            problems.append(f"no figure '{name}' (try {', '.join(sorted(set(NUMBER_FIELDS.values())))})")
            return lambda f: False
        cmp = _OPS[op]
        return lambda f: f.get(key) is not None and cmp(float(f[key]), number)
    if ":" in raw:
        name, _, pattern = raw.partition(":")
        key = TEXT_FIELDS.get(name)
        if key is not None:
            if not pattern:
                return lambda f: True  # still being typed
            return lambda f: _word_matches(pattern, _values(f.get(key)))
    return lambda f: _word_matches(raw, f.get("words") or [])


def _values(v: Any) -> list[str]:
    if v is None:
        return []
    return [str(x).lower() for x in v] if isinstance(v, (list, tuple, set)) else [str(v).lower()]


def compile_filter(text: str) -> Filter:
    problems: list[str] = []
    terms = [_term(w, problems) for w in text.lower().split()]
    return Filter(text, terms, problems)


def words_of(*texts: str) -> list[str]:
    """The words a plain filter word is matched against: each whitespace-separated token."""
    return [w for t in texts for w in t.lower().split()]
