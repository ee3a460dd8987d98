"""AdGuard Home's query log, ``querylog.json`` (and its rotated ``querylog.json.1``) from the data
directory: one JSON object a line, AdGuard Home's own short field names::

    {"IP": "192.168.1.10", "T": "2026-11-30T10:00:01.519796123+01:00", "QH": "ads.example.com", "QT": "A",
     "QC": "IN", "CP": "", "Answer": "<the DNS response, base64>", "Cached": true,
     "Result": {"IsFiltered": true, "Reason": 3, "Rules": [{"FilterListID": 1, "Text": "||ads.example.com^"}]},
     "Upstream": "https://dns10.quad9.net:443/dns-query", "Elapsed": 837429}

``T`` (RFC 3339, nanoseconds, with its offset) is the stamp, ``IP`` the client, ``QH``/``QT`` the question.
The response code and the answers (addresses, CNAME/PTR targets) are read from ``Answer``, the DNS message
the client was sent (a message that does not decode leaves both null; the question is kept). The resolver
action comes from ``Result.Reason``: a block list, safe browsing, parental control, an invalid request or a
blocked service is ``blocked:blocklist``, ``blocked:safebrowsing``, ``blocked:parental``,
``blocked:invalid``, ``blocked:service``; a safe-search, rewrite-rule or hosts-file answer is ``local``;
otherwise ``cached`` when AdGuard answered from its cache, or ``forwarded:<upstream>``.

Accounting: blank lines are skipped, and so are objects without ``QH``; a line that is not a JSON object,
holds a field of another type than AdGuard writes, or has no readable ``T`` is rejected with the reason
(``ingest/json_records.py``).
"""

from __future__ import annotations

import base64
import binascii

import dpkt
import polars as pl

from netsift.ingest.base import ParseContext, Parser, ParseResult, iso_timestamps, rcode_name_expr, share_sniff
from netsift.ingest.dns_message import DnsMessage
from netsift.ingest.json_records import json_dns_records

ADGUARD_DTYPE = pl.Struct({
    "T": pl.String, "IP": pl.String, "QH": pl.String, "QT": pl.String, "Answer": pl.String,
    "Cached": pl.Boolean, "Upstream": pl.String,
    "Result": pl.Struct({"IsFiltered": pl.Boolean, "Reason": pl.Int64}),
})
_REASONS = {3: "blocked:blocklist", 4: "blocked:safebrowsing", 5: "blocked:parental", 6: "blocked:invalid",
            7: "local", 8: "blocked:service", 9: "local", 10: "local", 11: "local"}
_WIRE = pl.Struct({"rcode": pl.Int64, "answers": pl.List(pl.String)})


def _responses(encoded: pl.Series) -> pl.Series:
    """The DNS messages AdGuard sent the clients (base64) -> their rcodes and answers (both null for a
    message that does not decode), one Python loop over the batch."""
    rcodes: list[int | None] = []
    answers: list[list[str] | None] = []
    for text in encoded.to_list():
        try:
            message = DnsMessage(base64.b64decode(text, validate=True)) if text else None
        except (binascii.Error, ValueError, dpkt.UnpackError):
            message = None
        rcodes.append(message.rcode if message is not None else None)
        answers.append((message.answers or None) if message is not None else None)
    return pl.DataFrame({"rcode": rcodes, "answers": answers}, schema=dict(_WIRE.to_schema())).to_struct("wire")


def _stamps(text: pl.Expr, tz: str) -> pl.Expr:
    return text.map_batches(lambda s: iso_timestamps(s, tz), return_dtype=pl.Datetime("us"))


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    wire = pl.col("wire")
    result = pl.col("Result")
    upstream = pl.col("Upstream")
    action = pl.coalesce(
        result.struct.field("Reason").replace_strict(_REASONS, default=None, return_dtype=pl.String),
        pl.when(pl.col("Cached").fill_null(False)).then(pl.lit("cached")),
        pl.when(upstream.is_not_null() & (upstream != "")).then(pl.lit("forwarded:") + upstream),
    )
    return json_dns_records(lines, ADGUARD_DTYPE, [
        _stamps(pl.col("T"), ctx.tz).alias("ts"),
        pl.col("IP").alias("client"),
        pl.col("QH").alias("query_name"),
        pl.col("QT").str.to_uppercase().alias("query_type"),
        rcode_name_expr(wire.struct.field("rcode")).alias("response_code"),
        wire.struct.field("answers").alias("answers"),
        action.alias("resolver_action"),
    ], what="an AdGuard Home query log entry", stamp="T", no_question="entry without a question (QH)",
        derive=lambda decoded: decoded.with_columns(wire=_responses(decoded["Answer"])))


def sniff(lines: list[str]) -> float:
    """AdGuard Home's entries: JSON objects with its short keys ``"QH"``, ``"QT"`` and ``"T"``."""
    return share_sniff(lines, lambda line: line.lstrip().startswith("{") and '"QH":' in line and '"QT":' in line
                       and '"T":' in line, weight=0.95)


PARSER = Parser(
    name="adguard_querylog",
    description="AdGuard Home query log (querylog.json): client, question, response from the logged answer, "
                "filtering result",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
