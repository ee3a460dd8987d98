"""Cisco Umbrella DNS logs (the S3 ``dnslogs/*.csv.gz`` export): quoted CSV, no header, fixed order.

Field order per Umbrella's "DNS Log Formats" page; every schema version starts with the same ten fields
and later versions append more (v3+: most granular identity type, identity types, blocked categories;
later: rule id, destination countries, organisation id)::

    0 Timestamp (UTC)   1 Most Granular Identity   2 Identities   3 Internal IP   4 External IP
    5 Action            6 Query Type "1 (A)"       7 Response Code   8 Domain "example.com."
    9 Categories        10.. version-dependent extras

So a line needs at least ten fields; extras are ignored. client = Internal IP, or the most granular
identity when there is none; ``Blocked`` -> ``blocked:umbrella``, ``Allowed`` -> ``allowed``. The
timestamp is UTC by definition (``--tz`` does not apply). Umbrella's own examples put a space after some
commas (``"a", "b"``); that is tolerated. The optional header row of newer exports ("Include Optional Log
Headers") is skipped like a blank line.

Accounting: blank and header lines are skipped; a line with fewer than ten fields, broken quoting, an
unreadable timestamp or no domain is rejected with the reason.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import (
    ParseContext,
    Parser,
    ParseResult,
    finish_dns_records,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
)
from netsift.ingest.formats.csv_columns import read_fields, split_lines_python

MIN_FIELDS = 10
WIDTH = 16  # fields read; any further ones are ignored
_SPACED_COMMA = r'"[ \t]*,[ \t]*"'
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_QTYPE = re.compile(r"^\d+ \([\w-]+\)$")


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    text = pl.col("line").fill_null("").str.strip_chars()
    rows = lines.select("line_no", text.str.replace_all(_SPACED_COMMA, '","').alias("line"))
    blank = rows["line"] == ""
    lower = rows["line"].str.to_lowercase()
    is_header = lower.str.strip_chars_start('"').str.starts_with("timestamp") & lower.str.contains(
        "granular identity", literal=True
    )
    skipped = int((blank | is_header).sum())
    rows = rows.filter(~blank & ~is_header)

    fields = pl.concat([rows.select("line_no"), read_fields(rows, ",", WIDTH)], how="horizontal")
    c = [pl.col(f"c{i}").str.strip_chars() for i in range(WIDTH)]
    action = c[5].str.to_lowercase()
    parsed = fields.select(
        pl.col("line_no").alias("source_line"),
        "n_fields",
        c[0].alias("ts_text"),
        c[0].str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False).alias("ts"),
        pl.when(c[3] != "").then(c[3]).when(c[1] != "").then(c[1]).alias("client"),
        c[8].alias("query_name"),
        # "1 (A)" -> the number's mnemonic; a bare mnemonic passes through
        pl.when(c[6] != "").then(qtype_name_expr(c[6].str.split(" ").list.first())).alias("query_type"),
        pl.when(c[7] != "").then(rcode_name_expr(c[7])).alias("response_code"),
        pl.when(action == "blocked")
        .then(pl.lit("blocked:umbrella"))
        .when(action != "")
        .then(action)
        .alias("resolver_action"),
    )
    reason = (
        pl.when(pl.col("n_fields").is_null())
        .then(pl.lit("broken quoting"))
        .when(pl.col("n_fields") < MIN_FIELDS)
        .then(pl.format(f"expected at least {MIN_FIELDS} fields, found {{}}", pl.col("n_fields")))
        .when(pl.col("ts").is_null())
        .then(pl.format("unreadable timestamp '{}'", pl.col("ts_text")))
        .when(pl.col("query_name").str.strip_chars(".") == "")
        .then(pl.lit("empty domain"))
    )
    parsed = parsed.with_columns(reason.alias("reason"))
    bad = parsed.filter(pl.col("reason").is_not_null()).select(
        pl.col("source_line").alias("line_no"), "reason"
    )
    records = finish_dns_records(parsed.filter(pl.col("reason").is_null()))
    rejected = rejected_from(bad.join(lines, on="line_no", how="left"), pl.col("reason"))
    return ParseResult(records, rejected, skipped)


def _looks_like_umbrella(row: list[str] | None) -> bool:
    return (
        row is not None
        and len(row) >= MIN_FIELDS
        and bool(_STAMP.match(row[0].strip()))
        and bool(_QTYPE.match(row[6].strip()))
        and row[5].strip().lower() in ("allowed", "blocked")
    )


def sniff(lines: list[str]) -> float:
    """Share of lines with a timestamp first, Allowed/Blocked sixth and ``1 (A)`` seventh (Umbrella has
    no header, so a generic CSV with a header row scores nothing here — except Umbrella's own header)."""
    rows = split_lines_python([ln.strip() for ln in lines if ln.strip()], ",")
    if rows and rows[0] and rows[0][0].strip().lower() == "timestamp" and len(rows[0]) >= MIN_FIELDS:
        if any("granular" in f.lower() for f in rows[0]):
            return 0.95
        rows = rows[1:]
    if not rows:
        return 0.0
    share = sum(_looks_like_umbrella(row) for row in rows) / len(rows)
    return 0.95 * share if share >= 0.5 else 0.0


PARSER = Parser(
    name="umbrella_csv",
    description="Cisco Umbrella DNS log CSV export (no header; any schema version with >= 10 fields).",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
