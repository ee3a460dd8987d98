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
after the question (the last ``HOLD_BACK`` lines of a chunk are kept in ``ctx.state`` and joined again
with the next chunk; ``ctx.final`` flushes them), and gives response_code and answers (A/AAAA/CNAME/PTR/NS/MX/DNAME
data); the response line itself is skipped, as are notify/update messages, TCP segments without a DNS
payload, the ``-v`` IP header lines, indented detail and hex lines, tcpdump's own banner lines, blank lines
and every non-DNS packet. Rejected: a packet to or from port 53/5353/5355 whose DNS part does not parse
(truncated ``[|domain]``, cut names...) and lines that are not tcpdump output at all.

Time: ``-tttt`` stamps and bare times are naive local times read in ``ctx.tz``; ``-tt`` epochs are UTC.
Bare times take their date from the file's mtime (in ``ctx.tz``), or the day before when the first time
of day is later than the mtime's (the capture started the day before); ``ctx.year`` replaces the year;
without mtime the date is 1 January of ``ctx.year``, or today (UTC). A time of day that goes back by more
than 12 hours starts the next day. Date, day count and a pending ``-v`` header are kept in ``ctx.state``.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import polars as pl

from netsift.ingest.base import (
    ParseContext,
    ParseResult,
    Parser,
    finish_dns_records,
    localize_expr,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
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


def _host_port(addr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """``192.168.1.11.43966`` / ``2001:db8::1.53`` / ``host.example.com.domain`` -> (host, port or null);
    a bare IPv4 address (ICMP) has no port."""
    parts = addr.str.split(".")
    last = parts.list.last()
    dots = addr.str.count_matches(".", literal=True)
    numeric = last.cast(pl.Int32, strict=False).is_not_null() & (dots >= 1)
    bare_ipv4 = (dots == 3) & addr.str.replace_all(".", "", literal=True).cast(pl.Int64, strict=False).is_not_null()
    has_port = (numeric & ~bare_ipv4) | last.is_in(_SERVICE_NAMES)
    host = parts.list.slice(0, parts.list.len() - 1).list.join(".")
    return pl.when(has_port).then(host).otherwise(addr), pl.when(has_port).then(last)


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


def _bare_times(df: pl.DataFrame, ctx: ParseContext) -> pl.Series:
    """Datetimes for rows whose stamp is a bare time of day (column tod_ns), rolling over at midnight."""
    tod = df["tod_ns"]
    first = tod.drop_nulls()
    if first.len() == 0:
        return pl.Series("bare", [None] * df.height, dtype=pl.Datetime("us"))
    state = ctx.state
    if "tcpdump_date" not in state:
        state["tcpdump_date"] = _base_date(int(first[0]), ctx)
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


def _frame(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    df = lines.with_columns(raw=raw, text=raw.str.strip_chars_start(" \t"))
    num, after_num = _cut(pl.col("text"), " ")
    numbered = num.cast(pl.Int64, strict=False).is_not_null() & after_num.str.strip_chars_start(" ").str.slice(0, 1).str.contains(r"^\d$")
    df = df.with_columns(text=pl.when(numbered).then(after_num.str.strip_chars_start(" ")).otherwise(pl.col("text")))
    a, b = _cut(pl.col("text"), " ")
    b1, b2 = _cut(b, " ")
    is_date = (a.str.len_chars() == 10) & (a.str.slice(4, 1) == "-") & (a.str.slice(7, 1) == "-")
    is_time = (a.str.slice(2, 1) == ":") & (a.str.slice(5, 1) == ":")
    is_epoch = a.str.contains(r"^\d{9,10}\.\d+$")
    date_ts = (a + " " + b1).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    df = df.with_columns(
        tod_ns=pl.when(is_time).then(a.str.strptime(pl.Time, "%H:%M:%S%.f", strict=False).cast(pl.Int64)),
        date_ts=pl.when(is_date).then(localize_expr(date_ts, ctx.tz)),
        epoch_ts=pl.when(is_epoch).then(pl.from_epoch((a.cast(pl.Float64, strict=False) * 1e6).cast(pl.Int64), time_unit="us")),
        rest=pl.when(is_date).then(b2).when(is_time | is_epoch).then(b),
    )
    df = df.with_columns(bare_ts=_bare_times(df, ctx)).with_columns(
        ts=pl.coalesce("date_ts", "epoch_ts", localize_expr(pl.col("bare_ts"), ctx.tz))
    )
    tok = pl.col("rest").str.split(" ")
    pair = (pl.element() == ">") & pl.element().shift(-1).str.ends_with(":")
    pos, has_pair = _first_index(tok, pair)
    df = df.with_columns(is_head=pl.col("ts").is_not_null(), pos=pos, has_pair=has_pair.fill_null(False))
    # -v: an indented "SRC > DST: ..." line continues a head line that had no address pair
    pending = ctx.state.pop("tcpdump_pending_ts", None)
    head_alone = pl.col("is_head") & ~pl.col("has_pair")
    prev_alone = head_alone.shift(1).fill_null(pending is not None)
    prev_ts = pl.col("ts").shift(1).fill_null(pl.lit(pending, dtype=pl.Datetime("us")))
    ctok = pl.col("text").str.split(" ")
    cpos, c_has = _first_index(ctok, pair)
    cont = ~pl.col("is_head") & pl.col("raw").str.contains(r"^[ \t]") & prev_alone & c_has.fill_null(False)
    df = df.with_columns(is_cont=cont.fill_null(False))
    df = df.with_columns(
        ts=pl.when(pl.col("is_cont")).then(prev_ts).otherwise(pl.col("ts")),
        tok=pl.when(pl.col("is_cont")).then(ctok).when(pl.col("is_head") & pl.col("has_pair")).then(tok),
        pos=pl.when(pl.col("is_cont")).then(cpos).otherwise(pl.col("pos")),
    )
    if df.height and df["is_head"][-1] and not df["has_pair"][-1]:
        ctx.state["tcpdump_pending_ts"] = df["ts"][-1]
    t, p = pl.col("tok"), pl.col("pos").cast(pl.Int64)
    src_host, src_port = _host_port(t.list.get(p - 1, null_on_oob=True))
    dst_host, dst_port = _host_port(t.list.get(p + 1, null_on_oob=True).str.strip_suffix(":"))
    return df.with_columns(
        src=src_host, sport=src_port, dst=dst_host, dport=dst_port,
        payload=t.list.slice(p + 2).list.join(" "),
    )


def _dns(df: pl.DataFrame) -> pl.DataFrame:
    """Split the payload into its DNS fields."""
    p = pl.col("payload")
    p = pl.when(p.str.starts_with("[") & (p.str.contains("cksum", literal=True) | p.str.contains("sum ok", literal=True))).then(
        _cut(p, "] ")[1]
    ).otherwise(p)
    is_tcp = p.str.starts_with("Flags [")
    length, tcp_dns = _cut(_cut(p, ", length ")[1], " ")
    df = df.with_columns(
        is_tcp=is_tcp.fill_null(False),
        dns=pl.when(is_tcp).then(tcp_dns.str.strip_chars()).otherwise(p),
    )
    d = pl.col("dns")
    dtok = d.str.split(" ")
    e = pl.element()
    counts = (e.str.count_matches("/", literal=True) == 2) & e.str.replace_all("/", "", literal=True).str.contains(r"^\d+$")
    c_pos, is_resp = _first_index(dtok, counts)
    head, after_q = _cut(d, "? ")
    htok = head.str.split(" ").list.slice(1)
    qtype = htok.list.filter(
        ~e.str.starts_with("[") & ~e.str.starts_with("(") & ~e.str.ends_with(")") & ~e.str.contains(r"^[a-z]")
    ).list.first()
    rc1 = dtok.list.get(1, null_on_oob=True).str.strip_chars_end("*-|$%")
    rc2 = dtok.list.get(2, null_on_oob=True).str.strip_chars_end("*-|$%")

    def rcode(tokn: pl.Expr) -> pl.Expr:
        return pl.when(tokn.str.starts_with("Resp")).then(tokn.str.strip_prefix("Resp")).otherwise(
            tokn.replace_strict(_RCODES, default=None, return_dtype=pl.String)
        )

    qid = dtok.list.first().str.strip_chars_end("+%*-|$").cast(pl.Int32, strict=False)
    return df.with_columns(
        qid=pl.when(qid.is_between(0, 65535)).then(qid),
        is_resp=is_resp.fill_null(False),
        c_pos=c_pos.cast(pl.Int64),
        non_std=htok.list.eval(e.str.contains(r"^[a-z]").any()).list.first().fill_null(False),
        qtype=pl.when(qtype.str.starts_with("Type")).then(qtype.str.strip_prefix("Type")).otherwise(qtype),
        qname=_cut(after_q, " ")[0],
        rcode=pl.coalesce(rcode(rc1), rcode(rc2), pl.lit("NOERROR")),
    )


def _answers(resp: pl.DataFrame) -> pl.DataFrame:
    """line_no -> answers from the answer section (between the counts and ns:/ar:/(length))."""
    e = pl.element()
    rest = pl.col("dtok").list.slice(pl.col("c_pos") + 1)
    end, has_end = _first_index(rest, e.is_in(["ns:", "ar:"]) | (e.str.starts_with("(") & e.str.ends_with(")")) | (e == "[|domain]"))
    section = pl.when(has_end).then(rest.list.slice(0, end)).otherwise(rest).list.join(" ")
    rr = resp.select("line_no", dtok=pl.col("dns").str.split(" "), c_pos="c_pos").select(
        "line_no", rr=section.str.split(", ")
    ).explode("rr")
    rtok = pl.col("rr").str.split(" ")
    t_pos, t_has = _first_index(rtok, e.is_in(_ANSWER_TYPES))
    value = rtok.list.get(t_pos.cast(pl.Int64) + 1, null_on_oob=True).str.strip_suffix(".").str.to_lowercase()
    rr = rr.with_columns(value=pl.when(t_has).then(value))
    return rr.group_by("line_no", maintain_order=True).agg(answers=pl.col("value").drop_nulls())


def _rows(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """One row per line: kind (question, response, skip, bad, alien), join keys and fields."""
    df = _dns(_frame(lines, ctx))
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
    df = df.join(_answers(df.filter(pl.col("kind") == "response")), on="line_no", how="left", maintain_order="left")
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
    responses = rows.filter(pl.col("kind") == "response").select(r_line="line_no", *_KEY, rcode="rcode", answers="answers")
    return questions.join_asof(responses, left_on="line_no", right_on="r_line", by=_KEY,
                               strategy="forward", check_sortedness=False)


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows = _rows(lines, ctx)
    carried = ctx.state.pop(_CARRY, None)
    if carried is not None:
        rows = pl.concat([carried, rows], how="vertical_relaxed")
    records = _records(rows)
    if not ctx.final:
        # hold the tail back: its questions may be answered by lines of the next chunk
        cut = rows["line_no"][max(0, rows.height - HOLD_BACK)] if rows.height else 0
        ctx.state[_CARRY] = rows.filter(pl.col("line_no") >= cut)
        rows = rows.filter(pl.col("line_no") < cut)
        records = records.filter(pl.col("line_no") < cut)
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
    return ParseResult(out, rejected, rows.height - out.height - rejected.height)


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
    sniff=sniff,
    parse=parse,
)
