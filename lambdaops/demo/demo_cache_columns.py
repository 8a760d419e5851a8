"""What demo_cache does to text and columns when it moves a cached account in time: the times written
inside log messages and stream names moved, the test of whether an Insights column reads them
(:func:`time_free`), and the compact form memo columns take on disk."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

MINUTE_MS = 60_000
# A whole number of minutes that changes every digit of a date and time: a column whose values change
# when the times in the text move by it depends on them, and is not kept.
_PROBE_MS = (3 * 365 + 41) * 86400 * 1000 + 11 * 3600 * 1000 + 11 * MINUTE_MS
_PROBE_ROWS = 1024


def shift_messages(messages: np.ndarray, tpos: np.ndarray, xpos: np.ndarray, delta_ms: int) -> np.ndarray:
    """The messages with the ISO time each carries at ``tpos`` and the epoch seconds (8 hex digits) of
    the X-Ray trace id at ``xpos`` moved by ``delta_ms`` (whole minutes: only the date, hour and minute
    of an ISO time change, so each distinct minute is computed once)."""
    if delta_ms % MINUTE_MS:
        raise ValueError("messages move by whole minutes")
    moved = messages
    table: dict[str, str] = {}

    def iso(m: str, p: int) -> str:
        head = m[p:p + 16]
        new = table.get(head)
        if new is None:
            stamp = datetime.strptime(head, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
            new = table[head] = (stamp + timedelta(milliseconds=delta_ms)).strftime("%Y-%m-%dT%H:%M")
        return m[:p] + new + m[p + 16:]

    def trace(m: str, p: int) -> str:
        return f"{m[:p]}{int(m[p:p + 8], 16) + delta_ms // 1000:08x}{m[p + 8:]}"

    for pos, move in ((tpos, iso), (xpos, trace)):
        rows = np.flatnonzero(pos >= 0)
        if not delta_ms or not len(rows):
            continue
        out = list(map(move, moved[rows].tolist(), pos[rows].tolist()))
        moved = moved.copy() if moved is messages else moved
        moved[rows] = np.array(out + [None], dtype=object)[:-1]
    return moved


def shift_stream_names(names: np.ndarray, starts_ms: np.ndarray, delta_ms: int) -> np.ndarray:
    """Stream names ``YYYY/MM/DD/...`` dated anew from the instant each takes its date from."""
    return np.array([datetime.fromtimestamp((s + delta_ms) / 1000, timezone.utc).strftime("%Y/%m/%d") + n[10:]
                     for n, s in zip(names.tolist(), starts_ms.tolist())] + [None], dtype=object)[:-1]



def time_free(members: list[tuple], key) -> bool:
    """Whether the column ``key`` stays the same when every time written in the events (ISO times in
    messages, X-Ray trace times, dates in stream names) moves. ``members``: (insights_memo.GroupColumns,
    log_lines.RenderedGroup, Infrequent Access?) of the groups holding it. It is recomputed over up to
    :data:`_PROBE_ROWS` of their events (those carrying a time first), so moved, in one pass per log
    class, and compared with the values computed before. Byte counts are kept (a moved time is as long)."""
    if key == ("bytes",):
        return True
    from lambdaops.demo.insights_memo import GroupColumns

    for ia in (False, True):
        held = [(c, r) for c, r, i in members if i == ia and (key in c._cols or key in c._sparse)]
        if not held:
            continue
        how = held[0][0].computes.get(key)
        if how is None:
            return False
        kind, compute, width = how
        share = max(8, _PROBE_ROWS // len(held))
        before, frames = [], []
        for cols, rendered in held:
            rows = np.flatnonzero(cols._cols[key][1] if kind == "column" else cols._sparse[key][1])
            timed = rows[(rendered.tpos[rows] >= 0) | (rendered.xpos[rows] >= 0)]
            pick = np.unique(np.r_[_spread(timed, share), _spread(rows, max(2, share // 4))]).astype(np.int64)
            if not len(pick):
                continue
            before.append(cols.column(key, compute, pick) if kind == "column" else cols.sparse(key, compute, width, pick))
            frame = rendered.rows_frame(pick)
            starts = np.array([rendered.stream_starts.get(s, 0) for s in frame["@logStream"].tolist()], dtype=np.int64)
            frames.append(frame.assign(**{
                "@message": shift_messages(frame["@message"].to_numpy(), rendered.tpos[pick], rendered.xpos[pick],
                                           _PROBE_MS),
                "@logStream": shift_stream_names(frame["@logStream"].to_numpy(), starts, _PROBE_MS)}))
        if not frames:
            continue
        probe = GroupColumns(pd.concat(frames, ignore_index=True), infrequent_access=ia)
        everything = np.arange(probe.n)
        if kind == "column":
            if not _same(np.concatenate([_objects(b) for b in before]), _objects(probe.column(key, compute, everything))):
                return False
        else:
            after = probe.sparse(key, compute, width, everything)
            if not all(_same(np.concatenate([b[i] for b in before]), after[i]) for i in range(width)):
                return False
    return True


def _spread(rows: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` of ``rows``, evenly spread."""
    return rows[np.linspace(0, len(rows) - 1, min(len(rows), k)).astype(int)] if len(rows) else rows


def _objects(a: np.ndarray) -> np.ndarray:
    out = a.astype(object)
    if a.dtype.kind == "f":
        out[np.isnan(a)] = None
    return out


def _pack(values: np.ndarray):
    """Strings (and None) as codes into their distinct values: a parsed number repeats across many
    events, and a million small str objects pickle large and load slowly."""
    if values.dtype != object:
        return values
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not all(isinstance(u, str) for u in uniques.tolist()):  # 1, 1.0 and True would merge
        return values
    return ("factorized", codes.astype(np.int32), np.asarray(uniques, dtype=object))


def _unpack(values) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    _, codes, uniques = values
    return np.append(uniques, None).astype(object)[codes]  # code -1 (null) takes the None at the end


# A memo column is stored for the events it holds values for only (``done``, as bits): most columns are
# computed over the events some filter kept, and the rest of the array is filler.
def pack_dense(values: np.ndarray, done: np.ndarray) -> tuple:
    return np.packbits(done), _pack(values[done]), values.dtype


def unpack_dense(stored: tuple, n: int) -> list:
    bits, values, dtype = stored
    done = np.unpackbits(bits, count=n).astype(bool)
    values = _unpack(values)
    out = np.full(n, np.nan) if dtype.kind == "f" else (
        np.zeros(n, dtype=dtype) if dtype.kind in "biu" else np.full(n, None, dtype=object))
    out[done] = values
    return [out, done]


def pack_sparse(slot: np.ndarray, done: np.ndarray, values: list, count: int) -> tuple:
    hit = np.flatnonzero(slot >= 0)
    return np.packbits(done), hit.astype(np.int32), slot[hit].astype(np.int32), [_pack(v) for v in values], count


def unpack_sparse(stored: tuple, n: int) -> list:
    bits, hit, slots, values, count = stored
    slot = np.full(n, -1, dtype=np.int64)
    slot[hit] = slots
    return [slot, np.unpackbits(bits, count=n).astype(bool), [_unpack(v) for v in values], count]


def done_count(key, value) -> int:
    """How many events a memo column holds values for."""
    return len(value) - 1 if key == ("bytes",) else int(value[1].sum())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return pd.Series(a, dtype=object).equals(pd.Series(b, dtype=object))
