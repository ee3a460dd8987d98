"""Any CSV / TSV DNS export with a header row: columns mapped to canonical ones *by name*.

The header is matched case-, space- and punctuation-insensitively against synonyms (``Query Name``,
``query_name`` and ``dns.question.name`` all mean the query name); ``--columns ts=When,query_name=Host``
(``ctx.columns``) names columns the synonyms miss and overrides them. The delimiter (comma, tab,
semicolon or pipe) is sniffed from the header and the next lines. Timestamps may be epoch seconds /
milliseconds or ISO 8601; a stamp with a zone is converted to UTC, a naive one is read in ``--tz``; or a
locale's short form as spreadsheets and SIEM exports write them (``30.11.2026 10:00``, ``11/30/2026
10:00:01 AM``, ``2026/11/30 10:00:01``; day or month first decided per file as for Windows DNS logs,
``ingest/local_dates.py``), read in ``--tz``.

Accounting: the header line and blank lines are skipped. A data line is rejected, with the reason, when it
has the wrong number of fields, broken quoting, an empty name, or an unreadable timestamp. When the header
has no recognisable query-name (or timestamp) column, every line — the header included — is rejected
with a reason that lists the header and says how to use ``--columns``.

Data lines are read by Polars' CSV reader on the chunk's lines joined back together (quoted fields with
delimiters inside work); field counts are checked with one vectorised pass that drops quoted sections and
counts delimiters. Should the reader fail on a malformed chunk, Python's csv module reads it line by line.
"""

from __future__ import annotations

import csv
import io
import re

import polars as pl

from netsift.ingest.base import (
    ParseContext,
    Parser,
    ParseResult,
    empty_records,
    empty_rejected,
    finish_dns_records,
    localize_expr,
    qtype_name_expr,
    rcode_name_expr,
    rejected_from,
)
from netsift.ingest.local_dates import local_stamps

STATE_KEY = "csv_columns"
DELIMITERS = (",", "\t", ";", "|")
_DAY_FIRST_KEY = "csv_day_first"

# canonical column -> header synonyms, most specific first (compared after _plain())
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ts": ("timestamp", "@timestamp", "datetime", "date_time", "event_time", "time_generated", "ts", "time",
           "date"),
    "client": ("client", "client_ip", "src_ip", "source.ip", "id.orig_h", "client_address", "source_address",
               "src", "source"),
    "query_name": ("query_name", "dns.question.name", "qname", "query", "domain", "fqdn", "name"),
    "query_type": ("query_type", "qtype", "dns.question.type", "record_type", "type"),
    "response_code": ("response_code", "rcode", "dns.response_code", "status"),
    "answers": ("answers", "answer", "dns.answers.data", "resolved_ip", "response"),
    "resolver_action": ("resolver_action", "action", "disposition", "decision"),
}  # fmt: skip
# what --columns may name on its left-hand side
COLUMN_ALIASES = {
    "ts": "ts", "timestamp": "ts", "time": "ts", "client": "client", "query_name": "query_name",
    "query": "query_name", "name": "query_name", "domain": "query_name", "query_type": "query_type",
    "qtype": "query_type", "response_code": "response_code", "rcode": "response_code", "answers": "answers",
    "resolver_action": "resolver_action", "action": "resolver_action",
}  # fmt: skip
_QUOTED = r'"(?:[^"]|"")*"'


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def map_columns(header: list[str], overrides: dict[str, str] | None = None) -> dict[str, int]:
    """canonical column -> index in ``header``. ``overrides`` (canonical or alias -> header name) win;
    an override naming a column that is not in the header raises KeyError with a readable message."""
    plain = [_plain(h) for h in header]
    mapping: dict[str, int] = {}
    for canonical, synonyms in SYNONYMS.items():
        for synonym in synonyms:
            if _plain(synonym) in plain:
                mapping[canonical] = plain.index(_plain(synonym))
                break
    for key, source in (overrides or {}).items():
        target = COLUMN_ALIASES.get(key.strip().lower())
        if target is None:
            raise KeyError(f"--columns: unknown column {key!r} (use one of {', '.join(sorted(SYNONYMS))})")
        if source in header:
            mapping[target] = header.index(source)
        elif _plain(source) in plain:
            mapping[target] = plain.index(_plain(source))
        else:
            raise KeyError(f"--columns: no column {source!r} in the header")
    return mapping


def sniff_delimiter(lines: list[str]) -> tuple[str, list[str]]:
    """The delimiter under which the header has the most fields and most sample lines agree with it, and
    the header split with it."""
    best = (",", [lines[0]] if lines else [""])
    best_score = (0, 0)
    for delimiter in DELIMITERS:
        rows = split_lines_python(lines[:20], delimiter)
        header = rows[0]
        if header is None or len(header) < 2:
            continue
        agree = sum(1 for row in rows[1:] if row is not None and len(row) == len(header))
        score = (agree, len(header))
        if score > best_score:
            best, best_score = (delimiter, header), score
    return best


def split_lines_python(lines: list[str], delimiter: str) -> list[list[str] | None]:
    """Each line split by the csv module (None for a line with broken quoting)."""
    out: list[list[str] | None] = []
    for line in lines:
        try:
            out.append(next(csv.reader([line], delimiter=delimiter, skipinitialspace=True, strict=True), []))
        except csv.Error:
            out.append(None)
    return out


def read_fields(rows: pl.DataFrame, delimiter: str, width: int) -> pl.DataFrame:
    """Split the ``line`` column of ``rows`` into ``width`` string columns ``c0..`` plus ``n_fields`` (the
    number of fields the line really has; null when its quoting is broken). Missing fields are ''."""
    names = [f"c{i}" for i in range(width)]
    outside_quotes = pl.col("line").str.replace_all(_QUOTED, "")
    counted = rows.select(
        pl.when(outside_quotes.str.contains('"', literal=True))
        .then(None)
        .otherwise(outside_quotes.str.count_matches(delimiter, literal=True) + 1)
        .alias("n_fields")
    )
    try:
        text = rows["line"].str.join("\n").item() + "\n" if rows.height else ""
        fields = pl.read_csv(
            io.StringIO(text),
            has_header=False,
            separator=delimiter,
            quote_char='"',
            schema={n: pl.String for n in names},
            missing_columns="insert",
            truncate_ragged_lines=True,
            empty_string_is_null=False,
            raise_if_empty=False,
        )
        if fields.height != rows.height:
            raise ValueError("row count mismatch")
    except (pl.exceptions.PolarsError, ValueError):
        split = split_lines_python(rows["line"].to_list(), delimiter)
        fields = pl.DataFrame(
            [(row or [])[:width] + [""] * (width - len(row or [])) for row in split],
            schema=names,
            orient="row",
        ).select(pl.all().fill_null(""))
        counted = pl.DataFrame(
            {"n_fields": [None if row is None else len(row) for row in split]}, schema={"n_fields": pl.Int64}
        )
    return pl.concat([fields.select(names), counted.cast(pl.Int64)], how="horizontal")


def _exact_epoch_micros(seconds: pl.Expr) -> pl.Expr:
    """Epoch seconds -> integer µs, whole seconds and fraction converted apart (``t - floor(t)`` is exact),
    so ``1715133479.0320954`` gives ...032095 and not a float-rounding neighbour."""
    whole = seconds.floor()
    fraction = ((seconds - whole) * 1_000_000).round(0)
    return whole.cast(pl.Int64, strict=False) * 1_000_000 + fraction.cast(pl.Int64, strict=False)


def timestamp_expr(expr: pl.Expr, tz: str = "UTC") -> pl.Expr:
    """Text timestamps -> naive UTC datetimes (µs); null when unreadable. Accepts epoch seconds,
    milliseconds, microseconds or nanoseconds (values from 1e8, i.e. 1973, upwards; the unit is read from
    the magnitude), and ISO 8601 with ``T`` or space, optional fraction, and ``Z`` / ``±hh:mm`` zone.
    Naive stamps are read in ``tz``."""
    s = expr.cast(pl.String).str.strip_chars()
    number = s.cast(pl.Float64, strict=False)
    size = number.abs()
    micros = (
        pl.when(size < 1e8)
        .then(None)
        .when(size < 1e11)
        .then(_exact_epoch_micros(number))
        .when(size < 1e14)
        .then((number * 1e3).round(0).cast(pl.Int64, strict=False))
        .when(size < 1e17)
        .then(number.round(0).cast(pl.Int64, strict=False))
        .otherwise((number / 1e3).round(0).cast(pl.Int64, strict=False))
    )
    epoch = micros.cast(pl.Datetime("us"))
    iso = s.str.replace("T", " ", literal=True)
    utc = iso.str.ends_with("Z") | iso.str.ends_with("z")
    zoned = (
        iso.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f%z", strict=False)
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )
    naive = (
        iso.str.strip_suffix("Z")
        .str.strip_suffix("z")
        .str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    )
    return pl.coalesce(epoch, zoned, pl.when(utc).then(naive).otherwise(localize_expr(naive, tz)))


def _setup(header_line: str, sample: list[str], ctx: ParseContext) -> dict:
    delimiter, header = sniff_delimiter([header_line.lstrip("\ufeff"), *sample])
    header = [h.strip() for h in header]
    state: dict = {"delimiter": delimiter, "header": header, "error": None}
    try:
        state["mapping"] = map_columns(header, ctx.columns)
    except KeyError as exc:
        state["mapping"] = {}
        state["error"] = str(exc.args[0])
    missing = [c for c in ("query_name", "ts") if c not in state["mapping"]]
    if state["error"] is None and missing:
        state["error"] = (
            f"no {' or '.join(missing)} column in header {header!r} (delimiter {delimiter!r}); "
            f"name it with --columns, e.g. --columns {','.join(f'{m}=<column>' for m in missing)}"
        )
    return state


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    rows = lines.with_columns(pl.col("line").fill_null("").str.strip_suffix("\r"))
    blank = rows["line"].str.strip_chars() == ""
    skipped = int(blank.sum())
    state = ctx.state.get(STATE_KEY)
    rows = rows.filter(~blank)
    header_rows = rows.head(0)
    if state is None and rows.height:
        header_rows = rows.head(1)
        state = ctx.state[STATE_KEY] = _setup(rows["line"][0], rows["line"][1:21].to_list(), ctx)
        rows = rows.slice(1)
    if state is None:
        return ParseResult(empty_records(), empty_rejected(), skipped)
    if state["error"]:
        return ParseResult(
            empty_records(), rejected_from(pl.concat([header_rows, rows]), state["error"]), skipped
        )
    skipped += header_rows.height

    width, mapping = len(state["header"]), state["mapping"]
    fields = pl.concat(
        [rows.select("line_no"), read_fields(rows, state["delimiter"], width)], how="horizontal"
    )

    def column(name: str) -> pl.Expr:
        return pl.col(f"c{mapping[name]}").str.strip_chars() if name in mapping else pl.lit(None, pl.String)

    answers = column("answers")
    parsed = fields.select(
        pl.col("line_no").alias("source_line"),
        "n_fields",
        timestamp_expr(column("ts"), ctx.tz).alias("ts"),
        column("ts").alias("ts_text"),
        pl.when(column("client") != "").then(column("client")).alias("client"),
        column("query_name").alias("query_name"),
        pl.when(column("query_type") != "").then(qtype_name_expr(column("query_type"))).alias("query_type"),
        pl.when(column("response_code") != "")
        .then(rcode_name_expr(column("response_code")))
        .alias("response_code"),
        pl.when(answers.is_not_null()).then(answers.str.extract_all(r"[^\s,;|]+")).alias("answers"),
        pl.when(column("resolver_action") != "")
        .then(column("resolver_action").str.to_lowercase())
        .alias("resolver_action"),
    )
    reason = (
        pl.when(pl.col("n_fields").is_null())
        .then(pl.lit("broken quoting"))
        .when(pl.col("n_fields") != width)
        .then(pl.format(f"expected {width} fields (from the header), found {{}}", pl.col("n_fields")))
        .when(pl.col("query_name").is_null() | (pl.col("query_name") == ""))
        .then(pl.lit("empty query name"))
        .when(pl.col("ts").is_null())
        .then(pl.format("unreadable timestamp '{}'", pl.col("ts_text")))
    )
    unread = parsed["ts"].is_null() & (parsed["ts_text"].fill_null("") != "")
    if unread.any():  # a spreadsheet's or a locale's form: 30.11.2026 10:00, 11/30/2026 10:00:01 AM ...
        where = unread.arg_true()
        parsed = parsed.with_columns(parsed["ts"].scatter(
            where, local_stamps(parsed["ts_text"].gather(where), ctx, _DAY_FIRST_KEY)))
    parsed = parsed.with_columns(reason.alias("reason"))
    bad = parsed.filter(pl.col("reason").is_not_null()).select(
        pl.col("source_line").alias("line_no"), "reason"
    )
    records = finish_dns_records(parsed.filter(pl.col("reason").is_null()))
    rejected = rejected_from(bad.join(rows, on="line_no", how="left"), pl.col("reason"))
    return ParseResult(records, rejected, skipped)


def sniff(lines: list[str]) -> float:
    """Scores a first line that is a header naming a query-name column: 0.4 alone (a list of names, not
    a log: pick it with --format), 0.7 with a timestamp column, 0.9 with a client column too. Comment /
    JSON first lines are not CSV headers."""
    if not lines or lines[0].lstrip("\ufeff").startswith(("#", "{", "[")):
        return 0.0
    _, header = sniff_delimiter([lines[0].lstrip("\ufeff"), *lines[1:20]])
    if len(header) < 2:
        return 0.0
    mapping = map_columns([h.strip() for h in header])
    if "query_name" not in mapping:
        return 0.0
    if "ts" not in mapping:
        return 0.45 if "client" in mapping else 0.4
    return 0.9 if "client" in mapping else 0.7


PARSER = Parser(
    name="csv_columns",
    description="CSV/TSV with a header row; columns mapped by name (synonyms or --columns).",
    kind="lines",
    sniff=sniff,
    parse=parse,
)
