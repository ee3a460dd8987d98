"""CoreDNS query log (the ``log`` plugin's default format; the DNS server of Kubernetes clusters)::

    2026-11-30T10:00:01.123456789Z stdout F [INFO] 10.244.0.7:53392 - 4418 "A IN example.com. udp 29 false 512" NOERROR qr,rd,ra 71 0.000123s
    2026-11-30T10:00:01.123456789Z [INFO] [fd00::7]:41000 - 17 "AAAA IN api.internal. tcp 41 false 65535" NXDOMAIN qr,aa,rd 123 0.0002s

``{remote}:{port} - {id} "{type} {class} {name} {proto} {size} {do} {bufsize}" {rcode} {flags} {rsize}
{duration}`` after ``[INFO]``. CoreDNS itself writes no time: the stamp comes from where the line was kept, a
node's pod log file (CRI: ``STAMP stdout F``) or ``kubectl logs --timestamps`` (``STAMP``), ISO 8601 in UTC.
Stored: the client, name, type, response code; the other fields are not kept.

Accounting: blank lines and CoreDNS's other messages (``[INFO] plugin/reload``, ``[WARNING]``, ``[ERROR]``,
start-up banners) are skipped; a query line without a stamp (plain ``kubectl logs``: give
``--timestamps``), or whose fields do not read, and any other line are rejected with the reason.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import (ParseContext, Parser, ParseResult, finish_dns_records, iso_timestamps,
                                 rejected_from, share_sniff)

_QUERY = (r'^(?:(?P<stamp>\d{4}-\d\d-\d\dT\S+) (?:(?:stdout|stderr) [FP] )?)?\[INFO\] '
          r'(?P<client>\[[0-9a-fA-F:.]+\]|[0-9.]+):\d+ - \d+ "(?P<qtype>\S+) (?P<qclass>\S+) (?P<name>\S+) '
          r'(?P<proto>udp|tcp)[^"]*" (?P<rcode>[A-Z]+|\d+) ')
_QUERY_START = r'\[INFO\] \S+:\d+ - \d+ "'
# CoreDNS's other output: leveled messages and the start-up banner (".:53", "CoreDNS-1.11.1", "linux/amd64, ...")
_OTHER = (r"^(?:\d{4}-\d\d-\d\dT\S+ (?:(?:stdout|stderr) [FP] )?)?(?:\[(?:INFO|WARNING|ERROR|DEBUG|FATAL)\]|"
          r"[\w.-]*:\d+\s*$|CoreDNS-|linux/|maxprocs:)")


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    line = pl.col("line").fill_null("").str.strip_chars_end("\r")
    t = lines.with_columns(line=line).with_columns(
        blank=pl.col("line").str.strip_chars() == "", query=pl.col("line").str.contains(_QUERY_START),
        other=pl.col("line").str.contains(_OTHER))
    queries = t.filter(pl.col("query"))
    fields = queries.select("line_no", "line", pl.col("line").str.extract_groups(_QUERY).alias("f")).unnest("f")
    read = fields.filter(pl.col("name").is_not_null())
    read = read.with_columns(ts=iso_timestamps(read["stamp"], "UTC"))
    records = read.filter(pl.col("ts").is_not_null()).select(
        "ts",
        client=pl.col("client").str.strip_prefix("[").str.strip_suffix("]"),
        query_name="name",
        query_type=pl.col("qtype").str.to_uppercase(),
        response_code="rcode",
        source_line="line_no",
    )
    rejected = pl.concat([
        rejected_from(fields.filter(pl.col("name").is_null()).select("line_no", "line"),
                      "CoreDNS query line whose fields do not read (expected 'IP:PORT - ID \"TYPE CLASS NAME PROTO ...\" "
                      "RCODE ...')"),
        rejected_from(read.filter(pl.col("ts").is_null() & pl.col("stamp").is_null()).select("line_no", "line"),
                      "CoreDNS query line without a time stamp (CoreDNS writes none: use the node's pod log file "
                      "or kubectl logs --timestamps)"),
        rejected_from(read.filter(pl.col("ts").is_null() & pl.col("stamp").is_not_null()).select("line_no", "line"),
                      "unreadable time stamp"),
        rejected_from(t.filter(~pl.col("blank") & ~pl.col("query") & ~pl.col("other")).select("line_no", "line"),
                      "not a CoreDNS log line"),
    ]).sort("source_line")
    return ParseResult(finish_dns_records(records), rejected, skipped_by={
        "blank": t.filter(pl.col("blank")).height,
        "other CoreDNS message": t.filter(~pl.col("blank") & ~pl.col("query") & pl.col("other")).height})


_SNIFF_QUERY, _SNIFF_OTHER = re.compile(_QUERY), re.compile(_OTHER)


def sniff(lines: list[str]) -> float:
    """Share of the first lines that are CoreDNS's (at least half), a query line among them."""
    if not any(_SNIFF_QUERY.search(line) for line in lines):
        return 0.0
    return share_sniff(lines, lambda line: _SNIFF_QUERY.search(line) or _SNIFF_OTHER.search(line))


PARSER = Parser(
    name="coredns",
    description="CoreDNS query log (the log plugin; Kubernetes), from a pod log file or kubectl logs --timestamps",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
