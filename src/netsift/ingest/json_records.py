"""The parse shared by the DNS formats written as one JSON object a line (``formats/ecs_json.py``,
``formats/route53_json.py``): decode the chunk against the format's struct dtype (``base.decode_json_objects``),
let the format map the fields to record columns, and account for every line the same way: blank lines and
objects without a query name are skipped, a line that is not a complete object, that the decoder refuses, or
whose stamp does not read is rejected with the reason."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from netsift.ingest.base import ParseResult, decode_json_objects, empty_rejected, finish_dns_records, rejected_from


def json_dns_records(lines: pl.DataFrame, dtype: pl.Struct, columns: list[pl.Expr], *, what: str, stamp: str,
                     no_question: str, unwrap: Callable[[pl.Expr], pl.Expr] | None = None,
                     derive: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> ParseResult:
    """``lines`` (line_no, line) -> the ParseResult. ``columns``: expressions over the decoded fields giving
    ts, client, query_name, query_type, response_code, answers (and resolver_action); ``what``: how a
    refusal names a good line ("an ECS DNS event"); ``stamp``: the stamp's field name, for its reason;
    ``no_question``: the class the skipped objects without a query name are counted in; ``unwrap``: the
    object within a line (a CloudWatch export's stamp before it); ``derive``: columns worked out once on the
    decoded frame, for ``columns`` to use (AdGuard Home's response, decoded from its DNS message)."""
    text = pl.col("line").fill_null("").str.strip_chars()
    rows = lines.select("line_no", (unwrap(text) if unwrap else text).alias("line"))
    blank = rows["line"] == ""
    rows = rows.filter(~blank)
    is_object = rows["line"].str.starts_with("{") & rows["line"].str.ends_with("}")
    not_objects = lines.join(rows.filter(~is_object).select("line_no"), on="line_no", how="semi")
    frames, failures = decode_json_objects(rows.filter(is_object), dtype, what)
    decoded = pl.concat(frames) if frames else pl.DataFrame(schema={"line_no": pl.Int64, **dict(dtype.to_schema())})
    if derive is not None:
        decoded = derive(decoded)
    parsed = decoded.select(pl.col("line_no").alias("source_line"), *columns)
    questions = parsed.filter(pl.col("query_name").is_not_null() & (pl.col("query_name") != ""))
    no_ts = questions.filter(pl.col("ts").is_null())
    questions = questions.filter(pl.col("ts").is_not_null())
    reasons = [
        rejected_from(not_objects, "not a complete JSON object (truncated line?)"),
        rejected_from(no_ts.select(pl.col("source_line").alias("line_no")).join(lines, on="line_no", how="left"),
                      f"missing or unreadable {stamp}"),
    ]
    if failures:
        bad = pl.DataFrame(failures, schema={"line_no": pl.Int64, "reason": pl.String}, orient="row")
        reasons.append(rejected_from(bad.join(lines, on="line_no", how="left"), pl.col("reason")))
    rejected = pl.concat(reasons).sort("source_line") if any(r.height for r in reasons) else empty_rejected()
    return ParseResult(finish_dns_records(questions), rejected, unescaped=True, skipped_by={
        "blank": int(blank.sum()), no_question: parsed.height - questions.height - no_ts.height})
