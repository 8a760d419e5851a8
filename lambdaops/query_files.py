"""The Logs Insights query files of ``queries/``: found by name (``cold-starts``) or as a path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lambdaops.errors import UsageError

QUERY_DIR = Path(__file__).resolve().parent / "queries"
SUFFIX = ".logsinsights"


@dataclass(frozen=True)
class QueryFile:
    name: str
    path: Path
    text: str  # what is sent: comment lines removed (they are for readers)
    description: str


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")).strip()


def available() -> list[str]:
    return sorted(p.name[: -len(SUFFIX)] for p in QUERY_DIR.glob(f"*{SUFFIX}"))


def load(name_or_path: str) -> QueryFile:
    path = Path(name_or_path)
    if not path.is_file():
        path = QUERY_DIR / f"{name_or_path.removesuffix(SUFFIX)}{SUFFIX}"
    if not path.is_file():
        raise UsageError(f"no query {name_or_path!r}: not a file, and not one of {', '.join(available())}")
    raw = path.read_text(encoding="utf-8")
    comments = [ln.lstrip("# ").rstrip() for ln in raw.splitlines() if ln.lstrip().startswith("#")]
    text = _strip_comments(raw)
    if not text:
        raise UsageError(f"query file {path} holds no query")
    return QueryFile(path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name, path, text,
                     comments[0] if comments else "")
