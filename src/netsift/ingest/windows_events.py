"""Windows Security (and MSSQL Application) events -> ``logon_events`` rows, whatever carried them: an
EVTX file, its XML export, a CSV export. The format modules turn their input into *event dicts* (System
fields and EventData by name); this module maps them, table-driven.

Event ids read (others are skipped as "other event id"):

| id | event | account | method |
|---|---|---|---|
| 4624 | success | TargetUserName | AuthenticationPackageName (ntlm, kerberos, negotiate) |
| 4625 | failure | TargetUserName | AuthenticationPackageName |
| 4634, 4647 | logoff | TargetUserName | |
| 4648 | explicit_credentials | TargetUserName (detail: by SubjectUserName to TargetServerName) | |
| 4672 | privileged | SubjectUserName (detail: the privileges) | |
| 4768, 4769 | success (Status 0x0) or failure | TargetUserName (4769 detail: ServiceName) | kerberos |
| 4771 | failure | TargetUserName | kerberos |
| 4776 | success (Status 0x0) or failure | TargetUserName (client: Workstation) | ntlm |
| 18456 (MSSQL) | failure | the login (first Data) | password; client from ``[CLIENT: a]`` |

``client`` is IpAddress (``::ffff:`` stripped; ``-``, empty and ``::1``-less values null), else the
workstation name; ``host`` is the Computer; ``logon_type``, ``status`` and ``sub_status`` (lower-case
hex) as logged; ``unknown_account`` when SubStatus or Status is 0xc0000064 (no such user) or a Kerberos
4768/4771 Status is 0x6 (client not found in the Kerberos database).

Sysmon's DNS query events (22, ``Microsoft-Windows-Sysmon/Operational``) go to ``dns_queries`` instead
(:func:`dns_rows`): the machine's own lookups, with the answers it got; its network connection events (3) go
to ``connections`` (:func:`connection_rows`: who opened it to whom, the protocol, the process as the
service). The formats count both as skipped units of their own class, their rows stored beside the logons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from netsift.ingest.base import finish_dns_records, finish_records

TABLE = "logon_events"
EVENT_IDS = (4624, 4625, 4634, 4647, 4648, 4672, 4768, 4769, 4771, 4776, 18456)
SYSMON_DNS = 22  # Sysmon's DnsQuery event: a query the machine's resolver made, to dns_queries
SYSMON_CONNECT = 3  # Sysmon's NetworkConnect event: a TCP/UDP connection a process made or took, to connections
READ_IDS = (*EVENT_IDS, SYSMON_DNS, SYSMON_CONNECT)
DATA_FIELDS = ("TargetUserName", "TargetDomainName", "SubjectUserName", "SubjectDomainName", "IpAddress", "IpPort",
               "WorkstationName", "Workstation", "LogonType", "Status", "SubStatus", "FailureReason",
               "AuthenticationPackageName", "ServiceName", "TargetServerName", "PrivilegeList",
               "QueryName", "QueryStatus", "QueryResults", "Image", "SourceIp", "SourcePort", "DestinationIp",
               "DestinationPort", "Protocol")
DNS_SKIPPED = "DNS query event (Sysmon 22: stored in dns_queries)"
CONNECT_SKIPPED = "network connection event (Sysmon 3: stored in connections)"
# Sysmon's QueryStatus is a Windows DNS error code: those that name a response code
_QUERY_STATUS = {"0": "NOERROR", "9501": "NOERROR", "9003": "NXDOMAIN", "9002": "SERVFAIL", "9005": "REFUSED",
                 "9004": "NOTIMP", "9001": "FORMERR"}
# what an event dict holds: these System fields, the DATA_FIELDS, and "Data" (unnamed values, MSSQL)
SYSTEM_FIELDS = ("unit", "ts", "EventID", "Computer", "Provider")
# FailureReason as the event stores it (a message id) -> its text, as the rendered message words it (lower
# case, no full stop: a CSV export's "Failure Reason:" text reads the same, windows_message.py)
FAILURE_REASONS = {
    "%%2304": "an error occured during logon", "%%2305": "the specified user account has expired",
    "%%2306": "the netlogon component is not active", "%%2307": "account locked out",
    "%%2308": "the user has not been granted the requested logon type at this machine",
    "%%2309": "the specified account's password has expired", "%%2310": "account currently disabled",
    "%%2311": "account logon time restriction violation", "%%2312": "user not allowed to logon at this computer",
    "%%2313": "unknown user name or bad password",
}
_CLIENT = re.compile(r"\[CLIENT: ([^\]]*)\]")


def frame_of(events: Iterable[dict]) -> pl.DataFrame:
    """Event dicts -> one frame (every field as text; ``ts`` as given: an ISO string), column by column."""
    rows = []
    for e in events:
        data = e.get("Data")
        if isinstance(data, list):  # MSSQL 18456: Data[0] the login, the rest reason and client
            text = " ".join(str(d).strip() for d in data[1:] if d is not None)
            e = {**e, **mssql_fields(str(data[0]) if data else None, text)}
        rows.append(e)
    columns: dict[str, pl.Series] = {"unit": pl.Series([e.get("unit") for e in rows], dtype=pl.Int64)}
    for k in (*SYSTEM_FIELDS[1:], *DATA_FIELDS):
        values = [e.get(k) for e in rows]
        columns[k] = pl.Series([v if v is None or isinstance(v, str) else str(v) for v in values], dtype=pl.String)
    return pl.DataFrame(columns)


def mssql_fields(login: str | None, text: str) -> dict[str, str | None]:
    """An MSSQL 18456 failed login's fields: the login, the reason text (which names ``[CLIENT: a]``)."""
    found = _CLIENT.search(text)
    return {"TargetUserName": login, "FailureReason": text[:300], "IpAddress": found.group(1) if found else None}


def _null_dash(expr: pl.Expr) -> pl.Expr:
    e = expr.str.strip_chars()
    return pl.when(e.is_in(["-", "", "::1-"])).then(None).otherwise(e)


def logon_rows(frame: pl.DataFrame, stamps: pl.Expr) -> tuple[pl.DataFrame, int]:
    """(logon_events records, events skipped as another event id) of a ``frame_of`` frame; ``stamps``
    gives each row's naive-UTC datetime from the frame's ``ts``."""
    eid = pl.col("EventID").cast(pl.Int64, strict=False)
    frame = frame.with_columns(eid=eid)
    ours = frame.filter(pl.col("eid").is_in(EVENT_IDS))
    other = frame.height - ours.height
    if not ours.height:
        return finish_records(pl.DataFrame(), TABLE), other
    e = pl.col("eid")
    status = _null_dash(pl.col("Status")).str.to_lowercase()
    sub = _null_dash(pl.col("SubStatus")).str.to_lowercase()
    ok_status = status.is_null() | status.is_in(["0x0", "0x00000000", "0"])
    ip = _null_dash(pl.col("IpAddress")).str.strip_prefix("::ffff:")
    workstation = _null_dash(pl.coalesce(pl.col("WorkstationName"), pl.col("Workstation"))).str.strip_prefix("\\\\")
    event = (pl.when(e == 4624).then(pl.lit("success"))
             .when(e.is_in([4634, 4647])).then(pl.lit("logoff"))
             .when(e == 4648).then(pl.lit("explicit_credentials"))
             .when(e == 4672).then(pl.lit("privileged"))
             .when(e.is_in([4768, 4769, 4776]) & ok_status).then(pl.lit("success"))
             .otherwise(pl.lit("failure")))
    method = (pl.when(e.is_in([4768, 4769, 4771])).then(pl.lit("kerberos"))
              .when(e == 4776).then(pl.lit("ntlm"))
              .when(e == 18456).then(pl.lit("password"))
              .otherwise(_null_dash(pl.col("AuthenticationPackageName")).str.to_lowercase()))
    account = pl.when(e == 4672).then(pl.col("SubjectUserName")).otherwise(pl.col("TargetUserName"))
    domain = pl.when(e == 4672).then(pl.col("SubjectDomainName")).otherwise(pl.col("TargetDomainName"))
    detail = (pl.when(e == 4769).then(pl.format("service {}", pl.col("ServiceName")))
              .when(e == 4648).then(pl.format("by {} to {}", pl.col("SubjectUserName"), pl.col("TargetServerName")))
              .when(e == 4672).then(pl.col("PrivilegeList").str.replace_all(r"\s+", " ").str.strip_chars())
              .otherwise(_null_dash(pl.col("FailureReason")).replace(FAILURE_REASONS)))
    unknown = ((sub == "0xc0000064") | (status == "0xc0000064")
               | (e.is_in([4768, 4771]) & (status == "0x6"))).fill_null(False)
    out = ours.select(
        ts=stamps, client=pl.coalesce(ip, workstation), account=_null_dash(account), domain=_null_dash(domain),
        host=_null_dash(pl.col("Computer")), workstation=workstation,
        service=pl.when(e == 18456).then(pl.lit("mssql")).otherwise(pl.lit("windows")), event=event, method=method,
        logon_type=pl.col("LogonType").cast(pl.Int64, strict=False), status=status, sub_status=sub,
        unknown_account=unknown, event_id=e, port=_null_dash(pl.col("IpPort")).cast(pl.Int64, strict=False),
        detail=detail, source_line=pl.col("unit"))
    return finish_records(out, TABLE), other


def dns_rows(frame: pl.DataFrame, stamps: pl.Expr) -> pl.DataFrame:
    """``dns_queries`` records of a ``frame_of`` frame's Sysmon DNS events (22 with a QueryName; ts null when
    the time does not read): the client is the machine (Computer) whose resolver asked; QueryStatus gives
    the response code (0 and 9501 NOERROR, 9003 NXDOMAIN, 9002 SERVFAIL, 9005 REFUSED ...); the answers are
    the addresses in QueryResults (``type:  5 cname.example;::ffff:192.0.2.1;2001:db8::1;``)."""
    dns = frame.filter((pl.col("EventID").cast(pl.Int64, strict=False) == SYSMON_DNS) & pl.col("QueryName").is_not_null())
    if not dns.height:
        return finish_dns_records(pl.DataFrame(schema={"source_line": pl.Int64}))
    results = pl.col("QueryResults").fill_null("").str.split(";").list.eval(
        pl.element().str.strip_chars().str.strip_prefix("::ffff:").filter(
            pl.element().str.contains(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)$")))
    status = pl.col("QueryStatus").str.strip_chars()
    return finish_dns_records(dns.select(
        ts=stamps, client=_null_dash(pl.col("Computer")), query_name=pl.col("QueryName").str.strip_chars(),
        response_code=status.replace_strict(_QUERY_STATUS, default=None, return_dtype=pl.String),
        answers=pl.when(results.list.len() > 0).then(results), source_line=pl.col("unit")))


def connection_rows(frame: pl.DataFrame, stamps: pl.Expr) -> pl.DataFrame:
    """``connections`` records of a ``frame_of`` frame's Sysmon network connection events (3 with both
    addresses; ts null when the time does not read): SourceIp/SourcePort the side that opened it (the
    machine for an outgoing one, the peer for an incoming one), DestinationIp/DestinationPort the other, the
    protocol, and the process (Image's file name, lower case) as the service."""
    events = frame.filter((pl.col("EventID").cast(pl.Int64, strict=False) == SYSMON_CONNECT)
                          & pl.col("SourceIp").is_not_null() & pl.col("DestinationIp").is_not_null())
    if not events.height:
        return finish_records(pl.DataFrame(schema={"source_line": pl.Int64}), "connections")
    address = [pl.col(c).str.strip_chars().str.strip_prefix("::ffff:") for c in ("SourceIp", "DestinationIp")]
    return finish_records(events.select(
        ts=stamps, client=address[0], client_port=pl.col("SourcePort").cast(pl.Int64, strict=False),
        server=address[1], server_port=pl.col("DestinationPort").cast(pl.Int64, strict=False),
        protocol=pl.col("Protocol").str.to_lowercase(),
        service=_null_dash(pl.col("Image")).str.split("\\").list.last().str.to_lowercase(),
        source_line=pl.col("unit")), "connections")


@dataclass
class EventRows:
    """What a batch of event dicts gives, whatever format carried them (``event_rows``)."""

    logons: pl.DataFrame  # logon_events records with a readable time
    dns: pl.DataFrame  # dns_queries records (Sysmon 22) with a readable time
    connections: pl.DataFrame  # connections records (Sysmon 3) with a readable time
    unstamped: pl.Series  # the units of any of them whose time does not read (to reject)
    skipped_by: dict[str, int]  # other event ids; the DNS and connection events (their rows are stored)

    def tables(self) -> dict[str, pl.DataFrame]:
        return {name: rows for name, rows in (("dns_queries", self.dns), ("connections", self.connections))
                if rows.height}


def event_rows(frame: pl.DataFrame, stamps: pl.Expr) -> EventRows:
    """A ``frame_of`` frame's logon and DNS records (``logon_rows``, ``dns_rows``), split by whether their
    time reads, and the units skipped, counted by class."""
    logons, other = logon_rows(frame, stamps)
    dns, connections = dns_rows(frame, stamps), connection_rows(frame, stamps)
    stamped = pl.col("ts").is_not_null()
    unstamped = pl.concat([rows.filter(~stamped)["source_line"] for rows in (logons, dns, connections)])
    dns_stamped, connections_stamped = dns.filter(stamped), connections.filter(stamped)
    return EventRows(logons.filter(stamped), dns_stamped, connections_stamped, unstamped,
                     {"other event id": other - dns.height - connections.height, DNS_SKIPPED: dns_stamped.height,
                      CONNECT_SKIPPED: connections_stamped.height})


def iso_stamps(expr: pl.Expr) -> pl.Expr:
    """SystemTime as Windows writes it (2026-03-03T14:02:11.1234567Z, 7 fraction digits, or fewer;
    a space instead of T; no zone: UTC) -> naive UTC microseconds."""
    s = (expr.str.strip_chars().str.replace(" ", "T").str.replace(r"(?:Z| UTC|\+00:00)$", "")
         .str.replace(r"(\.\d{6})\d+$", "$1"))
    return s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
