"""Windows Defender Firewall's log (``pfirewall.log``, ``%SystemRoot%\\System32\\LogFiles\\Firewall``): one
packet decision a line, in the W3C extended format, into ``connections``::

    #Version: 1.5
    #Software: Microsoft Windows Firewall
    #Time Format: Local
    #Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid
    2026-11-30 10:00:01 ALLOW TCP 10.0.0.12 93.184.216.34 51000 443 0 - 0 0 0 - - - SEND 4
    2026-11-30 10:00:02 DROP TCP 203.0.113.5 10.0.0.12 4444 3389 52 S 123 0 64240 - - - RECEIVE

Each ALLOW (a connection opened) and DROP (a packet refused) is a row: ``src-ip``/``src-port`` the side that
sent it, ``dst-ip``/``dst-port`` the other (for SEND the machine itself is the source, for RECEIVE the peer),
the protocol (TCP, UDP, ICMP, or its number) in lower case, and the action (allow, drop, allow-close ...) as
the state. Times are the machine's local time (``#Time Format: Local``): read in ``--tz``. Columns are found by
name under each ``#Fields:`` header (``ingest/w3c_logs.py``: headers mid-file, across chunks).

Accounting: directives and blank lines are skipped; a line before any header, with another number of
values than its header's fields, without both addresses or a readable date and time is rejected with the
reason.
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import ParseContext, ParseResult, Parser, finish_records, localize_expr, rejected_from
from netsift.ingest.w3c_logs import first, header_fields, parse_by_header

_STATE = "windows_firewall_header"


def _records(t: pl.DataFrame, v: dict[str, pl.Expr], software: str, tz: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    stamp = pl.concat_str([first(v, "date"), first(v, "time")], separator=" ")
    t = t.with_columns(
        ts=localize_expr(stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False), tz),
        client=first(v, "src-ip"), server=first(v, "dst-ip"))
    good = pl.col("ts").is_not_null() & pl.col("client").is_not_null() & pl.col("server").is_not_null()
    rejected = rejected_from(t.filter(~good).select(
        "line_no", "line", why=pl.when(pl.col("ts").is_null()).then(pl.lit("missing or unreadable date and time"))
        .otherwise(pl.lit("no src-ip or dst-ip"))), pl.col("why"))
    records = finish_records(t.filter(good).select(
        "ts", "client", client_port=first(v, "src-port").cast(pl.Int64, strict=False),
        server="server", server_port=first(v, "dst-port").cast(pl.Int64, strict=False),
        protocol=first(v, "protocol").str.to_lowercase(), state=first(v, "action").str.to_lowercase(),
        source_line="line_no",
    ), "connections")
    return records, rejected


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    return parse_by_header(lines, ctx, _STATE, "connections", _records)


def sniff(lines: list[str]) -> float:
    """A ``#Fields:`` header naming the firewall's ``action``, ``src-ip`` and ``dst-ip``."""
    fields = header_fields(lines)
    return 0.95 if fields and all(f in fields.split() for f in ("action", "src-ip", "dst-ip")) else 0.0


PARSER = Parser(
    name="windows_firewall",
    description="Windows Defender Firewall log (pfirewall.log): allowed and dropped connections",
    kind="lines",
    table="connections",
    sniff=sniff,
    parse=parse,
)
