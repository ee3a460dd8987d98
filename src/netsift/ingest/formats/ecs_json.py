"""DNS events in the Elastic Common Schema as JSON lines: what an Elastic stack holds for DNS whatever
collected it (Packetbeat and Elastic Agent's network traffic, the Zeek, Infoblox, Umbrella and Windows DNS
integrations, Sysmon's DNS events), exported as NDJSON, or dumped from an index (``elasticdump``, a
``_search`` scroll: each line ``{"_index": ..., "_source": {...}}``)::

    {"@timestamp": "2026-11-30T10:00:01.123Z", "source": {"ip": "10.0.0.5"},
     "dns": {"question": {"name": "www.example.com", "type": "A"}, "response_code": "NOERROR",
             "answers": [{"data": "93.184.216.34", "type": "A"}], "resolved_ip": ["93.184.216.34"]}}

Fields are read nested or dotted (``"dns.question.name": ...``, as flattened exports write them), at the top
or under ``_source``: ``@timestamp`` (ISO 8601, or epoch seconds / milliseconds; a naive stamp is read in
``--tz``), the client (``source.ip``, else ``client.ip``, else the event's own host — ``host.ip``, then
``host.name`` — as for Sysmon's DNS events, logged on the asking machine), ``dns.question.name`` and ``.type``,
``dns.response_code`` and the answers (``dns.answers[].data``, else ``dns.resolved_ip``).

Accounting: blank lines are skipped, and so are objects without a question name (other events of a mixed
export); a line that is not a JSON object, holds a field of another type than ECS gives it, or has no
readable ``@timestamp`` is rejected with the reason. The chunk is decoded with one ``str.json_decode``
against an explicit struct dtype, bisected on failure so that only the failing lines are rejected
(``ingest/json_records.py``).
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import ParseContext, Parser, ParseResult, qtype_name_expr, rcode_name_expr
from netsift.ingest.formats.csv_columns import timestamp_expr
from netsift.ingest.json_records import json_dns_records

_ANSWERS = pl.List(pl.Struct({"data": pl.String}))
_FIELDS: dict = {
    "@timestamp": pl.String,  # numbers decode to their text, ISO strings stay as they are
    "source": pl.Struct({"ip": pl.String}),
    "client": pl.Struct({"ip": pl.String}),
    "host": pl.Struct({"ip": pl.List(pl.String), "name": pl.String}),
    "dns": pl.Struct({
        "question": pl.Struct({"name": pl.String, "type": pl.String}),
        "response_code": pl.String,
        "answers": _ANSWERS,
        "resolved_ip": pl.List(pl.String),
    }),
    "source.ip": pl.String,
    "client.ip": pl.String,
    "host.ip": pl.List(pl.String),
    "host.name": pl.String,
    "dns.question.name": pl.String,
    "dns.question.type": pl.String,
    "dns.response_code": pl.String,
    "dns.answers": _ANSWERS,
    "dns.answers.data": pl.List(pl.String),
    "dns.resolved_ip": pl.List(pl.String),
}
ECS_DTYPE = pl.Struct({**_FIELDS, "_source": pl.Struct(_FIELDS)})


def _field(path: str) -> pl.Expr:
    """An ECS field wherever the event has it: nested or dotted, at the top or under ``_source``."""
    def nested(root: pl.Expr) -> pl.Expr:
        head, *rest = path.split(".")
        expr = root.struct.field(head)
        for part in rest:
            expr = expr.struct.field(part)
        return expr

    def dotted(root: pl.Expr) -> pl.Expr:
        return root.struct.field(path)

    top = pl.struct(pl.all())  # the decoded columns as one struct, so the same paths apply at both levels
    source = pl.col("_source")
    return pl.coalesce(nested(top), dotted(top), nested(source), dotted(source))


def _answers() -> pl.Expr:
    data = [_field("dns.answers").list.eval(pl.element().struct.field("data")),
            pl.coalesce(pl.col("dns.answers.data"), pl.col("_source").struct.field("dns.answers.data")),
            _field("dns.resolved_ip")]
    return pl.coalesce(*(pl.when(d.list.len() > 0).then(d) for d in data))


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    qtype, rcode = _field("dns.question.type"), _field("dns.response_code")
    return json_dns_records(lines, ECS_DTYPE, [
        timestamp_expr(_field("@timestamp"), ctx.tz).alias("ts"),
        pl.coalesce(_field("source.ip"), _field("client.ip"), _field("host.ip").list.first(), _field("host.name"))
        .alias("client"),
        _field("dns.question.name").alias("query_name"),
        pl.when(qtype.str.contains(r"^[A-Za-z]")).then(qtype.str.to_uppercase()).otherwise(qtype_name_expr(qtype))
        .alias("query_type"),
        pl.when(rcode.str.contains(r"^[A-Za-z]")).then(rcode.str.to_uppercase()).otherwise(rcode_name_expr(rcode))
        .alias("response_code"),
        _answers().alias("answers"),
    ], what="an ECS DNS event", stamp="@timestamp", no_question="event without a DNS question")


def sniff(lines: list[str]) -> float:
    """Share of the first lines that are JSON objects with ECS's DNS question (``"dns"`` and ``"question"``,
    or ``"dns.question.name"``) and a ``@timestamp``."""
    objects = [ln.strip() for ln in lines if ln.strip().startswith("{")]
    if not objects:
        return 0.0
    hits = sum(1 for ln in objects if '"@timestamp"' in ln
               and ('"dns.question.name"' in ln or ('"dns"' in ln and '"question"' in ln)))
    share = hits / len(lines)
    return 0.9 * share if share >= 0.5 else 0.0


PARSER = Parser(
    name="ecs_json",
    description="DNS events in the Elastic Common Schema as JSON lines (Packetbeat, Elastic Agent, Elastic's "
                "DNS integrations; NDJSON exports and _source dumps)",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
