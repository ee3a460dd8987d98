"""Logs in the W3C extended log file format, whatever they record: ``#`` directives (``#Software:``,
``#Fields:`` naming the columns, ``#Date:`` ...) then one entry a line, values separated by spaces (a value
with spaces in double quotes) or by tabs, ``-`` empty. A format module (``formats/w3c_extended.py`` for web
proxies and servers, ``formats/windows_firewall.py``) gives the function that turns the lines under one
header into its records; :func:`parse_by_header` applies each ``#Fields:`` header to the lines after it (a
header in the middle of the file: a service restart, logs concatenated), carried across chunks in
``ctx.state``, and accounts for every line: directives and blank lines skipped, a line before any header or
with another number of values than its header's fields rejected with the reason."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from netsift.ingest.base import ParseContext, ParseResult, all_rejected, empty_records, rejected_from

_TOKEN = r'"[^"]*"|[^ \t]+'
# the lines under one header (line_no, line), its fields, the #Software it names, --tz -> (records, rejected)
RecordsOf = Callable[[pl.DataFrame, dict[str, pl.Expr], str, str], tuple[pl.DataFrame, pl.DataFrame]]


def first(values: dict[str, pl.Expr], *names: str) -> pl.Expr:
    """The first of these fields the header names (null when it names none of them)."""
    found = [values[n] for n in names if n in values]
    return pl.coalesce(found) if found else pl.lit(None, pl.String)


def _entries(rows: pl.DataFrame, fields: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, pl.Expr]]:
    """(the lines with as many values as ``fields``, the others with their count ``n``, each field's value
    by lower-case name: quotes removed, ``-`` and empty null)."""
    tabbed = pl.col("line").str.contains("\t", literal=True)
    tokens = (pl.when(tabbed).then(pl.col("line").str.split("\t"))
              .otherwise(pl.col("line").str.extract_all(_TOKEN)))
    t = rows.with_columns(tokens=tokens).with_columns(n=pl.col("tokens").list.len())
    values = {}
    for i, name in enumerate(fields):
        raw = pl.col("tokens").list.get(i).str.strip_chars()
        raw = pl.when(raw.str.starts_with('"') & raw.str.ends_with('"') & (raw.str.len_chars() >= 2)).then(
            raw.str.slice(1, raw.str.len_chars() - 2)).otherwise(raw)
        values[name.lower()] = pl.when(raw.is_in(["-", ""])).then(None).otherwise(raw)
    return t.filter(pl.col("n") == len(fields)), t.filter(pl.col("n") != len(fields)), values


def parse_by_header(lines: pl.DataFrame, ctx: ParseContext, state_key: str, table: str,
                    records_of: RecordsOf) -> ParseResult:
    text = pl.col("line").fill_null("").str.strip_chars_end("\r")
    rows = lines.select("line_no", line=text)
    blank = rows["line"].str.strip_chars() == ""
    directive = rows["line"].str.starts_with("#")
    headers = rows.filter(directive)
    fields_at = headers.filter(pl.col("line").str.to_lowercase().str.starts_with("#fields:"))
    software_at = headers.filter(pl.col("line").str.to_lowercase().str.starts_with("#software:"))
    known = ctx.state.get(state_key, (None, ""))
    data = rows.filter(~blank & ~directive)
    records, rejected = [], []
    # segments: the data lines between one #Fields header and the next
    bounds = [(0, known)]
    for line_no, line in fields_at.iter_rows():
        software = software_at.filter(pl.col("line_no") < line_no)["line"]
        soft = software[-1].split(":", 1)[1].strip() if software.len() else known[1]
        names = line.split(":", 1)[1].strip()
        bounds.append((line_no, ([n for n in names.split("\t" if "\t" in names else None) if n], soft)))
    for k, (start, (fields, software)) in enumerate(bounds):
        end = bounds[k + 1][0] if k + 1 < len(bounds) else None
        segment = data.filter((pl.col("line_no") > start) & (pl.col("line_no") < end if end else pl.lit(True)))
        if not segment.height:
            continue
        if not fields:
            rejected.append(rejected_from(segment, "data line before any #Fields: header"))
            continue
        good, wrong, values = _entries(segment, fields)
        rejected.append(rejected_from(wrong.select("line_no", "line", "n"), pl.format(
            f"expected {len(fields)} values (from #Fields), found {{}}", pl.col("n"))))
        got, bad = records_of(good, values, software, ctx.tz)
        records.append(got)
        rejected.append(bad)
    ctx.state[state_key] = bounds[-1][1]
    return ParseResult(pl.concat(records) if records else empty_records(table), all_rejected(rejected),
                       skipped_by={"blank": int(blank.sum()), "header": int((directive & ~blank).sum())})


def header_fields(lines: list[str]) -> str | None:
    """The first ``#Fields:`` header among ``lines``, lower case (None: none)."""
    return next((line.strip().lower() for line in lines if line.strip().lower().startswith("#fields:")), None)
