"""Squid's native ``access.log`` (``logformat squid``): one row per request into ``http_requests``.

Each line is ``time elapsed remotehost code/status bytes method URL rfc931 peerstatus/peerhost type``::

    1157689320.327   2864 10.105.21.199 TCP_MISS/200 10182 GET http://www.goonernews.com/ badeyek DIRECT/175.16.199.61 text/html

``time`` is epoch seconds with milliseconds (stored as naive UTC); fields are separated by runs of blanks
(``elapsed`` is right-aligned). Stored: ``client`` = remotehost, ``result`` = Squid's result code
(``TCP_MISS``, ``TCP_DENIED`` ...), ``status`` = the HTTP status (``000``, no reply, is null),
``bytes_in`` = the reply size Squid delivered to the client (headers included), ``method``, ``uri`` = the
URL as logged, ``host`` and ``server_port`` from the URL (``CONNECT host:443``; ``http://`` → 80,
``https://`` → 443, an explicit port wins), ``account`` = rfc931 / the authenticated user (``-`` is null),
``server`` = the peer host Squid fetched from (``-`` is null), ``log`` = ``squid``. A proxy's rows count
towards its clients' traffic in ``netsift bandwidth``. Extra fields after ``type`` (a ``logformat``
that appends some) are ignored.

Accounting: blank lines are skipped; a line that does not have that shape (fewer fields, a non-numeric
time, size or status) is rejected with the reason. Recognised when most of the first lines have it.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import ParseContext, Parser, ParseResult, finish_records, rejected_from, share_sniff
from netsift.ingest.formats.zeek_tsv import epoch_seconds_expr
from netsift.schema import HTTP_REQUESTS
_LINE = (r"^\s*(?P<time>\d{9,11}\.\d{1,6})\s+(?P<elapsed>-?\d+)\s+(?P<client>\S+)\s+(?P<result>[^/\s]+)/"
         r"(?P<status>\d{1,3})\s+(?P<bytes>\d+)\s+(?P<method>\S+)\s+(?P<url>\S+)\s+(?P<user>\S+)\s+"
         r"(?P<hier>[^/\s]+)/(?P<peer>\S+)(?:\s+(?P<type>\S+))?(?:\s.*)?$")
_URL_HOST = r"^(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://)?(?:[^@/]*@)?(?P<host>\[[^\]]+\]|[^:/?#]+)(?::(?P<port>\d+))?"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


_NAMES = ("time", "elapsed", "client", "code", "bytes", "method", "url", "user", "hierarchy", "type")


def _fields(rows: pl.DataFrame) -> pl.DataFrame:
    """The fields of each line (``line_no`` and those of ``_LINE``; all null for a line without that shape):
    the line's words (blank runs are one separator) checked one by one, several times faster than the
    regular expression over whole lines that says the same."""
    text = rows["line"].str.strip_chars().str.replace_all("\t", " ", literal=True)
    while text.str.contains("  ", literal=True).any():  # runs of blanks: a few literal passes beat a regex
        text = text.str.replace_all("  ", " ", literal=True)
    words = text.str.splitn(" ", len(_NAMES)).struct.rename_fields(list(_NAMES))
    t = pl.DataFrame({"line_no": rows["line_no"], "w": words}).unnest("w")
    code = pl.col("code").str.splitn("/", 2).struct.rename_fields(["result", "status"])
    hierarchy = pl.col("hierarchy").str.splitn("/", 2).struct.rename_fields(["hier", "peer"])
    t = t.with_columns(code.alias("c"), hierarchy.alias("h")).unnest("c", "h")
    valid = (pl.col("time").str.contains(r"^\d{9,11}\.\d{1,6}$") & pl.col("elapsed").str.contains(r"^-?\d+$")
             & pl.col("status").str.contains(r"^\d{1,3}$") & pl.col("bytes").str.contains(r"^\d+$")
             & (pl.col("result").str.len_bytes() > 0) & (pl.col("hier").str.len_bytes() > 0)
             & (pl.col("peer").str.len_bytes() > 0) & pl.col("user").is_not_null()).fill_null(False)
    names = ("time", "elapsed", "client", "result", "status", "bytes", "method", "url", "user", "hier", "peer")
    return t.select("line_no", *(pl.when(valid).then(pl.col(c)).alias(c) for c in names),
                    pl.when(valid).then(pl.col("type").str.splitn(" ", 2).struct.field("field_0")).alias("type"))


def _dash_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "-").then(None).otherwise(expr)


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    text = lines["line"].fill_null("")
    blank = text.str.strip_chars() == ""
    rows = lines.filter(~blank)
    fields = _fields(rows)
    ok = fields["time"].is_not_null()
    good = fields.filter(ok)
    url = good.select(pl.col("url").str.extract_groups(_URL_HOST).alias("u")).unnest("u")
    scheme = url["scheme"].str.to_lowercase()
    default_port = scheme.replace_strict(_DEFAULT_PORTS, default=None, return_dtype=pl.Int64)
    host = url["host"].str.to_lowercase().str.strip_prefix("[").str.strip_suffix("]")
    status = good["status"].cast(pl.Int64)
    records = finish_records(good.select(
        epoch_seconds_expr(pl.col("time")).alias("ts"),
        pl.col("client"),
        _dash_null(pl.col("peer")).alias("server"),
        pl.coalesce(url["port"].cast(pl.Int64, strict=False), default_port).alias("server_port"),
        pl.col("method"),
        host.alias("host"),
        pl.col("url").alias("uri"),
        pl.lit(None, pl.String).alias("user_agent"),
        pl.when(status > 0).then(status).otherwise(None).alias("status"),
        pl.lit(None, pl.Int64).alias("bytes_out"),
        pl.col("bytes").cast(pl.Int64, strict=False).alias("bytes_in"),
        _dash_null(pl.col("user")).alias("account"),
        pl.col("result"),
        pl.lit("squid").alias("log"),
        pl.col("line_no").alias("source_line"),
    ), HTTP_REQUESTS.name)
    bad = rows.filter(~ok)
    rejected = rejected_from(bad, "not a Squid native access.log line (time elapsed client code/status bytes "
                                  "method URL user hierarchy/peer type)")
    return ParseResult(records, rejected, skipped_by={"blank": int(blank.sum())})


_SNIFF = re.compile(_LINE)


def sniff(lines: list[str]) -> float:
    """Share of the first lines with Squid's native shape (at least half needed)."""
    return share_sniff(lines, _SNIFF.match)


PARSER = Parser(
    name="squid",
    description="Squid native access.log: proxied HTTP requests (client, method, URL, status, bytes, user).",
    kind="lines",
    table=HTTP_REQUESTS.name,
    sniff=sniff,
    parse=parse,
)
