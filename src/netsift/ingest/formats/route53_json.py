"""Amazon Route 53 VPC Resolver query logs: one JSON object per query, as delivered to S3 (gzipped files) or
Firehose, or exported from CloudWatch Logs (each line then starts with the event's ISO 8601 stamp)::

    {"version": "1.100000", "account_id": "111122223333", "region": "us-east-1", "vpc_id": "vpc-7example",
     "query_timestamp": "2021-02-04T17:51:55Z", "query_name": "15.3.4.32.in-addr.arpa.", "query_type": "PTR",
     "query_class": "IN", "rcode": "NOERROR", "answers": [{"Rdata": "203.0.113.9", "Type": "PTR", "Class": "IN"}],
     "srcaddr": "4.5.64.102", "srcport": "56067", "transport": "UDP", "srcids": {"instance": "i-0d15cd0d3example"},
     "firewall_rule_action": "BLOCK", "firewall_rule_group_id": "rslvr-frg-...", "firewall_domain_list_id": "..."}

Stored: ``ts`` = ``query_timestamp`` (UTC), ``client`` = ``srcaddr``, the name, type, rcode and the answers'
``Rdata``; resolver_action from DNS Firewall's ``firewall_rule_action``: ``blocked:firewall`` (BLOCK),
``alert:firewall`` (ALERT), ``allowed:firewall`` (ALLOW), none when no rule matched.

Accounting: blank lines are skipped, and so are objects without a ``query_name``; a line that is not a JSON
object, holds a field of another type, or has no readable ``query_timestamp`` is rejected with the reason
(``ingest/json_records.py``).
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import ParseContext, Parser, ParseResult, qtype_name_expr, rcode_name_expr
from netsift.ingest.formats.csv_columns import timestamp_expr
from netsift.ingest.json_records import json_dns_records

ROUTE53_DTYPE = pl.Struct({
    "query_timestamp": pl.String,
    "srcaddr": pl.String,
    "query_name": pl.String,
    "query_type": pl.String,
    "rcode": pl.String,
    "answers": pl.List(pl.Struct({"Rdata": pl.String})),
    "firewall_rule_action": pl.String,
})
_ACTIONS = {"BLOCK": "blocked:firewall", "ALERT": "alert:firewall", "ALLOW": "allowed:firewall"}
_EXPORT_PREFIX = r"^\d{4}-\d\d-\d\dT\S+ (\{.*)$"  # CloudWatch Logs export: "STAMP {json}"


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    qtype, rcode = pl.col("query_type"), pl.col("rcode")
    answers = pl.col("answers").list.eval(pl.element().struct.field("Rdata"))
    return json_dns_records(lines, ROUTE53_DTYPE, [
        timestamp_expr(pl.col("query_timestamp"), ctx.tz).alias("ts"),
        pl.col("srcaddr").alias("client"),
        pl.col("query_name").alias("query_name"),
        pl.when(qtype.str.contains(r"^[A-Za-z]")).then(qtype.str.to_uppercase()).otherwise(qtype_name_expr(qtype))
        .alias("query_type"),
        pl.when(rcode.str.contains(r"^[A-Za-z]")).then(rcode.str.to_uppercase()).otherwise(rcode_name_expr(rcode))
        .alias("response_code"),
        pl.when(answers.list.len() > 0).then(answers).alias("answers"),
        pl.col("firewall_rule_action").str.to_uppercase().replace_strict(_ACTIONS, default=None)
        .alias("resolver_action"),
    ], what="a Route 53 Resolver query log entry", stamp="query_timestamp", no_question="entry without a query name",
        unwrap=lambda text: pl.coalesce(text.str.extract(_EXPORT_PREFIX, 1), text))


def sniff(lines: list[str]) -> float:
    """Share of the first lines that are JSON objects with the Resolver log's keys (``query_timestamp``,
    ``query_name``, ``srcaddr``)."""
    objects = [ln for ln in lines if "{" in ln]
    if not objects:
        return 0.0
    hits = sum(1 for ln in objects if '"query_timestamp"' in ln and '"query_name"' in ln and '"srcaddr"' in ln)
    share = hits / len(lines)
    return 0.95 * share if share >= 0.5 else 0.0


PARSER = Parser(
    name="route53_json",
    description="Amazon Route 53 VPC Resolver query logs (JSON lines from S3, Firehose or a CloudWatch export)",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
