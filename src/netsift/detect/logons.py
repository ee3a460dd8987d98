"""What the logon detectors share: whether a store holds logon events at all, and the gathering of
failed attempts (with the PAM double-count rule) and successes from ``logon_events``.

sshd logs a failed password twice on many systems: its own ``Failed password`` line and PAM's
``authentication failure`` line. Per (client, host) the detectors count the sshd lines when there are
any and the PAM lines otherwise, never both. Queries are plain SQL (no dialect-specific syntax), so any
store runs them.
"""

from __future__ import annotations

import polars as pl

from netsift.store.base import Store

TABLE = "logon_events"
ATTEMPT_COLUMNS = ("ts, client, account, host, service, method, event_id, status, sub_status, unknown_account, "
                   "repeats")
MAX_REPEATS = 1000  # a folded line counts as at most this many events (sshd's own retries per connection are few)
# failed logons (event failure), excluding privilege failures that are not logons (sudo's own
# password prompt is a failure of the local user, kept: an account's failures are failures)
FAILURES_SQL = f"SELECT {ATTEMPT_COLUMNS} FROM {TABLE} WHERE event = 'failure' AND client IS NOT NULL"
SUCCESSES_SQL = f"SELECT {ATTEMPT_COLUMNS} FROM {TABLE} WHERE event = 'success' AND client IS NOT NULL"


def has_logons(store: Store) -> bool:
    """True when the store has the table and at least one row (a DNS-only store: False, nothing to do)."""
    return store.has_table(TABLE) and store.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} LIMIT 1) t") > 0


def failures(store: Store) -> pl.DataFrame:
    """Failed logons with a client, one per attempt (PAM duplicates of sshd's own lines left out),
    sorted by client, host, ts."""
    frame = store.frame(FAILURES_SQL + " ORDER BY client, host, ts")
    if not frame.height:
        return one_per_event(frame)
    pam = pl.col("method") == "pam"
    has_own = (~pam).fill_null(True).any().over("client", "host", "service")
    return one_per_event(frame.filter(~(pam.fill_null(False) & has_own)).sort("client", "host", "ts"))


def successes(store: Store) -> pl.DataFrame:
    return one_per_event(store.frame(SUCCESSES_SQL + " ORDER BY client, host, ts"))


def one_per_event(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows that stand for several events (``repeats``: a log line folding N identical messages) repeated N
    times (at most ``MAX_REPEATS``), in place, so that every count is of events; without ``repeats``."""
    if "repeats" not in frame.columns:
        return frame
    times = frame["repeats"].fill_null(1).clip(1, MAX_REPEATS)
    frame = frame.drop("repeats")
    if not frame.height or times.max() == 1:
        return frame
    return frame[pl.int_range(frame.height, eager=True).repeat_by(times).explode()]


def account_successes(store: Store) -> pl.DataFrame:
    """Successful logons naming an account, oldest first, with ``acct`` (the account case-folded) and
    ``hour`` (of the day, UTC): the accounts' own history (empty for a store without logons)."""
    ok = successes(store).filter(pl.col("account").is_not_null()) if has_logons(store) else pl.DataFrame()
    if not ok.height:
        return ok
    return ok.with_columns(acct=pl.col("account").str.to_lowercase(), hour=pl.col("ts").dt.hour()).sort("ts")


def peak_window(ts: pl.Series, window_s: float) -> tuple[int, int]:
    """(the most stamps within any ``window_s`` seconds, the index of that window's first stamp), for
    sorted stamps: two pointers, linear."""
    values = ts.dt.epoch("us").to_list()
    best, best_start, lo = 0, 0, 0
    span = int(window_s * 1_000_000)
    for hi, v in enumerate(values):
        while v - values[lo] > span:
            lo += 1
        if hi - lo + 1 > best:
            best, best_start = hi - lo + 1, lo
    return best, best_start


def top(values: list, limit: int = 5) -> str:
    """``root (12), admin (3)``: the most frequent values with their counts."""
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    shown = ", ".join(f"{k} ({n})" for k, n in ranked[:limit])
    return shown + (f" (+{len(ranked) - limit} more)" if len(ranked) > limit else "")


def where(host: str | None) -> str:
    return f" on {host}" if host else ""
