"""Cisco ASA (and Firepower Threat Defense, PIX, FWSM) syslog: ``%ASA-6-302014: ...`` messages, as the
firewall writes them to a syslog server (a syslog envelope, the ASA's own ``logging timestamp``, or both)::

    Dec  3 10:00:07 fw01 : Dec 03 2026 10:00:07: %ASA-6-302014: Teardown TCP connection 8412 for outside:93.184.216.34/443 to inside:10.0.0.5/51000 duration 0:00:30 bytes 9228 TCP FINs

Read:

- connection teardowns (302014 TCP, 302016 UDP, 302021 ICMP) -> ``connections``: both ends and ports, the
  protocol, the duration, the teardown reason as the state; stamped at the start (the teardown less its
  duration). Which end opened it comes from the connection's ``Built inbound|outbound`` message (302013,
  302015, 302020) when the file holds it (remembered across chunks, the latest million), else the end with
  the lower port is taken for the server. The ASA logs the bytes of both directions as one total, so
  ``bytes_out``/``bytes_in`` stay null (``netsift bandwidth`` has nothing from it).
- denied connections (106023 by access-group, 106001 inbound TCP, 106006/106007 UDP, 106100 access-list
  denied) -> ``connections`` with ``state`` = ``deny``; access-list permits (106100) with ``permit``.
- logons -> ``logon_events``: to the firewall itself (605004 denied / 605005 permitted, 611101/611102:
  service ``asa-admin``, the method ssh, https, telnet ...) and through AAA / VPN (113005 and 113015
  rejected, 113004 successful, 716039 WebVPN rejected, 113039 AnyConnect session started: service
  ``asa-vpn``), client and account as logged.

``netsift watch --syslog`` routes the firewall's messages by their ``%ASA`` tag. Stamps: the ASA's own (``Dec 03 2026 10:00:07``, with its year; or year-less) wins over the envelope's;
year-less ones take the syslog year (``--year``, else the file's time); ISO 8601 envelopes are read with
their offset; naive stamps in ``--tz``. Other message ids are counted as skipped by id, not stored.

Accounting: blank lines are skipped; a line without an ``%ASA-n-nnnnnn:`` message or without a readable
stamp is rejected with the reason, as is a message of a handled id whose text does not have its shape.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import (ParseContext, ParseResult, Parser, all_rejected, empty_records, finish_records,
                                 iso_timestamps, localize_expr, rejected_from, share_sniff, syslog_timestamps)

_TAG = r"%(?:ASA|FTD|PIX|FWSM)-(?:session-)?\d-(\d{6}):"
_LOOKS_LIKE = re.compile(_TAG)
_BUILT_STATE = "asa_built"  # ctx.state: connection id -> "inbound" / "outbound", from Built messages
BUILT_KEPT = 1_000_000
_END = r"(\S+?):(\S+)/(\d+)"  # interface:address/port (an IPv6 address keeps its colons)
_TEARDOWN = (rf"^Teardown (TCP|UDP|ICMP) connection (\d+) for {_END}(?: \([^)]*\))? to {_END}(?: \([^)]*\))?"
             r"(?: duration (\d+):(\d\d):(\d\d))?(?: bytes \d+)?\s*(.*?)\s*$")
_BUILT = r"^Built (inbound|outbound) (?:TCP|UDP|ICMP) connection (\d+) for "
_DENY_GROUP = (r'^Deny (\S+) src (\S+?):(\S+?)(?:/(\d+))? dst (\S+?):(\S+?)(?:/(\d+))?\s.*by access-group')
_DENY_INBOUND = r"^(?:Inbound )?(TCP|UDP) (?:connection|request) (?:denied|discarded) from (\S+)/(\d+) to (\S+)/(\d+)"
_ACCESS_LIST = r"^access-list \S+ (permitted|denied|est-allowed) (\S+) \S+?/(\S+)\((\d+)\) -> \S+?/(\S+)\((\d+)\)"
_ADMIN = r'^Login (denied|permitted) from (\S+)/\d+ to \S+?:\S+/(\w+) for user "([^"]*)"'
_MGMT = r"^User authentication (succeeded|failed): IP address: ([^,]+), Uname: (.*)$"
_AAA = (r"^AAA user authentication (Successful|Rejected)\s*:(?:\s*reason = [^:]*:)?(?:\s*server = [^:]*:)?"
        r"(?:\s*local database\s*:)?\s*user = (.*?)(?:\s*:\s*user IP = (\S+))?\s*$")
_WEBVPN = r"^Group <[^>]*> User <([^>]*)> IP <([^>]*)> (?:Authentication: rejected|AnyConnect parent session started)"
_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmp6": "icmp6", "gre": "gre", "esp": "esp"}
_CONNECTIONS = ("302014", "302016", "302021", "106023", "106001", "106006", "106007", "106100")
_LOGONS = ("605004", "605005", "611101", "611102", "113004", "113005", "113015", "716039", "113039")
_BUILT_IDS = ("302013", "302015", "302020")


def sniff(lines: list[str]) -> float:
    """ASA's ``%ASA-n-nnnnnn:`` message tags on most of the first lines."""
    return share_sniff(lines, _LOOKS_LIKE.search, weight=0.95)


def _stamps(t: pl.DataFrame, ctx: ParseContext) -> pl.Series:
    """The ASA's own stamp (with or without a year) where logged, else the envelope's (RFC 3164 or ISO)."""
    head = pl.col("head")
    own_year = head.str.extract(r"([A-Z][a-z]{2} +\d{1,2} \d{4} \d\d:\d\d:\d\d)(?:\.\d+)?:?\s*$", 1)
    iso = head.str.extract(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)", 1)
    classic = head.str.extract(r"([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d)(?:\.\d+)?:?\s*$", 1)
    envelope = head.str.extract(r"^(?:<\d+>)?([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d)", 1)
    read_own = own_year.str.replace_all(r" +", " ").str.strptime(pl.Datetime("us"), "%b %d %Y %H:%M:%S", strict=False)
    kinds = t.select(with_year=localize_expr(read_own, ctx.tz), iso=iso, classic=pl.coalesce(classic, envelope))
    with_year = kinds["with_year"]
    iso_read = iso_timestamps(kinds["iso"].fill_null(""), ctx.tz)
    need_syslog = with_year.is_null() & iso_read.is_null() & kinds["classic"].is_not_null()
    out = with_year.fill_null(iso_read)
    where = need_syslog.arg_true()
    if where.len():
        out = out.scatter(where, syslog_timestamps(kinds["classic"].gather(where), ctx))
    return out.alias("ts")


def _connections(t: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.Series]:
    """The connection records of the teardown and deny messages, and the line numbers of such messages
    without the shape they should have."""
    built = t.filter(pl.col("msgid").is_in(_BUILT_IDS)).select(
        "line_no", pl.col("text").str.extract_groups(_BUILT).struct.rename_fields(["direction", "id"]).alias("b")
    ).unnest("b").filter(pl.col("id").is_not_null())
    known: dict[str, str] = ctx.state.setdefault(_BUILT_STATE, {})
    # a teardown takes the latest Built message of its connection before it: this chunk's, else a carried one
    before = pl.concat([pl.DataFrame({"line_no": [0] * len(known), "direction": list(known.values()),
                                      "id": list(known.keys())}, schema=built.schema), built]).sort("line_no")
    down = t.filter(pl.col("msgid").is_in(["302014", "302016", "302021"]))
    g = down.with_columns(pl.col("text").str.extract_groups(_TEARDOWN).struct.rename_fields(
        ["proto", "id", "if_a", "ip_a", "port_a", "if_b", "ip_b", "port_b", "h", "m", "s", "reason"]).alias("g")
    ).unnest("g").sort("line_no")
    g = g.join_asof(before.rename({"line_no": "built_at"}), left_on="line_no", right_on="built_at", by="id",
                    strategy="backward", check_sortedness=False)
    for conn, way in zip(built["id"].to_list(), built["direction"].to_list()):
        known.pop(conn, None)
        known[conn] = way
    while len(known) > BUILT_KEPT:  # oldest first (dicts keep insertion order)
        known.pop(next(iter(known)))
    port_a, port_b = pl.col("port_a").cast(pl.Int64, strict=False), pl.col("port_b").cast(pl.Int64, strict=False)
    # outbound: "for" is the responder, "to" the initiator; inbound the other way round; unknown: the lower port
    a_serves = (pl.when(pl.col("direction") == "outbound").then(True).when(pl.col("direction") == "inbound")
                .then(False).otherwise(port_a <= port_b))
    seconds = (pl.col("h").cast(pl.Int64) * 3600 + pl.col("m").cast(pl.Int64) * 60 + pl.col("s").cast(pl.Int64))
    teardowns = g.filter(pl.col("id").is_not_null()).select(
        ts=pl.col("ts") - pl.duration(seconds=seconds.fill_null(0)),
        client=pl.when(a_serves).then(pl.col("ip_b")).otherwise(pl.col("ip_a")),
        client_port=pl.when(a_serves).then(port_b).otherwise(port_a),
        server=pl.when(a_serves).then(pl.col("ip_a")).otherwise(pl.col("ip_b")),
        server_port=pl.when(a_serves).then(port_a).otherwise(port_b),
        protocol=pl.col("proto").str.to_lowercase(),
        duration=seconds.cast(pl.Float64),
        state=pl.when(pl.col("reason") != "").then(pl.col("reason").str.to_lowercase()),
        source_line="line_no",
    )
    deny_group = t.filter(pl.col("msgid") == "106023").with_columns(
        pl.col("text").str.extract_groups(_DENY_GROUP).struct.rename_fields(
            ["proto", "if_a", "ip_a", "port_a", "if_b", "ip_b", "port_b"]).alias("g")).unnest("g")
    deny_inbound = t.filter(pl.col("msgid").is_in(["106001", "106006", "106007"])).with_columns(
        pl.col("text").str.extract_groups(_DENY_INBOUND).struct.rename_fields(
            ["proto", "ip_a", "port_a", "ip_b", "port_b"]).alias("g")).unnest("g")
    acl = t.filter(pl.col("msgid") == "106100").with_columns(
        pl.col("text").str.extract_groups(_ACCESS_LIST).struct.rename_fields(
            ["verdict", "proto", "ip_a", "port_a", "ip_b", "port_b"]).alias("g")).unnest("g")
    denies = [frame.filter(pl.col("ip_a").is_not_null()).select(
        "ts", client="ip_a", client_port=pl.col("port_a").cast(pl.Int64, strict=False), server="ip_b",
        server_port=pl.col("port_b").cast(pl.Int64, strict=False), protocol=pl.col("proto").str.to_lowercase(),
        state=state, source_line="line_no")
        for frame, state in ((deny_group, pl.lit("deny")), (deny_inbound, pl.lit("deny")),
                             (acl, pl.when(pl.col("verdict") == "denied").then(pl.lit("deny"))
                              .otherwise(pl.lit("permit"))))]
    records = finish_records(pl.concat([teardowns, *denies], how="diagonal_relaxed"), "connections")
    misshapen = pl.concat([g.filter(pl.col("id").is_null())["line_no"],
                           *(frame.filter(pl.col("ip_a").is_null())["line_no"]
                             for frame in (deny_group, deny_inbound, acl))])
    return records, misshapen


def _logons(t: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    msgid, text = pl.col("msgid"), pl.col("text")
    admin = text.str.extract_groups(_ADMIN)
    mgmt = text.str.extract_groups(_MGMT)
    aaa = text.str.extract_groups(_AAA)
    vpn = text.str.extract_groups(_WEBVPN)
    g = t.select("ts", "line_no", "msgid", a=admin, m=mgmt, aaa=aaa, v=vpn)
    admin_ids, mgmt_ids = msgid.is_in(["605004", "605005"]), msgid.is_in(["611101", "611102"])
    aaa_ids, vpn_ids = msgid.is_in(["113004", "113005", "113015"]), msgid.is_in(["716039", "113039"])

    def field(struct: str, index: int) -> pl.Expr:
        return pl.col(struct).struct[index]

    rows = g.select(
        "ts", "line_no",
        client=pl.when(admin_ids).then(field("a", 1)).when(mgmt_ids).then(field("m", 1).str.strip_chars())
        .when(aaa_ids).then(field("aaa", 2)).when(vpn_ids).then(field("v", 1)),
        account=pl.when(admin_ids).then(field("a", 3)).when(mgmt_ids).then(field("m", 2).str.strip_chars())
        .when(aaa_ids).then(field("aaa", 1).str.strip_chars()).when(vpn_ids).then(field("v", 0)),
        event=pl.when(msgid.is_in(["605005", "611101", "113004", "113039"])).then(pl.lit("success"))
        .otherwise(pl.lit("failure")),
        service=pl.when(admin_ids | mgmt_ids).then(pl.lit("asa-admin")).otherwise(pl.lit("asa-vpn")),
        method=pl.when(admin_ids).then(field("a", 2).str.to_lowercase()),
        matched=pl.when(admin_ids).then(field("a", 0).is_not_null()).when(mgmt_ids).then(field("m", 0).is_not_null())
        .when(aaa_ids).then(field("aaa", 0).is_not_null()).otherwise(field("v", 0).is_not_null()),
    )
    good = rows.filter(pl.col("matched"))
    records = finish_records(good.select(
        "ts", "client", account=pl.when(pl.col("account").is_in(["", "*****", "***"])).then(None)
        .otherwise(pl.col("account")), service="service", event="event", method="method",
        source_line="line_no"), "logon_events")
    return records, rows.filter(~pl.col("matched"))["line_no"]


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows = lines.select("line_no", line=pl.col("line").fill_null("").str.strip_chars_end("\r"))
    blank = rows["line"].str.strip_chars() == ""
    rows = rows.filter(~blank)
    parts = rows.with_columns(pl.col("line").str.extract_groups(rf"^(.*?){_TAG}\s*(.*)$")
                              .struct.rename_fields(["head", "msgid", "text"]).alias("p")).unnest("p")
    tagged = parts.filter(pl.col("msgid").is_not_null())
    rejected = [rejected_from(parts.filter(pl.col("msgid").is_null()).select("line_no", "line"),
                              "not a Cisco ASA message (expected %ASA-n-nnnnnn: ...)")]
    tagged = tagged.with_columns(ts=_stamps(tagged, ctx))
    rejected.append(rejected_from(tagged.filter(pl.col("ts").is_null()).select("line_no", "line"),
                                  "no readable stamp before the message"))
    t = tagged.filter(pl.col("ts").is_not_null())
    records, bad_connections = _connections(t, ctx)
    logons, bad_logons = _logons(t.filter(pl.col("msgid").is_in(_LOGONS)))
    misshapen = pl.concat([bad_connections, bad_logons])
    rejected.append(rejected_from(t.filter(pl.col("line_no").is_in(misshapen.implode())).select("line_no", "line"),
                                  "an ASA message of a handled id without its usual shape"))
    others = t.filter(~pl.col("msgid").is_in([*_CONNECTIONS, *_LOGONS]))
    skipped_by = {"blank": int(blank.sum()), "logon message (stored in logon_events)": logons.height,
                  **{f"ASA {msgid} message": n for msgid, n in others["msgid"].value_counts().iter_rows()}}
    return ParseResult(records if records.height else empty_records("connections"),
                       all_rejected(rejected),
                       skipped_by=skipped_by, tables={"logon_events": logons} if logons.height else {})


PARSER = Parser(
    name="cisco_asa",
    description="Cisco ASA / FTD syslog: connection teardowns and denies, logons to the firewall and its VPN",
    kind="lines",
    also_writes=("logon_events",),
    table="connections",
    sniff=sniff,
    parse=parse,
    syslog_programs=("cisco_asa",),
    # the ASA's messages carry its own stamp (or none) and the %ASA tag where a program would be
    syslog_line=rf".{{0,80}}?{_TAG}",
)
