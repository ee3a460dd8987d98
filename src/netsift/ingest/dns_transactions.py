"""A DNS question joined to its response when a log writes each as an event of its own (Suricata's EVE
``dns`` events, FortiGate's ``dns-query`` / ``dns-response`` logs): one record per question, what the
response said on it, and every event accounted for.

The format gives its DNS events as rows (sorted by ``line_no``) with ``ts``, ``role`` (``q`` a request,
``r`` a response), ``key`` (what ties a response to its request: a flow or session and the DNS id),
``qname``, ``qtype``, ``rcode``, ``answers`` (a list), ``client`` and ``action`` (a resolver action, or
null). A response joins the nearest request before it with its key, less than ``window`` DNS events back;
a response with no such request (requests not logged, or logged before the file began) is a record of its
own, and a response right after it with the same key (one event per answer record, as Suricata 4 logged
them) joins it. Every join is bounded, so ``base.join_across_chunks`` makes the records independent of how
the file is cut into chunks.
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import ParseContext, finish_dns_records, join_across_chunks, qtype_name_expr, rcode_name_expr

JOINED = "DNS response joined to its request"
NO_QUESTION = "DNS event without a question name"


def _transactions(rows: pl.DataFrame, window: int) -> pl.DataFrame:
    """Each row with ``gid`` (the position of the row that is its record) and, on the record rows, what the
    responses joined to it say."""
    t = rows.with_row_index("pos").with_columns(pl.col("pos").cast(pl.Int64))
    requests = t.filter(pl.col("role") == "q").select("key", pos_q="pos", pos="pos")
    responses = t.filter(pl.col("role") == "r").join_asof(
        requests, on="pos", by="key", strategy="backward", tolerance=window - 1, check_sortedness=False)
    responses = responses.with_columns(
        cont=(pl.col("pos_q").is_null() & pl.col("pos_q").shift(1).is_null()
              & (pl.col("key") == pl.col("key").shift(1)) & (pl.col("pos") - pl.col("pos").shift(1) == 1))
        .fill_null(False))
    responses = responses.with_columns(
        gid=pl.coalesce("pos_q", pl.when(~pl.col("cont")).then(pl.col("pos")).forward_fill()))
    gids = pl.concat([t.filter(pl.col("role") == "q").select("pos", gid="pos"), responses.select("pos", "gid")])
    t = t.join(gids, on="pos", how="left")
    said = t.filter(pl.col("role") == "r").group_by("gid").agg(
        said_rcode=pl.col("rcode").drop_nulls().first(),
        said_answers=pl.col("answers").list.explode(keep_nulls=False, empty_as_null=False).drop_nulls()
        .unique(maintain_order=True),
        said_action=pl.col("action").drop_nulls().first(),
    )
    named = pl.col("qname").is_not_null() & (pl.col("qname") != "")
    return t.join(said, on="gid", how="left").with_columns(
        is_record=(pl.col("gid") == pl.col("pos")) & named,
        no_question=(pl.col("gid") == pl.col("pos")) & ~named,
    ).sort("pos")


def joined_records(rows: pl.DataFrame, ctx: ParseContext, state_key: str,
                   window: int) -> tuple[pl.DataFrame, dict[str, int]]:
    """The DNS records of this chunk's accounted rows (``window``: how far back a response finds its request,
    in DNS events; as many are held back for the next chunk) and the skipped classes of the others."""
    _, done = join_across_chunks(rows, ctx, state_key, window, lambda r: _transactions(r, window), context=window)
    answers = pl.col("said_answers")
    records = done.filter(pl.col("is_record")).select(
        "ts", "client",
        query_name=pl.col("qname"),
        query_type=qtype_name_expr(pl.col("qtype")),
        response_code=rcode_name_expr(pl.col("said_rcode")),
        answers=pl.when(answers.list.len() > 0).then(answers),
        resolver_action=pl.coalesce("said_action", "action"),
        source_line=pl.col("line_no"),
    )
    no_question = int(done["no_question"].sum())
    return finish_dns_records(records), {JOINED: done.height - records.height - no_question,
                                         NO_QUESTION: no_question}
