"""Pi-hole query-log exports from its HTTP API, read as one JSON document.

Two shapes:

* Pi-hole v6 ``GET /api/queries``: ``{"queries": [{"id", "time", "type", "status", "domain", "upstream",
  "reply": {"type", "time"}, "client": {"ip", "name"}, "list_id", "dnssec", "cname", ...}], "cursor": ...}``
* Pi-hole v5 ``/admin/api.php?getAllQueries``: ``{"data": [[time, type, domain, client, status, dnssec,
  reply_type, reply_time, cname_domain, regex_id, upstream, ede], ...]}`` — FTL's numeric codes as strings
  (status 1 = gravity, 2 = forwarded, 3 = cache, ...; reply 2 = NXDOMAIN, ...; see pi-hole/web
  ``scripts/pi-hole/js/queries.js``). Very old FTL spells the type ``IPv4``/``IPv6``.

A bare array of either kind of element is accepted too. ``status`` becomes ``resolver_action``
(``blocked:gravity``, ``blocked:regex``, ``blocked:denylist``, ``blocked:upstream``, ``cached``,
``cached:stale``, ``forwarded``, ``retried``, ...; a forwarded query names its upstream,
``forwarded:127.0.0.1#5335``, as the log parser does); blocked queries keep their row. The reply type gives
``response_code`` where it implies one (``NXDOMAIN``; ``IP``/``CNAME``/``NODATA`` -> ``NOERROR``).

Accounting: each array element is one unit, numbered from 1 in ``source_line``; an element without a
domain or time is rejected with the reason. A document cut short (an interrupted download) keeps the
elements before the cut, and the broken tail becomes one rejected unit.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from netsift.ingest.base import (
    ParseContext,
    Parser,
    ParseResult,
    empty_rejected,
    finish_dns_records,
    qtype_name_expr,
)

# FTL's query status names (v6 strings; v5 sends the enum's number) -> resolver_action
STATUS_ACTIONS: dict[str, str | None] = {
    "UNKNOWN": None,
    "GRAVITY": "blocked:gravity",
    "FORWARDED": "forwarded",
    "CACHE": "cached",
    "REGEX": "blocked:regex",
    "DENYLIST": "blocked:denylist",
    "EXTERNAL_BLOCKED_IP": "blocked:upstream",
    "EXTERNAL_BLOCKED_NULL": "blocked:upstream",
    "EXTERNAL_BLOCKED_NXRA": "blocked:upstream",
    "GRAVITY_CNAME": "blocked:gravity",
    "REGEX_CNAME": "blocked:regex",
    "DENYLIST_CNAME": "blocked:denylist",
    "RETRIED": "retried",
    "RETRIED_DNSSEC": "retried",
    "IN_PROGRESS": "forwarded",
    "DBBUSY": "blocked:database_busy",
    "SPECIAL_DOMAIN": "blocked:special_domain",
    "CACHE_STALE": "cached:stale",
    "EXTERNAL_BLOCKED_EDE15": "blocked:upstream",
}
V5_STATUS = list(STATUS_ACTIONS)  # FTL's enum order: index = v5 status number
# FTL reply types (v6 strings; v5 index) -> response code, where the reply implies one
REPLY_TYPES = [
    "UNKNOWN",
    "NODATA",
    "NXDOMAIN",
    "CNAME",
    "IP",
    "DOMAIN",
    "RRNAME",
    "SERVFAIL",
    "REFUSED",
    "NOTIMP",
    "OTHER",
    "DNSSEC",
    "NONE",
    "BLOB",
]
REPLY_RCODES = {
    "NODATA": "NOERROR",
    "CNAME": "NOERROR",
    "IP": "NOERROR",
    "DOMAIN": "NOERROR",
    "RRNAME": "NOERROR",
    "BLOB": "NOERROR",
    "NXDOMAIN": "NXDOMAIN",
    "SERVFAIL": "SERVFAIL",
    "REFUSED": "REFUSED",
    "NOTIMP": "NOTIMP",
}
OLD_TYPES = {"IPV4": "A", "IPV6": "AAAA"}
_COLUMNS = ("ts", "client", "query_name", "query_type", "response_code", "resolver_action", "source_line")


def _status_action(status: Any) -> str | None:
    text = (_text(status) or "").strip().upper().removeprefix("QUERY_")
    if text.isascii() and text.isdigit():
        number = int(text)
        text = V5_STATUS[number] if number < len(V5_STATUS) else f"STATUS_{number}"
    return STATUS_ACTIONS.get(text, text.lower() or None)


def _action(status: Any, upstream: Any) -> str | None:
    """The status's action; a forwarded query names its upstream as the log parser does
    (``forwarded:127.0.0.1#5335``)."""
    action = _status_action(status)
    server = _text(upstream)
    if action == "forwarded" and server and server.strip() not in ("", "N/A"):
        return f"forwarded:{server.strip()}"
    return action


def _reply_rcode(reply: Any) -> str | None:
    text = (_text(reply) or "").strip().upper()
    if text.isascii() and text.isdigit():
        text = REPLY_TYPES[int(text)] if int(text) < len(REPLY_TYPES) else ""
    return REPLY_RCODES.get(text)


def _epoch_micros(value: Any) -> int | None:
    """Epoch seconds (number or text) -> integer microseconds; whole seconds and fraction apart, so
    ``1715133479.0320954`` gives ...032095 and not a float-rounding neighbour."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not 1e8 <= seconds < 1e11:  # 1973 .. 5138: anything else is not a Pi-hole query time
        return None
    whole = int(seconds)
    return whole * 1_000_000 + round((seconds - whole) * 1_000_000)


def _text(value: Any) -> str | None:
    """A JSON scalar as text (numbers too); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _row_v6(item: Any) -> dict[str, Any] | str:
    if not isinstance(item, dict):
        return "element is not an object"
    client = item.get("client")
    if isinstance(client, dict):
        client = client.get("ip") or client.get("name")
    reply = item.get("reply")
    reply_type = reply.get("type") if isinstance(reply, dict) else item.get("reply_type")
    return {
        "ts": _epoch_micros(item.get("time", item.get("timestamp"))),
        "client": client if isinstance(client, str) else None,
        "query_name": item.get("domain"),
        "query_type": _text(item.get("type")),
        "response_code": _reply_rcode(reply_type),
        "resolver_action": _action(item.get("status", ""), item.get("upstream")),
    }


def _row_v5(item: Any) -> dict[str, Any] | str:
    if not isinstance(item, list) or len(item) < 5:
        return "element is not a [time, type, domain, client, status, ...] array"
    query_type = _text(item[1]) or ""
    return {
        "ts": _epoch_micros(item[0]),
        "client": _text(item[3]) or None,
        "query_name": item[2],
        "query_type": OLD_TYPES.get(query_type.upper(), query_type) or None,
        "response_code": _reply_rcode(item[6]) if len(item) > 6 else None,
        "resolver_action": _action(item[4], item[10] if len(item) > 10 else None),
    }


def _elements(text: str) -> tuple[list[Any], str | None, str]:
    """The query elements of the document, and an error with the offending text for a broken tail (or a
    document of the wrong kind)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return _salvage(text, exc)
    if isinstance(doc, dict):
        for key in ("queries", "data"):
            if isinstance(doc.get(key), list):
                return doc[key], None, ""
        return [], f"no 'queries' or 'data' array in the document (keys: {', '.join(list(doc)[:10])})", text
    if isinstance(doc, list):
        return doc, None, ""
    return [], "not a Pi-hole query export (expected an object or array)", text


def _salvage(text: str, error: json.JSONDecodeError) -> tuple[list[Any], str, str]:
    """Elements of a document cut short: decode the array one element at a time up to the damage."""
    match = re.search(r'"(?:queries|data)"\s*:\s*\[', text) or re.match(r"\s*\[", text)
    reason = f"not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
    if match is None:
        return [], reason, text
    items: list[Any] = []
    decoder, pos = json.JSONDecoder(), match.end()
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return items, reason, text[pos:]
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return items, f"document ends inside element {len(items) + 1}: {reason}", text[pos:]
        items.append(item)


def parse_document(text: str, ctx: ParseContext) -> ParseResult:
    items, tail_error, tail_text = _elements(text)
    rows: list[dict[str, Any]] = []
    rejected: list[tuple[int, str, str]] = []
    for number, item in enumerate(items, start=1):
        row = _row_v5(item) if isinstance(item, list) else _row_v6(item)
        if isinstance(row, dict) and not (isinstance(row["query_name"], str) and row["query_name"].strip()):
            row = "element has no domain"
        elif isinstance(row, dict) and row["ts"] is None:
            row = "element has no readable time"
        if isinstance(row, str):
            rejected.append((number, row, json.dumps(item)[:4096]))
        else:
            row["source_line"] = number
            rows.append(row)
    if tail_error:
        rejected.append((len(items) + 1, tail_error, tail_text[:4096]))

    frame = pl.DataFrame(
        {c: [r[c] for r in rows] for c in _COLUMNS},
        schema={"ts": pl.Int64, **{c: pl.String for c in _COLUMNS[1:-1]}, "source_line": pl.Int64},
    )
    records = finish_dns_records(
        frame.with_columns(
            pl.col("ts").cast(pl.Datetime("us")),
            qtype_name_expr(pl.col("query_type")).alias("query_type"),
        )
    )
    rejected_frame = (
        pl.DataFrame(
            rejected, schema={"source_line": pl.Int64, "reason": pl.String, "text": pl.String}, orient="row"
        )
        if rejected
        else empty_rejected()
    )
    return ParseResult(records, rejected_frame, 0, unescaped=True)


def sniff(lines: list[str]) -> float:
    head = "\n".join(lines)
    if not head.lstrip().startswith(("{", "[")):
        return 0.0
    # every v6 entry names its "domain" (Suricata 8's DNS events have a "queries" array and its http
    # events a "status", but never a "domain")
    if re.search(r'"queries"\s*:\s*\[', head) and re.search(r'"domain"\s*:', head):
        return 0.95
    if re.search(r'"data"\s*:\s*\[\s*\[\s*"?\d{9,10}', head):
        return 0.9
    if re.search(r'"queries"\s*:\s*\[', head) and re.search(r'"(?:cursor|recordsTotal)"\s*:', head):
        return 0.6  # an export with no queries in it
    if re.match(r"\s*\[\s*\{", head) and all(f'"{k}"' in head for k in ("domain", "status", "client")):
        return 0.8
    return 0.0


PARSER = Parser(
    name="pihole_json",
    description="Pi-hole API query export as JSON (v6 /api/queries, v5 api.php?getAllQueries).",
    kind="document",
    sniff=sniff,
    parse_document=parse_document,
)
