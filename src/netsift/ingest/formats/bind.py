"""BIND 9 query log (named), plain or syslog-wrapped as Infoblox NIOS writes it.

One record per question line::

    10-Nov-2015 15:20:34.006 client 127.0.0.1#37490 (wikipedia.com): query: wikipedia.com IN A + (127.0.0.1)
    <30>Apr 14 16:16:05 10.50.1.227 named[2588]: queries: client @0x7f97e40eb500 192.168.1.90#64727 (...): query: ...

with or without the ``client @0x...`` handle, the ``(name)`` echo, ``view NAME:``, ``UDP:/TCP:``, category
and severity prefixes (``queries:``, ``query-errors:``, ``infoblox-responses:``, ``info:``) and a syslog
wrapper (``<pri>Mon dd hh:mm:ss host [host] named[pid]: ``, or rsyslog's high-precision
``2024-05-09T02:36:02.123456+02:00 host [host] named[pid]: ``). The time is the line's own BIND stamp
(``dd-Mon-yyyy hh:mm:ss.mmm`` or ISO 8601) when it has one, read in ``ctx.tz`` (a trailing ``Z`` means
UTC); otherwise the syslog stamp: a classic one via :func:`syslog_timestamps` (year-less), an ISO one via
:func:`iso_timestamps` (its own year and zone).

Decisions:

* Infoblox response lines (``UDP: query: NAME IN A response: NOERROR +ED rr; rr;``) carry response_code and
  answers (A/AAAA/CNAME/PTR/NS/MX/DNAME data). A response line is joined to a ``query:`` line (within
  2,500 lines before it) with the same client ip, port, name and type (the next response after the query); it is then
  skipped. A response line with no such query line is itself the record.
* ``query failed (RCODE) for NAME/CLASS/TYPE`` lines (category query-errors) are joined to the nearest
  record (within 2,500 lines) with the same client ip, port, name and type and fill its response_code when it
  is empty; they are always counted as *skipped* context, never a record of their own (with query logging
  on, the question is already recorded by its ``query:`` line). A reason that is not an rcode name (``timed
  out``, ``failure``) becomes SERVFAIL, which is what named answers in that case.
* RPZ rewrites (named's ``rpz QNAME NXDOMAIN rewrite NAME/TYPE/CLASS via ...`` and Infoblox's CEF
  ``|RPZ-...|`` lines) set resolver_action ``blocked:rpz`` (``allowed:rpz`` for PASSTHRU) and, for
  NXDOMAIN/NODATA policies, the response_code, on the matching record; when no question line within 2,500
  lines matches, the rewrite line itself is the record (the question was seen by the server).
* Every other named message (zone transfers, notify, updates, validation, rpz reloads, other CEF events,
  query-name rewriting) is skipped; blank lines too. Rejected: syslog lines of another program, question
  lines that are truncated or malformed, question lines without any timestamp, and lines that are neither
  BIND nor named-syslog.

Joins reach less than ``HOLD_BACK // 2`` (2,500) lines. Across chunks (``base.join_across_chunks``): the
last ``HOLD_BACK`` tokenised lines of a chunk are kept in ``ctx.state`` and joined again with the next chunk
(``ctx.final`` flushes them), and the ``HOLD_BACK`` lines before them stay as context, so a record is the
same however the file is cut.

Parsing: lines holding ``" client "`` and ``": query: "`` with a BIND stamp or a named syslog header take a
fast path (two splits of the line, then short tokens); all other lines take the general path, which
peels prefixes step by step. Both are vectorised.
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
    join_across_chunks,
    localize_expr,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
    syslog_timestamps,
)

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_CLASSES = ["IN", "CH", "CHAOS", "HS", "ANY", "NONE"]
_ANSWER_TYPES = ["A", "AAAA", "CNAME", "PTR", "NS", "MX", "DNAME"]
_RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
           "NXRRSET", "NOTAUTH", "NOTZONE", "BADVERS", "BADCOOKIE"]
_KEY = ["k_ip", "k_port", "k_name", "k_type"]
_CARRY = "bind_carry"
# rsyslog's high-precision envelope: an ISO 8601 stamp (fraction and zone optional), one or two host names,
# program[pid] (so that BIND's own ISO stamp, print-time iso8601, is not taken for one)
_ISO_ENVELOPE = (r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?:\S+ ){1,2}"
                 r"[^\s\[:]+\[\d+\]: ")
HOLD_BACK = 5000  # rows re-examined with the next chunk and kept as context: twice the join window


def _cut(expr: pl.Expr, sep: str) -> tuple[pl.Expr, pl.Expr]:
    """(text before the first ``sep``, text after it or null)."""
    parts = expr.str.splitn(sep, 2)
    return parts.struct.field("field_0"), parts.struct.field("field_1")


def _peel_word(msg: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Drop a leading ``category:`` / ``severity:`` word."""
    word, rest = _cut(msg, " ")
    ok = word.str.contains(r"^[a-z][a-z0-9_-]*:$") & rest.is_not_null()
    return pl.when(ok).then(rest).otherwise(msg), ok.fill_null(False)


def _iso_envelope(df: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Lines in rsyslog's high-precision envelope (``2024-05-09T02:36:02.123456+02:00 ns1 named[812]: ...``)
    as syslog lines whose stamp (``envelope_ts``, zone honoured) carries its year."""
    stamp = pl.col("body").str.extract(_ISO_ENVELOPE, 1)
    head, message = _cut(pl.col("body").str.slice(stamp.str.len_chars() + 1), ": ")
    program = head.str.split(" ").list.last().str.splitn("[", 2).struct.field("field_0")
    df = df.with_columns(iso_stamp=pl.when(message.is_not_null()).then(stamp), iso_program=program, iso_msg=message)
    iso = pl.col("iso_stamp").is_not_null()
    return df.with_columns(
        is_syslog=pl.col("is_syslog") | iso,
        program=pl.when(iso).then(pl.col("iso_program")).otherwise(pl.col("program")),
        msg=pl.when(iso).then(pl.col("iso_msg")).otherwise(pl.col("msg")),
        envelope_ts=iso_timestamps(df["iso_stamp"], ctx.tz),
    ).drop("iso_stamp", "iso_program", "iso_msg")


def _frame(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Tokenise every line: syslog wrapper, stamps, prefixes, the client part, the action."""
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    pri, after_pri = _cut(raw, ">")
    has_pri = raw.str.starts_with("<") & after_pri.is_not_null() & pri.str.slice(1).cast(pl.Int32, strict=False).is_not_null()
    df = lines.with_columns(body=pl.when(has_pri).then(after_pri).otherwise(raw))

    body = pl.col("body")
    day_time = body.str.slice(4).str.strip_chars_start(" ").str.splitn(" ", 3)
    day, time, rest = (day_time.struct.field(f) for f in ("field_0", "field_1", "field_2"))
    head, message = _cut(rest, ": ")
    program = head.str.split(" ").list.last().str.splitn("[", 2).struct.field("field_0")
    is_syslog = (
        body.str.slice(0, 3).str.to_lowercase().is_in(_MONTHS)
        & (body.str.slice(3, 1) == " ")
        & day.cast(pl.Int32, strict=False).is_between(1, 31)
        & (time.str.slice(2, 1) == ":") & (time.str.slice(5, 1) == ":")
        & message.is_not_null()
    ).fill_null(False)
    df = df.with_columns(
        is_syslog=is_syslog,
        program=pl.when(is_syslog).then(program),
        syslog_stamp=pl.when(is_syslog).then(body.str.slice(0, 3) + " " + day + " " + time),
        msg=pl.when(is_syslog).then(message).otherwise(body),
        envelope_ts=pl.lit(None, pl.Datetime("us")),
    )
    if df["body"].str.contains(_ISO_ENVELOPE).any():
        df = _iso_envelope(df, ctx)
    df = df.with_columns(is_named=pl.col("is_syslog") & (pl.col("program").str.split("/").list.last() == "named"))

    msg, peeled1 = _peel_word(pl.col("msg"))
    df = df.with_columns(msg=msg, peeled=peeled1)
    # the line's own stamp: dd-Mon-yyyy hh:mm:ss[.mmm] or ISO 8601 (print-time iso8601[-utc])
    stamp = pl.col("msg").str.splitn(" ", 3)
    s0, s1, s2 = (stamp.struct.field(f) for f in ("field_0", "field_1", "field_2"))
    bind_ts = (s0 + " " + s1).str.strptime(pl.Datetime("us"), "%d-%b-%Y %H:%M:%S%.f", strict=False)
    iso_utc = s0.str.ends_with("Z")
    iso_ts = s0.str.strip_suffix("Z").str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f", strict=False)
    iso_rest = _cut(pl.col("msg"), " ")[1]
    df = df.with_columns(
        inner_ts=pl.when(bind_ts.is_not_null()).then(localize_expr(bind_ts, ctx.tz))
        .when(iso_ts.is_not_null() & iso_utc).then(iso_ts)
        .when(iso_ts.is_not_null()).then(localize_expr(iso_ts, ctx.tz))
        .otherwise(pl.col("envelope_ts")),
        msg=pl.when(bind_ts.is_not_null() & s2.is_not_null()).then(s2)
        .when(iso_ts.is_not_null() & iso_rest.is_not_null()).then(iso_rest)
        .otherwise(pl.col("msg")),
    )
    for _ in range(2):
        msg, peeled = _peel_word(pl.col("msg"))
        df = df.with_columns(msg=msg, peeled=pl.col("peeled") | peeled)

    # client [@0x...] IP#PORT[:] [(name):] [view NAME:] [UDP:|TCP:] action
    c = pl.col("msg").str.strip_prefix("client ")
    first, after_first = _cut(c, " ")
    c = pl.when(first.str.starts_with("@0x")).then(after_first).otherwise(c)
    addr, act = _cut(c, " ")
    addr = addr.str.strip_suffix(":")
    ip, port = _cut(addr, "#")
    df = df.with_columns(is_client=pl.col("msg").str.starts_with("client "), ip=ip, port=port, act=act)
    act = pl.col("act")
    df = df.with_columns(act=pl.when(act.str.starts_with("(")).then(_cut(act, "): ")[1]).otherwise(act))
    df = df.with_columns(act=pl.when(act.str.starts_with("view ")).then(_cut(act, ": ")[1]).otherwise(act))
    df = df.with_columns(
        act=pl.when(act.str.starts_with("UDP: ") | act.str.starts_with("TCP: ")).then(act.str.slice(5)).otherwise(act)
    )
    return df


def _questions(df: pl.DataFrame) -> pl.DataFrame:
    """Fields of ``query:`` lines (plain and Infoblox responses), ``query failed`` and rpz lines."""
    act = pl.col("act")
    tok = act.str.strip_prefix("query: ").str.split(" ")
    is_resp = tok.list.get(3, null_on_oob=True) == "response:"
    q_type, q_class, flags = tok.list.get(2, null_on_oob=True), tok.list.get(1, null_on_oob=True), tok.list.get(3, null_on_oob=True)
    server = tok.list.get(4, null_on_oob=True)
    r_code, r_flags = tok.list.get(4, null_on_oob=True), tok.list.get(5, null_on_oob=True)
    common_ok = (
        (tok.list.first().str.len_chars() > 0)
        & (q_class.is_in(_CLASSES) | q_class.str.starts_with("CLASS"))
        & q_type.str.contains(r"^[A-Z][A-Z0-9-]*$")
        & (pl.col("ip").str.len_chars() > 0)
        & pl.col("port").cast(pl.Int32, strict=False).is_not_null()
    )
    query_ok = common_ok & ~is_resp & flags.str.contains(r"^[+-]") & server.str.starts_with("(") & server.str.ends_with(")")
    resp_ok = common_ok & is_resp & r_code.str.contains(r"^[A-Z]+$") & r_flags.str.contains(r"^[+-]")
    # query failed (RCODE) for NAME/CLASS/TYPE at file.c:NNN
    why, spec_text = _cut(act.str.strip_prefix("query failed ("), ") for ")
    spec = spec_text.str.splitn(" ", 2).struct.field("field_0").str.split("/")
    n_spec = spec.list.len()
    failed_ok = n_spec.ge(3).fill_null(False) & (pl.col("ip").str.len_chars() > 0)
    # rpz TRIGGER POLICY rewrite NAME[/TYPE/CLASS] via ...
    rpz = act.str.split(" ")
    rpz_spec = rpz.list.get(4, null_on_oob=True).str.split("/")
    n_rpz = rpz_spec.list.len()
    rpz_ok = (rpz.list.get(3, null_on_oob=True) == "rewrite") & (n_rpz.is_in([1, 3]))

    df = df.with_columns(
        is_query=pl.col("is_client") & act.str.starts_with("query: "),
        is_failed=pl.col("is_client") & act.str.starts_with("query failed ("),
        is_rpz=pl.col("is_client") & act.str.starts_with("rpz ") & act.str.contains(" rewrite ", literal=True),
        is_resp=is_resp.fill_null(False),
    )
    kind = (
        pl.when(pl.col("is_query") & query_ok).then(pl.lit("query"))
        .when(pl.col("is_query") & resp_ok).then(pl.lit("response"))
        .when(pl.col("is_query") | (pl.col("is_client") & act.is_null())).then(pl.lit("bad"))
        .when(pl.col("is_failed") & failed_ok).then(pl.lit("failed"))
        .when(pl.col("is_rpz") & rpz_ok).then(pl.lit("rpz"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    failed_code = why.str.to_uppercase()
    return df.with_columns(
        kind=kind,
        q_name=pl.when(pl.col("is_query")).then(tok.list.first())
        .when(pl.col("is_failed")).then(spec.list.slice(0, n_spec - 2).list.join("/"))
        .when(pl.col("is_rpz")).then(rpz_spec.list.first()),
        q_type=pl.when(pl.col("is_query")).then(q_type)
        .when(pl.col("is_failed")).then(spec.list.last())
        .when(pl.col("is_rpz") & (n_rpz == 3)).then(rpz_spec.list.get(1, null_on_oob=True)),
        rcode=pl.when(pl.col("is_query") & is_resp).then(r_code)
        .when(pl.col("is_failed")).then(pl.when(failed_code.is_in(_RCODES)).then(failed_code).otherwise(pl.lit("SERVFAIL"))),
        policy=pl.when(pl.col("is_rpz")).then(rpz.list.get(2, null_on_oob=True)),
        answer_text=pl.when(pl.col("is_query") & is_resp).then(tok.list.slice(6).list.join(" ")),
    )


def _cef_rpz(df: pl.DataFrame) -> pl.DataFrame:
    """Infoblox CEF RPZ events: ``CEF:0|Infoblox|NIOS|v|RPZ-QNAME|NXDOMAIN|7|... src= spt= qtype= msg=``."""
    is_cef = pl.col("msg").str.starts_with("CEF:")
    fields = pl.col("msg").str.split("|")
    ext = fields.list.slice(7).list.join("|")
    sub = df.filter(is_cef & fields.list.get(4, null_on_oob=True).str.starts_with("RPZ-"))
    if sub.height == 0:
        return df
    sub = sub.select(
        "line_no",
        ip=ext.str.extract(r"(?:^| )src=(\S+)"),
        port=ext.str.extract(r"(?:^| )spt=(\d+)"),
        q_type=ext.str.extract(r"(?:^| )qtype=(\S+)"),
        q_name=ext.str.extract(r'msg="rpz \S+ \S+ rewrite (\S+)'),
        policy=fields.list.get(5, null_on_oob=True),
    ).with_columns(
        cef_kind=pl.when(pl.col("ip").is_not_null() & pl.col("q_name").is_not_null()).then(pl.lit("rpz"))
    )
    df = df.join(sub.rename({c: f"cef_{c}" for c in sub.columns if c not in ("line_no", "cef_kind")}), on="line_no", how="left")
    return df.with_columns(
        kind=pl.coalesce("kind", "cef_kind"),
        ip=pl.coalesce("cef_ip", "ip"), port=pl.coalesce("cef_port", "port"),
        q_name=pl.coalesce("cef_q_name", "q_name"), q_type=pl.coalesce("cef_q_type", "q_type"),
        policy=pl.coalesce("cef_policy", "policy"),
    ).drop("cef_kind", "cef_ip", "cef_port", "cef_q_name", "cef_q_type", "cef_policy")


def _answers(resp: pl.DataFrame) -> pl.DataFrame:
    """line_no -> answers (list) from Infoblox ``owner ttl class type data;`` records."""
    rr = resp.select("line_no", rr=pl.col("answer_text").str.split(";")).explode("rr")
    tok = pl.col("rr").str.strip_chars().str.split(" ")
    rtype = tok.list.get(3, null_on_oob=True).str.to_uppercase()
    value = pl.when(rtype == "MX").then(tok.list.last()).otherwise(tok.list.get(4, null_on_oob=True))
    rr = rr.with_columns(
        value=pl.when(rtype.is_in(_ANSWER_TYPES)).then(value.str.strip_suffix(".").str.to_lowercase())
    )
    return rr.group_by("line_no", maintain_order=True).agg(answers=pl.col("value").drop_nulls())


_COMMON = {
    "line_no": pl.Int64(), "line": pl.String(), "is_syslog": pl.Boolean(), "is_named": pl.Boolean(),
    "program": pl.String(), "syslog_stamp": pl.String(), "inner_ts": pl.Datetime("us"),
    "peeled": pl.Boolean(), "is_client": pl.Boolean(), "ip": pl.String(), "port": pl.String(),
    "kind": pl.String(), "q_name": pl.String(), "q_type": pl.String(), "rcode": pl.String(),
    "policy": pl.String(), "answer_text": pl.String(),
}


def _general(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Every line shape, peeled step by step (used for the lines the fast path does not take)."""
    df = _cef_rpz(_questions(_frame(lines, ctx)))
    return df.select(pl.col(c).cast(t) for c, t in _COMMON.items())


def _fast(lines: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The common shape ``PREFIX client [@0x..] IP#PORT ...: query: NAME CLASS TYPE ...`` in a few passes,
    mostly over short tokens; returns (its rows, the lines left for :func:`_general`)."""
    raw = pl.col("line").fill_null("").str.strip_chars_end("\r\n")
    df = lines.with_columns(raw.str.splitn(" client ", 2).struct.rename_fields(["pre", "post"]).alias("s")).unnest("s")
    df = df.with_columns(
        pl.col("post").str.splitn(": query: ", 2).struct.rename_fields(["cpart", "qpart"]).alias("s")
    ).unnest("s").filter(pl.col("qpart").is_not_null())
    # prefix: [<pri>]Mon dd hh:mm:ss host [host] named[pid]: [category:] [dd-Mon-yyyy hh:mm:ss.mmm] [category:]...
    pre = pl.col("pre") + " "
    after_pri = _cut(pre, ">")[1]
    df = df.with_columns(body=pl.when(pre.str.starts_with("<") & after_pri.is_not_null()).then(after_pri).otherwise(pre))
    head, inner = _cut(pl.col("body"), "]: ")
    df = df.with_columns(sys=pl.when(inner.is_not_null()).then(head), inner=pl.coalesce(inner, pl.col("body")))
    sys = pl.col("sys").str.replace("  ", " ", literal=True).str.splitn(" ", 4)
    month, day, time, rest = (sys.struct.field(f) for f in ("field_0", "field_1", "field_2", "field_3"))
    program = rest.str.split(" ").list.last().str.splitn("[", 2).struct.field("field_0")
    df = df.with_columns(
        is_syslog=(month.str.to_lowercase().is_in(_MONTHS) & day.cast(pl.Int32, strict=False).is_between(1, 31)
                   & (time.str.slice(2, 1) == ":") & (time.str.slice(5, 1) == ":")).fill_null(False),
        program=program,
        syslog_stamp=month + " " + day + " " + time,
        i=pl.col("inner").str.splitn(" ", 4),
        c=pl.col("cpart").str.splitn(" ", 3),
        q=pl.col("qpart").str.splitn(" ", 6),
    ).unnest("i", "c", "q", separator="_")
    i0, i1, i2 = pl.col("i_field_0"), pl.col("i_field_1"), pl.col("i_field_2")

    def bind_stamp(tok: pl.Expr) -> pl.Expr:
        return (tok.str.len_bytes() == 11) & (tok.str.slice(2, 1) == "-") & (tok.str.slice(6, 1) == "-")

    stamp = pl.when(bind_stamp(i0)).then(i0 + " " + i1).when(bind_stamp(i1)).then(i1 + " " + i2)
    iso = pl.when(i0.str.slice(10, 1) == "T").then(i0).when(i1.str.slice(10, 1) == "T").then(i1)
    df = df.with_columns(
        bind_ts=stamp.str.strptime(pl.Datetime("us"), "%d-%b-%Y %H:%M:%S%.f", strict=False),
        iso=iso,
        iso_ts=iso.str.strip_suffix("Z").str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f", strict=False),
    )
    df = df.with_columns(
        inner_ts=pl.when(pl.col("bind_ts").is_not_null()).then(localize_expr(pl.col("bind_ts"), ctx.tz))
        .when(pl.col("iso").str.ends_with("Z")).then(pl.col("iso_ts"))
        .otherwise(localize_expr(pl.col("iso_ts"), ctx.tz)),
        is_named=pl.col("is_syslog") & (pl.col("program").str.split("/").list.last() == "named"),
    )
    take = (pl.col("is_named") | (~pl.col("is_syslog") & pl.col("inner_ts").is_not_null())).fill_null(False)
    rest_lines = lines.join(df.filter(take).select("line_no"), on="line_no", how="anti")
    df = df.filter(take)

    # client [@0x...] IP#PORT[:] [...]: query: NAME CLASS TYPE FLAGS (SERVER) | ... TYPE response: RCODE FLAGS rr; ...
    c0, c1 = pl.col("c_field_0"), pl.col("c_field_1")
    ip, port = _cut(pl.when(c0.str.starts_with("@0x")).then(c1).otherwise(c0).str.strip_suffix(":"), "#")
    q = [pl.col(f"q_field_{n}") for n in range(6)]
    r_flags, answer_text = _cut(q[5], " ")
    is_resp = (q[3] == "response:").fill_null(False)
    common_ok = (
        (q[0].str.len_bytes() > 0) & (q[1].is_in(_CLASSES) | q[1].str.starts_with("CLASS"))
        & q[2].str.contains(r"^[A-Z][A-Z0-9-]*$") & (ip.str.len_bytes() > 0) & port.cast(pl.Int32, strict=False).is_not_null()
    )
    signed = pl.col("flags").str.starts_with("+") | pl.col("flags").str.starts_with("-")
    df = df.with_columns(ip=ip, port=port, flags=pl.when(is_resp).then(r_flags).otherwise(q[3]), is_resp=is_resp)
    ok = (
        common_ok & signed
        & pl.when(is_resp).then(q[4].str.contains(r"^[A-Z]+$")).otherwise(q[4].str.starts_with("(") & q[4].str.ends_with(")"))
    ).fill_null(False)
    rows = df.select(
        "line_no", "line", "is_syslog", "is_named", "program", "syslog_stamp", "inner_ts",
        peeled=pl.lit(False), is_client=pl.lit(True), ip="ip", port="port",
        kind=pl.when(~ok).then(pl.lit("bad")).when(is_resp).then(pl.lit("response")).otherwise(pl.lit("query")),
        q_name=q[0], q_type=q[2], rcode=pl.when(is_resp).then(q[4]), policy=pl.lit(None, dtype=pl.String),
        answer_text=pl.when(is_resp).then(answer_text),
    )
    return rows.select(pl.col(c).cast(t) for c, t in _COMMON.items()), rest_lines


def _rows(lines: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """One row per line: kind (query, response, failed, rpz; null = skipped), reject reason, join keys
    and fields. Timestamps are computed here, once per line (syslog year state advances)."""
    fast, rest = _fast(lines, ctx)
    df = pl.concat([fast, _general(rest, ctx)]).sort("line_no") if rest.height else fast
    df = df.with_columns(syslog_ts=syslog_timestamps(df["syslog_stamp"], ctx))
    df = df.with_columns(
        ts=pl.coalesce("inner_ts", "syslog_ts"),
        k_ip=pl.col("ip").fill_null(""), k_port=pl.col("port").fill_null(""),
        k_name=pl.col("q_name").str.to_lowercase().str.strip_suffix(".").fill_null(""),
        k_type=pl.col("q_type").str.to_uppercase().fill_null(""),
    )
    wanted = pl.col("kind").is_in(["query", "response", "rpz"])
    blank = pl.col("line").fill_null("").str.strip_chars() == ""
    reason = (
        pl.when(blank).then(pl.lit(None, dtype=pl.String))
        .when(pl.col("is_syslog") & ~pl.col("is_named")).then(pl.lit("syslog line from ") + pl.col("program") + ", not named")
        .when(pl.col("kind") == "bad").then(pl.lit("malformed or truncated BIND client/query line"))
        .when(wanted & pl.col("ts").is_null()).then(pl.lit("BIND query line without a timestamp"))
        .when(wanted | pl.col("kind").is_not_null()).then(pl.lit(None, dtype=pl.String))
        .when(pl.col("is_named") | pl.col("inner_ts").is_not_null() | pl.col("peeled") | pl.col("is_client"))
        .then(pl.lit(None, dtype=pl.String))  # a named message that is not a question
        .otherwise(pl.lit("not a BIND query log line"))
    )
    df = df.with_columns(reason=reason).with_columns(
        kind=pl.when(pl.col("reason").is_null() & pl.col("kind").is_in(["query", "response", "failed", "rpz"])).then("kind")
    )
    responses = df.filter(pl.col("kind") == "response")
    if responses.height:
        df = df.join(_answers(responses), on="line_no", how="left", maintain_order="left")
    else:
        df = df.with_columns(answers=pl.lit(None, dtype=pl.List(pl.String)))
    return df.select("line_no", "line", "kind", "reason", "ts", "ip", *_KEY, "q_name", "q_type", "rcode", "policy",
                     "answers")


def _records(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Records with responses, failures and rewrites joined in; and the line numbers of response and
    rpz rows that were consumed by another record. Every join reaches less than ``HOLD_BACK // 2`` lines
    (see base.join_across_chunks: a rewrite's decision chains two joins, hence half the rows held)."""
    window = HOLD_BACK // 2 - 1
    cols = ["line_no", "ts", "ip", *_KEY, "q_name", "q_type", "rcode", "policy", "answers"]
    queries = rows.filter(pl.col("kind") == "query").select(cols).with_columns(answers=pl.lit(None, dtype=pl.List(pl.String)))
    responses = rows.filter(pl.col("kind") == "response")
    matched = queries.drop("answers").join_asof(
        responses.select(*_KEY, r_line="line_no", r_rcode="rcode", answers="answers"),
        left_on="line_no", right_on="r_line", by=_KEY, strategy="forward", tolerance=window,
        check_sortedness=False,
    )
    used_responses = matched["r_line"].drop_nulls().unique()
    own = responses.filter(~pl.col("line_no").is_in(used_responses.implode()))
    records = pl.concat(
        [matched.with_columns(rcode=pl.col("r_rcode")).drop("r_line", "r_rcode"), own.select(cols)],
        how="diagonal_relaxed",
    ).sort("line_no")
    failed = rows.filter(pl.col("kind") == "failed").select(*_KEY, f_line="line_no", f_rcode="rcode")
    records = records.join_asof(failed, left_on="line_no", right_on="f_line", by=_KEY,
                                strategy="nearest", tolerance=window, check_sortedness=False)
    records = records.with_columns(rcode=pl.coalesce("rcode", "f_rcode")).drop("f_line", "f_rcode")
    rpz = rows.filter(pl.col("kind") == "rpz")
    records = records.join_asof(
        rpz.select(*_KEY, z_line="line_no", z_policy="policy"),
        left_on="line_no", right_on="z_line", by=_KEY, strategy="nearest", tolerance=window,
        check_sortedness=False,
    )
    used_rpz = records["z_line"].drop_nulls().unique()
    records = pl.concat(
        [records.with_columns(policy=pl.coalesce("z_policy", "policy")).drop("z_line", "z_policy"),
         rpz.filter(~pl.col("line_no").is_in(used_rpz.implode())).select(cols)],
        how="diagonal_relaxed",
    ).sort("line_no")
    return records, pl.concat([used_responses, used_rpz])


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    used = pl.Series("line_no", [], pl.Int64)

    def records_of(rows: pl.DataFrame) -> pl.DataFrame:
        nonlocal used
        records, used = _records(rows)
        return records

    rows, records = join_across_chunks(_rows(lines, ctx), ctx, _CARRY, HOLD_BACK, records_of, context=HOLD_BACK)
    rejected = rejected_from(rows.filter(pl.col("reason").is_not_null()), pl.col("reason"))
    policy = pl.col("policy").str.to_uppercase()
    out = finish_dns_records(records.select(
        "ts",
        client=pl.col("ip"),
        query_name=pl.col("q_name"),
        query_type=qtype_name_expr(pl.col("q_type")),
        response_code=rcode_name_expr(
            pl.coalesce(
                pl.col("rcode"),
                pl.when(policy == "NXDOMAIN").then(pl.lit("NXDOMAIN")).when(policy == "NODATA").then(pl.lit("NOERROR")),
            )
        ),
        answers=pl.col("answers"),
        resolver_action=pl.when(policy == "PASSTHRU").then(pl.lit("allowed:rpz"))
        .when(policy.is_not_null()).then(pl.lit("blocked:rpz")),
        source_line=pl.col("line_no"),
    ))
    kind, blank = pl.col("kind"), pl.col("line").fill_null("").str.strip_chars() == ""
    joined = pl.col("line_no").is_in(used.implode())
    counts = rows.select(
        blank=(pl.col("reason").is_null() & kind.is_null() & blank).sum(),
        other=(pl.col("reason").is_null() & kind.is_null() & ~blank).sum(),
        failed=(kind == "failed").sum(),
        joined=(kind.is_in(["response", "rpz"]) & joined).sum(),
    ).row(0, named=True)
    return ParseResult(out, rejected, skipped_by={
        "blank": counts["blank"], "other named message": counts["other"],
        "query failed (joined to its question)": counts["failed"],
        "response or RPZ rewrite joined to its question": counts["joined"]})


_STAMP = r"(\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}(\.\d+)?|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?) "
_BIND_LINE = re.compile(rf"^{_STAMP}([a-z][a-z0-9_-]*: )*(client |[a-z])")
_NAMED_SYSLOG = re.compile(r"^(<\d{1,3}>)?([A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}|\d{4}-\d\d-\d\dT\S+) "
                           r"(\S+ ){0,2}(\S*/)?named\[\d+\]: ")
_CLIENT_QUERY = re.compile(r"client (@0x[0-9a-f]+ )?\S+#\d+.*: query(: | failed)")


def sniff(lines: list[str]) -> float:
    """Share of lines that are BIND-stamped named lines or named syslog lines; a query line seen anywhere
    is required (a log of another program that merely mentions 'client' scores 0)."""
    if not lines:
        return 0.0
    hits = sum(1 for line in lines if _BIND_LINE.match(line) or _NAMED_SYSLOG.match(line))
    if not any(_CLIENT_QUERY.search(line) for line in lines):
        return 0.0
    return hits / len(lines)


PARSER = Parser(
    name="bind",
    description="BIND 9 query log (named), plain or syslog-wrapped (Infoblox NIOS), with responses and RPZ",
    kind="lines",
    sniff=sniff,
    parse=parse,
    syslog_programs=("named",),
)
