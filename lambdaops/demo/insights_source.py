"""The demo's ``SOURCE logGroups(...)``: the command that opens a Logs Insights query string and
selects its log groups by name prefix instead of StartQuery's list.

AWS ("SOURCE - Amazon CloudWatch Logs",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Source.html):
- supported only through the CLI and API, at the start of the query: ``SOURCE logGroups(...) | ...``;
- ``namePrefix: ['a', 'b']`` selects the groups whose names start with one of at most five prefixes
  (omitted: every group);
- ``class: ['STANDARD' | 'INFREQUENT_ACCESS']`` picks the log class; omitted, Standard only;
- ``accountIdentifiers`` works only in a monitoring account (the demo is none: rejected);
- more than 10,000 log groups selected is an error asking for another selection method.
The page gives neither the error codes nor their exact text: the demo answers
``InvalidParameterException`` with the page's words. StartQuery with SOURCE names no log groups
(``logGroupNames``/``logGroupIdentifiers`` are for queries without it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdaops.demo.api_errors import DemoApiError

MAX_PREFIXES = 5
MAX_SOURCE_GROUPS = 10_000
CLASSES = {"STANDARD", "INFREQUENT_ACCESS"}

_HEAD = re.compile(r"\s*SOURCE\s+logGroups\s*\(", re.IGNORECASE)
_ARG = re.compile(r"\s*(\w+)\s*:\s*\[(.*?)\]\s*(,|$)", re.DOTALL)
_STRING = re.compile(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*(,|$)""", re.DOTALL)


@dataclass(frozen=True)
class Source:
    prefixes: tuple[str, ...] = ()  # empty: every group
    classes: tuple[str, ...] = ("STANDARD",)

    def selects(self, name: str, log_class: str) -> bool:
        return log_class in self.classes and (not self.prefixes or name.startswith(self.prefixes))


def _bad(message: str) -> DemoApiError:
    return DemoApiError("InvalidParameterException", message)


def _strings(text: str, key: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _STRING.match(text, pos)
        if m is None:
            raise DemoApiError("MalformedQueryException", f"SOURCE logGroups: {key} takes a list of quoted strings")
        out.append(re.sub(r"\\(.)", r"\1", m.group(1)[1:-1]))
        pos = m.end()
    return out


def split_source(query_string: str) -> tuple[Source | None, str]:
    """(the SOURCE selection, the rest of the query) of a query string; (None, it) without SOURCE.
    A ``SOURCE`` that is not ``logGroups(...)`` is left to the query parser, which rejects it."""
    head = _HEAD.match(query_string)
    if head is None:
        return None, query_string
    close = query_string.find(")", head.end())
    while close >= 0 and query_string[head.end():close].count("[") != query_string[head.end():close].count("]"):
        close = query_string.find(")", close + 1)
    if close < 0:
        raise DemoApiError("MalformedQueryException", "SOURCE logGroups( is not closed")
    args, rest = query_string[head.end():close], query_string[close + 1:].lstrip()
    if rest and not rest.startswith("|"):
        raise DemoApiError("MalformedQueryException", "SOURCE logGroups(...) must be followed by '|' and a query")
    rest = rest[1:].lstrip()
    if not rest:
        raise DemoApiError("MalformedQueryException", "SOURCE logGroups(...) needs a query after it")
    found: dict[str, list[str]] = {}
    pos = 0
    while args[pos:].strip():
        m = _ARG.match(args, pos)
        if m is None:
            raise DemoApiError("MalformedQueryException", f"SOURCE logGroups: cannot read {args[pos:].strip()!r}")
        found[m.group(1)] = _strings(m.group(2), m.group(1))
        pos = m.end()
    unknown = set(found) - {"namePrefix", "class", "accountIdentifiers"}
    if unknown:
        raise DemoApiError("MalformedQueryException", f"SOURCE logGroups: unknown keyword {sorted(unknown)[0]}")
    if found.get("accountIdentifiers"):
        raise _bad("accountIdentifiers works only when the query runs in a monitoring account")
    prefixes = found.get("namePrefix", [])
    if len(prefixes) > MAX_PREFIXES:
        raise _bad(f"You can include as many as {MAX_PREFIXES} prefixes in namePrefix; got {len(prefixes)}")
    classes = [c.upper() for c in found.get("class", [])] or ["STANDARD"]
    if set(classes) - CLASSES:
        raise _bad(f"class must be STANDARD or INFREQUENT_ACCESS, got {', '.join(sorted(set(classes) - CLASSES))}")
    return Source(tuple(prefixes), tuple(classes)), rest


def select_groups(source: Source, groups: list[tuple[str, str]]) -> list[str]:
    """The names ``source`` selects among ``groups`` ((name, log class) of every group of the
    region); more than ``MAX_SOURCE_GROUPS`` is AWS's error."""
    chosen = sorted(name for name, log_class in groups if source.selects(name, log_class))
    if len(chosen) > MAX_SOURCE_GROUPS:
        raise _bad(f"The query selects more than {MAX_SOURCE_GROUPS:,} log groups ({len(chosen):,}); "
                   "use a different log group selection method to reduce the number of log groups")
    return chosen
