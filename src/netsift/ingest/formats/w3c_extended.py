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

from netsift.ingest.base import (ParseContext, ParseResult, Parser, all_rejected, empty_records, finish_records,
                                 localize_expr, rejected_from)
from netsift.schema import HTTP_REQUESTS

_STATE = "w3c_header"  # ctx.state: (fields, software) of the latest #Fields header
_PROXY_FIELDS = {"s-action", "sc-filter-result", "cs-uri-scheme", "r-ip", "rs-ip", "cs-categories"}
_TOKEN = r'"[^"]*"|[^ \t]+'
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


def _first(present: dict[str, pl.Expr], *names: str) -> pl.Expr:
    found = [present[n] for n in names if n in present]
    return pl.coalesce(found) if found else pl.lit(None, pl.String)


def _records(rows: pl.DataFrame, fields: list[str], software: str, tz: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Data lines under one header -> (records, rejected)."""
    tabbed = pl.col("line").str.contains("\t", literal=True)
    tokens = (pl.when(tabbed).then(pl.col("line").str.split("\t"))
              .otherwise(pl.col("line").str.extract_all(_TOKEN)))
    t = rows.with_columns(tokens=tokens).with_columns(n=pl.col("tokens").list.len())
    wrong = t.filter(pl.col("n") != len(fields))
    t = t.filter(pl.col("n") == len(fields))
    value = {}
    for i, name in enumerate(fields):
        raw = pl.col("tokens").list.get(i).str.strip_chars()
        raw = pl.when(raw.str.starts_with('"') & raw.str.ends_with('"') & (raw.str.len_chars() >= 2)).then(
            raw.str.slice(1, raw.str.len_chars() - 2)).otherwise(raw)
        value[name.lower()] = pl.when(raw.is_in(["-", ""])).then(None).otherwise(raw)
    v = value
    stamp = pl.concat_str([_first(v, "date"), _first(v, "time")], separator=" ")
    ts = localize_expr(stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False), tz)
    scheme = _first(v, "cs-uri-scheme").str.to_lowercase()
    url_host = _first(v, "cs-uri").str.extract(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)")
    host = pl.coalesce(_first(v, "cs-host", "cs(host)", "x-cs-host"), url_host).str.to_lowercase()
    host = pl.when(host.str.count_matches(":") == 1).then(host.str.split(":").list.first()).otherwise(host)
    port = pl.coalesce(_first(v, "r-port", "cs-uri-port", "s-port").cast(pl.Int64, strict=False),
                       scheme.replace_strict(_DEFAULT_PORTS, default=None, return_dtype=pl.Int64))
    path = _first(v, "cs-uri-stem", "cs-uri-path")
    query = _first(v, "cs-uri-query")
    rebuilt = pl.concat_str([
        pl.when(scheme.is_not_null() & host.is_not_null()).then(pl.concat_str([scheme, pl.lit("://"), host])),
        pl.when(scheme.is_not_null() & host.is_not_null() & port.is_not_null()
                & (port != scheme.replace_strict(_DEFAULT_PORTS, default=-1, return_dtype=pl.Int64)))
        .then(pl.lit(":") + port.cast(pl.String)),
        path,
        pl.when(query.is_not_null()).then(pl.when(query.str.starts_with("?")).then(query).otherwise("?" + query)),
    ], ignore_nulls=True)
    connect = _first(v, "cs-method").str.to_uppercase() == "CONNECT"  # its target is host:port, not a URL
    agent = _first(v, "cs(user-agent)")
    if "internet information services" in software.lower():
        agent = agent.str.replace_all("+", " ", literal=True)
    proxy = bool(_PROXY_FIELDS & {f.lower() for f in fields})
    t = t.with_columns(ts=ts)
    bad_ts = t.filter(pl.col("ts").is_null())
    t = t.filter(pl.col("ts").is_not_null())
    records = finish_records(t.select(
        "ts",
        client=_first(v, "c-ip"),
        server=_first(v, "r-ip", "rs-ip", "s-ip"),
        server_port=port,
        method=_first(v, "cs-method").str.to_uppercase(),
        host=host,
        uri=pl.coalesce(_first(v, "cs-uri"),
                        pl.when(connect & host.is_not_null()).then(pl.concat_str([host, port.cast(pl.String)],
                                                                                 separator=":", ignore_nulls=True)),
                        pl.when(rebuilt != "").then(rebuilt)),
        user_agent=agent,
        status=_first(v, "sc-status").cast(pl.Int64, strict=False),
        bytes_out=_first(v, "cs-bytes").cast(pl.Int64, strict=False),
        bytes_in=_first(v, "sc-bytes").cast(pl.Int64, strict=False),
        account=_first(v, "cs-username", "cs-userdn"),
        result=_first(v, "s-action", "sc-filter-result"),
        log=pl.when(pl.lit(proxy) | url_host.is_not_null() | connect.fill_null(False)).then(pl.lit("proxy"))
        .otherwise(pl.lit("access")),
        source_line="line_no",
    ), HTTP_REQUESTS.name)
    rejected = pl.concat([
        rejected_from(wrong.select("line_no", "line", "n"),
                      pl.format(f"expected {len(fields)} values (from #Fields), found {{}}", pl.col("n"))),
        rejected_from(bad_ts.select("line_no", "line"), "missing or unreadable date and time"),
    ])
    return records, rejected


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    text = pl.col("line").fill_null("").str.strip_chars_end("\r")
    rows = lines.select("line_no", line=text)
    blank = rows["line"].str.strip_chars() == ""
    directive = rows["line"].str.starts_with("#")
    # each data line under the latest #Fields header before it (or the one carried from the last chunk)
    headers = rows.filter(directive)
    fields_at = headers.filter(pl.col("line").str.to_lowercase().str.starts_with("#fields:"))
    software_at = headers.filter(pl.col("line").str.to_lowercase().str.starts_with("#software:"))
    known = ctx.state.get(_STATE, (None, ""))
    data = rows.filter(~blank & ~directive)
    records, rejected = [], []
    # segments: the data lines between one #Fields header and the next
    bounds = [(0, known)]
    for line_no, line in fields_at.iter_rows():
        software = software_at.filter(pl.col("line_no") < line_no)["line"]
        soft = software[-1].split(":", 1)[1].strip() if software.len() else known[1]
        names = line.split(":", 1)[1].strip()
        bounds.append((line_no, ([n for n in names.split("\t" if "\t" in names else None) if n], soft)))
    for k, (start, (fields, software)) in enumerate(bounds):
        end = bounds[k + 1][0] if k + 1 < len(bounds) else None
        segment = data.filter((pl.col("line_no") > start) & (pl.col("line_no") < end if end else pl.lit(True)))
        if not segment.height:
            continue
        if not fields:
            rejected.append(rejected_from(segment, "data line before any #Fields: header"))
            continue
        got, bad = _records(segment, fields, software, ctx.tz)
        records.append(got)
        rejected.append(bad)
    ctx.state[_STATE] = bounds[-1][1]
    return ParseResult(pl.concat(records) if records else empty_records(HTTP_REQUESTS.name),
                       all_rejected(rejected),
                       skipped_by={"blank": int(blank.sum()), "header": int((directive & ~blank).sum())})


def sniff(lines: list[str]) -> float:
    """A ``#Fields:`` header naming W3C fields (``c-ip``, ``cs-method``, ``date``/``time``) among the first
    lines, or most of them being W3C directives and data lines after one."""
    for line in lines:
        low = line.strip().lower()
        if low.startswith("#fields:") and ("c-ip" in low or "cs-method" in low or "cs-uri" in low):
            return 0.95
    return 0.0


PARSER = Parser(
    name="w3c_extended",
    description="W3C extended log (#Fields: header): Blue Coat ProxySG and TMG proxies, IIS web servers",
    kind="lines",
    table=HTTP_REQUESTS.name,
    sniff=sniff,
    parse=parse,
)
