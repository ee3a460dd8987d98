"""Zeek logs other than dns.log (conn.log, http.log), TSV or JSON lines, read into a canonical table.

A :class:`ZeekLog` declares the log (its ``#path``), the table it fills and, per canonical column, the Zeek
field it comes from and how its value converts; :func:`tsv_parser` and :func:`json_parser` build the
``parse`` / ``sniff`` hooks of a format module from it, so each format module stays a declaration.

TSV: the header block (``#separator``, ``#fields``, ``#unset_field`` ...) is read with ``zeek_tsv``'s
header code and kept in ``ctx.state`` across chunks (a second header in the middle of the file: rotated
logs concatenated); columns are found by name, so extra columns (a cluster's ``_node_name``, ``community_id``)
and reordered ones are fine. JSON: one object per line; ``id.orig_h``, ``id_orig_h`` (Filebeat / Security
Onion exports) and a nested ``"id": {"orig_h": ...}`` are all read; ``ts`` is epoch seconds or ISO 8601.

Values: the unset (``-``) and empty (``(empty)``) markers are null; counts that do not read as a number
are null. Accounting: ``#`` lines and blank lines are skipped (counted as "header" and "blank"); a row
with the wrong number of fields, an unreadable ``ts``, a required value missing, a row before any
``#fields`` header, or a line that is not a JSON object is rejected with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from netsift.ingest.base import (ParseContext, ParseResult, decode_json_objects, empty_records, empty_rejected,
                                 host_name, record_schema, rejected_from)
from netsift.ingest.formats.csv_columns import timestamp_expr
from netsift.ingest.formats.zeek_tsv import ZeekHeader, apply_header_line, epoch_seconds_expr
from netsift.schema import Table

# "time", "text", "int", "float", "host" (lower-case, port dropped), "outcome" (a Zeek bool, T/true -> success,
# F/false -> failure, unset -> disconnect: ssh.log's auth_success)
Kind = str


@dataclass(frozen=True)
class ZeekLog:
    path: str  # Zeek's #path: conn, http
    table: Table
    columns: dict[str, tuple[str, Kind]]  # canonical column -> (Zeek field, kind)
    required: tuple[str, ...]  # canonical columns a row must have (else rejected)
    signature: tuple[str, ...]  # Zeek fields whose presence in #fields says "this is that log"
    json_keys: tuple[str, ...]  # keys every JSON record of that log carries (unset fields are absent in JSON)
    constants: dict[str, str] = field(default_factory=dict)  # canonical column -> a constant text value
    # canonical column -> (Zeek field, kind, the outcome it counts for): the field's value only on rows whose
    # ``event`` is that outcome (ssh.log's auth_attempts: the failures a failed connection stands for)
    when_event: dict[str, tuple[str, Kind, str]] = field(default_factory=dict)

    @property
    def state_key(self) -> str:
        return f"zeek_{self.path}"

    def record_schema(self) -> pl.Schema:
        return record_schema(self.table.name)

    def empty(self) -> pl.DataFrame:
        return empty_records(self.table.name)


def _convert(raw: pl.Expr, kind: Kind, epoch: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    if kind == "time":
        return epoch(raw)
    if kind == "int":
        return raw.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)  # "12" and 12.0 both
    if kind == "float":
        return raw.cast(pl.Float64, strict=False)
    if kind == "outcome":
        flag = raw.str.to_lowercase()
        return (pl.when(flag.is_in(["t", "true"])).then(pl.lit("success"))
                .when(flag.is_in(["f", "false"])).then(pl.lit("failure")).otherwise(pl.lit("disconnect")))
    if kind == "host":
        return host_name(raw)
    return raw


def _records(log: ZeekLog, frame: pl.DataFrame, epoch: Callable[[pl.Expr], pl.Expr],
             lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw text columns (line_no + one per Zeek field, unset already null) -> (records, rejected)."""
    schema = log.record_schema()
    exprs = [pl.col("line_no").alias("source_line")]
    for name, dtype in schema.items():
        if name == "source_line":
            continue
        if name in log.columns:
            zeek, kind = log.columns[name]
            exprs.append(_convert(pl.col(zeek), kind, epoch).cast(dtype).alias(name))
        elif name in log.constants:
            exprs.append(pl.lit(log.constants[name], dtype=dtype).alias(name))
        elif name in log.when_event:
            zeek, kind, outcome = log.when_event[name]
            event_field, event_kind = log.columns["event"]
            exprs.append(pl.when(_convert(pl.col(event_field), event_kind, epoch) == outcome)
                         .then(_convert(pl.col(zeek), kind, epoch)).cast(dtype).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    converted = frame.select(exprs)
    missing = [pl.when(pl.col(c).is_null()).then(pl.lit(f"no {log.columns[c][0]}" if c != "ts"
                                                        else "missing or unreadable ts"))
               for c in log.required]
    reason = pl.coalesce(*missing) if missing else pl.lit(None, pl.String)
    checked = converted.with_columns(reason.alias("_reason"))
    bad = checked.filter(pl.col("_reason").is_not_null())
    records = checked.filter(pl.col("_reason").is_null()).drop("_reason").select(schema.names())
    rejected = rejected_from(bad.select(pl.col("source_line").alias("line_no"), "_reason")
                             .join(lines, on="line_no", how="left"), pl.col("_reason")) if bad.height else empty_rejected()
    return records, rejected


# --- TSV -----------------------------------------------------------------------------------------------

def _tsv_rows(log: ZeekLog, rows: pl.DataFrame, header: ZeekHeader) -> ParseResult:
    fields = header.fields
    if not fields:
        return ParseResult(log.empty(), rejected_from(rows, "data line before any #fields header"))
    missing = [f for f in log.signature if f not in fields]
    if missing:
        reason = f"Zeek log without {', '.join(missing)} (#path {header.path or '?'}), not a {log.path}.log"
        return ParseResult(log.empty(), rejected_from(rows, reason))
    idx = {name: i for i, name in enumerate(fields)}
    wanted = sorted({zeek for zeek, _ in log.columns.values()} | {zeek for zeek, _, _ in log.when_event.values()})
    tok = pl.col("tokens")

    def value(name: str) -> pl.Expr:
        if name not in idx:
            return pl.lit(None, dtype=pl.String).alias(name)
        raw = tok.list.get(idx[name], null_on_oob=True)
        if idx[name] == len(fields) - 1:
            raw = raw.str.strip_suffix("\r")
        return (pl.when((raw == header.unset_field) | (raw == header.empty_field)).then(None)
                .otherwise(raw).alias(name))

    picked = rows.lazy().select("line_no", pl.col("line").str.split(header.separator).alias("tokens")).select(
        "line_no", tok.list.len().alias("n_fields"), *[value(n) for n in wanted]).collect()
    wrong = picked.filter(pl.col("n_fields") != len(fields)).select(
        "line_no", pl.format(f"expected {len(fields)} fields (from #fields), found {{}}", "n_fields").alias("why"))
    rejected = [rejected_from(wrong.join(rows, on="line_no", how="left"), pl.col("why"))]
    good = picked.filter(pl.col("n_fields") == len(fields))
    records, bad = _records(log, good, epoch_seconds_expr, rows)
    rejected.append(bad)
    return ParseResult(records, pl.concat([r.cast(bad.schema) for r in rejected]).sort("source_line"))


def tsv_parser(log: ZeekLog) -> tuple[Callable[[pl.DataFrame, ParseContext], ParseResult],
                                       Callable[[list[str]], float]]:
    """(parse, sniff) for the TSV form of ``log``."""

    def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
        header: ZeekHeader = ctx.state.get(log.state_key, ZeekHeader())
        text = lines["line"].fill_null("")
        is_meta = text.str.starts_with("#")
        is_blank = ~is_meta & (text.str.strip_chars() == "")
        skipped = {"header": int(is_meta.sum()), "blank": int(is_blank.sum())}
        data = lines.with_columns(is_meta.cast(pl.Int32).cum_sum().alias("version")).filter(~is_meta & ~is_blank)
        headers = [header]
        for line in lines.filter(is_meta)["line"].to_list():
            headers.append(apply_header_line(headers[-1], line))
        ctx.state[log.state_key] = headers[-1]
        parts = [_tsv_rows(log, data.filter(pl.col("version") == v).select("line_no", "line"), headers[v])
                 for v in data["version"].unique().sort().to_list()]
        if not parts:
            return ParseResult(log.empty(), empty_rejected(), skipped_by=skipped)
        return ParseResult(pl.concat([p.records for p in parts]), pl.concat([p.rejected for p in parts]),
                           skipped_by=skipped)

    def sniff(lines: list[str]) -> float:
        fields = next((ln for ln in lines if ln.startswith("#fields")), None)
        if fields is not None:
            names = set(re.split(r"[\t ]+", fields.strip())[1:])
            return 1.0 if set(log.signature) <= names else 0.0
        if any(ln.startswith("#path") and ln.rstrip().endswith(log.path) for ln in lines):
            return 0.7
        return 0.0

    return parse, sniff


# --- JSON ----------------------------------------------------------------------------------------------

_ID_FIELDS = ("orig_h", "orig_p", "resp_h", "resp_p")


def json_parser(log: ZeekLog) -> tuple[Callable[[pl.DataFrame, ParseContext], ParseResult],
                                        Callable[[list[str]], float]]:
    """(parse, sniff) for the JSON-lines form of ``log``."""
    plain = sorted({zeek for zeek, _ in log.columns.values() if not zeek.startswith("id.")}
                   | {zeek for zeek, _, _ in log.when_event.values()})
    ids = [f for f in _ID_FIELDS if f"id.{f}" in {z for z, _ in log.columns.values()}]
    dtype = pl.Struct({**{name: pl.String for name in plain}, **{f"id.{f}": pl.String for f in ids},
                       **{f"id_{f}": pl.String for f in ids}, "id": pl.Struct({f: pl.String for f in ids})})

    def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
        rows = lines.select("line_no", pl.col("line").fill_null("").str.strip_chars())
        blank = rows["line"] == ""
        rows = rows.filter(~blank)
        is_object = rows["line"].str.starts_with("{") & rows["line"].str.ends_with("}")
        frames, failures = decode_json_objects(rows.filter(is_object), dtype, "a Zeek JSON record")
        rejected = [rejected_from(rows.filter(~is_object).select("line_no").join(lines, on="line_no", how="left"),
                                  "not a complete JSON object (truncated line?)")]
        if failures:
            bad = pl.DataFrame(failures, schema={"line_no": pl.Int64, "reason": pl.String}, orient="row")
            rejected.append(rejected_from(bad.join(lines, on="line_no", how="left"), pl.col("reason")))
        if frames:
            decoded = pl.concat(frames).with_columns(
                pl.coalesce(pl.col(f"id.{f}"), pl.col(f"id_{f}"), pl.col("id").struct.field(f)).alias(f"id.{f}")
                for f in ids)
            records, bad_rows = _records(log, decoded, timestamp_expr, lines)
            rejected.append(bad_rows)
        else:
            records = log.empty()
        out = pl.concat([r.cast(empty_rejected().schema) for r in rejected]).sort("source_line")
        return ParseResult(records, out, skipped_by={"blank": int(blank.sum())}, unescaped=True)

    def sniff(lines: list[str]) -> float:
        objects = [ln.strip() for ln in lines if ln.strip().startswith("{")]
        if not objects:
            return 0.0
        keys = [f'"{name}"' for name in log.json_keys]
        hits = sum(1 for ln in objects if ('"id.orig_h"' in ln or '"id_orig_h"' in ln or '"id":' in ln)
                   and all(k in ln for k in keys))
        share = hits / len(lines)
        return 0.95 * share if share >= 0.5 else 0.0

    return parse, sniff
