"""``tcpdump -n`` text output: DNS questions, with the response joined back.

Handled variants: ``-#`` packet numbers; ``-tttt`` stamps (``2020-06-10 09:19:54.740079``), bare times
(``09:19:54.740079``) and ``-tt`` epoch stamps; ``-e`` link-layer fields and ``-i any`` interface/direction
columns (the address pair is found as the first ``SRC > DST:`` tokens whose DST ends with a colon);
``-v``/``-vv``/``-vvv``, where an IPv4 header line ``IP (tos ...)`` is followed by an indented line holding
the addresses and the DNS part, ``[udp sum ok]``-style checksum notes, ``q:``/``ns:``/``ar:`` sections and
owner names and TTLs in answers; DNS over TCP (``Flags [P.], ..., length 58 17177+ ...``).

A question (``22836+ [1au] A? www.tcpdump.org. (56)``, standard opcode) is a record: client is the source
address without the port, ts the packet time. Only the first question of a multi-question packet
(``[2q]``) is kept (one record per line). Its response (``22836*- 2/2/5 A 192.139.46.66, ...``,
``22836 NXDomain*- 0/1/0 ...``) is joined back on (client ip, client port, server ip, id), the next one
less than ``HOLD_BACK`` (5,000) lines after the question (the last ``HOLD_BACK`` lines of a chunk are
kept in ``ctx.state`` and joined again with the next chunk, so the chunking never changes a record;
``ctx.final`` flushes them), and gives response_code and answers
(A/AAAA/CNAME/PTR/NS/MX/DNAME data); the response line itself is skipped, as are notify/update messages,
TCP segments without a DNS
payload, the ``-v`` IP header lines, indented detail and hex lines, tcpdump's own banner lines, blank lines
and every non-DNS packet. Rejected: a packet to or from port 53/5353/5355 whose DNS part does not parse
(truncated ``[|domain]``, cut names...) and lines that are not tcpdump output at all.

Time: ``-tttt`` stamps and bare times are naive local times read in ``ctx.tz``; ``-tt`` epochs are UTC.
Bare times take their date from the file's mtime (in ``ctx.tz``), or the day before when the first time
of day is later than the mtime's (the capture started the day before); ``ctx.year`` replaces the year;
without mtime the date is 1 January of ``ctx.year``, or today (UTC). A time of day that goes back by more
than 12 hours starts the next day. Date, day count and a pending ``-v`` header are kept in ``ctx.state``.

Parsing: the usual one-line packet (``[N  ]STAMP IP SRC > DST: DNS``) takes a fast path (one split at the
first ``": "``, then short tokens); -e/-v/TCP/-vv and non-packet lines take the general path. Both are
vectorised; eager Polars does not share sub-expressions, so intermediates are materialised as columns.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import polars as pl

from netsift.ingest.base import (
    join_across_chunks,
    ParseContext,
    Parser,
    ParseResult,
    finish_dns_records,
    localize_expr,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
    skipped_by_kind,
)

_DNS_PORTS = ["53", "domain", "5353", "mdns", "5355", "llmnr"]
_SERVICE_NAMES = ["domain", "mdns", "llmnr", "http", "https", "ntp", "bootps", "bootpc", "ssh", "syslog"]
_RCODES = {"FormErr": "FORMERR", "ServFail": "SERVFAIL", "NXDomain": "NXDOMAIN", "NotImp": "NOTIMP",
           "Refused": "REFUSED", "YXDomain": "YXDOMAIN", "YXRRSet": "YXRRSET", "NXRRSet": "NXRRSET",
           "NotAuth": "NOTAUTH", "NotZone": "NOTZONE", "BadVers": "BADVERS", "BadCookie": "BADCOOKIE",
           "NoChange": "15"}
_ANSWER_TYPES = ["A", "AAAA", "CNAME", "PTR", "NS", "MX", "DNAME"]
_BANNERS = ("tcpdump: ", "listening on ", "reading from ", "dropped privs")
_DAY_NS = 86_400_000_000_000
_KEY = ["k_client", "k_port", "k_server", "k_id"]
_CARRY = "tcpdump_carry"
HOLD_BACK = 5000  # rows re-examined with the next chunk, so that responses captured there still join


def _cut(expr: pl.Expr, sep: str) -> tuple[pl.Expr, pl.Expr]:
    parts = expr.str.splitn(sep, 2)
    return parts.struct.field("field_0"), parts.struct.field("field_1")


def _first_index(tokens: pl.Expr, predicate: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(index of the first token matching ``predicate`` (written on pl.element()), whether any does)."""
    return tokens.list.eval(predicate.arg_max()).list.first(), tokens.list.eval(predicate.any()).list.first()


def _host_port(df: pl.DataFrame, col: str, host: str, port: str) -> pl.DataFrame:
    """Column ``col`` (``192.168.1.11.43966`` / ``2001:db8::1.53`` / ``host.example.com.domain``) -> columns
    ``host`` and ``port`` (null when there is none: a bare IPv4 address, as in ICMP lines)."""
    df = df.with_columns(_parts=pl.col(col).str.split("."))
    parts, n = pl.col("_parts"), pl.col("_parts").list.len()
    last, first = parts.list.last(), parts.list.first()
    numeric = last.cast(pl.Int32, strict=False).is_not_null() & (n >= 2)
    bare_ipv4 = (n == 4) & first.cast(pl.Int32, strict=False).is_not_null()
    has_port = (numeric & ~bare_ipv4) | last.is_in(_SERVICE_NAMES)
    return df.with_columns(
        pl.when(has_port).then(parts.list.slice(0, n - 1).list.join(".")).otherwise(pl.col(col)).alias(host),
        pl.when(has_port).then(last).alias(port),
    ).drop("_parts")


def _base_date(first_tod_ns: int, ctx: ParseContext) -> dt.date:
    if ctx.mtime is not None:
        mtime = ctx.mtime if ctx.mtime.tzinfo else ctx.mtime.replace(tzinfo=dt.UTC)
        local = mtime.astimezone(ZoneInfo(ctx.tz)) if ctx.tz not in ("UTC", "utc", "Z") else mtime.astimezone(dt.UTC)
        day = local.date()
        local_tod = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000_000
        if first_tod_ns > local_tod:
            day -= dt.timedelta(days=1)
        if ctx.year is not None:
            day = day.replace(year=ctx.year) if not (day.month == 2 and day.day == 29) else dt.date(ctx.year, 2, 28)
        return day
    if ctx.year is not None:
        return dt.date(ctx.year, 1, 1)
    return dt.datetime.now(dt.UTC).date()


def _date_note(day: dt.date, ctx: ParseContext) -> str:
    """What the ingest report says about the date given to bare times of day, and why."""
    if ctx.mtime is not None and ctx.path != "-":
        when = f"{ctx.mtime:%Y-%m-%d %H:%M} UTC"
        why = (f"the day the file was last modified ({when})" if day.month == ctx.mtime.month and
               day.day == ctx.mtime.day else f"the day before the file was last modified ({when}), as its "
               "first time of day is later")
        why += " in the year given by --year" if ctx.year is not None else "; --year changes the year"
    elif ctx.year is not None:
        why = "1 January of --year (no modification time)"
    else:
        why = "today (stdin has no modification time); --year changes the year"
    return f"times of day without a date read as from {day:%Y-%m-%d} on, {why}"


def _bare_times(df: pl.DataFrame, ctx: ParseContext) -> pl.Series:
    """Datetimes for rows whose stamp is a bare time of day (column tod_ns), rolling over at midnight."""
    tod = df["tod_ns"]
    first = tod.drop_nulls()
    if first.len() == 0:
        return pl.Series("bare", [None] * df.height, dtype=pl.Datetime("us"))
    state = ctx.state
    if "tcpdump_date" not in state:
        state["tcpdump_date"] = _base_date(int(first[0]), ctx)
        ctx.assumed_year = state["tcpdump_date"].year
        ctx.notes["year"] = _date_note(state["tcpdump_date"], ctx)
        state["tcpdump_day"] = 0
        state["tcpdump_last_tod"] = int(first[0])
    frame = pl.DataFrame({"tod": tod}).with_columns(
        prev=pl.col("tod").forward_fill().shift(1).fill_null(state["tcpdump_last_tod"])
    ).with_columns(
        day=((pl.col("tod") < pl.col("prev") - _DAY_NS // 2).fill_null(False).cast(pl.Int64).cum_sum() + state["tcpdump_day"])
    )
    state["tcpdump_day"] = int(frame["day"][-1])
    state["tcpdump_last_tod"] = int(first[-1])
    base = dt.datetime.combine(state["tcpdump_date"], dt.time())
    return frame.select(
        bare=pl.when(pl.col("tod").is_not_null()).then(
            pl.lit(base) + pl.duration(days=pl.col("day"), microseconds=pl.col("tod") // 1000)
        )
    ).to_series()


def _stamps(a: pl.Expr, b: pl.Expr, tz: str) -> dict[str, pl.Expr]:
    """From the first two tokens: a -tttt stamp (read in tz), a -tt epoch (UTC) or a bare time of day (ns)."""
    is_date = (a.str.len_bytes() == 10) & (a.str.slice(4, 1) == "-") & (a.str.slice(7, 1) == "-")
    is_time = (a.str.slice(2, 1) == ":") & (a.str.slice(5, 1) == ":")
    is_epoch = a.str.contains(r"^\d{9,10}\.\d+$")
    date_ts = pl.when(is_date).then(a + " " + b).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    return {
        "date_ts": localize_expr(date_ts, tz),
        "epoch_ts": pl.when(is_epoch).then(
            pl.from_epoch((a.cast(pl.Float64, strict=False) * 1e6).cast(pl.Int64), time_unit="us")),
        "tod_ns": pl.when(is_time).then(a.str.strptime(pl.Time, "%H:%M:%S%.f", strict=False).cast(pl.Int64)),
        "stamp_tokens": pl.when(is_date).then(pl.lit(2)).when(is_time | is_epoch).then(pl.lit(1)),
    }


def _fast(lines: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The usual line ``[N  ]STAMP [..] IP SRC > DST: DNS`` (no -e, no -v), split in a few passes over
    short tokens; returns (its rows, the lines left for :func:`_general`)."""
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    df = lines.with_columns(raw=raw).with_columns(
        pl.col("raw").str.splitn(": ", 2).struct.rename_fields(["head", "payload"]).alias("s")
    ).unnest("s")
    tok = pl.col("head").str.strip_chars_start(" ").str.split(" ")
    df = df.with_columns(tok=tok)
    t0, t1 = pl.col("tok").list.get(0, null_on_oob=True), pl.col("tok").list.get(1, null_on_oob=True)
    numbered = t0.cast(pl.Int64, strict=False).is_not_null()
    at = pl.when(numbered & (t1 == "")).then(2).when(numbered).then(1).otherwise(0)
    df = df.with_columns(at=at).with_columns(
        a=pl.col("tok").list.get(pl.col("at"), null_on_oob=True),
        b=pl.col("tok").list.get(pl.col("at") + 1, null_on_oob=True),
        src=pl.col("tok").list.get(-3, null_on_oob=True),
        dst=pl.col("tok").list.get(-1, null_on_oob=True),
        has_pair=(pl.col("tok").list.get(-2, null_on_oob=True) == ">").fill_null(False),
    )
    df = df.with_columns(**_stamps(pl.col("a"), pl.col("b"), ctx.tz), dns=pl.col("payload"))
    df = _dns_fields(_host_port(_host_port(df, "dst", "dst", "dport"), "src", "src", "sport"))
    stamped = pl.col("date_ts").is_not_null() | pl.col("epoch_ts").is_not_null() | pl.col("tod_ns").is_not_null()
    plain = ~pl.col("payload").str.starts_with("[") & ~pl.col("payload").str.starts_with("Flags [")
    dns_port = pl.col("sport").is_in(_DNS_PORTS) | pl.col("dport").is_in(_DNS_PORTS)
    easy = pl.col("easy_question") | pl.col("easy_response")
    take = (stamped & pl.col("has_pair") & plain & (easy | ~dns_port)).fill_null(False)
    df = df.with_columns(take=take)
    rows = df.filter("take").with_columns(
        is_head=pl.lit(True), is_cont=pl.lit(False), is_tcp=pl.lit(False),
        non_dns=~pl.col("easy_question") & ~pl.col("easy_response"),
    )
    return rows, df.filter(~pl.col("take")).select("line_no", "line")


def _dns_fields(df: pl.DataFrame) -> pl.DataFrame:
    """DNS fields of column ``dns`` in its plain form: ``ID[flags] [..] TYPE? NAME. ...`` (a question) or
    ``ID[ RCODE][flags] AN/NS/AR answers (len)`` (a response). ``easy_*`` marks what was read here; -vv
    responses (``q:`` sections) are left to :func:`_dns_general`."""
    d = pl.col("dns")
    df = df.with_columns(
        d.str.splitn(" ", 4).struct.rename_fields(["d0", "d1", "d2", "d3"]).alias("t"),
        d.str.splitn("? ", 2).struct.rename_fields(["qhead", "qafter"]).alias("q"),
    ).unnest("t", "q")
    d1, d2, d3 = pl.col("d1"), pl.col("d2"), pl.col("d3")
    qid = pl.col("d0").str.strip_chars_end("+%*-|$").cast(pl.Int32, strict=False)
    counts1, counts2 = d1.str.contains(r"^\d+/\d+/\d+$"), d2.str.contains(r"^\d+/\d+/\d+$")
    e = pl.element()
    df = df.with_columns(qid=qid, htok=pl.col("qhead").str.split(" ").list.slice(1))
    htok = pl.col("htok")
    qtype = htok.list.filter(
        ~e.str.starts_with("[") & ~e.str.starts_with("(") & ~e.str.ends_with(")") & ~e.str.contains(r"^[a-z]")
    ).list.first()
    df = df.with_columns(qid=pl.when(pl.col("qid").is_between(0, 65535)).then(pl.col("qid")), qtype=qtype)
    return df.with_columns(
        easy_question=(pl.col("qid").is_not_null() & pl.col("qafter").is_not_null() & (d1 != "q:")).fill_null(False),
        easy_response=(pl.col("qid").is_not_null() & pl.col("qafter").is_null() & (counts1 | counts2)).fill_null(False),
        is_resp=(pl.col("qafter").is_null() & (counts1 | counts2)).fill_null(False),
        non_std=htok.list.eval(e.str.contains(r"^[a-z]").any()).list.first().fill_null(False),
        qtype=pl.when(pl.col("qtype").str.starts_with("Type")).then(pl.col("qtype").str.strip_prefix("Type"))
        .otherwise(pl.col("qtype")),
        qname=_cut(pl.col("qafter"), " ")[0],
        rcode=pl.when(counts1).then(pl.lit("NOERROR")).when(counts2).then(_rcode(d1)),
        answer_text=pl.when(counts1 & d3.is_not_null()).then(d2 + " " + d3).when(counts1).then(d2)
        .when(counts2).then(d3),
    ).drop("d0", "d1", "d2", "d3", "qhead", "qafter", "htok")


def _rcode(token: pl.Expr) -> pl.Expr:
    """``NXDomain*-`` -> NXDOMAIN, ``Resp11`` -> 11; an opcode word or anything else -> NOERROR."""
    t = token.str.strip_chars_end("*-|$%")
    return pl.coalesce(
        pl.when(t.str.starts_with("Resp")).then(t.str.strip_prefix("Resp")),
        t.replace_strict(_RCODES, default=None, return_dtype=pl.String),
        pl.lit("NOERROR"),
    )


def _general(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Every other line: -e and -v layouts, checksum notes, DNS over TCP, -vv responses, non-DNS packets,
    continuation, hex and banner lines, other formats."""
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    df = lines.with_columns(raw=raw, text=raw.str.strip_chars_start(" \t"))
    num, after_num = _cut(pl.col("text"), " ")
    numbered = num.cast(pl.Int64, strict=False).is_not_null() & after_num.str.strip_chars_start(" ").str.slice(0, 1).str.contains(r"^\d$")
    df = df.with_columns(text=pl.when(numbered).then(after_num.str.strip_chars_start(" ")).otherwise(pl.col("text")))
    a, b = _cut(pl.col("text"), " ")
    df = df.with_columns(a=a, b=b).with_columns(_cut(pl.col("b"), " ")[0].alias("b1"), _cut(pl.col("b"), " ")[1].alias("b2"))
    df = df.with_columns(**_stamps(pl.col("a"), pl.col("b1"), ctx.tz))
    df = df.with_columns(
        is_head=pl.col("date_ts").is_not_null() | pl.col("epoch_ts").is_not_null() | pl.col("tod_ns").is_not_null(),
    )
    # the address pair: a head line's text after its stamp; else (-v) an indented line continuing the
    # head line just before it, if that had no pair (checked once all lines are together, in _rows)
    df = df.with_columns(
        is_cont=~pl.col("is_head") & pl.col("raw").str.contains(r"^[ \t]"),
        tok=pl.when(pl.col("stamp_tokens") == 2).then("b2").when(pl.col("is_head")).then("b")
        .otherwise("text").str.split(" "),
    )
    pair = (pl.element() == ">") & pl.element().shift(-1).str.ends_with(":")
    pos, has_pair = _first_index(pl.col("tok"), pair)
    df = df.with_columns(pos=pos.cast(pl.Int64), has_pair=has_pair.fill_null(False))
    df = df.with_columns(
        is_cont=pl.col("is_cont") & pl.col("has_pair"),
        has_pair=pl.col("has_pair") & pl.col("is_head"),
    )
    t, p = pl.col("tok"), pl.col("pos")
    df = df.with_columns(
        src=t.list.get(p - 1, null_on_oob=True),
        dst=t.list.get(p + 1, null_on_oob=True).str.strip_suffix(":"),
        payload=t.list.slice(p + 2).list.join(" "),
    )
    return _dns_general(_host_port(_host_port(df, "dst", "dst", "dport"), "src", "src", "sport"))


def _dns_general(df: pl.DataFrame) -> pl.DataFrame:
    """DNS fields after removing checksum notes and the TCP header; -vv responses' answer sections."""
    p = pl.col("payload")
    df = df.with_columns(
        payload=pl.when(p.str.starts_with("[") & (p.str.contains("cksum", literal=True) | p.str.contains("sum ok", literal=True)))
        .then(_cut(p, "] ")[1]).otherwise(p)
    )
    is_tcp = p.str.starts_with("Flags [")
    _, tcp_dns = _cut(_cut(p, ", length ")[1], " ")
    df = _dns_fields(df.with_columns(is_tcp=is_tcp.fill_null(False)).with_columns(
        dns=pl.when("is_tcp").then(tcp_dns.str.strip_chars()).otherwise(p),
    ))
    # -vv responses: "ID[ RCODE][flags] q: TYPE? NAME. AN/NS/AR answers [ns: ...] [ar: ...] (len)"
    e = pl.element()
    df = df.with_columns(dtok=pl.col("dns").str.split(" "))
    dtok = pl.col("dtok")
    c_pos, vv = _first_index(dtok, e.str.contains(r"^\d+/\d+/\d+$"))
    df = df.with_columns(rest=dtok.list.slice(c_pos.cast(pl.Int64) + 1), vv=vv)
    rest, vv = pl.col("rest"), pl.col("vv")
    end, has_end = _first_index(rest, e.is_in(["ns:", "ar:"]) | (e.str.starts_with("(") & e.str.ends_with(")")) | (e == "[|domain]"))
    vv = vv & ((dtok.list.get(1, null_on_oob=True) == "q:") | (dtok.list.get(2, null_on_oob=True) == "q:"))
    return df.with_columns(
        is_resp=pl.col("is_resp") | vv.fill_null(False),
        rcode=pl.when(vv).then(_rcode(dtok.list.get(1, null_on_oob=True))).otherwise(pl.col("rcode")),
        answer_text=pl.when(vv).then(pl.when(has_end).then(rest.list.slice(0, end)).otherwise(rest).list.join(" "))
        .otherwise(pl.col("answer_text")),
        non_dns=pl.lit(False),
    ).drop("dtok", "rest", "vv")


def _answers(resp: pl.DataFrame) -> pl.DataFrame:
    """line_no -> answers from the answer section: ``[owner.] [[ttl]] TYPE data, ...`` records."""
    rr = resp.select("line_no", rr=pl.col("answer_text").str.split(", ")).explode("rr")
    rr = rr.with_columns(pl.col("rr").str.splitn(" ", 5).struct.rename_fields(["r0", "r1", "r2", "r3", "r4"]).alias("t")).unnest("t")
    value = (
        pl.when(pl.col("r0").is_in(_ANSWER_TYPES)).then("r1")
        .when(pl.col("r1").is_in(_ANSWER_TYPES)).then("r2")
        .when(pl.col("r2").is_in(_ANSWER_TYPES)).then("r3")
    )
    rr = rr.with_columns(value=value.str.strip_suffix(".").str.to_lowercase())
    return rr.group_by("line_no", maintain_order=True).agg(answers=pl.col("value").drop_nulls())


_COLUMNS = {
    "line_no": pl.Int64(), "line": pl.String(), "raw": pl.String(), "is_head": pl.Boolean(),
    "has_pair": pl.Boolean(), "is_cont": pl.Boolean(), "date_ts": pl.Datetime("us"),
    "epoch_ts": pl.Datetime("us"), "tod_ns": pl.Int64(), "src": pl.String(), "sport": pl.String(),
    "dst": pl.String(), "dport": pl.String(), "dns": pl.String(), "is_tcp": pl.Boolean(),
    "non_dns": pl.Boolean(), "qid": pl.Int32(), "is_resp": pl.Boolean(), "non_std": pl.Boolean(),
    "qtype": pl.String(), "qname": pl.String(), "rcode": pl.String(), "answer_text": pl.String(),
}


def _rows(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """One row per line: kind (question, response, skip, bad, alien), join keys and fields."""
    fast, rest = _fast(lines, ctx)
    parts = [fast, _general(rest, ctx)] if rest.height else [fast]
    df = pl.concat([part.select(pl.col(c).cast(t) for c, t in _COLUMNS.items()) for part in parts])
    df = df.sort("line_no") if rest.height else df
    # times: bare times need the file order (midnight), continuation lines take the line before's stamp
    df = df.with_columns(bare_ts=_bare_times(df, ctx)).with_columns(
        ts=pl.coalesce("date_ts", "epoch_ts", localize_expr(pl.col("bare_ts"), ctx.tz))
    )
    pending = ctx.state.pop("tcpdump_pending", None)  # (line_no, ts) of a head line without its address pair
    alone = pl.col("is_head") & ~pl.col("has_pair")
    prev_alone = (alone.shift(1) & (pl.col("line_no").shift(1) == pl.col("line_no") - 1)).fill_null(
        pending is not None and lines.height > 0 and pending[0] == lines["line_no"][0] - 1
    )
    prev_ts = pl.col("ts").shift(1).fill_null(pl.lit(pending[1] if pending else None, dtype=pl.Datetime("us")))
    df = df.with_columns(is_cont=pl.col("is_cont") & prev_alone)
    df = df.with_columns(ts=pl.when(pl.col("is_cont")).then(prev_ts).otherwise("ts"))
    if df.height and df["is_head"][-1] and not df["has_pair"][-1]:
        ctx.state["tcpdump_pending"] = (int(df["line_no"][-1]), df["ts"][-1])

    packet = pl.col("is_head") & pl.col("has_pair") | pl.col("is_cont")
    dns_port = pl.col("sport").is_in(_DNS_PORTS) | pl.col("dport").is_in(_DNS_PORTS)
    question_ok = (
        pl.col("qid").is_not_null() & ~pl.col("is_resp") & pl.col("qname").str.ends_with(".")
        & pl.col("qtype").str.contains(r"^[A-Z0-9][A-Z0-9_-]*$")
    ).fill_null(False)
    resp_ok = (pl.col("qid").is_not_null() & pl.col("is_resp")).fill_null(False)
    raw = pl.col("raw")
    kind = (
        pl.when(raw.str.strip_chars() == "").then(pl.lit("skip"))
        .when(packet & pl.col("non_dns")).then(pl.lit("skip"))
        .when(packet & question_ok & ~pl.col("non_std")).then(pl.lit("question"))
        .when(packet & resp_ok).then(pl.lit("response"))
        .when(packet & (question_ok | (pl.col("is_tcp") & (pl.col("dns").fill_null("") == "")))).then(pl.lit("skip"))
        .when(packet & dns_port.fill_null(False)).then(pl.lit("bad"))
        .when(pl.col("is_head") | pl.col("is_cont") | raw.str.contains(r"^[ \t]")).then(pl.lit("skip"))
        .when(pl.any_horizontal(*(raw.str.starts_with(b) for b in _BANNERS))).then(pl.lit("skip"))
        .when(raw.str.contains(r"^\d+ packets? (captured|received by filter|dropped by)")).then(pl.lit("skip"))
        .otherwise(pl.lit("alien"))
    )
    df = df.with_columns(kind=kind)
    responses = df.filter(pl.col("kind") == "response")
    if responses.height:
        df = df.join(_answers(responses), on="line_no", how="left", maintain_order="left")
    else:
        df = df.with_columns(answers=pl.lit(None, dtype=pl.List(pl.String)))
    # a question's key is (client, client port, server, id); a response's is the same seen from the other side
    resp = pl.col("kind") == "response"
    return df.select(
        "line_no", "line", "kind", "ts", "src", "qname", "qtype", "rcode", "answers",
        k_client=pl.when(resp).then("dst").otherwise("src").fill_null(""),
        k_port=pl.when(resp).then("dport").otherwise("sport").fill_null(""),
        k_server=pl.when(resp).then("src").otherwise("dst").fill_null(""),
        k_id="qid",
    )


def _records(rows: pl.DataFrame) -> pl.DataFrame:
    questions = rows.filter(pl.col("kind") == "question").select("line_no", "ts", "src", "qname", "qtype", *_KEY)
    responses = rows.filter(pl.col("kind") == "response").select(*_KEY, r_line="line_no", rcode="rcode", answers="answers")
    # the next response within HOLD_BACK lines (a bounded join: see base.join_across_chunks)
    return questions.join_asof(responses, left_on="line_no", right_on="r_line", by=_KEY,
                               strategy="forward", tolerance=HOLD_BACK - 1, check_sortedness=False)


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows, records = join_across_chunks(_rows(lines, ctx), ctx, _CARRY, HOLD_BACK, _records)
    rejected = rejected_from(
        rows.filter(pl.col("kind").is_in(["bad", "alien"])),
        pl.when(pl.col("kind") == "bad").then(pl.lit("DNS packet whose DNS part does not parse"))
        .otherwise(pl.lit("not tcpdump output")),
    )
    out = finish_dns_records(records.select(
        "ts",
        client=pl.col("src"),
        query_name=pl.col("qname"),
        query_type=qtype_name_expr(pl.col("qtype")),
        response_code=rcode_name_expr(pl.col("rcode")),
        answers=pl.col("answers"),
        source_line=pl.col("line_no"),
    ))
    return ParseResult(out, rejected, skipped_by=skipped_by_kind(
        rows, {"response": "response (joined to its question)", "skip": "other packet, banner or continuation line"}))



_STAMP = r"^\s*(\d+\s+)?((\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2}\.\d{6,9}|\d{9,10}\.\d{6,9}) "
_HEAD = re.compile(_STAMP + r"(.* \S+ > \S+: |.*\bIP6? \(|ARP, |.*ethertype )")
_CONT = re.compile(r"^\s+\S+ > \S+: ")


def sniff(lines: list[str]) -> float:
    """Share of tcpdump packet lines (stamp, then an address pair or an IP header) and indented
    continuation lines; zero without a single packet line."""
    if not lines:
        return 0.0
    heads = sum(1 for line in lines if _HEAD.match(line))
    if not heads:
        return 0.0
    conts = sum(1 for line in lines if _CONT.match(line) and not _HEAD.match(line))
    return min(1.0, (heads + conts) / len(lines))


PARSER = Parser(
    name="tcpdump",
    description="tcpdump -n text output (-#, -tttt/-tt/bare times, -e, -v/-vv): questions with responses joined",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
