"""Pi-hole's long-term query database (``/etc/pihole/pihole-FTL.db``, SQLite): a year of queries by
default (``database.maxDBdays``), where the ``pihole.log`` files usually keep a day or a week.

Read from its ``queries`` table (Pi-hole v5) or view (v6, over ``query_storage`` and the ``*_by_id``
tables), in ``id`` order: ``timestamp`` (epoch seconds), ``type`` (FTL's numbering: 1 A, 2 AAAA, 3 ANY,
4 SRV, 5 SOA, 6 PTR, 7 TXT, 8 NAPTR, 9 MX, 10 DS, 11 RRSIG, 12 DNSKEY, 13 NS, 15 SVCB, 16 HTTPS, and
100 + the type number for any other), ``status`` (resolver_action as for ``pihole_json``:
``blocked:gravity``, ``blocked:regex``, ``cached``, ``forwarded:UPSTREAM`` with ``forward`` ...), ``domain``,
``client`` and ``reply_type`` (response_code where the reply implies one: NXDOMAIN, SERVFAIL, REFUSED,
NOERROR for an address, CNAME or NODATA). Each row is a unit (``source_line``: its place in ``id`` order,
from 1). The file is copied to a temporary file (in ``$TMPDIR``) while it is read (SQLite opens paths, not
streams), then read only. Queries Pi-hole still holds in its write-ahead log (``pihole-FTL.db-wal``) are not in the
main file: copy the database with ``sqlite3 pihole-FTL.db ".backup copy.db"``, or stop pihole-FTL first.

A later copy of the same database is another file to netsift (SQLite rewrites pages in place, so it does
not extend the earlier copy): the queries both copies hold would be stored twice; ``netsift forget`` the
earlier copy first. Recognised by SQLite's magic bytes and Pi-hole's table names in the schema;
``--format pihole_db`` forces it. Rejected: a row without a readable timestamp or domain. A database without a ``queries``
table or view is an error for the file.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import IO

import polars as pl

from netsift.ingest.base import (ParseContext, Parser, ParseResult, empty_rejected, finish_dns_records,
                                 qtype_name_expr, rejected_from)
from netsift.ingest.formats.pihole_json import REPLY_RCODES, REPLY_TYPES, STATUS_ACTIONS

MAGIC = b"SQLite format 3\x00"
BATCH = 100_000
_TYPES = ["A", "AAAA", "ANY", "SRV", "SOA", "PTR", "TXT", "NAPTR", "MX", "DS", "RRSIG", "DNSKEY", "NS", "OTHER",
          "SVCB", "HTTPS"]
_NEEDED = ("timestamp", "type", "status", "domain", "client")
_OPTIONAL = ("forward", "reply_type")


def _columns(con: sqlite3.Connection) -> list[str]:
    names = [row[1] for row in con.execute("PRAGMA table_info(queries)")]
    missing = [c for c in _NEEDED if c not in names]
    if not names:
        raise ValueError("an SQLite database without a queries table or view: not Pi-hole's pihole-FTL.db")
    if missing:
        raise ValueError(f"its queries table lacks {', '.join(missing)}: not Pi-hole's pihole-FTL.db")
    return [*_NEEDED, *(c for c in _OPTIONAL if c in names)]


_DTYPES = {"timestamp": pl.Float64, "type": pl.Int64, "status": pl.Int64, "domain": pl.String, "client": pl.String,
           "forward": pl.String, "reply_type": pl.Int64}


def _result(rows: list[tuple], columns: list[str], first: int) -> ParseResult:
    frame = pl.DataFrame(rows, schema={name: _DTYPES[name] for name in columns}, orient="row", strict=False)
    return _records(frame.with_columns(pl.int_range(first, first + len(rows), dtype=pl.Int64).alias("line_no")))


def _records(frame: pl.DataFrame) -> ParseResult:
    """Rows of the queries table (``line_no``: their place) -> the ParseResult."""
    if "forward" not in frame.columns:
        frame = frame.with_columns(forward=pl.lit(None, pl.String))
    if "reply_type" not in frame.columns:
        frame = frame.with_columns(reply_type=pl.lit(None, pl.Int64))
    seconds = frame["timestamp"].cast(pl.Float64, strict=False)
    ts = pl.when(seconds.is_between(1e8, 1e11)).then((pl.lit(seconds) * 1_000_000).round(0).cast(pl.Int64)
                                                      .cast(pl.Datetime("us")))
    number = pl.col("type").cast(pl.Int64, strict=False)
    qtype = (pl.when(number.is_between(1, len(_TYPES)) & (number != 14))
             .then(number.replace_strict(range(1, len(_TYPES) + 1), _TYPES, default=None, return_dtype=pl.String))
             .when(number > 100).then(qtype_name_expr((number - 100).cast(pl.String))))
    status = pl.col("status").cast(pl.Int64, strict=False)
    action = status.replace_strict(range(len(STATUS_ACTIONS)), list(STATUS_ACTIONS.values()), default=None,
                                   return_dtype=pl.String)
    forward = pl.col("forward").str.strip_chars()
    reply = pl.col("reply_type").cast(pl.Int64, strict=False).replace_strict(
        range(len(REPLY_TYPES)), [REPLY_RCODES.get(r) for r in REPLY_TYPES], default=None, return_dtype=pl.String)
    parsed = frame.select(
        "line_no", "timestamp", ts.alias("ts"), pl.col("client"), pl.col("domain").alias("query_name"),
        qtype.alias("query_type"), reply.alias("response_code"),
        pl.when((action == "forwarded") & forward.is_not_null() & ~forward.is_in(["", "N/A"]))
        .then(pl.lit("forwarded:") + forward).otherwise(action).alias("resolver_action"),
    )
    ok = pl.col("ts").is_not_null() & pl.col("query_name").is_not_null() & (pl.col("query_name") != "")
    bad = parsed.filter(~ok).select("line_no", pl.format("timestamp={} domain={} client={}", *(
        pl.col(c).cast(pl.String).fill_null("NULL") for c in ("timestamp", "query_name", "client"))).alias("line"))
    return ParseResult(finish_dns_records(parsed.filter(ok).drop("timestamp").rename({"line_no": "source_line"})),
                       rejected_from(bad, "query row without a readable timestamp or domain") if bad.height
                       else empty_rejected())


def parse_stream(stream: IO[bytes], ctx: ParseContext) -> Iterator[ParseResult]:
    with tempfile.NamedTemporaryFile(prefix="netsift-pihole-", suffix=".db") as copy:
        shutil.copyfileobj(stream, copy, 1 << 20)  # read through the ingest's reader: hashed, progress shown
        copy.flush()
        try:
            con = sqlite3.connect(f"file:{copy.name}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise ValueError(f"not a readable SQLite database: {exc}") from exc
        try:
            columns = _columns(con)
            cursor = con.execute(f"SELECT {', '.join(columns)} FROM queries ORDER BY id")
            first = 1
            while rows := cursor.fetchmany(BATCH):
                yield _result(rows, columns, first)
                first += len(rows)
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"not a readable Pi-hole database: {exc}") from exc
        finally:
            con.close()


def sniff_bytes(head: bytes) -> float:
    """SQLite's magic and, in the schema on the first pages, Pi-hole's query table (v5) or storage (v6)."""
    if not head.startswith(MAGIC):
        return 0.0
    return 1.0 if b"query_storage" in head or b"CREATE TABLE queries" in head else 0.0


PARSER = Parser(
    name="pihole_db",
    description="Pi-hole's long-term query database (pihole-FTL.db, SQLite; v5 and v6)",
    kind="binary",
    sniff_bytes=sniff_bytes,
    parse_stream=parse_stream,
)
