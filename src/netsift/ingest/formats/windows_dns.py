"""Windows DNS Server debug log (``dns.log`` written by "Log packets for debugging").

A PACKET line::

    6/20/2017 5:36:59 AM 0E24 PACKET  0000009AC98841A0 UDP Rcv ::1   2de6   Q [0001   D   NOERROR] SOA    (4)file(5)local(0)

is date, time (12 h with AM/PM or 24 h), thread id, context, internal packet id (absent in Windows 2003
logs), UDP/TCP, Snd/Rcv, remote IP, xid (hex), ``R`` for a response, opcode (Q query, N notify, U update),
``[flags-hex flag-chars RCODE]``, question type (absent in Windows 2003 logs) and the name in wire form.
Fields are separated by one or more spaces depending on the Windows version.

Records are the questions the server received from clients: ``Rcv``, not ``R``, opcode ``Q``. The response
the server sent back (``Snd ... R Q``, same remote IP, xid, name and type, the next one less than
``HOLD_BACK`` (5,000) lines after the question) fills response_code, and resolver_action ``local`` when it carries the authoritative
flag (``A``). Skipped, as understood but not questions: the responses themselves, the server's own
recursive queries (``Snd`` without ``R``) and the responses it receives (``Rcv R``), dynamic updates and
notifies (opcodes U and N), EVENT and other non-PACKET lines, the header block, the indented "details"
lines and blank lines. A client's retransmissions are separate records (each was received); they share
the one response. The last ``HOLD_BACK`` tokenised lines of a chunk are kept in ``ctx.state`` and joined
again with the next chunk (``ctx.final`` flushes them), so a response just past a chunk boundary joins.

Dates come in the server's locale (``ingest/local_dates.py``): ``YYYY-MM-DD``/``YYYY/MM/DD`` and
``YYYYMMDD`` are year first; dotted dates (``DD.MM.YYYY``) are day first; for ``/`` and ``-`` dates the
order is decided per file from the first chunk holding a first field above 12 (day first, ``D/M/YYYY``) or a
second field above 12 (month first, ``M/D/YYYY``), and remembered in ``ctx.state``; until such a date is
seen, month first (en-US, the Windows default) is assumed. The time is read as 24 h unless followed by
AM/PM. Stamps are naive local times, read in ``ctx.tz``.

Parsing: well-formed PACKET lines take a fast path (split at ``" PACKET "``, ``[`` and ``]``; each distinct
date token parsed once; names decoded with one multi-pattern replace); every other line takes the
general path. Both are vectorised.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest import local_dates
from netsift.ingest.base import (
    join_across_chunks,
    ParseContext,
    Parser,
    ParseResult,
    finish_dns_records,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
    skipped_by_kind,
)

_STATE_KEY = "windows_dns_day_first"
_HEADER_PREFIXES = ("DNS Server log", "Log file wrap", "Message logging key", "UDP question info",
                    "UDP response info", "TCP question info", "TCP response info")
_RCODE_ALIASES = {"NOTIMPL": "NOTIMP"}
_KEY = ["ip", "xid", "k_name", "k_type"]
_LENGTHS = [f"({n})" for n in range(64)]
_CARRY = "windows_dns_carry"
HOLD_BACK = 5000  # rows re-examined with the next chunk, so that responses logged there still join


def _cut(expr: pl.Expr, sep: str) -> tuple[pl.Expr, pl.Expr]:
    parts = expr.str.splitn(sep, 2)
    return parts.struct.field("field_0"), parts.struct.field("field_1")


def _tokens(expr: pl.Expr) -> pl.Expr:
    """Space-separated tokens, runs of spaces counting as one separator."""
    return expr.str.split(" ").list.filter(pl.element() != "")


def _packet_fields(df: pl.DataFrame) -> pl.DataFrame:
    """From column ``pkt`` (the text after PACKET): direction, remote IP, xid, R, opcode, rcode, type, name."""
    left, right = _cut(pl.col("pkt"), "[")
    inside, after = _cut(right, "]")
    df = df.with_columns(ltok=_tokens(left), inside=inside, after=after.str.strip_chars())
    ltok = pl.col("ltok")
    off = (ltok.list.get(-2, null_on_oob=True) == "R").fill_null(False).cast(pl.Int64)
    f0, f1 = _cut(pl.col("after"), " ")
    has_type = ~f0.str.starts_with("(")
    df = df.with_columns(
        is_r=off == 1,
        opcode=ltok.list.last(),
        xid=ltok.list.get(-2 - off, null_on_oob=True).str.to_lowercase(),
        ip=ltok.list.get(-3 - off, null_on_oob=True),
        direction=ltok.list.get(-4 - off, null_on_oob=True),
        proto=ltok.list.get(-5 - off, null_on_oob=True),
        rcode=pl.col("inside").str.split(" ").list.last(),
        # flag chars sit between the hex flags and the rcode; no rcode name starts with "A"
        authoritative=(pl.col("inside") + " ").str.contains(" A ", literal=True),
        qtype=pl.when(has_type).then(f0),
        wire_name=pl.when(has_type).then(f1.str.strip_chars_start(" ")).otherwise(pl.col("after")),
    )
    # fields a later Windows version might append after the name are ignored
    wire, extra = _cut(pl.col("wire_name"), "(0) ")
    df = df.with_columns(wire_name=pl.when(extra.is_not_null()).then(wire + "(0)").otherwise(pl.col("wire_name")))
    # (3)www(6)google(3)com(0) -> www.google.com (a label may itself hold parentheses)
    name = pl.col("wire_name").str.replace_many(_LENGTHS, ["."] * len(_LENGTHS)).str.strip_chars(".")
    packet_ok = (
        (ltok.list.len() >= 5)
        & pl.col("proto").is_in(["UDP", "TCP"])
        & pl.col("direction").is_in(["Snd", "Rcv"])
        & (pl.col("ip").str.len_bytes() > 0)
        & pl.col("xid").str.contains(r"^[0-9a-f]{1,4}$")
        & (pl.col("opcode").str.len_bytes() == 1)
        & pl.col("rcode").str.contains(r"^[A-Z_]+$")
        & pl.col("wire_name").str.starts_with("(")
        & pl.col("wire_name").str.ends_with("(0)")
    ).fill_null(False)
    return df.with_columns(name=name, packet_ok=packet_ok)


def _packet_kind() -> pl.Expr:
    return (
        pl.when((pl.col("direction") == "Rcv") & ~pl.col("is_r") & (pl.col("opcode") == "Q")).then(pl.lit("question"))
        .when((pl.col("direction") == "Snd") & pl.col("is_r")).then(pl.lit("response"))
        .otherwise(pl.lit("skip"))
    )


def _fast(lines: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame, bool]:
    """PACKET lines of the usual shape; returns (their rows, the lines left for :func:`_general`, the
    day-first decision used)."""
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    df = lines.with_columns(raw.str.splitn(" PACKET ", 2).struct.rename_fields(["head", "pkt"]).alias("s")).unnest("s")
    df = df.with_columns(h=pl.col("head").str.splitn(" ", 5)).unnest("h")
    h2 = pl.col("field_2").str.to_uppercase()
    is_ampm = h2.is_in(["AM", "PM"])
    df = df.with_columns(
        d0=pl.col("field_0"), t0=pl.col("field_1"), ampm=pl.when(is_ampm).then(h2),
        thread=pl.when(is_ampm).then(pl.col("field_3")).otherwise(pl.col("field_2")),
        extra=pl.when(is_ampm).then(pl.col("field_4")).otherwise(pl.col("field_3")),
    )
    header = lines.filter(pl.col("line").str.starts_with("DNS Server log file creation at "))
    tokens = pl.concat([
        df.select(pl.col("d0").unique())["d0"],
        header.select(pl.col("line").str.split(" ").list.get(6, null_on_oob=True))["line"],
    ])
    day_first = local_dates.day_first(tokens, ctx, _STATE_KEY)
    df = _packet_fields(df.with_columns(ts=local_dates.local_timestamps(df, day_first, ctx.tz)))
    take = (pl.col("packet_ok") & pl.col("ts").is_not_null() & pl.col("extra").is_null()
            & pl.col("thread").str.contains(r"^[0-9A-Fa-f]+$")).fill_null(False)
    df = df.with_columns(take=take)
    rows = df.filter("take").with_columns(kind=_packet_kind())
    return rows, df.filter(~pl.col("take")).select("line_no", "line"), day_first


def _general(lines: pl.DataFrame, ctx: ParseContext, day_first: bool) -> pl.DataFrame:
    """Every other line: header, details, EVENT, blank, malformed PACKET lines, other formats."""
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    df = lines.with_columns(raw=raw)
    d0, r1 = _cut(pl.col("raw"), " ")
    t0, r2 = _cut(r1.str.strip_chars_start(" "), " ")
    r2 = r2.str.strip_chars_start(" ")
    ampm, r3 = _cut(r2, " ")
    ampm = ampm.str.to_uppercase()
    is_ampm = ampm.is_in(["AM", "PM"])
    df = df.with_columns(d0=d0, t0=t0, ampm=pl.when(is_ampm).then(ampm), rest=pl.when(is_ampm).then(r3).otherwise(r2))
    df = df.with_columns(ts=local_dates.local_timestamps(df, day_first, ctx.tz))
    thread, r4 = _cut(pl.col("rest"), " ")
    context, pkt = _cut(r4.str.strip_chars_start(" "), " ")
    df = _packet_fields(df.with_columns(thread=thread, context=context, pkt=pkt))
    raw = pl.col("raw")
    header = raw.str.starts_with(" ") | raw.str.starts_with("\t") | pl.any_horizontal(
        *(raw.str.starts_with(p) for p in _HEADER_PREFIXES)
    )
    dated = pl.col("ts").is_not_null() & pl.col("thread").str.contains(r"^[0-9A-Fa-f]+$").fill_null(False)
    is_packet = dated & (pl.col("context") == "PACKET")
    kind = (
        pl.when(raw.str.strip_chars() == "").then(pl.lit("skip"))
        .when(is_packet & ~pl.col("packet_ok")).then(pl.lit("bad"))
        .when(is_packet).then(_packet_kind())
        .when(dated | header).then(pl.lit("skip"))
        .otherwise(pl.lit("alien"))
    )
    return df.with_columns(kind=kind)


def _rows(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """One row per line: kind (question, response, skip, bad, alien), join keys and fields."""
    blank = pl.col("line").fill_null("").str.strip_chars_end("\r\n") == ""
    lines = lines.with_columns(blank=blank)
    fast, rest, day_first = _fast(lines.filter(~pl.col("blank")).drop("blank"), ctx)
    parts = [fast, lines.filter("blank").select("line_no", "line", kind=pl.lit("skip"))]
    if rest.height:
        parts.append(_general(rest, ctx, day_first))
    cols = {
        "line_no": pl.Int64(), "line": pl.String(), "ts": pl.Datetime("us"), "ip": pl.String(),
        "xid": pl.String(), "name": pl.String(), "qtype": pl.String(), "rcode": pl.String(),
        "authoritative": pl.Boolean(), "kind": pl.String(),
    }
    df = pl.concat(
        [part.select(pl.col(c).cast(t) if c in part.columns else pl.lit(None, dtype=t).alias(c) for c, t in cols.items())
         for part in parts]
    ).sort("line_no")
    return df.with_columns(
        k_name=pl.col("name").str.to_lowercase().str.strip_suffix("."),
        k_type=pl.col("qtype").fill_null(""),
    )


def _records(rows: pl.DataFrame) -> pl.DataFrame:
    questions = rows.filter(pl.col("kind") == "question").select("line_no", "ts", *_KEY, "name", "qtype")
    responses = rows.filter(pl.col("kind") == "response").select(
        *_KEY, r_line="line_no", rcode=pl.col("rcode"), authoritative=pl.col("authoritative")
    )
    # the next response within HOLD_BACK lines (a bounded join: see base.join_across_chunks)
    return questions.join_asof(responses, left_on="line_no", right_on="r_line", by=_KEY,
                               strategy="forward", tolerance=HOLD_BACK - 1, check_sortedness=False)


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows, records = join_across_chunks(_rows(lines, ctx), ctx, _CARRY, HOLD_BACK, _records)
    rejected = rejected_from(
        rows.filter(pl.col("kind").is_in(["bad", "alien"])),
        pl.when(pl.col("kind") == "bad").then(pl.lit("malformed or truncated PACKET line"))
        .otherwise(pl.lit("not a Windows DNS debug log line")),
    )
    rcode = pl.col("rcode").replace(_RCODE_ALIASES)
    out = finish_dns_records(records.select(
        "ts",
        client=pl.col("ip"),
        query_name=pl.col("name"),
        query_type=qtype_name_expr(pl.col("qtype")),
        response_code=rcode_name_expr(rcode),
        resolver_action=pl.when(pl.col("authoritative")).then(pl.lit("local")),
        source_line=pl.col("line_no"),
    ))
    return ParseResult(out, rejected, skipped_by=skipped_by_kind(
        rows, {"response": "response (joined to its question)", "skip": "header, event or other packet line"}))



_DATE = r"(\d{8}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4})"
_PACKET_LINE = re.compile(rf"^{_DATE} \d{{1,2}}:\d{{2}}:\d{{2}}( [AaPp][Mm])? +[0-9A-Fa-f]+ +(PACKET|EVENT|Note)\b")
_HEADER_LINE = re.compile(r"^(DNS Server log|Log file wrap|Message logging key|\t)")


def sniff(lines: list[str]) -> float:
    """Share of PACKET/EVENT lines and header-block lines; zero without one PACKET line or the
    "DNS Server log" header."""
    if not lines:
        return 0.0
    packets = sum(1 for line in lines if _PACKET_LINE.match(line))
    header = sum(1 for line in lines if _HEADER_LINE.match(line))
    if not packets and not any(line.startswith("DNS Server log") for line in lines):
        return 0.0
    return min(1.0, (packets + header) / len(lines))


PARSER = Parser(
    name="windows_dns",
    description="Windows DNS Server debug log (any date locale); questions joined to the server's responses",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
