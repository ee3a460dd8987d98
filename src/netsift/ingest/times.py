"""Stamps far from the rest of the store: the per-file warning for a wrong year or a wrong clock.

:class:`StoreTimes` keeps each file's (rows, min, max, median) stamp, read from the store once per batch and
updated per file (from the rows the writer just stored, when it saw them all: no query), so that comparing
a file with the rest of the store costs next to nothing per file.
"""

from __future__ import annotations

import datetime as dt
from netsift.ingest.base import ParseContext
from netsift.schema import TABLES, is_record_table
from netsift.store.base import Store

FileTimes = tuple[int, dt.datetime | None, dt.datetime | None, dt.datetime | None]  # rows, min, max, median stamp

FUTURE_SLACK = dt.timedelta(days=1)  # stamps later than now + this are in the future
FAR_GAP = dt.timedelta(days=30)  # a file this far outside the store's time range (not overlapping) is far
FAR_MEDIAN = dt.timedelta(days=180)  # or whose median stamp is this far from the store's


def _stamps_sql() -> str:
    """Every ingested record's (source_file_id, ts), whatever table its parser wrote."""
    return " UNION ALL ".join(f"SELECT source_file_id, ts FROM {t.name}" for t in TABLES if is_record_table(t))


class StoreTimes:
    """The time range of each file's rows in the store (rows, min, max, median), read in one scan the first
    time a file needs comparing and kept up to date through a batch, so that comparing a file with the rest
    of the store costs an aggregate over its own rows only. The store's median is the row-weighted median
    of the files' medians (close enough to tell months from years)."""

    def __init__(self) -> None:
        self._files: dict[int, tuple[int, dt.datetime, dt.datetime, dt.datetime]] | None = None

    def load(self, store: Store) -> None:
        if self._files is None:
            self._files = {int(f): (n, lo, hi, mid) for f, n, lo, hi, mid in store.rows(
                "SELECT source_file_id, count(*), min(ts), max(ts), quantile_disc(ts, 0.5) "
                f"FROM ({_stamps_sql()}) WHERE ts IS NOT NULL GROUP BY source_file_id")}

    def drop(self, file_id: int) -> None:
        if self._files is not None:
            self._files.pop(file_id, None)

    def update(self, store: Store, file_id: int, known: FileTimes | None = None,
               ) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
        """Read one file's (min, max, median) afresh (after its rows changed) and return it. ``known``: the
        file's (rows, min, max, median) when the caller has them (every row of the file was just written
        by this run), which saves the query."""
        self.load(store)
        if known is None:
            row = store.rows(f"SELECT count(*), min(ts), max(ts), quantile_disc(ts, 0.5) FROM ({_stamps_sql()}) "
                             "WHERE source_file_id = ?", [file_id])[0]
            known = (row[0], row[1], row[2], row[3])
        n, lo, hi, mid = known
        assert self._files is not None
        if lo is None or hi is None or mid is None:
            self._files.pop(file_id, None)
            return None
        self._files[file_id] = (n, lo, hi, mid)
        return lo, hi, mid

    def others(self, file_id: int) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
        """(min, max, median) of every other file's rows; None when there are none."""
        rest = sorted((mid, n, lo, hi) for f, (n, lo, hi, mid) in (self._files or {}).items() if f != file_id)
        if not rest:
            return None
        half, seen = sum(r[1] for r in rest) / 2, 0
        for mid, n, _, _ in rest:
            seen += n
            if seen >= half:
                break
        return min(r[2] for r in rest), max(r[3] for r in rest), mid


def time_warnings(store: Store, file_id: int, ctx: ParseContext, times: StoreTimes,
                  known: FileTimes | None = None) -> list[str]:
    """One line if the file's stamps fall in the future, or far from the rest of the store (its range does
    not overlap the store's and lies more than FAR_GAP away, or its median is more than FAR_MEDIAN from the
    store's): the mark of a wrong year given to year-less stamps, or of a wrong clock."""
    mine = times.update(store, file_id, known)
    if mine is None:
        return []
    lo, hi, mid = mine
    found = []
    shift = 0  # years the stamps seem off by (a hint for --year)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if hi > now + FUTURE_SLACK:
        found.append(f"stamps reach {hi:%Y-%m-%d %H:%M}, {_span(hi - now)} in the future")
        shift = -max(1, round((hi - now).days / 365.25))
    rest = times.others(file_id)
    if rest is not None:
        s_lo, s_hi, s_mid = rest
        gap = s_lo - hi if hi < s_lo else lo - s_hi if lo > s_hi else dt.timedelta(0)
        if gap > FAR_GAP or abs(mid - s_mid) > FAR_MEDIAN:
            where = "before" if mid < s_mid else "after"
            found.append(f"its stamps ({lo:%Y-%m-%d} to {hi:%Y-%m-%d}) lie {_span(abs(mid - s_mid))} {where} "
                         f"the rest of the store ({s_lo:%Y-%m-%d} to {s_hi:%Y-%m-%d})")
            shift = shift or round((s_mid - mid).days / 365.25)
    if not found:
        return []
    if ctx.assumed_year is not None:
        hint = (f"if their year is wrong, ingest it again with --year {ctx.assumed_year + shift}" if shift else
                "if their year is wrong, ingest it again with --year")
        hint += f" (read as {ctx.assumed_year})"
    else:
        hint = "the stamps carry their year: logs of another period, or a wrong clock?"
    return ["; ".join(found) + f": {hint}"]


def _span(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days / 365.25:.1f} years" if days >= 365 else f"{days:,.0f} days" if days >= 2 else \
        f"{delta.total_seconds() / 3600:,.0f} h"


