"""Literals a regular expression's matches must contain: the demo's Insights engine tests messages for
them (a C-speed substring test) before it runs the regex, which is then skipped on most messages."""

from __future__ import annotations

_REGEX_META = set("\\^$.|?*+()[]{}")

_LITERAL_ESCAPES = {"t": "\t", "n": "\n", "r": "\r"}


def literal_prefix(source: str) -> str:
    """The longest literal every match must contain (used to skip the regex on most messages), or ""."""
    return max(required_literals(source), key=len, default="")


def required_literals(source: str) -> tuple[str, ...]:
    """Literals every match must contain, in the order they appear.

    Only runs of plain characters outside groups and classes count; a character made optional by
    ``?``, ``*`` or ``{`` is left out, and a top-level alternation or an inline flag gives ""."""
    if "(?i" in source or "(?x" in source:
        return ()
    runs, run, i, n = [], [], 0, len(source)

    def cut() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            nxt = source[i + 1]
            if (nxt.isalnum() and nxt not in _LITERAL_ESCAPES):
                cut()  # \d, \s, \b, backreferences...
            else:
                run.append(_LITERAL_ESCAPES.get(nxt, nxt))
            i += 2
        elif c in "?*{":
            if run:
                run.pop()
            cut()
            if c == "{":
                i = source.find("}", i) + 1 or n
            else:
                i += 1
        elif c == "|":
            return ()
        elif c in "([":
            cut()
            i = skip_group(source, i)
        elif c in _REGEX_META:  # . + ^ $ ) ]
            cut()
            i += 1
        else:
            run.append(c)
            i += 1
    cut()
    return tuple(runs)


def branch_literals(source: str) -> tuple[str, ...]:
    """For a top-level alternation ``a|b|c``: a literal each branch's matches contain (a message holding
    none of them cannot match); () when some branch has none."""
    branches, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            branches.append(source[start:i])
            start = i + 1
        i += 1
    if not branches:
        return ()
    branches.append(source[start:])
    found = tuple(literal_prefix(b) for b in branches)
    return found if all(found) else ()


def skip_group(source: str, i: int) -> int:
    """The index after the group or class that starts at ``i`` (escapes and nested groups included)."""
    depth, n, in_class = 0, len(source), False
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
                if depth == 0:
                    return i + 1
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n
