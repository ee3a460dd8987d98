"""Pi-hole / dnsmasq query log (``/var/log/pihole/pihole.log``, dnsmasq ``log-queries``).

    May  9 02:36:02 dnsmasq[71314]: query[A] thunder.dropbox.com from fd08:4711::5
    May  9 02:36:02 dnsmasq[71314]: forwarded thunder.dropbox.com to 127.0.0.1#5335
    May  9 02:36:02 dnsmasq[71314]: reply thunder.dropbox.com is <CNAME>
    May  9 02:36:02 dnsmasq[71314]: reply bolt.v.dropbox.com is 162.125.40.1
    May  9 02:36:02 dnsmasq[71314]: 12 10.0.0.5/51234 query[A] example.com from 10.0.0.5   (log-queries=extra)
    May  9 02:36:02 dnsmasq[71314]: UDP 12 10.0.0.5/51234 query[A] example.com from 10.0.0.5   (log-queries=proto)

One record per ``query[TYPE]`` line. The lines that follow it for the same name — forwarded, cached,
cached-stale, reply, gravity blocked, regex/exactly denied or blacklisted, special domain, config,
/etc/hosts and other local sources — are joined back to it and give ``resolver_action`` (``forwarded:UPSTREAM``
with the server a forwarded line names, e.g. ``forwarded:127.0.0.1#5335``; ``cached``, ``blocked:gravity``...),
``response_code`` and ``answers``; they are counted as *skipped* (understood, not questions). Answer lines
for CNAME targets (``reply bolt.v.dropbox.com is 162.125.40.1`` after ``reply thunder... is <CNAME>``)
belong to the query whose answer chain they continue.

Joining: a follow-up line joins a query less than ``HOLD_BACK`` lines (2,000) before it. With
``log-queries=extra`` every line carries the query id, so the join is exact (``log-queries=proto``, Pi-hole
v6's extra logging, puts the protocol before it). Without it, an answer right
after a ``<CNAME>`` answer (or after an answer for the same name) continues that answer's chain, and any
other follow-up line joins the most recent query for the same name (reverse names are matched by address,
as dnsmasq prints a PTR answer as ``reply 10.0.0.7 is printer.lan``; answers are addresses, or names for
PTR); two clients asking the same name in the same instant may therefore share one reply. Across chunk
boundaries (``base.join_across_chunks``) the last ``HOLD_BACK`` lines of a chunk wait for the next one
and the ``HOLD_BACK`` lines before them are kept as context, so a record is the same however the file is
cut (``ctx.final`` flushes what is held).

Other dnsmasq messages (start-up, ``validation result``, DHCP, ``dnssec-query``...) and blank lines are
skipped; a line whose syslog stamp or dnsmasq tag does not parse is rejected. Year-less stamps: see
``base.syslog_timestamps``. dnsmasq logging through syslog adds the host name
(``May  9 02:36:02 pihole dnsmasq[71314]: ...``), and rsyslog's high-precision file format an ISO 8601
stamp with its zone (``2024-05-09T02:36:02.123456+02:00 pihole dnsmasq[71314]: ...``, read by
``base.iso_timestamps``), and OpenWrt's ``logread`` a ctime stamp and the facility
(``Wed Dec  3 06:00:01 2026 daemon.info dnsmasq[1234]: ...``, read in ``--tz``): all are read, mixed freely.
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import (
    LineChunk,
    ParseContext,
    Parser,
    ParseResult,
    ctime_timestamps,
    empty_records,
    finish_dns_records,
    is_ctime_stamp,
    iso_timestamps,
    join_across_chunks,
    may_hold_upper_case,
    qtype_name_expr,
    rejected_from,
    syslog_timestamps,
)

_MONTH_ABBREVIATIONS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HOLD_BACK = 2000  # the join window (lines), also the lines held back for the next chunk and kept as context


def sniff(lines: list[str]) -> float:
    hits = sum(1 for ln in lines if "dnsmasq[" in ln and ("query[" in ln or " reply " in ln or "forwarded" in ln
                                                         or " cached " in ln))
    tagged = sum(1 for ln in lines if "dnsmasq[" in ln or "dnsmasq:" in ln)
    if not lines or not tagged:
        return 0.0
    return min(1.0, 0.5 + hits / len(lines)) if hits else 0.3 * tagged / len(lines)


_TWO_WORD_BLOCKS = {"gravity": "blocked:gravity", "regex": "blocked:regex", "exactly": "blocked:exact",
                    "special": "blocked:special"}
_TWO_WORD_SECOND = ["blocked", "denied", "blacklisted", "domain"]
_ONE_WORD_BLOCKS = ["blacklisted", "denied"]
_LOCAL_ACTIONS = ["config", "/etc/hosts", "DHCP", "local"]


def _word_table(words: pl.Series) -> pl.DataFrame:
    """What each distinct first word of a chunk says (there are a few dozen, against millions of lines):
    classified once per word, then looked up for each line."""
    w0 = pl.col("w_field_0")
    return words.unique().to_frame("w_field_0").drop_nulls().with_columns(
        query_word=w0.str.starts_with("query["),
        forward_word=w0 == "forwarded",
        answer_word=w0.is_in(["reply", "cached", "cached-stale", *_LOCAL_ACTIONS, *_ONE_WORD_BLOCKS])
        | w0.str.starts_with("/"),
        two_first=w0.is_in(list(_TWO_WORD_BLOCKS)),
        two_block=w0.replace_strict(_TWO_WORD_BLOCKS, default=None, return_dtype=pl.String),
        one_block=pl.when(w0.is_in(_ONE_WORD_BLOCKS)).then(pl.lit("blocked:denylist")),
        cached=w0.str.starts_with("cached"),
        local=w0.is_in(_LOCAL_ACTIONS) | w0.str.starts_with("/"),
        qtype=pl.when(w0.str.starts_with("query[")).then(w0.str.slice(6).str.strip_suffix("]")),
    )


def _tokenise(lines: pl.DataFrame) -> pl.DataFrame:
    """Split each line into stamp, optional query id and four fields with ``splitn`` (fixed-position
    tokens cost a fraction of a regex here), then classify it by its first word (looked up in a small
    table of the chunk's distinct first words). Columns are materialised step by step: eager ``with_columns`` does not share
    subexpressions, and ``when/then`` computes both branches."""
    line = pl.col("line")
    # the stamp is cut from the line's first 32 characters by _stamped, for the query lines only
    t = lines.with_columns(
        stamp=line.str.slice(0, 32),
        tagged=line.str.contains(" dnsmasq[", literal=True),
        body=line.str.slice(line.str.find("]: ", literal=True) + 3),
    )
    t = t.with_columns(tagged=pl.col("tagged") & pl.col("body").is_not_null())
    body = t["body"]
    if (body.str.starts_with("UDP ") | body.str.starts_with("TCP ")).any():
        # log-queries=proto (dnsmasq 2.91, Pi-hole v6's extra logging): "UDP <id> <ip>/<port> ...", the
        # protocol word first; then read as log-queries=extra
        proto = pl.col("body").str.contains(r"^(?:UDP|TCP) \d+ \S+/\d+ ")
        t = t.with_columns(body=pl.when(proto).then(pl.col("body").str.slice(4)).otherwise(pl.col("body")))
    if t["body"].str.contains(r"^\d+ \S+/\d+ ").any():  # log-queries=extra: "<id> <ip>/<port> ..."
        t = t.with_columns(head=pl.col("body").str.splitn(" ", 3)).unnest("head", separator="_")
        extra = pl.col("head_field_0").str.contains(r"^\d+$") & pl.col("head_field_1").str.contains("/", literal=True)
        t = t.with_columns(extra=extra).with_columns(
            qid=pl.when(pl.col("extra")).then(pl.col("head_field_0")),
            body=pl.when(pl.col("extra")).then(pl.col("head_field_2")).otherwise(pl.col("body")),
        ).drop("head_field_0", "head_field_1", "head_field_2", "extra")
    else:
        t = t.with_columns(qid=pl.lit(None, pl.String))
    t = t.with_columns(w=pl.col("body").str.splitn(" ", 4)).unnest("w", separator="_").drop("body")
    table = _word_table(t["w_field_0"])
    # look each line's first word up in the table: codes, then a gather per column (cheaper than a join)
    codes = t["w_field_0"].replace_strict(table["w_field_0"], pl.int_range(table.height, eager=True),
                                          default=None, return_dtype=pl.UInt32)
    t = t.with_columns(table[name].gather(codes) for name in table.columns[1:])
    t = t.with_columns(two=pl.col("two_first").fill_null(False) & pl.col("w_field_1").is_in(_TWO_WORD_SECOND))
    two = pl.col("two")
    # "gravity blocked NAME is VALUE": the connector and value share the fourth field; such lines are few,
    # so the plain reading is taken for all and those rows alone rewritten (when/then computes both sides)
    t = t.rename({"w_field_1": "name", "w_field_2": "connector", "w_field_3": "value"})
    rows = t["two"].arg_true()
    if rows.len():
        two_words = t[rows].select(name="connector", connector=pl.col("value").str.slice(0, 2),
                                   value=pl.col("value").str.slice(3))
        t = t.with_columns(t[name].scatter(rows, two_words[name]) for name in ("name", "connector", "value"))
    t = t.with_columns(key=_join_key(t["name"]))
    tagged, connector = pl.col("tagged"), pl.col("connector")
    return t.with_columns(
        is_query=(tagged & pl.col("query_word") & (connector == "from")).fill_null(False),
        is_forward=(tagged & pl.col("forward_word") & (connector == "to")).fill_null(False),
        is_answer=(tagged & (connector == "is") & (two | pl.col("answer_word"))).fill_null(False),
        blocked=pl.when(two).then(pl.col("two_block")).otherwise(pl.col("one_block")),
    ).drop("two", "two_first", "two_block", "one_block", "forward_word", "answer_word", "w_field_0")


def _join_key(names: pl.Series) -> pl.Series:
    """The name a follow-up line is matched to its query by: the name itself (lower case, no final dot), but
    the address for a reverse name, as dnsmasq prints a PTR answer as "reply 10.0.0.5 is host.lan" and
    NXDOMAIN as "... 5.0.0.10.in-addr.arpa is NXDOMAIN". Only the (few) reverse names are rewritten."""
    if may_hold_upper_case(names) or names.str.ends_with(".").any():
        # a name asked as "Example.COM." is answered as "example.com." (0x20, trailing dot); the test
        # first, as rewriting every name would cost more than the rest of this function
        names = names.str.to_lowercase().str.strip_suffix(".")
    where = names.str.ends_with(".in-addr.arpa").arg_true()
    if where.len() == 0:
        return names.alias("key")
    addresses = (names.gather(where).str.strip_suffix(".in-addr.arpa").str.split(".").list.reverse()
                 .list.join("."))
    return names.clone().scatter(where, addresses).alias("key")


def prepare(chunk: LineChunk) -> pl.DataFrame:
    """The stateless part of parsing (tokenising), which the driver runs on its own thread ahead of
    ``parse``; ``parse`` accepts raw or prepared lines."""
    return _tokenise(chunk.lines())


def _stamped(t: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """The query lines' stamps read, once per line and in file order (the syslog year state advances)."""
    ts = pl.Series("ts", dtype=pl.Datetime("us")).extend_constant(None, t.height)
    where = t["is_query"].arg_true()
    if where.len():
        stamps = t["stamp"].gather(where)
        if stamps.str.slice(0, 3).is_in(_MONTH_ABBREVIATIONS).all():  # the classic "May  9 02:36:02"
            ts = ts.scatter(where, syslog_timestamps(stamps.str.slice(0, 15), ctx))
        else:
            # rsyslog's high-precision stamp ("2024-05-09T02:36:02.123456+02:00 host ...") is the line's first
            # word and OpenWrt logread's ctime stamp ("Wed Dec  3 06:00:01 2026 daemon.info ...") its first 24
            # characters, each with its year; the classic ones take the syslog year
            iso = stamps.str.slice(4, 1) == "-"
            ctime = pl.select(is_ctime_stamp(pl.lit(stamps))).to_series() & ~iso
            classic = ~iso & ~ctime
            for kind, read in ((iso, lambda s: iso_timestamps(s.str.splitn(" ", 2).struct.field("field_0"), ctx.tz)),
                               (ctime, lambda s: ctime_timestamps(s.str.slice(0, 24), ctx.tz)),
                               (classic, lambda s: syslog_timestamps(s.str.slice(0, 15), ctx))):
                if kind.any():
                    ts = ts.scatter(where.filter(kind), read(stamps.filter(kind)))
    return t.with_columns(ts)


def _joined(t: pl.DataFrame) -> pl.DataFrame:
    """The queries of a frame of tokenised lines (``line_no``, ``ts``, name, client, type), each with what
    its follow-up lines say. A follow-up line joins a query less than ``HOLD_BACK`` lines before it: the
    query with its id (log-queries=extra); else an answer right after a ``<CNAME>`` answer, or after an
    answer for the same name, continues that answer's chain (a CNAME target belongs to the chain's query,
    whatever was asked for that name before); else the latest query for its key (see _join_key); else an
    answer joins the query of the answer right before it. Nothing farther, so how the file is cut into
    chunks never changes a record."""
    t = t.with_row_index("pos").with_columns(pl.col("pos").cast(pl.Int64))
    pos, is_query, no_qid = pl.col("pos"), pl.col("is_query"), pl.col("qid").is_null()
    has_qid = t["qid"].is_not_null()
    by_qid = by_key = None
    if has_qid.any():
        by_qid = pl.when(is_query).then(pos).forward_fill().over("qid")
    if by_qid is None or not has_qid.all():
        answer = pl.col("is_answer")
        link = (answer & no_qid & answer.shift(1, fill_value=False) & no_qid.shift(1, fill_value=False)
                & ((pl.col("value").shift(1) == "<CNAME>") | (pl.col("name").shift(1) == pl.col("name"))))
        t = t.with_columns(base=pl.when(is_query).then(pos).forward_fill().over("key"),
                           head=pl.when(~link.fill_null(False)).then(pos).forward_fill())
        by_key = pl.col("base").gather(pl.col("head"))
    gid = (by_key if by_qid is None else by_qid if by_key is None
           else pl.when(no_qid).then(by_key).otherwise(by_qid))
    is_follow = pl.col("is_answer") | pl.col("is_forward")
    # a query farther than the window explains nothing, as if it were not there (it may be in no chunk)
    t = t.with_columns(gid=pl.when((is_query | is_follow) & (pos - gid < HOLD_BACK)).then(gid))
    if t["gid"].null_count() > t.height - t.select((is_query | is_follow).sum()).item():
        # an answer that none of that explains continues the answer right before it (a name spelt
        # otherwise); one line back only, so what it joins never depends on where a chunk starts
        t = t.with_columns(gid=pl.when(pl.col("is_answer") & pl.col("gid").is_null()
                                       & pl.col("is_answer").shift(1, fill_value=False))
                           .then(pl.col("gid").shift(1)).otherwise(pl.col("gid")))
    follow = t.filter(is_follow & pl.col("gid").is_not_null() & (pos - pl.col("gid") < HOLD_BACK)).select(
        "gid", "value", "is_answer", "is_forward", "blocked", "cached", "local")
    value = pl.col("value")
    # an answer is an address, or a name for PTR; "<CNAME>", NXDOMAIN, NODATA... are not answers
    is_ip = ~value.str.starts_with("<") & ~value.str.starts_with("NODATA") & ~value.is_in(
        ["NXDOMAIN", "SERVFAIL", "REFUSED", "NOTIMP", "FORMERR", "truncated"])
    per_query = follow.group_by("gid").agg(
        answers=value.filter(pl.col("is_answer") & is_ip),
        blocked=pl.col("blocked").drop_nulls().first(),
        cached=(pl.col("is_answer") & pl.col("cached")).any(),
        forwarded=pl.col("is_forward").any(),
        upstream=value.filter(pl.col("is_forward")).first(),
        local=(pl.col("is_answer") & pl.col("local")).any(),
        nx=(pl.col("is_answer") & (value == "NXDOMAIN")).any(),
        servfail=(pl.col("is_answer") & (value == "SERVFAIL")).any(),
        refused=(pl.col("is_answer") & (value == "REFUSED")).any(),
        answered=pl.col("is_answer").any(),
    )
    return (t.filter(is_query).select("pos", "line_no", "line", "ts", "name", "value", "qtype")
            .join(per_query, left_on="pos", right_on="gid", how="left"))


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    t = _stamped(lines if "stamp" in lines.columns else _tokenise(lines), ctx)
    # the last HOLD_BACK lines wait for the next chunk, where the replies to their queries are; the
    # HOLD_BACK lines before them stay as context, where the queries of the replies after them are
    t, queries = join_across_chunks(t, ctx, "carry", HOLD_BACK, _joined, context=HOLD_BACK)
    if not t.height:
        return ParseResult(empty_records(), rejected_from(t.select("line_no", "line"), ""), 0)
    if queries["ts"].has_nulls():
        bad_ts = queries.filter(pl.col("ts").is_null())
        queries = queries.filter(pl.col("ts").is_not_null())
    else:
        bad_ts = queries.head(0)
    records = queries.select(
        "ts",
        client=pl.col("value"),
        query_name=pl.col("name"),
        query_type=qtype_name_expr(pl.col("qtype")),
        response_code=pl.when(pl.col("nx")).then(pl.lit("NXDOMAIN"))
        .when(pl.col("servfail")).then(pl.lit("SERVFAIL"))
        .when(pl.col("refused")).then(pl.lit("REFUSED"))
        .when(pl.col("answered")).then(pl.lit("NOERROR")),
        answers=pl.when(pl.col("answered")).then(pl.col("answers").list.unique(maintain_order=True)),
        resolver_action=pl.coalesce(
            pl.col("blocked"),
            pl.when(pl.col("local")).then(pl.lit("local")),
            pl.when(pl.col("cached")).then(pl.lit("cached")),
            pl.when(pl.col("forwarded")).then(
                pl.when(pl.col("upstream").is_not_null()).then(pl.lit("forwarded:") + pl.col("upstream"))
                .otherwise(pl.lit("forwarded"))),
        ),
        source_line=pl.col("line_no"),
    )
    # accounting: query lines -> records (or rejected when the stamp is bad); other tagged lines ->
    # skipped; blank lines -> skipped; other untagged lines -> rejected
    kinds = t.select("line_no", "line", "tagged", "query_word", "is_query", "is_answer", "is_forward")
    blank = pl.col("line").fill_null("").str.strip_chars() == ""
    untagged = kinds.filter(~pl.col("tagged")).filter(~blank)
    malformed = kinds.filter(pl.col("tagged") & pl.col("query_word").fill_null(False) & ~pl.col("is_query"))
    tagged, is_follow = pl.col("tagged").fill_null(False), pl.col("is_answer") | pl.col("is_forward")
    other = tagged & ~pl.col("query_word").fill_null(False) & ~is_follow
    # a question behind words this parser does not know (a new log-queries layout) is never skipped in silence
    unknown = kinds.filter(other).filter(pl.col("line").str.contains(r" query\[[A-Za-z0-9]+\] \S+ from "))
    rejected = pl.concat([
        rejected_from(untagged.select("line_no", "line"),
                      "not a dnsmasq log line (expected 'Mon dd HH:MM:SS dnsmasq[pid]: ...')"),
        rejected_from(malformed.select("line_no", "line"),
                      "malformed query line (expected 'query[TYPE] NAME from CLIENT'; truncated?)"),
        rejected_from(unknown.select("line_no", "line"),
                      "query line in a layout not known (expected 'query[TYPE] NAME from CLIENT' after the tag, "
                      "an id or 'UDP'/'TCP' and an id)"),
        rejected_from(bad_ts.select("line_no", "line"), "unparsable syslog timestamp"),
    ])
    skipped = kinds.select(
        blank=(~tagged & blank).sum(),
        reply_joined=(tagged & is_follow).sum(),
        other_message=other.sum() - unknown.height,
    ).row(0, named=True)
    return ParseResult(finish_dns_records(records), rejected, skipped_by={
        "blank": skipped["blank"], "reply, forward or cache line of a query": skipped["reply_joined"],
        "other dnsmasq message": skipped["other_message"]})


PARSER = Parser(
    name="pihole",
    description="Pi-hole / dnsmasq query log (query[T], forwarded, reply, cached, blocked ...)",
    kind="lines",
    sniff=sniff,
    parse=parse,
    prepare=prepare,
    syslog_programs=("dnsmasq", "pihole-FTL", "pihole"),
    syslog_tag="dnsmasq",
)
