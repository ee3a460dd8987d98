"""FortiGate's logs (FortiOS 5 to 7), ``key=value`` pairs a line, as the firewall sends them to syslog or
FortiAnalyzer exports them (a syslog envelope or priority before ``date=`` is ignored)::

    date=2026-11-30 time=10:00:01 devname="FGT60F" logid="1501054802" type="utm" subtype="dns" eventtype="dns-response" eventtime=1796032801740931155 tz="+0100" srcip=10.0.0.5 srcport=50002 dstip=10.0.0.1 dstport=53 sessionid=6887 xid=57945 qname="changelogs.ubuntu.com" qtype="AAAA" ipaddr="2001:67c:1560:8008::11" action="pass"

Five families are stored, each in its table:

- ``type=utm subtype=dns`` (the DNS filter; every name with ``log-all-domain``) -> ``dns_queries``: a
  ``dns-query`` joined to its ``dns-response`` by session and DNS id (``ingest/dns_transactions.py``; a
  response alone is a record too): client ``srcip``, ``qname``, ``qtype``, the addresses of ``ipaddr`` as
  answers, and ``blocked:dnsfilter`` when the filter blocked or redirected it.
- ``type=traffic`` -> ``connections``: ``srcip``/``srcport`` to ``dstip``/``dstport``, ``proto`` (6 tcp, 17
  udp, 1 icmp), the application (``app``, else ``service``) as the service, ``duration``, ``sentbyte`` /
  ``rcvdbyte`` and ``sentpkt`` / ``rcvdpkt`` each way, the session's end ``action`` (close, timeout, deny,
  server-rst ...) as its state; stamped at the session's start (the log's time less its duration).
- ``type=utm subtype=webfilter`` -> ``http_requests`` (``log`` = ``fortigate``): client, server, port,
  ``hostname``, ``url``, user agent (``agent``), bytes each way, ``user``, and the filter's ``action``
  (passthrough, blocked ...) as the result.
- ``type=utm subtype=ips`` -> ``ids_alerts``: ``attack`` and ``attackid`` as the rule, its ``severity``
  (critical and high 1, medium 2, low 3, info 4), ``action`` dropped/reset/blocked as ``blocked``.
- logons -> ``logon_events``: SSL VPN logins (``action=ssl-login-fail``: a failure, an unknown user when the
  reason says so; ``tunnel-up`` of an SSL tunnel: a success; client ``remip``, service ``sslvpn``), the
  firewall's administrators (``action=login``/``logout`` with ``status``; client ``srcip``, service
  ``fortigate-admin``, the method from ``ui``: https, ssh ...) and firewall authentication
  (``subtype=user action=authentication``); the firewall (``devname``) is the host logged into.

``netsift watch --syslog`` reads the firewall's messages as it sends them (no syslog header after the
priority, or an RFC 5424 header without an application name). The stamp is ``eventtime`` (epoch in seconds, milliseconds, microseconds or nanoseconds: exact, UTC), else
``date`` and ``time`` in the log's ``tz`` offset, else in ``--tz``. Other log types and subtypes (antivirus,
application control, system events ...) are counted as skipped by type and subtype, not stored.

Accounting: blank lines are skipped; a line without FortiGate's ``date=``, ``time=`` and ``type=`` or
without a readable time is rejected with the reason, as are a traffic log without both addresses and a
DNS log without a question (skipped).
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import (ParseContext, ParseResult, Parser, all_rejected, finish_records, host_name,
                                 localize_expr, rejected_from, share_sniff)
from netsift.ingest.dns_transactions import joined_records

HOLD_BACK = 5_000  # a dns-response joins its dns-query at most this many DNS logs back
# the keys read from every line, then those of each family, read from its lines only (a key is one regular
# expression over the line: reading all of them from every line took half the parse)
COMMON_KEYS = ("date", "time", "tz", "eventtime", "type", "subtype", "eventtype", "action", "status", "devname")
FAMILY_KEYS = {
    "dns": ("srcip", "srcport", "sessionid", "xid", "qname", "qtype", "ipaddr"),
    "traffic": ("srcip", "srcport", "dstip", "dstport", "proto", "service", "app", "duration", "sentbyte", "rcvdbyte",
                "sentpkt", "rcvdpkt"),
    "webfilter": ("srcip", "dstip", "dstport", "hostname", "url", "agent", "sentbyte", "rcvdbyte", "user", "method"),
    "ips": ("srcip", "srcport", "dstip", "dstport", "proto", "service", "attack", "attackid", "severity"),
    "event": ("srcip", "remip", "user", "reason", "tunneltype", "ui", "logdesc"),
}
_LOOKS_LIKE = re.compile(r"\bdate=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d\b.*\btype=")
_PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "47": "gre", "50": "esp", "132": "sctp"}
_SEVERITIES = {"critical": 1, "high": 1, "medium": 2, "low": 3, "info": 4, "information": 4}
_STORED = {"connections": "traffic log", "http_requests": "web filter log", "ids_alerts": "IPS log",
           "logon_events": "logon log"}
_BLOCKING = ["dropped", "reset", "blocked", "block", "clear_session", "drop"]


def sniff(lines: list[str]) -> float:
    """FortiGate's ``date=... time=... ... type=...`` on most of the first lines."""
    return share_sniff(lines, _LOOKS_LIKE.search, weight=0.95)


def _values(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` with each key's value in the line as a column (quotes removed; empty, ``N/A`` and absent are
    null). The regular expressions run once each: an eager ``with_columns`` does not share subexpressions."""
    frame = frame.with_columns(pl.col("line").str.extract(rf'(?:^|[\s>]){key}=("(?:[^"\\]|\\.)*"|\S*)', 1).alias(key)
                               for key in keys)
    quoted = [pl.when(pl.col(k).str.starts_with('"')).then(pl.col(k).str.slice(1, pl.col(k).str.len_chars() - 2))
              .otherwise(pl.col(k)).alias(k) for k in keys]
    return frame.with_columns(quoted).with_columns(
        pl.when(pl.col(k).is_in(["", "N/A"])).then(None).otherwise(pl.col(k)).alias(k) for k in keys)


def _int(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int64, strict=False)


def _stamps(t: pl.DataFrame, tz: str) -> pl.Series:
    """eventtime (exact, UTC) where logged, else date and time in the log's tz offset or ``tz``."""
    digits = pl.col("eventtime").str.len_chars()
    epoch = pl.col("eventtime").cast(pl.Int64, strict=False)
    micros = (pl.when(digits >= 18).then(epoch // 1000).when(digits >= 15).then(epoch)
              .when(digits >= 12).then(epoch * 1000).otherwise(epoch * 1_000_000))
    local = pl.concat_str([pl.col("date"), pl.col("time")], separator=" ").str.strptime(
        pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    offset = pl.col("tz").str.extract(r"^([+-])(\d\d):?(\d\d)$", 0)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    minutes = (offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
               + offset.str.slice(-2, 2).cast(pl.Int64, strict=False)) * sign
    shifted = local - pl.duration(minutes=minutes)
    return t.select(pl.coalesce(
        pl.when(epoch.is_not_null() & (epoch > 0)).then(micros.cast(pl.Datetime("us"))),
        pl.when(minutes.is_not_null()).then(shifted),
        localize_expr(local, tz),
    ).alias("ts")).to_series()


def _dns(t: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, dict[str, int]]:
    kind = pl.col("eventtype").str.to_lowercase()
    action = pl.col("action").str.to_lowercase()
    rows = t.select(
        "line_no", "ts",
        role=pl.when(kind == "dns-query").then(pl.lit("q")).otherwise(pl.lit("r")),
        key=pl.concat_str([pl.coalesce("sessionid", pl.concat_str(["srcip", "srcport"], separator="|")).fill_null(""),
                           pl.col("xid").fill_null("")], separator="#"),
        qname=pl.col("qname"), qtype=pl.col("qtype"),
        rcode=pl.when(pl.col("ipaddr").is_not_null()).then(pl.lit("NOERROR")),
        answers=pl.col("ipaddr").str.split(",").list.eval(pl.element().str.strip_chars()),
        client=pl.col("srcip"),
        action=pl.when(action.is_in(["block", "redirect", "blocked"])).then(pl.lit("blocked:dnsfilter")),
    )
    return joined_records(rows, ctx, "fortigate_dns", HOLD_BACK)


def _connections(t: pl.DataFrame) -> pl.DataFrame:
    duration = pl.col("duration").cast(pl.Float64, strict=False)
    return finish_records(t.select(
        ts=pl.col("ts") - pl.duration(microseconds=(duration.fill_null(0) * 1_000_000).cast(pl.Int64)),
        client="srcip", client_port=_int("srcport"), server="dstip", server_port=_int("dstport"),
        protocol=pl.col("proto").replace_strict(_PROTOCOLS, default=pl.col("proto")),
        service=pl.coalesce("app", "service").str.to_lowercase(),
        duration=duration,
        bytes_out=_int("sentbyte"), bytes_in=_int("rcvdbyte"), packets_out=_int("sentpkt"), packets_in=_int("rcvdpkt"),
        state=pl.col("action").str.to_lowercase(),
        source_line="line_no",
    ), "connections")


def _http_requests(t: pl.DataFrame) -> pl.DataFrame:
    return finish_records(t.select(
        "ts", client="srcip", server="dstip", server_port=_int("dstport"),
        method=pl.col("method").str.to_uppercase(),
        host=host_name(pl.col("hostname")),
        uri="url", user_agent="agent", bytes_out=_int("sentbyte"), bytes_in=_int("rcvdbyte"), account="user",
        result=pl.col("action").str.to_lowercase(), log=pl.lit("fortigate"), source_line="line_no",
    ), "http_requests")


def _ids_alerts(t: pl.DataFrame) -> pl.DataFrame:
    return finish_records(t.select(
        "ts", src="srcip", src_port=_int("srcport"), dest="dstip", dest_port=_int("dstport"),
        protocol=pl.col("proto").replace_strict(_PROTOCOLS, default=pl.col("proto")),
        signature_id=_int("attackid"), signature="attack", category=pl.lit("ips"),
        severity=pl.col("severity").str.to_lowercase().replace_strict(_SEVERITIES, default=None,
                                                                     return_dtype=pl.Int64),
        action=pl.when(pl.col("action").str.to_lowercase().is_in(_BLOCKING)).then(pl.lit("blocked"))
        .otherwise(pl.lit("allowed")),
        app_proto=pl.col("service").str.to_lowercase(), source_line="line_no",
    ), "ids_alerts")


def _logon_kind() -> pl.Expr:
    """The logon event a log line is (null: not a logon)."""
    action, status = pl.col("action").str.to_lowercase(), pl.col("status").str.to_lowercase()
    subtype = pl.col("subtype").str.to_lowercase()
    vpn = subtype == "vpn"
    ssl_tunnel = pl.col("tunneltype").str.to_lowercase().str.starts_with("ssl").fill_null(False)
    failed = status.is_in(["failed", "failure"]).fill_null(False)
    return (pl.when(vpn & (action == "ssl-login-fail")).then(pl.lit("failure"))
            .when(vpn & (action == "tunnel-up") & ssl_tunnel).then(pl.lit("success"))
            .when(~vpn & action.is_in(["login", "authentication"]) & failed).then(pl.lit("failure"))
            .when(~vpn & action.is_in(["login", "authentication"]) & (status == "success")).then(pl.lit("success"))
            .when(~vpn & (action == "logout")).then(pl.lit("logoff")))


def _logons(t: pl.DataFrame) -> pl.DataFrame:
    subtype = pl.col("subtype").str.to_lowercase()
    reason = pl.col("reason").str.to_lowercase()
    return finish_records(t.select(
        "ts",
        client=pl.when(subtype == "vpn").then(pl.coalesce("remip", "srcip")).otherwise(pl.coalesce("srcip", "remip")),
        account="user",
        host="devname",
        service=pl.when(subtype == "vpn").then(pl.lit("sslvpn")).when(subtype == "user").then(pl.lit("fortigate-auth"))
        .otherwise(pl.lit("fortigate-admin")),
        event="logon_event",
        method=pl.col("ui").str.extract(r"^([A-Za-z]+)", 1).str.to_lowercase(),
        unknown_account=reason.str.contains("unknown_user|unknown user|no_such_user").fill_null(False),
        detail=pl.coalesce("reason", "logdesc"),
        source_line="line_no",
    ), "logon_events")


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows = lines.select("line_no", line=pl.col("line").fill_null("").str.strip_chars_end("\r"))
    blank = rows["line"].str.strip_chars() == ""
    rows = rows.filter(~blank)
    shaped = rows["line"].str.contains(r"(?:^|[\s>])date=\S+ time=\S+") & rows["line"].str.contains(r"\stype=")
    rejected = [rejected_from(rows.filter(~shaped), "not a FortiGate log line (expected date=... time=... "
                                                    "type=... key=value pairs)")]
    t = _values(rows.filter(shaped), COMMON_KEYS)
    t = t.with_columns(ts=_stamps(t, ctx.tz), type=pl.col("type").str.to_lowercase(),
                       subtype=pl.col("subtype").str.to_lowercase())
    rejected.append(rejected_from(t.filter(pl.col("ts").is_null()), "unreadable date and time"))
    t = t.filter(pl.col("ts").is_not_null())
    kind, sub = pl.col("type"), pl.col("subtype")
    parts = {"dns": (kind == "utm") & (sub == "dns"), "traffic": kind == "traffic",
             "webfilter": (kind == "utm") & (sub == "webfilter"), "ips": (kind == "utm") & (sub == "ips"),
             "event": kind == "event"}

    def part(name: str) -> pl.DataFrame:
        return _values(t.filter(parts[name]), FAMILY_KEYS[name])

    traffic = part("traffic")
    addressed = pl.col("srcip").is_not_null() & pl.col("dstip").is_not_null()
    rejected.append(rejected_from(traffic.filter(~addressed), "traffic log without srcip and dstip"))
    ips = part("ips")
    events = part("event").with_columns(logon_event=_logon_kind())
    records, dns_skipped = _dns(part("dns"), ctx)
    tables = {"connections": _connections(traffic.filter(addressed)),
              "http_requests": _http_requests(part("webfilter")),
              "ids_alerts": _ids_alerts(ips.filter(pl.col("attack").is_not_null())),
              "logon_events": _logons(events.filter(pl.col("logon_event").is_not_null()))}
    others = pl.concat([t.filter(~pl.any_horizontal(*parts.values())).select("type", "subtype"),
                        ips.filter(pl.col("attack").is_null()).select("type", "subtype"),
                        events.filter(pl.col("logon_event").is_null()).select("type", "subtype")]).select(
        pl.concat_str([kind, sub], separator="/", ignore_nulls=True).alias("class"))
    stored = {f"{_STORED[name]} (stored in {name})": frame.height for name, frame in tables.items()}
    skipped_by = {"blank": int(blank.sum()), **dns_skipped, **stored,
                  **{f"{cls} log": n for cls, n in others["class"].value_counts().iter_rows()}}
    return ParseResult(records, all_rejected(rejected),
                       skipped_by=skipped_by, tables={name: frame for name, frame in tables.items() if frame.height})


PARSER = Parser(
    name="fortigate",
    description="FortiGate logs (key=value): DNS filter, traffic, web filter, IPS, VPN and admin logons",
    kind="lines",
    also_writes=("connections", "http_requests", "ids_alerts", "logon_events"),
    sniff=sniff,
    parse=parse,
    syslog_programs=("fortigate",),
    syslog_line=r"date=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d ",
)
