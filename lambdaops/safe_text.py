"""Text that came from AWS, made inert for a terminal. The one module the CLI and the TUI use for it.

Anything AWS hands back can hold what the sender put there: an SQS body or attribute, a Lambda error
message, a tag, a timestamp field of a failure record. An SQS body may hold any character of
``#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`` (SendMessage API
reference, MessageBody): that takes in the C1 controls U+0080-U+009F (U+009B is an 8-bit CSI) and
the bidi overrides, and the JSON inside a body spells any other control as ``\\u001b``, which the
decoded event then holds. Shown raw, ``ESC ] 0 ; ... BEL`` retitles the terminal, ``ESC [ 2 J``
clears it, and U+202E shows the rest of a line reversed.

- :func:`safe_text` / :func:`term`: a string in which every control, surrogate, bidi and invisible
  format character is written as a visible escape (``\\x1b``, ``\\u202e``); letters of every script
  and emoji stay as they are.
- :func:`rich_text`: the same as a ``rich.text.Text``, so Rich and Textual never read it as markup
  (``upstream call [/api/v1/orders] failed`` is text, not a closing tag).

JSON output stays exact JSON: ``json.dumps`` already writes every C0 control as ``\\u00XX``, and
:func:`json_inert` writes DEL, the C1 controls, bidi/invisible characters and lone surrogates as
``\\uXXXX`` escapes too (the same JSON value, ASCII on the wire), so ``-o json`` read on a terminal
is as inert as a table.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Characters that can reorder, hide or forge what a terminal shows: bidi controls (including the
# Arabic letter mark), zero-width characters, line/paragraph separators, the byte order mark and
# the interlinear annotation controls. Escaped so that what is shown is what the bytes are.
_UNSAFE_FORMAT = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff\ufff9-\ufffb]")
# Quick test: nothing to escape in most text, which then goes through untouched.
_ANY_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029"
                         "\u2060-\u2069\ufeff\ufff9-\ufffb]")


def escape_char(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unsafe(ch: str, single_line: bool) -> bool:
    cat = unicodedata.category(ch)
    return (cat == "Cc" and (single_line or ch not in "\n\t")) or cat == "Cs" or bool(_UNSAFE_FORMAT.match(ch))


def safe_text(text: str | None, limit: int | None = 200, *, single_line: bool = True) -> str:
    """``text`` made safe for a terminal: control, bidi and invisible characters escaped, cut at
    ``limit`` characters (None: never) with the number of bytes left out. ``single_line=False``
    keeps newlines and tabs. Emoji, CJK and RTL letters stay as they are. None is shown as ``-``."""
    if text is None:
        return "-"
    if not isinstance(text, str):
        text = str(text)
    if (limit is None or len(text) <= limit) and not _ANY_UNSAFE.search(text):
        return text
    out: list[str] = []
    for i, ch in enumerate(text):
        if limit is not None and i >= limit:
            rest = len(text[i:].encode("utf-8", "surrogatepass"))
            out.append(f"… (+{rest:,} bytes)")
            break
        out.append(escape_char(ch) if _unsafe(ch, single_line) else ch)
    return "".join(out)


def term(value: Any, limit: int | None = None, *, single_line: bool = True) -> str:
    """Any value (an AWS string, a number, None) as inert terminal text; None stays ``""``."""
    if value is None:
        return ""
    return safe_text(value if isinstance(value, str) else str(value), limit, single_line=single_line)


def term_or_none(value: Any, limit: int | None = None) -> str | None:
    """:func:`term`, keeping None as None (for cells a formatter shows as ``-``)."""
    return None if value is None else term(value, limit)


def markup_escaped(value: Any, limit: int | None = None, *, single_line: bool = True) -> str:
    """``value`` escaped for the terminal and for Rich/Textual markup: for the few places that only
    take markup (border titles, a Static that mixes our own styling with AWS text)."""
    from rich.markup import escape

    return escape(term(value, limit, single_line=single_line))


def rich_text(value: Any, style: str = "", *, limit: int | None = None, single_line: bool = True):
    """A ``rich.text.Text`` of ``value``, escaped: Rich and Textual show it, never parse it."""
    from rich.text import Text

    return Text(term(value, limit, single_line=single_line), style=style)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029"
                          "\u2060-\u2069\ufeff\ufff9-\ufffb]")


def json_inert(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with the characters a terminal
    acts on written as ``\\uXXXX`` escapes. Such characters only occur inside JSON strings, where an
    escape is the same value, so the document parses to exactly what it did."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
