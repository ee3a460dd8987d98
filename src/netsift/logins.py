"""Logons at a glance: per source, account or host, what ``logon_events`` holds (``netsift logins``),
and the login timelines the dashboard and the report draw (``report/logins.py``) (events per hour by kind: successes,
failures, unknown accounts, ...; overall or for one source, account or host).

Plain SQL over the ``Store`` (every store runs it); a store without the table (a DNS-only store) gives
empty results.
"""

from __future__ import annotations

from typing import Any

from netsift.errors import UsageError
from netsift.store.base import Store

TABLE = "logon_events"
BY = {"source": "client", "account": "account", "host": "host"}  # --by -> column

SUMMARY_SQL = """
SELECT {col} AS {name}, sum(coalesce(repeats, 1)) AS events,
       sum(CASE WHEN event = 'success' THEN coalesce(repeats, 1) ELSE 0 END) AS successes,
       sum(CASE WHEN event = 'failure' THEN coalesce(repeats, 1) ELSE 0 END) AS failures,
       sum(CASE WHEN unknown_account THEN coalesce(repeats, 1) ELSE 0 END) AS unknown_account,
       count(DISTINCT client) AS sources, count(DISTINCT account) AS accounts, count(DISTINCT host) AS hosts,
       min(ts) AS first_seen, max(ts) AS last_seen
FROM logon_events WHERE {col} IS NOT NULL {where}
GROUP BY {col} ORDER BY failures DESC, events DESC, {name}
"""


def present(store: Store) -> bool:
    return store.has_table(TABLE) and bool(store.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} LIMIT 1) t"))


def column(by: str) -> str:
    if by not in BY:
        raise UsageError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    return BY[by]


def summary(store: Store, by: str = "source", limit: int = 50, event: str | None = None) -> list[dict[str, Any]]:
    """One row per source (the acting address), account or host: events, successes, failures, attempts on
    unknown accounts, distinct sources/accounts/hosts, first and last seen. ``event``: only that event."""
    col = column(by)
    if not present(store):
        return []
    sql = SUMMARY_SQL.format(col=col, name=by, where="AND event = ?" if event else "")
    params: list[Any] = [event] if event else []
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return store.dicts(sql, params)


def counts(store: Store) -> dict[str, int]:
    """The overview's numbers: logon events, successes, failures, sources, accounts, hosts."""
    if not present(store):
        return {"events": 0, "successes": 0, "failures": 0, "sources": 0, "accounts": 0, "hosts": 0}
    row = store.dicts("""
        SELECT sum(coalesce(repeats, 1)) AS events,
               sum(CASE WHEN event = 'success' THEN coalesce(repeats, 1) ELSE 0 END) AS successes,
               sum(CASE WHEN event = 'failure' THEN coalesce(repeats, 1) ELSE 0 END) AS failures,
               count(DISTINCT client) AS sources,
               count(DISTINCT account) AS accounts, count(DISTINCT host) AS hosts FROM logon_events""")[0]
    return {k: int(v or 0) for k, v in row.items()}


def timeline(store: Store, by: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """Events per hour and kind (``hour``, ``event``, ``events``), overall or for one source/account/host."""
    if not present(store):
        return []
    where, params = "", []
    if by is not None and key is not None:
        where, params = f"WHERE {column(by)} = ?", [key]
    return store.dicts(f"""
        SELECT date_trunc('hour', ts) AS hour, event, sum(coalesce(repeats, 1)) AS events FROM logon_events {where}
        GROUP BY date_trunc('hour', ts), event ORDER BY hour, event""", params)


def events(store: Store, by: str, key: str, limit: int = 200) -> list[dict[str, Any]]:
    """The newest ``limit`` logon events of one source, account or host."""
    if not present(store):
        return []
    return store.dicts(f"""
        SELECT ts, client AS source, account, domain, host, service, event, method, logon_type, status, sub_status,
               detail, repeats FROM logon_events WHERE {column(by)} = ? ORDER BY ts DESC LIMIT ?""", [key, limit])
