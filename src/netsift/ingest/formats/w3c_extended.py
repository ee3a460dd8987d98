"""The W3C Extended Log File Format: a proxy's (Blue Coat / Symantec ProxySG, Microsoft Forefront TMG / ISA)
or a web server's (Microsoft IIS) access log, one request a line, its columns named by a ``#Fields:``
header::

    #Software: SGOS 6.7.5.3
    #Version: 1.0
    #Date: 2026-11-30 10:00:00
    #Fields: date time time-taken c-ip cs-username sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs(User-Agent) s-ip
    2026-11-30 10:00:01 38 10.0.0.5 alice 200 TCP_MISS 5120 320 GET https www.example.com 443 /index.html - "Mozilla/5.0 (X11; Linux)" 10.0.0.1

Columns are found by name, so any selection and order of fields reads: ``date`` and ``time`` (UTC, as the
format defines them; ``--tz`` for a device set to write local time), ``c-ip`` the client, ``cs-username``
the account, ``cs-method``, the host from ``cs-host`` (or ``cs(Host)``, or the URL), ``sc-status``,
``sc-bytes`` the bytes sent to the client and ``cs-bytes`` those it sent, ``cs(User-Agent)``, and the proxy's
``s-action`` (TCP_HIT, TCP_DENIED ...; else ``sc-filter-result``) as the result. ``uri`` is ``cs-uri`` when
logged, else ``host:port`` for a CONNECT, else rebuilt from the scheme, host, port, path (``cs-uri-stem`` /
``cs-uri-path``) and query.
``server`` is the origin server's address (``r-ip`` / ``rs-ip``) where logged, else ``s-ip``; ``server_port``
``r-port`` / ``cs-uri-port`` / ``s-port``. Values are separated by spaces, a value with spaces in double
quotes (ProxySG), or by tabs (TMG); ``-`` is empty; IIS writes a user agent's spaces as ``+``, which are read
back as spaces when the ``#Software`` header names IIS. ``log`` is ``proxy`` when the fields are a proxy's
(``s-action``, ``sc-filter-result``, ``cs-uri-scheme``, ``r-ip`` or ``rs-ip``, ``cs-categories``) or the
request is one (an absolute URL in ``cs-uri``, a CONNECT), counted by ``netsift bandwidth``, else ``access``
(a web server's). A header in the middle of the file (a service
restart, logs concatenated) applies to the lines after it.

Accounting: ``#`` directive lines and blank lines are skipped; a line before any ``#Fields:`` header, with a
number of values other than the header's fields, or without a readable date and time is rejected with the
reason.
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import (ParseContext, ParseResult, Parser, finish_records, host_name, localize_expr,
                                 rejected_from)
from netsift.ingest.w3c_logs import first, header_fields, parse_by_header
from netsift.schema import HTTP_REQUESTS

_STATE = "w3c_header"  # ctx.state: (fields, software) of the latest #Fields header
_PROXY_FIELDS = {"s-action", "sc-filter-result", "cs-uri-scheme", "r-ip", "rs-ip", "cs-categories"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


def _records(t: pl.DataFrame, v: dict[str, pl.Expr], software: str, tz: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entries under one header -> (records, rejected)."""
    stamp = pl.concat_str([first(v, "date"), first(v, "time")], separator=" ")
    ts = localize_expr(stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False), tz)
    scheme = first(v, "cs-uri-scheme").str.to_lowercase()
    url_host = first(v, "cs-uri").str.extract(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)")
    host = host_name(pl.coalesce(first(v, "cs-host", "cs(host)", "x-cs-host"), url_host))
    port = pl.coalesce(first(v, "r-port", "cs-uri-port", "s-port").cast(pl.Int64, strict=False),
                       scheme.replace_strict(_DEFAULT_PORTS, default=None, return_dtype=pl.Int64))
    path = first(v, "cs-uri-stem", "cs-uri-path")
    query = first(v, "cs-uri-query")
    rebuilt = pl.concat_str([
        pl.when(scheme.is_not_null() & host.is_not_null()).then(pl.concat_str([scheme, pl.lit("://"), host])),
        pl.when(scheme.is_not_null() & host.is_not_null() & port.is_not_null()
                & (port != scheme.replace_strict(_DEFAULT_PORTS, default=-1, return_dtype=pl.Int64)))
        .then(pl.lit(":") + port.cast(pl.String)),
        path,
        pl.when(query.is_not_null()).then(pl.when(query.str.starts_with("?")).then(query).otherwise("?" + query)),
    ], ignore_nulls=True)
    connect = first(v, "cs-method").str.to_uppercase() == "CONNECT"  # its target is host:port, not a URL
    agent = first(v, "cs(user-agent)")
    if "internet information services" in software.lower():
        agent = agent.str.replace_all("+", " ", literal=True)
    proxy = bool(_PROXY_FIELDS & set(v))
    t = t.with_columns(ts=ts)
    bad_ts = t.filter(pl.col("ts").is_null())
    t = t.filter(pl.col("ts").is_not_null())
    records = finish_records(t.select(
        "ts",
        client=first(v, "c-ip"),
        server=first(v, "r-ip", "rs-ip", "s-ip"),
        server_port=port,
        method=first(v, "cs-method").str.to_uppercase(),
        host=host,
        uri=pl.coalesce(first(v, "cs-uri"),
                        pl.when(connect & host.is_not_null()).then(pl.concat_str([host, port.cast(pl.String)],
                                                                                 separator=":", ignore_nulls=True)),
                        pl.when(rebuilt != "").then(rebuilt)),
        user_agent=agent,
        status=first(v, "sc-status").cast(pl.Int64, strict=False),
        bytes_out=first(v, "cs-bytes").cast(pl.Int64, strict=False),
        bytes_in=first(v, "sc-bytes").cast(pl.Int64, strict=False),
        account=first(v, "cs-username", "cs-userdn"),
        result=first(v, "s-action", "sc-filter-result"),
        log=pl.when(pl.lit(proxy) | url_host.is_not_null() | connect.fill_null(False)).then(pl.lit("proxy"))
        .otherwise(pl.lit("access")),
        source_line="line_no",
    ), HTTP_REQUESTS.name)
    rejected = rejected_from(bad_ts.select("line_no", "line"), "missing or unreadable date and time")
    return records, rejected


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    return parse_by_header(lines, ctx, _STATE, HTTP_REQUESTS.name, _records)


def sniff(lines: list[str]) -> float:
    """A ``#Fields:`` header naming a web request's W3C fields (``c-ip``, ``cs-method``, ``cs-uri``)."""
    fields = header_fields(lines)
    names = set(fields.split()[1:]) if fields else set()  # as words: a firewall's src-ip is not c-ip
    return 0.95 if names & {"c-ip", "cs-method", "cs-uri", "cs-uri-stem"} else 0.0


PARSER = Parser(
    name="w3c_extended",
    description="W3C extended log (#Fields: header): Blue Coat ProxySG and TMG proxies, IIS web servers",
    kind="lines",
    table=HTTP_REQUESTS.name,
    sniff=sniff,
    parse=parse,
)
