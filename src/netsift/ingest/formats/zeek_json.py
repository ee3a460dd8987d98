"""Zeek ``dns.log`` written as JSON lines (``LogAscii::use_json=T``, or shipped by Corelight/Filebeat).

One object per line with Zeek's field names: ``ts`` (epoch seconds, or an ISO 8601 string with
``JSON::TS_ISO8601``), ``id.orig_h`` (or a nested ``"id": {"orig_h": ...}``), ``query``, ``qtype`` /
``qtype_name``, ``rcode`` / ``rcode_name`` and ``answers`` (a list). Unset fields are simply absent.

The chunk is decoded with one ``str.json_decode`` against an explicit struct dtype (only the fields used;
others are ignored), bisected on a failure so that only the lines that really fail are rejected, with the
decoder's message (``base.decode_json_objects``).

Accounting: blank lines are skipped; a valid object without ``query`` (no question in the packet) is
skipped; a line that is not a JSON object, has a field of the wrong type, or has no readable ``ts`` is
rejected with the reason.
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import (
    ParseContext,
    Parser,
    ParseResult,
    decode_json_objects,
    empty_rejected,
    finish_dns_records,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
)
from netsift.ingest.formats.csv_columns import timestamp_expr

ZEEK_DNS_DTYPE = pl.Struct(
    {
        "ts": pl.String,  # numbers decode to their text, ISO strings stay as they are
        "id.orig_h": pl.String,
        "id": pl.Struct({"orig_h": pl.String}),
        "query": pl.String,
        "qtype": pl.String,
        "qtype_name": pl.String,
        "rcode": pl.String,
        "rcode_name": pl.String,
        "answers": pl.List(pl.String),
    }
)


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows = lines.select("line_no", pl.col("line").fill_null("").str.strip_chars())
    blank = rows["line"] == ""
    skipped = int(blank.sum())
    rows = rows.filter(~blank)
    is_object = rows["line"].str.starts_with("{") & rows["line"].str.ends_with("}")
    not_objects = lines.join(rows.filter(~is_object).select("line_no"), on="line_no", how="semi")
    frames, failures = decode_json_objects(rows.filter(is_object), ZEEK_DNS_DTYPE, "a Zeek JSON record")
    decoded = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"line_no": pl.Int64, **dict(ZEEK_DNS_DTYPE.to_schema())})
    )

    name, number = pl.col("qtype_name"), pl.col("qtype")
    rname, rnumber = pl.col("rcode_name"), pl.col("rcode")
    parsed = decoded.select(
        pl.col("line_no").alias("source_line"),
        timestamp_expr(pl.col("ts")).alias("ts"),
        pl.coalesce(pl.col("id.orig_h"), pl.col("id").struct.field("orig_h")).alias("client"),
        pl.col("query").alias("query_name"),
        # Zeek's mnemonic where it has one ("NB", "A"); its "query-65" spelling of unknown codes -> TYPE65
        pl.when(name.is_not_null() & ~name.str.starts_with("query-"))
        .then(name.str.to_uppercase())
        .otherwise(qtype_name_expr(number))
        .alias("query_type"),
        pl.when(rname.is_not_null() & ~rname.str.starts_with("rcode-"))
        .then(rname.str.to_uppercase())
        .otherwise(rcode_name_expr(rnumber))
        .alias("response_code"),
        "answers",
    )
    no_ts = parsed.filter(pl.col("ts").is_null())
    questions = parsed.filter(pl.col("ts").is_not_null() & pl.col("query_name").is_not_null())
    skipped += parsed.height - no_ts.height - questions.height

    reasons = [
        rejected_from(not_objects, "not a complete JSON object (truncated line?)"),
        rejected_from(
            no_ts.select(pl.col("source_line").alias("line_no")).join(lines, on="line_no", how="left"),
            "missing or unreadable ts",
        ),
    ]
    if failures:
        bad = pl.DataFrame(failures, schema={"line_no": pl.Int64, "reason": pl.String}, orient="row")
        reasons.append(rejected_from(bad.join(lines, on="line_no", how="left"), pl.col("reason")))
    rejected = pl.concat(reasons).sort("source_line") if any(r.height for r in reasons) else empty_rejected()
    return ParseResult(finish_dns_records(questions), rejected, skipped, unescaped=True)


def sniff(lines: list[str]) -> float:
    """Share of the first lines that are JSON objects with Zeek's DNS keys (``"query"``/``"qtype``
    beside ``"id.orig_h"`` or ``"uid"``)."""
    objects = [ln.strip() for ln in lines if ln.strip().startswith("{")]
    if not objects:
        return 0.0
    hits = sum(
        1
        for ln in objects
        if ('"id.orig_h"' in ln or '"uid"' in ln or '"id":' in ln) and ('"query"' in ln or '"qtype' in ln)
    )
    share = hits / len(lines)
    return 0.95 * share if share >= 0.5 else 0.0


PARSER = Parser(
    name="zeek_json",
    description="Zeek dns.log as JSON lines (epoch or ISO ts; flat or nested id fields).",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
