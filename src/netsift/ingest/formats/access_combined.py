"""NCSA common / combined access log: a forward proxy's (Squid's ``logformat common`` or ``combined``,
other proxies writing httpd's layout) or a web server's (Apache, nginx). One row per request into
``http_requests``::

    192.168.0.224 - alice [08/Oct/2010:14:31:48 +0200] "GET http://www.google.com/ HTTP/1.1" 200 411 "-" "Mozilla/5.0" TCP_MISS:HIER_DIRECT
    192.168.0.225 - - [08/Oct/2010:14:31:49 +0200] "CONNECT www.example.com:443 HTTP/1.1" 200 5120
    203.0.113.9 - - [08/Oct/2010:14:31:50 +0000] "POST /wp-login.php HTTP/1.1" 401 512 "-" "python-requests/2.31"

``remotehost ident authuser [time] "request" status bytes``, then for ``combined`` ``"referer" "user-agent"``
and, as Squid's combined format ends, ``result:hierarchy``. The time carries its offset and is stored as
UTC. Stored: ``client`` = remotehost, ``account`` = authuser (else ident; ``-`` is null), ``method``,
``uri`` = the request target as logged, ``host`` and ``server_port`` from an absolute URL or a CONNECT
target (``http://`` → 80, ``https://`` → 443, an explicit port wins; null for a web server's relative path),
``status``, ``bytes_in`` = the bytes sent to the client (``-`` is null), ``user_agent``, ``result`` = Squid's
result code when the line ends with one. ``log`` = ``proxy`` when the target is an absolute URL or a CONNECT
(a proxy's clients' traffic, counted by ``netsift bandwidth`` as Squid's native rows are), ``access`` for a
web server's request. A request line that is not ``METHOD TARGET [PROTOCOL]`` (``"-"`` from a client that
sent nothing, a TLS handshake sent to a plain-text port) keeps its text as ``uri`` with no method.

Accounting: blank lines are skipped; a line without that shape, or whose time does not read, is rejected
with the reason. Recognised when most of the first lines have it.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import ParseContext, Parser, ParseResult, finish_records, rejected_from, share_sniff
from netsift.schema import HTTP_REQUESTS

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LINE = (r'^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" '
         r"(?P<status>\d{3}|-) (?P<bytes>\d+|-)"
         rf"(?: (?P<referer>{_QUOTED}) (?P<agent>{_QUOTED}))?(?: (?P<squid>[A-Z_]+:[A-Z_]+))?\s*$")
_REQUEST = r"^(?P<method>[A-Za-z]+) (?P<target>\S+)(?: (?P<protocol>[A-Za-z]+/[0-9.]+))?$"
_URL_HOST = r"^(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://)(?:[^@/]*@)?(?P<host>\[[^\]]+\]|[^:/?#]+)(?::(?P<port>\d+))?"
_CONNECT = r"^(?P<host>\[[^\]]+\]|[^:/?#\[\]]+):(?P<port>\d+)$"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


def _dash_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "-").then(None).otherwise(expr)


def _unquoted(expr: pl.Expr) -> pl.Expr:
    """A quoted field's text (escapes undone), null for ``"-"`` or when absent."""
    text = expr.str.slice(1, expr.str.len_chars() - 2).str.replace_all(r'\\(["\\])', "$1")
    return pl.when(expr.is_null() | (expr == '"-"')).then(None).otherwise(text)


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    text = lines["line"].fill_null("")
    blank = text.str.strip_chars() == ""
    rows = lines.filter(~blank).with_columns(pl.col("line").str.strip_chars_end("\r"))
    fields = rows.select("line_no", pl.col("line").str.extract_groups(_LINE).alias("f")).unnest("f")
    ts = (fields["time"].str.strptime(pl.Datetime("us", "UTC"), "%d/%b/%Y:%H:%M:%S %z", strict=False)
          .dt.replace_time_zone(None))
    fields = fields.with_columns(ts=ts)
    matched = fields["client"].is_not_null()
    ok = matched & fields["ts"].is_not_null()
    good = fields.filter(ok)
    request = good.select(pl.col("request").str.extract_groups(_REQUEST).alias("r")).unnest("r")
    method, target = request["method"].str.to_uppercase(), request["target"]
    url = pl.DataFrame({"t": target}).select(pl.col("t").str.extract_groups(_URL_HOST).alias("u")).unnest("u")
    connect = pl.DataFrame({"t": target}).select(pl.col("t").str.extract_groups(_CONNECT).alias("c")).unnest("c")
    is_connect = (method == "CONNECT").fill_null(False)
    host = pl.when(is_connect).then(connect["host"]).otherwise(url["host"])
    default_port = url["scheme"].str.to_lowercase().replace_strict(_DEFAULT_PORTS, default=None, return_dtype=pl.Int64)
    port = pl.when(is_connect).then(connect["port"].cast(pl.Int64, strict=False)).otherwise(
        pl.coalesce(url["port"].cast(pl.Int64, strict=False), default_port))
    proxied = (is_connect & connect["host"].is_not_null()) | url["host"].is_not_null()
    squid = good["squid"].str.splitn(":", 2).struct.field("field_0")
    records = finish_records(good.select(
        "ts",
        pl.col("client"),
        pl.lit(None, pl.String).alias("server"),
        port.alias("server_port"),
        pl.lit(method).alias("method"),
        host.str.to_lowercase().str.strip_prefix("[").str.strip_suffix("]").alias("host"),
        pl.when(pl.lit(target).is_not_null()).then(pl.lit(target)).otherwise(_dash_null(pl.col("request")))
        .alias("uri"),
        _unquoted(pl.col("agent")).alias("user_agent"),
        _dash_null(pl.col("status")).cast(pl.Int64, strict=False).alias("status"),
        pl.lit(None, pl.Int64).alias("bytes_out"),
        _dash_null(pl.col("bytes")).cast(pl.Int64, strict=False).alias("bytes_in"),
        pl.coalesce(_dash_null(pl.col("user")), _dash_null(pl.col("ident"))).alias("account"),
        pl.lit(squid).alias("result"),
        pl.when(pl.lit(proxied)).then(pl.lit("proxy")).otherwise(pl.lit("access")).alias("log"),
        pl.col("line_no").alias("source_line"),
    ), HTTP_REQUESTS.name)
    shape = rows.filter(~pl.Series(matched))
    bad_time = fields.filter(matched & ~ok).select("line_no", pl.lit("").alias("line"))
    bad_time = rows.join(bad_time.select("line_no"), on="line_no", how="semi")
    rejected = pl.concat([
        rejected_from(shape, 'not a common/combined access log line (host ident user [time] "request" status '
                             "bytes, then optionally \"referer\" \"user-agent\")"),
        rejected_from(bad_time, "unreadable time (expected [dd/Mon/yyyy:HH:MM:SS +zzzz])"),
    ]).sort("source_line")
    return ParseResult(records, rejected, skipped_by={"blank": int(blank.sum())})


_SNIFF = re.compile(_LINE)


def sniff(lines: list[str]) -> float:
    """Share of the first lines with the common/combined shape (at least half needed)."""
    return share_sniff(lines, lambda line: _SNIFF.match(line.rstrip("\r")), weight=0.85)


PARSER = Parser(
    name="access_combined",
    description="NCSA common/combined access log: a proxy's (Squid logformat common/combined) or a web "
                "server's (Apache, nginx) requests",
    kind="lines",
    table=HTTP_REQUESTS.name,
    sniff=sniff,
    parse=parse,
)
