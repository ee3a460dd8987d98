"""Unbound query log (``log-queries`` / ``log-replies`` / ``log-local-actions``; the resolver of pfSense,
OPNsense and many Linux hosts)::

    [1701593201] unbound[1234:0] info: 192.168.1.5 www.example.com. A IN
    [1701593201] unbound[1234:0] info: 192.168.1.5 www.example.com. A IN NOERROR 0.000123 0 45
    [1701593201] unbound[1234:0] reply: 192.168.1.5 www.example.com. A IN NOERROR 0.000123 1 45
    Dec 03 06:00:01 unbound[1234:0] query: 192.168.1.5 www.example.com. A IN
    Dec  3 06:00:01 fw unbound: [1234:0] info: ads.example.com. always_nxdomain 192.168.1.5@51234 ads.example.com. A IN

A question line is ``CLIENT NAME TYPE CLASS``, a reply line adds ``RCODE SECONDS CACHED SIZE`` (Unbound's
``log_reply_info``), a local-zone action line is ``ZONE ACTION CLIENT@PORT NAME TYPE CLASS``; each after
``info:`` (or ``query:``/``reply:`` with ``log-tag-queryreply``). The stamp is Unbound's own (epoch seconds
in brackets, or ``log-time-ascii``'s ``Mon dd hh:mm:ss``, year-less) or a syslog envelope's (classic,
year-less, or rsyslog's ISO 8601 with its zone). Year-less stamps: see ``base.syslog_timestamps``.

Records: with ``log-replies`` each reply line is a record (response_code; resolver_action ``cached`` when
Unbound answered from its cache) and the question lines are skipped, as the reply repeats them; without
it, each question line is a record (no response known). Which of the two a file holds is decided by the
first chunk holding a reply line and remembered (``ctx.state``). A local-zone action line sets
resolver_action on the record of the same client, name and type logged within 50 lines of it in the same
chunk (``blocked:always_nxdomain``, ``blocked:refuse``, ... for actions that refuse or invent an answer,
``local`` for static and redirect data) and is skipped; with neither question nor reply lines logged it is
the record itself. A FORMERR reply (``CLIENT - - - FORMERR - - -``: no question to record) is skipped.

Accounting: other Unbound messages (start-up, statistics, ``notice:``, ``debug:``) and blank lines are
skipped; a question, reply or action line whose fields do not read, and lines that are not Unbound's, are
rejected with the reason.
"""

from __future__ import annotations

import re

import polars as pl

from netsift.ingest.base import (
    ParseContext,
    Parser,
    ParseResult,
    finish_dns_records,
    iso_timestamps,
    qtype_name_expr,
    rejected_from,
    share_sniff,
    syslog_timestamps,
)

_MODE = "unbound_replies"  # ctx.state: True once the file is seen to log replies
_NEAR = 50  # lines between a local-zone action and the question or reply it belongs to
_BLOCKING = ["deny", "refuse", "always_refuse", "always_nxdomain", "always_nodata", "always_null", "inform_deny"]
_LOCAL = ["static", "redirect", "typetransparent", "transparent", "inform", "always_transparent", "nodefault"]
_MARKERS = (" info: ", " query: ", " reply: ")
_CLASSES = ["IN", "CH", "HS", "NONE", "ANY"]


def _split(lines: pl.DataFrame) -> pl.DataFrame:
    """stamp kind and text, the tag (info/query/reply) and the message of every line."""
    line = pl.col("line").fill_null("").str.strip_chars_end("\r")
    where = pl.min_horizontal(*(pl.when(line.str.find(m, literal=True) >= 0).then(line.str.find(m, literal=True))
                                for m in _MARKERS))
    head, rest = line.str.slice(0, where), line.str.slice(where + 1)
    tag_msg = rest.str.splitn(": ", 2)
    unbound = head.str.contains(r"unbound(?:\[[0-9:]+\]:?|:)(?: \[[0-9:]+\])?$")
    return lines.with_columns(
        head=head, tag=tag_msg.struct.field("field_0"), message=tag_msg.struct.field("field_1"),
        is_unbound=unbound.fill_null(False), blank=line.str.strip_chars() == "",
        other_unbound=line.str.contains(r"unbound(?:\[[0-9:]+\]:?|:) ") & where.is_null(),
    )


def _stamps(heads: pl.Series, ctx: ParseContext) -> pl.Series:
    """Stamps of the heads (text before the tag): ``[epoch]``, ISO 8601, or year-less ``Mon dd hh:mm:ss``."""
    out = pl.Series("ts", [None] * heads.len(), dtype=pl.Datetime("us"))
    epoch = heads.str.starts_with("[")
    iso = heads.str.slice(4, 1) == "-"
    classic = ~epoch & ~iso
    if epoch.any():
        seconds = heads.filter(epoch).str.extract(r"^\[(\d+)\]", 1).cast(pl.Int64, strict=False)
        out = out.scatter(epoch.arg_true(), (seconds * 1_000_000).cast(pl.Datetime("us")))
    if iso.any():
        out = out.scatter(iso.arg_true(), iso_timestamps(heads.filter(iso).str.splitn(" ", 2).struct.field("field_0"),
                                                         ctx.tz))
    if classic.any():
        out = out.scatter(classic.arg_true(), syslog_timestamps(heads.filter(classic).str.slice(0, 15), ctx))
    return out


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    t = _split(lines)
    ours = t.filter(pl.col("is_unbound") & pl.col("tag").is_in(["info", "query", "reply"]))
    words = ours["message"].str.split(" ")
    n = words.list.len()
    w = [words.list.get(i, null_on_oob=True) for i in range(8)]
    is_reply = (n == 8) & w[3].is_in(_CLASSES)
    is_question = (n == 4) & w[3].is_in(_CLASSES)
    is_action = (n == 6) & w[2].str.contains("@", literal=True) & w[5].is_in(_CLASSES)
    formerr = (n == 8) & (w[1] == "-") & (w[4] == "FORMERR")
    kind = (pl.when(formerr).then(pl.lit("formerr")).when(is_reply).then(pl.lit("reply"))
            .when(is_question).then(pl.lit("question")).when(is_action).then(pl.lit("action")))
    ours = ours.with_columns(kind=kind, w0=w[0], w1=w[1], w2=w[2], w3=w[3], w4=w[4], w5=w[5], w6=w[6])
    # Unbound's other info: messages (start-up, statistics) are skipped; a message that starts like a
    # question (an address, then a name ending in a dot) but does not read as one is rejected
    looks = pl.col("w0").str.contains(r"^[0-9a-fA-F:.]+$") & pl.col("w1").str.ends_with(".")
    ours = ours.with_columns(bad=pl.col("kind").is_null() & looks.fill_null(False))
    if ours["kind"].eq("reply").any():
        ctx.state[_MODE] = True
    replies = bool(ctx.state.get(_MODE))
    ts = _stamps(ours["head"], ctx)
    ours = ours.with_columns(ts=ts, row=pl.int_range(pl.len()))

    action = ours.filter(pl.col("kind") == "action").select(
        "row", client=pl.col("w2").str.replace(r"@\d+$", ""), key_name=pl.col("w3").str.to_lowercase(),
        key_type=pl.col("w4"), how=pl.col("w1"))
    recorded = "reply" if replies else "question"
    base = ours.filter(pl.col("kind") == recorded)
    if recorded == "reply":
        records = base.select("row", "line_no", "ts", client=pl.col("w0"), name=pl.col("w1"), qtype=pl.col("w2"),
                              rcode=pl.col("w4"), cached=pl.col("w6") == "1")
    else:
        records = base.select("row", "line_no", "ts", client=pl.col("w0"), name=pl.col("w1"), qtype=pl.col("w2"),
                              rcode=pl.lit(None, pl.String), cached=pl.lit(False))
    lone_actions = base.height == 0 and ours.filter(pl.col("kind") == ("question" if replies else "reply")).height == 0
    if lone_actions and action.height:  # only local-zone actions logged: each is the record
        acted = ours.filter(pl.col("kind") == "action").select(
            "row", "line_no", "ts", client=pl.col("w2").str.replace(r"@\d+$", ""), name=pl.col("w3"),
            qtype=pl.col("w4"), rcode=pl.lit(None, pl.String), cached=pl.lit(False), how=pl.col("w1"))
        records = acted
    elif action.height and records.height:
        keyed = records.with_columns(key_name=pl.col("name").str.to_lowercase()).sort("row")
        near = keyed.join_asof(action.sort("row").rename({"row": "action_row"}), left_on="row", right_on="action_row",
                               by_left=["client", "key_name", "qtype"], by_right=["client", "key_name", "key_type"],
                               strategy="nearest", tolerance=_NEAR, check_sortedness=False)
        records = near.drop("key_name", "action_row")
    if "how" not in records.columns:
        records = records.with_columns(how=pl.lit(None, pl.String))
    how = pl.col("how")
    out = records.select(
        "ts",
        client="client",
        query_name="name",
        query_type=qtype_name_expr(pl.col("qtype")),
        response_code=pl.col("rcode"),
        resolver_action=pl.when(how.is_in(_BLOCKING)).then(pl.lit("blocked:") + how)
        .when(how.is_in(_LOCAL)).then(pl.lit("local"))
        .when(how.is_not_null()).then(how)
        .when(pl.col("cached")).then(pl.lit("cached")),
        source_line="line_no",
    )
    no_ts = out.filter(pl.col("ts").is_null())
    out = out.filter(pl.col("ts").is_not_null())

    rows_of = ours.group_by("kind").len()
    count = dict(rows_of.iter_rows())
    unread = ours.filter(pl.col("bad"))
    foreign = t.filter(~pl.col("blank") & ~pl.col("is_unbound") & ~pl.col("other_unbound"))
    rejected = pl.concat([
        rejected_from(unread.select("line_no", "line"), "Unbound question or reply line whose fields do not read "
                                                        "(expected 'CLIENT NAME TYPE CLASS [RCODE SECONDS CACHED SIZE]')"),
        rejected_from(foreign.select("line_no", "line"), "not an Unbound log line"),
        rejected_from(no_ts.select(pl.col("source_line").alias("line_no")).join(lines, on="line_no", how="left"),
                      "unreadable time stamp"),
    ]).sort("source_line")
    other = t.filter(pl.col("other_unbound")).height + ours.filter(pl.col("kind").is_null() & ~pl.col("bad")).height
    skipped_by = {
        "blank": t.filter(pl.col("blank")).height,
        "other Unbound message": other,
        "FORMERR reply (no question)": count.get("formerr", 0),
        "question line (its reply is the record)": count.get("question", 0) if replies else 0,
        "local-zone action (set on its record)": 0 if lone_actions else count.get("action", 0),
    }
    return ParseResult(finish_dns_records(out), rejected, skipped_by=skipped_by)


_SNIFF = re.compile(r"unbound(?:\[[0-9:]+\]:?|:)(?: \[[0-9:]+\])? (?:info|query|reply): ")


def sniff(lines: list[str]) -> float:
    """Share of the first lines that are Unbound's info/query/reply messages (at least a third needed)."""
    return share_sniff(lines, _SNIFF.search, least=0.3)


PARSER = Parser(
    name="unbound",
    description="Unbound query log (log-queries, log-replies, log-local-actions; pfSense, OPNsense)",
    kind="lines",
    sniff=sniff,
    parse=parse,
    syslog_programs=("unbound",),
)
