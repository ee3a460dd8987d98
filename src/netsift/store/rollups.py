"""Per-hour and per-pair rollups of ``dns_queries``, so that the report and every dashboard page answer from
a few thousand pre-aggregated rows instead of scanning ten million.

The rollups depend only on ``dns_queries`` and ``domain_names`` (not on the baseline, verdicts or
findings), so a verdict never invalidates them. :func:`ensure_rollups` rebuilds them when the row count or
the latest timestamp of ``dns_queries`` changed since the last build (recorded in ``rollup_state``), or the
rollups were built by code of another ``ROLLUP_VERSION``;
``pipeline.analyze`` calls :func:`ensure_rollups` at its end to keep them warm.

They live with the store: the tables are declared here (and created by every store with the rest of
:func:`netsift.schema.all_tables`), the build queries are the store's SQL (a second store rewrites
``BUILD_SQL`` in its own dialect), and only these functions build them.
"""

from __future__ import annotations

import datetime as dt

from netsift import schema
from netsift.schema import Column, Table
from netsift.store.base import Store

ROLLUP_CLIENT_HOUR = Table(
    "rollup_client_hour",
    "Questions per client per hour (rebuilt from dns_queries by the report and dashboard).",
    (
        Column("hour", "timestamp", "Start of the hour, UTC.", False),
        Column("client", "text", "Asking host."),
        Column("queries", "int", "Questions asked."),
        Column("nxdomain", "int", "Questions answered NXDOMAIN."),
    ),
)

ROLLUP_DOMAIN_HOUR = Table(
    "rollup_domain_hour",
    "Questions per registered domain per hour.",
    (
        Column("registered_domain", "text", "Registered domain.", False),
        Column("hour", "timestamp", "Start of the hour, UTC.", False),
        Column("queries", "int", "Questions asked."),
        Column("nxdomain", "int", "Questions answered NXDOMAIN."),
    ),
)

ROLLUP_DOMAIN_CLIENT = Table(
    "rollup_domain_client",
    "Questions per (registered domain, client) pair.",
    (
        Column("registered_domain", "text", "Registered domain.", False),
        Column("client", "text", "Asking host."),
        Column("queries", "int", "Questions asked."),
        Column("names", "int", "Distinct query names under the domain this client asked for."),
        Column("first_seen", "timestamp", "First question."),
        Column("last_seen", "timestamp", "Last question."),
    ),
)

ROLLUP_DOMAIN_ANSWER = Table(
    "rollup_domain_answer",
    "Answers (IPs or names) returned for names under each registered domain.",
    (
        Column("registered_domain", "text", "Registered domain.", False),
        Column("answer", "text", "One answer as the log gave it.", False),
        Column("queries", "int", "Questions answered with it."),
        Column("first_seen", "timestamp", "First time."),
        Column("last_seen", "timestamp", "Last time."),
    ),
)

# Resolver rollups: only the questions of files whose log carries block status (Pi-hole, Pi-hole JSON, an
# Infoblox/BIND log with RPZ hits, Umbrella, a CSV with an action column): a file with at least one
# resolver_action other than 'local' (Windows DNS marks authoritative answers so, and says nothing of
# blocking). Every question of such a file counts, blocked ('blocked:<list>') or allowed (anything else).
ROLLUP_RESOLVER_HOUR = Table(
    "rollup_resolver_hour",
    "Questions per hour, resolver action and query type, in logs that carry block status.",
    (
        Column("hour", "timestamp", "Start of the hour, UTC.", False),
        Column("blocked", "bool", "resolver_action is blocked:<list>.", False),
        Column("resolver_action", "text", "As stored (forwarded:<upstream>, cached, blocked:gravity, ...)."),
        Column("query_type", "text", "Query type."),
        Column("queries", "int", "Questions asked."),
    ),
)

ROLLUP_RESOLVER_NAME = Table(
    "rollup_resolver_name",
    "Questions per query name, blocked or allowed, in logs that carry block status.",
    (
        Column("query_name", "text", "Query name.", False),
        Column("blocked", "bool", "resolver_action is blocked:<list>.", False),
        Column("queries", "int", "Questions asked."),
        Column("clients", "int", "Distinct clients that asked."),
        Column("last_seen", "timestamp", "Last question."),
    ),
)

ROLLUP_RESOLVER_CLIENT = Table(
    "rollup_resolver_client",
    "Questions and blocked questions per client, in logs that carry block status.",
    (
        Column("client", "text", "Asking host."),
        Column("queries", "int", "Questions asked."),
        Column("blocked", "int", "Of which blocked."),
        Column("last_seen", "timestamp", "Last question."),
    ),
)

ROLLUP_STATE = Table(
    "rollup_state",
    "What the rollups were built from: when dns_queries changes (or netsift's rollups do), they are rebuilt.",
    (
        Column("dns_rows", "int", "count(*) of dns_queries at build time.", False),
        Column("max_ts", "timestamp", "max(ts) of dns_queries at build time."),
        Column("built_at", "timestamp", "When they were built.", False),
        Column("version", "int", "ROLLUP_VERSION of the code that built them."),
    ),
)

ROLLUP_VERSION = 2  # bump when a rollup is added or changes: stores rebuild theirs on the next open

TABLES = (ROLLUP_CLIENT_HOUR, ROLLUP_DOMAIN_HOUR, ROLLUP_DOMAIN_CLIENT, ROLLUP_DOMAIN_ANSWER, ROLLUP_RESOLVER_HOUR,
          ROLLUP_RESOLVER_NAME, ROLLUP_RESOLVER_CLIENT, ROLLUP_STATE)
schema.register_tables(*TABLES)

_NAMED = "dns_queries q JOIN domain_names n USING (query_name)"
# the questions of files with block status (see ROLLUP_RESOLVER_HOUR); rollup_resolver_hour is built first
_RESOLVER_ROWS = """(SELECT *, coalesce(starts_with(resolver_action, 'blocked'), false) AS is_blocked FROM dns_queries
    WHERE source_file_id IN (SELECT DISTINCT source_file_id FROM dns_queries
                             WHERE resolver_action IS NOT NULL AND resolver_action <> 'local'))"""

BUILD_SQL = {
    "rollup_client_hour": """
        SELECT date_trunc('hour', ts) AS hour, client, count(*) AS queries,
               count(*) FILTER (WHERE response_code = 'NXDOMAIN') AS nxdomain
        FROM dns_queries GROUP BY ALL""",
    "rollup_domain_hour": f"""
        SELECT n.registered_domain, date_trunc('hour', q.ts) AS hour, count(*) AS queries,
               count(*) FILTER (WHERE q.response_code = 'NXDOMAIN') AS nxdomain
        FROM {_NAMED} WHERE n.registered_domain IS NOT NULL GROUP BY ALL""",
    "rollup_domain_client": f"""
        SELECT n.registered_domain, q.client, count(*) AS queries, count(DISTINCT q.query_name) AS names,
               min(q.ts) AS first_seen, max(q.ts) AS last_seen
        FROM {_NAMED} WHERE n.registered_domain IS NOT NULL GROUP BY ALL""",
    "rollup_domain_answer": f"""
        SELECT registered_domain, answer, count(*) AS queries, min(ts) AS first_seen, max(ts) AS last_seen
        FROM (SELECT n.registered_domain, q.ts, unnest(q.answers) AS answer
              FROM {_NAMED} WHERE q.answers IS NOT NULL AND len(q.answers) > 0)
        WHERE answer IS NOT NULL AND answer <> '' GROUP BY ALL""",
    "rollup_resolver_hour": f"""
        SELECT date_trunc('hour', ts) AS hour, is_blocked AS blocked, resolver_action, query_type, count(*) AS queries
        FROM {_RESOLVER_ROWS} GROUP BY ALL""",
    "rollup_resolver_name": f"""
        SELECT query_name, is_blocked AS blocked, count(*) AS queries, count(DISTINCT client) AS clients,
               max(ts) AS last_seen
        FROM {_RESOLVER_ROWS} GROUP BY ALL""",
    "rollup_resolver_client": f"""
        SELECT client, count(*) AS queries, count(*) FILTER (WHERE is_blocked) AS blocked, max(ts) AS last_seen
        FROM {_RESOLVER_ROWS} GROUP BY ALL""",
}


def _source_state(store: Store) -> tuple[int, dt.datetime | None]:
    rows, max_ts = store.rows("SELECT count(*), max(ts) FROM dns_queries")[0]
    return int(rows), max_ts


def rollups_current(store: Store) -> bool:
    """True when the rollups were built from the dns_queries that are there now, by this version's code."""
    if not store.has_table("rollup_state") or not store.has_column("rollup_state", "version"):
        return False  # built before rollups had versions
    built = store.rows("SELECT dns_rows, max_ts, version FROM rollup_state")
    return bool(built) and tuple(built[0]) == (*_source_state(store), ROLLUP_VERSION)


def refresh_rollups(store: Store) -> None:
    """Rebuild every rollup from dns_queries (one transaction; readers see the old ones until commit)."""
    session = store.cursor()  # own session: no progress bar on stdout (``serve --get`` prints JSON there)
    try:
        state = _source_state(session)
        with session.transaction():
            session.execute("DROP TABLE IF EXISTS rollup_state")  # may predate its version column
            session.ensure_tables(TABLES)
            for name, sql in BUILD_SQL.items():
                session.execute(f"DELETE FROM {name}")
                session.execute(f"INSERT INTO {name} {sql}")
            session.execute("DELETE FROM rollup_state")
            session.execute("INSERT INTO rollup_state VALUES (?, ?, ?, ?)",
                            [state[0], state[1], dt.datetime.now(dt.UTC).replace(tzinfo=None), ROLLUP_VERSION])
    finally:
        session.close()


def ensure_rollups(store: Store) -> bool:
    """Rebuild the rollups when dns_queries changed; True when they were rebuilt."""
    if rollups_current(store):
        return False
    refresh_rollups(store)
    return True
