"""Suricata's EVE log (``eve.json``; Security Onion, SELKS, pfSense and OPNsense's Suricata packages), one
JSON event a line. Three of its event types are stored:

- ``dns`` -> ``dns_queries``, one record per question, the request joined to its response::

      {"timestamp": "2026-11-30T10:00:01.123456+0100", "flow_id": 9144, "event_type": "dns",
       "src_ip": "10.0.0.5", "src_port": 53241, "dest_ip": "10.0.0.1", "dest_port": 53, "proto": "UDP",
       "dns": {"type": "query", "id": 12345, "rrname": "www.example.com", "rrtype": "A", "tx_id": 0}}
      {"timestamp": "2026-11-30T10:00:01.140211+0100", "flow_id": 9144, "event_type": "dns", ...,
       "dns": {"version": 2, "type": "answer", "id": 12345, "rrname": "www.example.com", "rrtype": "A",
               "rcode": "NOERROR", "answers": [{"rrname": "www.example.com", "rrtype": "A", "rdata": "93.184.216.34"}],
               "grouped": {"A": ["93.184.216.34"]}}}

  Every logging version is read: version 1 (Suricata 4 and older: an ``answer`` event per answer record),
  version 2 (Suricata 5 to 7: ``query`` and ``answer``, the answers ``detailed`` or ``grouped``) and
  version 3 (Suricata 8: ``request`` and ``response``, the question in a ``queries`` array). A response
  joins the nearest request before it with the same flow (``flow_id``, else the address pair) and DNS id,
  less than ``HOLD_BACK`` DNS events back; a response with no such request (requests not logged, or logged
  before the file began) is a record of its own, and the further answer events of one version-1 response
  join it. The client is the side that is not port 53 (else ``src_ip`` of a request or version-2
  response, ``dest_ip`` of a version-3 response, which Suricata 8 logs from the responder).
- ``http`` -> ``http_requests`` (``log`` = ``suricata``): client, server and port, method, ``hostname``
  (lower case, port dropped), ``url``, user agent, ``status``, and the response body's ``length`` as
  ``bytes_in``.
- ``alert`` -> ``ids_alerts``: both ends and ports, the rule's ``signature_id``, ``signature``,
  ``category`` and ``severity``, the ``action`` (allowed, blocked) and the flow's ``app_proto``; the
  ``ids_alert`` detector turns them into findings.
- ``flow`` -> ``connections``: ``flow.start`` as the stamp, both addresses and ports, ``proto`` (lower
  case), ``app_proto`` as the service (``failed``: none), duration from ``flow.start`` to ``flow.end``, and
  bytes and packets each way (``bytes_toserver`` / ``bytes_toclient``: whole packets, headers included,
  where Zeek counts payload). ``state`` stays null (Suricata's flow states are not Zeek's).

Stamps are ISO 8601 with an offset (``+0100``, ``Z``); one without is read in ``--tz``. TLS, file, anomaly,
stats and every other event type are counted as skipped by type, not stored.

Accounting: blank lines are skipped; a DNS response joined to its request (or the further answer events of
a version-1 response) is skipped as joined; a DNS event without a question name, and an alert without a
signature, are skipped; a line that is
not a JSON object, holds a field of another type than EVE gives it, or has no readable ``timestamp`` is
rejected with the reason, as are a ``flow`` or ``http`` event without both addresses and an event with a
control character decoded from an escape (``\\u001b``) in any field. The chunk is decoded
with one ``str.json_decode`` against an explicit struct dtype, bisected on failure so that only the failing
lines are rejected.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import (JSON_CONTROL_ESCAPE, ParseContext, ParseResult, Parser, all_rejected,
                                 decode_json_objects, empty_records, finish_records, holds_control, host_name,
                                 iso_timestamps, rejected_from, share_sniff)
from netsift.ingest.dns_transactions import joined_records

HOLD_BACK = 5_000  # a DNS response joins its request at most this many DNS events back

_QUESTION = pl.Struct({"rrname": pl.String, "rrtype": pl.String})
_ANSWER = pl.Struct({"rrname": pl.String, "rrtype": pl.String, "rdata": pl.String})
_GROUPED_TYPES = ("A", "AAAA", "CNAME", "PTR")
EVE_DTYPE = pl.Struct({
    "timestamp": pl.String,
    "flow_id": pl.String,  # a 64-bit number: read as its text
    "event_type": pl.String,
    "src_ip": pl.String,
    "src_port": pl.String,
    "dest_ip": pl.String,
    "dest_port": pl.String,
    "proto": pl.String,
    "app_proto": pl.String,
    "dns": pl.Struct({
        "version": pl.String, "type": pl.String, "id": pl.String, "rrname": pl.String, "rrtype": pl.String,
        "rcode": pl.String, "rdata": pl.String, "queries": pl.List(_QUESTION), "answers": pl.List(_ANSWER),
        "grouped": pl.Struct({t: pl.List(pl.String) for t in _GROUPED_TYPES}),
    }),
    "http": pl.Struct({
        "hostname": pl.String, "url": pl.String, "http_user_agent": pl.String, "http_method": pl.String,
        "status": pl.String, "length": pl.String,
    }),
    "alert": pl.Struct({
        "action": pl.String, "signature_id": pl.String, "signature": pl.String, "category": pl.String,
        "severity": pl.String,
    }),
    "flow": pl.Struct({
        "pkts_toserver": pl.String, "pkts_toclient": pl.String, "bytes_toserver": pl.String,
        "bytes_toclient": pl.String, "start": pl.String, "end": pl.String,
    }),
})
# event types counted by name among the skipped lines; the rest as "other event"
_NAMED_EVENTS = ("anomaly", "drop", "fileinfo", "stats", "tls", "quic", "ssh", "smb", "dhcp", "netflow")
_REQUEST_TYPES = ["query", "request"]
_RESPONSE_TYPES = ["answer", "response"]
_LOOKS_LIKE_EVE = re.compile(r'^\s*\{.*"event_type"\s*:\s*"[a-z0-9_]+".*\}\s*$')


def sniff(lines: list[str]) -> float:
    """EVE events: JSON objects with ``event_type`` and ``timestamp`` (more sure than the generic JSON formats)."""
    return share_sniff(lines, lambda line: _LOOKS_LIKE_EVE.match(line) and '"timestamp"' in line, weight=0.95)


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def _dns_rows(events: pl.DataFrame) -> pl.DataFrame:
    """The dns events as rows to join: role (request ``q`` / response ``r``), join key, the question, the
    response's rcode and answers, the client."""
    dns = pl.col("dns")
    first_question = dns.struct.field("queries").list.first()
    kind = dns.struct.field("type").str.to_lowercase()
    src_port, dest_port = _int(pl.col("src_port")), _int(pl.col("dest_port"))
    role = pl.when(kind.is_in(_REQUEST_TYPES)).then(pl.lit("q")).when(kind.is_in(_RESPONSE_TYPES)).then(pl.lit("r"))
    client = (pl.when((src_port == 53) & (dest_port != 53)).then(pl.col("dest_ip"))
              .when(dest_port == 53).then(pl.col("src_ip"))
              .when(kind == "response").then(pl.col("dest_ip"))
              .otherwise(pl.col("src_ip")))
    pair = pl.concat_str([pl.min_horizontal("src_ip", "dest_ip"), pl.max_horizontal("src_ip", "dest_ip")],
                         separator="|", ignore_nulls=True)
    grouped = dns.struct.field("grouped")
    answers = pl.coalesce(
        dns.struct.field("answers").list.eval(pl.element().struct.field("rdata").drop_nulls()),
        pl.when(grouped.is_not_null()).then(pl.concat_list(
            [grouped.struct.field(t).fill_null(pl.lit([], pl.List(pl.String))) for t in _GROUPED_TYPES])),
        pl.when(dns.struct.field("rdata").is_not_null()).then(pl.concat_list(dns.struct.field("rdata"))),
    )
    return events.select(
        "line_no", "ts",
        role=role,
        key=pl.concat_str([pl.coalesce(pl.col("flow_id"), pair).fill_null(""),
                           dns.struct.field("id").fill_null("")], separator="#"),
        qname=pl.coalesce(first_question.struct.field("rrname"), dns.struct.field("rrname")),
        qtype=pl.coalesce(first_question.struct.field("rrtype"), dns.struct.field("rrtype")),
        rcode=dns.struct.field("rcode"),
        answers=answers,
        client=client,
        action=pl.lit(None, pl.String),
    )


def _dns(events: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, dict[str, int]]:
    return joined_records(_dns_rows(events), ctx, "suricata_dns", HOLD_BACK)


def _connections(flows: pl.DataFrame, tz: str) -> pl.DataFrame:
    flow = pl.col("flow")
    start = iso_timestamps(flows.select(flow.struct.field("start")).to_series(), tz)
    end = iso_timestamps(flows.select(flow.struct.field("end")).to_series(), tz)
    app = pl.col("app_proto").str.to_lowercase()
    return finish_records(flows.with_columns(start=start, end=end).select(
        ts=pl.coalesce("start", "ts"),
        client="src_ip", client_port=_int(pl.col("src_port")),
        server="dest_ip", server_port=_int(pl.col("dest_port")),
        protocol=pl.col("proto").str.to_lowercase(),
        service=pl.when(app != "failed").then(app),
        duration=(pl.col("end") - pl.col("start")).dt.total_microseconds() / 1e6,
        bytes_out=_int(flow.struct.field("bytes_toserver")), bytes_in=_int(flow.struct.field("bytes_toclient")),
        packets_out=_int(flow.struct.field("pkts_toserver")), packets_in=_int(flow.struct.field("pkts_toclient")),
        source_line="line_no",
    ), "connections")


def _http_requests(requests: pl.DataFrame) -> pl.DataFrame:
    http = pl.col("http")
    return finish_records(requests.select(
        "ts", client="src_ip", server="dest_ip", server_port=_int(pl.col("dest_port")),
        method=http.struct.field("http_method"),
        host=host_name(http.struct.field("hostname")),
        uri=http.struct.field("url"), user_agent=http.struct.field("http_user_agent"),
        status=_int(http.struct.field("status")), bytes_in=_int(http.struct.field("length")),
        log=pl.lit("suricata"), source_line="line_no",
    ), "http_requests")


def _ids_alerts(alerts: pl.DataFrame) -> pl.DataFrame:
    alert = pl.col("alert")
    return finish_records(alerts.select(
        "ts", src="src_ip", src_port=_int(pl.col("src_port")), dest="dest_ip", dest_port=_int(pl.col("dest_port")),
        protocol=pl.col("proto").str.to_lowercase(), signature_id=_int(alert.struct.field("signature_id")),
        signature=alert.struct.field("signature"), category=alert.struct.field("category"),
        severity=_int(alert.struct.field("severity")), action=alert.struct.field("action").str.to_lowercase(),
        app_proto=pl.col("app_proto").str.to_lowercase(), source_line="line_no",
    ), "ids_alerts")


# event type -> the table its events are stored in (besides dns, the parser's own)
_STORED = {"flow": "connections", "http": "http_requests", "alert": "ids_alerts"}


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    text = pl.col("line").fill_null("").str.strip_chars()
    rows = lines.select("line_no", line=text)
    blank = rows["line"] == ""
    rows = rows.filter(~blank)
    is_object = rows["line"].str.starts_with("{") & rows["line"].str.ends_with("}")
    rejected = [rejected_from(lines.join(rows.filter(~is_object).select("line_no"), on="line_no", how="semi"),
                              "not a complete JSON object (truncated line?)")]
    frames, failures = decode_json_objects(rows.filter(is_object), EVE_DTYPE, "a Suricata EVE event")
    if failures:
        bad = pl.DataFrame(failures, schema={"line_no": pl.Int64, "reason": pl.String}, orient="row")
        rejected.append(rejected_from(bad.join(lines, on="line_no", how="left"), pl.col("reason")))
    events = (pl.concat(frames) if frames
              else pl.DataFrame(schema={"line_no": pl.Int64, **dict(EVE_DTYPE.to_schema())}))
    # the http, flow and alert rows go to tables of their own, which the driver's screening does not see
    escaped = events.join(rows.filter(pl.col("line").str.contains(JSON_CONTROL_ESCAPE)).select("line_no"),
                          on="line_no", how="semi")  # the lines that may decode to one: usually none
    controlled = events["line_no"].is_in(escaped.filter(holds_control(escaped.drop("line_no")))["line_no"].implode())
    if controlled.any():
        rejected.append(rejected_from(events.filter(controlled).select("line_no").join(lines, on="line_no", how="left"),
                                      "control character in a field (decoded from a JSON escape)"))
        events = events.filter(~controlled)
    events = events.with_columns(ts=iso_timestamps(events["timestamp"], ctx.tz),
                                 event_type=pl.col("event_type").str.to_lowercase())
    no_ts = events.filter(pl.col("ts").is_null())
    rejected.append(rejected_from(no_ts.select("line_no").join(lines, on="line_no", how="left"),
                                  "missing or unreadable timestamp"))
    events = events.filter(pl.col("ts").is_not_null())
    kind = pl.col("event_type")
    addressed = pl.col("src_ip").is_not_null() & pl.col("dest_ip").is_not_null()
    unaddressed = events.filter(kind.is_in(["flow", "http"]) & ~addressed)
    rejected.append(rejected_from(unaddressed.select("line_no").join(lines, on="line_no", how="left"),
                                  "flow or http event without src_ip and dest_ip"))
    records, dns_skipped = _dns(events.filter(kind == "dns"), ctx)
    is_alert = (kind == "alert") & pl.col("alert").struct.field("signature").is_not_null()
    alerts = events.filter(is_alert)
    tables = {"connections": _connections(events.filter((kind == "flow") & addressed), ctx.tz),
              "http_requests": _http_requests(events.filter((kind == "http") & addressed)),
              "ids_alerts": _ids_alerts(alerts)}
    stored = pl.concat([events.filter(kind.is_in(["flow", "http"]) & addressed), alerts]).group_by("event_type").len()
    others = events.filter(~kind.is_in(["dns", "flow", "http"]) & ~is_alert).select(
        pl.when(kind == "alert").then(pl.lit("alert event without a signature"))
        .when(kind.is_in(_NAMED_EVENTS)).then(kind + " event").otherwise(pl.lit("other event")).alias("class"))
    skipped_by = {"blank": int(blank.sum()), **dns_skipped,
                  **{f"{row['event_type']} event (stored in {_STORED[row['event_type']]})": row["len"]
                     for row in stored.iter_rows(named=True)},
                  **dict(others["class"].value_counts().iter_rows())}
    return ParseResult(records if records.height else empty_records(),
                       all_rejected(rejected),
                       unescaped=True, skipped_by=skipped_by, tables={k: v for k, v in tables.items() if v.height})


PARSER = Parser(
    name="suricata_eve",
    description="Suricata EVE JSON (eve.json): DNS requests joined to responses, HTTP requests, flows, alerts",
    kind="lines",
    also_writes=("connections", "http_requests", "ids_alerts"),
    sniff=sniff,
    parse=parse,
    syslog_programs=("suricata",),
)
