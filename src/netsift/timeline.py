"""One host, one story: everything the store knows about a client (an address, or a host name), from
every family of logs, on one timeline. The client's dashboard page and ``netsift explain CLIENT`` show it.

Each family contributes its events through a :class:`Family` registered here (``register``): a
parameterised query over its own table returning ``ts, kind, count`` and the family's detail columns
(every ``?`` is bound to the client), and a function that turns a row into one line of text. A family
whose table is absent or empty contributes nothing, so a DNS-only store shows DNS only. Families
registered by this module: ``dns`` (the client's questions per hour), ``logons`` (logon events from the
client, as the acting address, and to it, as the target host, per hour, event and peer; stamped with the
first of them), ``findings``
(findings about the client, or on it as the host), ``connections`` (per hour: connections from the client and
to it, peers, bytes each way), ``http`` (its HTTP requests per hour) and ``credentials`` (each password it sent
or received in clear text; never the secret) and ``alerts`` (IDS alerts from or to it, per hour and
rule). To add a family: one ``Family`` and ``register(it)``
next to the code that fills its table. Queries are plain SQL (every store runs them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netsift.store.base import Store

LIMIT = 500  # events per family (the newest are kept when there are more)


@dataclass(frozen=True)
class Family:
    name: str  # "dns", "logons", ...
    table: str  # the table it reads (no rows, or no table: nothing to say)
    sql: str  # SELECT ts, kind, count, ... WHERE ... ? ... (each ? is the client)
    describe: Callable[[dict[str, Any]], str]  # a row -> one line of text

    def events(self, store: Store, client: str, limit: int = LIMIT) -> list[dict[str, Any]]:
        if not store.has_table(self.table):
            return []
        slots = self.sql.count("?")
        rows = store.dicts(f"SELECT * FROM ({self.sql}) e ORDER BY ts DESC LIMIT {int(limit)}", [client] * slots)
        return [{"ts": r["ts"], "family": self.name, "kind": r["kind"], "count": int(r["count"] or 0),
                 "text": self.describe(r)} for r in rows if r["ts"] is not None]


FAMILIES: list[Family] = []


def register(family: Family) -> None:
    """Add a family (a family of the same name is replaced)."""
    FAMILIES[:] = [f for f in FAMILIES if f.name != family.name] + [family]


def client_events(store: Store, client: str, limit: int = LIMIT) -> list[dict[str, Any]]:
    """Every family's events for ``client``, oldest first (each family's newest ``limit``)."""
    events = [e for family in FAMILIES for e in family.events(store, client, limit)]
    events.sort(key=lambda e: (e["ts"], e["family"], e["kind"]))
    return events


def has_client(store: Store, client: str) -> bool:
    """Whether any family knows this client."""
    return any(family.events(store, client, 1) for family in FAMILIES)


def as_json(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "ts": e["ts"].isoformat() if isinstance(e["ts"], dt.datetime) else e["ts"]} for e in events]


# --- the families of this module ------------------------------------------------------------------------

def _dns(r: dict[str, Any]) -> str:
    nx = f", {r['nxdomain']:,} NXDOMAIN" if r["nxdomain"] else ""
    return f"{r['count']:,} DNS questions{nx} for {r['names']:,} names in the hour"


DNS = Family("dns", "dns_queries", """
    SELECT min(ts) AS ts, 'questions' AS kind, count(*) AS count,
           sum(CASE WHEN response_code = 'NXDOMAIN' THEN 1 ELSE 0 END) AS nxdomain,
           count(DISTINCT query_name) AS names
    FROM dns_queries WHERE client = ? AND ts IS NOT NULL GROUP BY date_trunc('hour', ts)""", _dns)


def _logons(r: dict[str, Any]) -> str:
    accounts = (r["first_account"] if r["accounts"] == 1 else
                f"{r['accounts']} accounts ({r['first_account']} … {r['last_account']})" if r["accounts"] else
                "no account")
    times = f"{r['count']:,}× " if r["count"] > 1 else ""
    where = f" on {r['host']}" if r["role"] == "from" and r["host"] else ""
    peer = f" from {r['peer']}" if r["role"] == "to" and r["peer"] else ""
    return f"{r['service']} {times}{r['kind']}{where}{peer}: {accounts}"


LOGONS = Family("logons", "logon_events", """
    SELECT min(ts) AS ts, event AS kind, sum(coalesce(repeats, 1)) AS count, role, service, host, client AS peer,
           count(DISTINCT account) AS accounts, min(account) AS first_account, max(account) AS last_account
    FROM (SELECT ts, event, service, host, client, account, repeats,
                 CASE WHEN client = ? THEN 'from' ELSE 'to' END AS role
          FROM logon_events WHERE client = ? OR host = ?) l
    GROUP BY date_trunc('hour', ts), event, role, service, host, client""",
                _logons)


def _finding(r: dict[str, Any]) -> str:
    about = ", ".join(x for x in (r["domain"], r["account"] and f"account {r['account']}",
                                  r["host"] and f"on {r['host']}") if x)
    return f"finding {r['kind']} ({r['severity']}, {r['score']:.2f}){': ' + about if about else ''}"


FINDINGS = Family("findings", "findings", """
    SELECT first_seen AS ts, kind, evidence_count AS count, severity, score, domain, account, host
    FROM findings WHERE client = ? OR host = ?""", _finding)



def _bytes(n: Any) -> str:
    value = float(n or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return ""


def _connections(r: dict[str, Any]) -> str:
    role = f"to {r['peers']:,} servers" if r["role"] == "from" else f"from {r['peers']:,} clients"
    return (f"{r['count']:,} connections {role} in the hour (e.g. {r['top_peer']}): {_bytes(r['bytes_out'])} sent, "
            f"{_bytes(r['bytes_in'])} received")


CONNECTIONS = Family("connections", "connections", """
    SELECT min(ts) AS ts, 'connections' AS kind, count(*) AS count, role,
           count(DISTINCT peer) AS peers, min(peer) AS top_peer,
           sum(CASE WHEN role = 'from' THEN coalesce(bytes_out, 0) ELSE coalesce(bytes_in, 0) END) AS bytes_out,
           sum(CASE WHEN role = 'from' THEN coalesce(bytes_in, 0) ELSE coalesce(bytes_out, 0) END) AS bytes_in
    FROM (SELECT ts, bytes_out, bytes_in, CASE WHEN client = ? THEN 'from' ELSE 'to' END AS role,
                 CASE WHEN client = ? THEN server ELSE client END AS peer
          FROM connections WHERE client = ? OR server = ?) c
    GROUP BY date_trunc('hour', ts), role""", _connections)


def _http(r: dict[str, Any]) -> str:
    return f"{r['count']:,} HTTP requests in the hour to {r['hosts']:,} hosts (e.g. {r['top_host'] or 'no Host'})"


HTTP = Family("http", "http_requests", """
    SELECT min(ts) AS ts, 'requests' AS kind, count(*) AS count, count(DISTINCT host) AS hosts,
           min(host) AS top_host
    FROM http_requests WHERE client = ? GROUP BY date_trunc('hour', ts)""", _http)


def _credential(r: dict[str, Any]) -> str:
    direction = f"sent to {r['server']}" if r["role"] == "from" else f"received from {r['client']}"
    return f"{r['protocol']} password of {r['account'] or 'an unnamed account'} {direction} in clear text"


CREDENTIALS = Family("credentials", "credentials", """
    SELECT ts, 'cleartext credential' AS kind, 1 AS count, protocol, account, server, client,
           CASE WHEN client = ? THEN 'from' ELSE 'to' END AS role
    FROM credentials WHERE client = ? OR server = ?""", _credential)

def _alert(r: dict[str, Any]) -> str:
    peer = r["dest"] if r["role"] == "from" else r["src"]
    return (f"IDS alert {r['signature'] or 'without a message'!r} (sid {r['signature_id']}, priority "
            f"{r['severity'] if r['severity'] is not None else '?'}) {r['count']:,}x in the hour, "
            f"{'to' if r['role'] == 'from' else 'from'} {peer}" + (" (blocked)" if r["blocked"] else ""))


ALERTS = Family("alerts", "ids_alerts", """
    SELECT min(ts) AS ts, 'ids alert' AS kind, count(*) AS count, signature_id, min(signature) AS signature,
           min(severity) AS severity, role, min(src) AS src, min(dest) AS dest,
           sum(CASE WHEN action = 'blocked' THEN 1 ELSE 0 END) = count(*) AS blocked
    FROM (SELECT *, CASE WHEN src = ? THEN 'from' ELSE 'to' END AS role FROM ids_alerts
          WHERE src = ? OR dest = ?) a
    GROUP BY date_trunc('hour', ts), signature_id, role""", _alert)

for _family in (DNS, LOGONS, FINDINGS, CONNECTIONS, HTTP, CREDENTIALS, ALERTS):
    register(_family)
