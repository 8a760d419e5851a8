"""Counts in messages: "1 function", "2 functions", "1 API call", "1,204 API calls"."""

from __future__ import annotations

_IRREGULAR = {"retry": "retries", "query": "queries", "entry": "entries", "is": "are", "was": "were"}


def plural(n: int | float, word: str, many: str | None = None, *, sep: bool = False) -> str:
    """``n`` and ``word`` in the right number; the count comes first (``sep``: thousands separators).
    The last word of a phrase is the one inflected ("API call" -> "API calls")."""
    head, _, last = word.rpartition(" ")
    if many is None:
        many_last = _IRREGULAR.get(last) or (last[:-1] + "ies" if last.endswith("y") and last[-2:-1] not in "aeiou"
                                             else last + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s"))
        many = f"{head} {many_last}".strip()
    count = f"{n:,.0f}" if sep else (f"{n:g}" if isinstance(n, float) else str(n))
    return f"{count} {word if n == 1 else many}"
