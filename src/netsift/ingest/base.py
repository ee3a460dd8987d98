"""The contract every format module fulfils, and the helpers they share.

A format module exposes ``PARSER = Parser(...)``. A *line* parser is a pure function

    parse(lines: pl.DataFrame[line_no: Int64, line: String], ctx: ParseContext) -> ParseResult

called once per chunk of lines (chunks arrive in file order; ``ctx.state`` carries whatever a parser must
remember between chunks, such as a Zeek ``#fields`` header or the year of the last syslog stamp). A
*binary* parser (pcap) gets the open byte stream instead and yields ParseResults.

Two optional hooks let a line parser skip work the driver would otherwise do for it:

- ``prepare(chunk: LineChunk) -> pl.DataFrame``: a stateless first step (tokenising), run by the driver on
  its own thread one chunk ahead of ``parse``; ``parse`` must accept both a lines frame and what
  ``prepare`` returns.
- ``parse_bytes(chunk: LineChunk, ctx) -> ParseResult | None``: a byte fast path. ``chunk.data`` is a
  chunk of whole lines as UTF-8 bytes (BOM dropped, every line ending kept), ``chunk.first_line_no`` the
  number of its first line and ``chunk.line_count`` how many lines it holds. It returns exactly what ``parse`` would give for that chunk (records,
  dtypes, source_line numbers, skipped, rejected), or None to say "use the line path for this chunk" —
  then the driver cuts the chunk into lines and calls ``parse``. It may decline any chunk (typically
  anything irregular) and must leave ``ctx.state`` untouched when it does.

Accounting invariant, checked by the property tests: for every chunk
``records.height + skipped + rejected.height == lines.height`` — each line is a record, a line that was
understood but is not itself a question (a header, a reply joined to its query, a service message), or a
rejected line with a reason. Nothing disappears. Skipped lines are counted by the parser, class by class
(``ParseResult.skipped_by``), never taken as the remainder of the other two: a record lost on the way
then breaks the invariant.

Parsing is vectorised with Polars string kernels (slice / split / strptime); regexes are kept for
validation, because on this hardware a Polars regex costs ~0.6 s per million lines and tokenising ~0.15 s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Protocol

import numpy as np
import polars as pl

from netsift.schema import DNS_QUERIES, polars_schema, record_table



class LineChunk(Protocol):
    """Whole lines as UTF-8 bytes, what ``prepare`` and ``parse_bytes`` receive (``reader.ByteChunk``):
    ``lines()`` cuts them into the (line_no, line) frame; ``set_aside``: lines the reader rejected itself,
    emptied in ``data``."""

    data: bytes
    first_line_no: int
    line_count: int
    set_aside: pl.DataFrame | None

    def lines(self) -> pl.DataFrame: ...

# Columns a DNS parser returns: the canonical ones minus source_file_id (added by the ingest driver).
DNS_RECORD_SCHEMA = polars_schema(DNS_QUERIES, without=("source_file_id",))


def record_schema(table: str) -> pl.Schema:
    """Columns a parser of ``table`` returns: the table's declared ones minus source_file_id (added by the
    writer)."""
    return polars_schema(record_table(table), without=("source_file_id",))


def finish_records(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Any table's records in canonical shape: every declared column present, in order, with its dtype
    (missing ones null). DNS parsers use :func:`finish_dns_records`, which also normalises names."""
    if not df.height:  # literals over no rows would make one row
        return empty_records(table)
    return df.select([pl.col(n).cast(t, strict=False) if n in df.columns else pl.lit(None, dtype=t).alias(n)
                      for n, t in record_schema(table).items()])
REJECTED_SCHEMA = pl.Schema({"source_line": pl.Int64, "reason": pl.String, "text": pl.String})
LINES_SCHEMA = pl.Schema({"line_no": pl.Int64, "line": pl.String})
REJECTED_TEXT_CHARS = 4096  # a rejected line's text is kept up to this many characters
MAX_NAME_CHARS = 253  # the longest name DNS allows (without the trailing dot), and its longest label
MAX_LABEL_CHARS = 63


@dataclass
class ParseContext:
    """What a parser may know besides the lines themselves."""

    path: str = "-"
    year: int | None = None  # --year: year of the first year-less stamp
    mtime: dt.datetime | None = None  # file modification time (UTC); year fallback
    tz: str = "UTC"  # --tz: zone of naive timestamps
    columns: dict[str, str] = field(default_factory=dict)  # --columns canonical=source mapping (CSV)
    state: dict[str, Any] = field(default_factory=dict)  # carried between chunks of one file
    final: bool = True  # the driver sets False for every chunk but the file's last; a parser that holds
    # lines back for joining (Pi-hole replies) must flush them when final is True
    # what the file's ingest report should say, one line per topic ("year", "capture"), set by the parser
    notes: dict[str, str] = field(default_factory=dict)
    assumed_year: int | None = None  # the year year-less stamps were read as (set when a parser assumed one)
    show_secrets: bool = False  # --show-secrets: credentials seen in clear are stored in clear (else masked)

    def default_year(self) -> int:
        if self.year is not None:
            return self.year
        if self.mtime is not None:
            return self.mtime.year
        return dt.datetime.now(dt.UTC).year


# Stamps a record may carry: after the Unix epoch (0 and negative epochs are a missing clock or garbage),
# before year 10000 (past it, Python's datetime and so every reader of the store cannot represent it).
TS_MIN_EPOCH_US = 0  # exclusive: 1970-01-01 00:00:00 itself is rejected
TS_MAX_EPOCH_US = 253_402_300_800_000_000  # exclusive: 10000-01-01 00:00:00


@dataclass
class ParseResult:
    """What a parser returns for a chunk. Records stamped outside the representable range (see
    TS_MIN_EPOCH_US / TS_MAX_EPOCH_US) become rejected lines on construction, whatever the format, so
    the accounting invariant holds and no reader of the store meets a stamp it cannot handle."""

    records: pl.DataFrame
    rejected: pl.DataFrame
    skipped: int = 0  # lines understood that are not questions (the sum of ``skipped_by`` when given)
    unescaped: bool = False  # fields were decoded from escapes (JSON): ``screened`` checks them for controls
    # why lines were skipped, counted by the parser for each class of line it skips ("blank", "header",
    # "reply joined", "service message" ...): never the remainder of the other counts, so a record lost on
    # the way shows up as a gap in the accounting
    skipped_by: dict[str, int] = field(default_factory=dict)
    # rows for tables other than the parser's own (a capture's http_requests, connections, credentials), by
    # table name: stored beside ``records`` in the same transactions; outside the line accounting (they
    # come from units already counted through ``records``/``skipped``/``rejected``)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows this result stores, every table counted."""
        return self.records.height + sum(t.height for t in self.tables.values())

    def __post_init__(self) -> None:
        if self.skipped_by:
            self.skipped_by = {k: int(v) for k, v in self.skipped_by.items() if v}
            total = sum(self.skipped_by.values())
            if self.skipped and self.skipped != total:
                raise ValueError(f"skipped={self.skipped} but skipped_by adds up to {total}")
            self.skipped = total
        if not self.records.height or "ts" not in self.records.columns:
            return
        epoch = pl.col("ts").dt.epoch("us")
        bad = epoch.is_not_null() & ((epoch <= TS_MIN_EPOCH_US) | (epoch >= TS_MAX_EPOCH_US))
        if not self.records.select(bad.any()).item():
            return
        out = self.records.filter(bad)
        self.records = self.records.filter(~bad)
        shown = pl.col("ts").cast(pl.String).str.replace(r"\.0+$", "")
        self.rejected = pl.concat([self.rejected, out.select(
            pl.col("source_line").cast(pl.Int64),
            pl.concat_str(pl.lit("timestamp "), shown,
                          pl.lit(" is out of range: a stamp must fall after 1970-01-01 00:00:00 and "
                                                 "before the year 10000 (UTC)"))
            .alias("reason"),
            pl.concat_str(shown, *(pl.col(c).cast(pl.String) for c in ("client", "query_name", "query_type")
                                   if c in out.columns), separator=" ", ignore_nulls=True).alias("text"),
        ).cast(REJECTED_SCHEMA)], how="vertical_relaxed")

    @property
    def lines_accounted(self) -> int:
        return self.records.height + self.skipped + self.rejected.height


ParserKind = Literal["lines", "document", "binary"]
# what each kind must and may set (besides name, description, table)
_KIND_HOOKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "lines": (("sniff", "parse"), ("prepare", "parse_bytes")),
    "document": (("sniff", "parse_document"), ()),
    "binary": (("sniff_bytes", "parse_stream"), ()),
}


@dataclass(frozen=True)
class Parser:
    """One log format, of a declared ``kind``:

    - ``"lines"``: ``sniff`` gets the first (up to 50) non-empty decoded lines and returns a confidence in
      0..1 (the registry picks the highest); ``parse`` is called per chunk of lines; ``prepare`` and
      ``parse_bytes`` are optional hooks (module docstring).
    - ``"document"``: ``sniff`` as above; ``parse_document`` gets the whole decoded text (a JSON array).
    - ``"binary"``: ``sniff_bytes`` gets the first bytes; ``parse_stream`` the byte stream (pcap, EVTX).

    ``table`` is the declared record table its records go to (``dns_queries``, ``logon_events``, ...; see
    ``schema.is_record_table``): the writer stores each parser's records in its own table, and the records
    must have that table's columns (:func:`finish_records`, :func:`empty_records`). The kind is checked against the hooks given: a hook of another kind, or a missing one, is an error
    when the module is loaded."""

    name: str
    description: str
    kind: ParserKind
    table: str = "dns_queries"
    # the record tables its results may hold rows for besides ``table`` (``ParseResult.tables``: a capture's
    # flows, a firewall's logons ...): listed by ``netsift formats``, checked on every result (``screened``)
    also_writes: tuple[str, ...] = ()
    sniff: Callable[[list[str]], float] | None = None
    parse: Callable[[pl.DataFrame, ParseContext], ParseResult] | None = None
    prepare: Callable[[LineChunk], pl.DataFrame] | None = None
    parse_bytes: Callable[[LineChunk, ParseContext], ParseResult | None] | None = None
    sniff_bytes: Callable[[bytes], float] | None = None
    parse_stream: Callable[[IO[bytes], ParseContext], Iterator[ParseResult]] | None = None
    parse_document: Callable[[str, ParseContext], ParseResult] | None = None
    # syslog programs whose messages this format reads (``netsift watch --syslog``: the message's program
    # picks the parser), and the program name its lines must carry (None: the program as received)
    syslog_programs: tuple[str, ...] = ()
    syslog_tag: str | None = None
    # a device that sends its own log line with no syslog header (FortiGate's ``date=... time=...``): a
    # regular expression its lines match, so the listener routes such a message to this parser (named by
    # its first ``syslog_programs``)
    syslog_line: str | None = None

    def __post_init__(self) -> None:
        for table in (self.table, *self.also_writes):
            record_table(table)  # a KeyError names the tables a parser may write
        if self.kind not in _KIND_HOOKS:
            raise ValueError(f"{self.name}: kind must be one of {', '.join(_KIND_HOOKS)}, not {self.kind!r}")
        required, optional = _KIND_HOOKS[self.kind]
        hooks = ("sniff", "parse", "prepare", "parse_bytes", "sniff_bytes", "parse_stream", "parse_document")
        missing = [h for h in required if getattr(self, h) is None]
        foreign = [h for h in hooks if h not in required + optional and getattr(self, h) is not None]
        if missing or foreign:
            raise ValueError(f"{self.name}: a {self.kind} parser needs {', '.join(required)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; {', '.join(foreign)} belong to another kind" if foreign else ""))


# --- shared vocabulary -------------------------------------------------------------------------------

QTYPE_NAMES = {
    1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL",
    11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB",
    24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR", 36: "KX", 37: "CERT", 39: "DNAME",
    41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
    49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS",
    60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF",
    108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB",
    254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 32768: "TA", 32769: "DLV",
    # the rest of IANA's registry (obsolete and experimental types still turn up in logs)
    19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 26: "PX", 27: "GPOS", 30: "NXT", 31: "EID",
    32: "NIMLOC", 34: "ATMA", 38: "A6", 40: "SINK", 56: "NINFO", 57: "RKEY", 58: "TALINK", 66: "DSYNC",
    100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64", 107: "LP",
    128: "NXNAME", 258: "AVC", 259: "DOA", 260: "AMTRELAY", 261: "RESINFO", 262: "WALLET", 263: "CLA",
    264: "IPN",
}
QTYPE_NUMBERS = {v: k for k, v in QTYPE_NAMES.items()}
# mnemonics logs print besides IANA's: NetBIOS name service questions (RFC 1002: NB = 32, NBSTAT = 33), as
# Zeek and tcpdump name them for traffic on port 137
OTHER_QTYPE_MNEMONICS = ("NB", "NBSTAT")

_KNOWN_QTYPES = pl.Series(sorted({*QTYPE_NAMES.values(), *OTHER_QTYPE_MNEMONICS}), dtype=pl.String)

RCODE_NAMES = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
    7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI", 16: "BADVERS",
    17: "BADKEY", 18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
}


def qtype_name_expr(expr: pl.Expr) -> pl.Expr:
    """Map a numeric (string or int) query type to its mnemonic; names pass through upper-cased;
    unknown numbers become TYPEnnn (RFC 3597 spelling)."""
    s = expr.cast(pl.String).str.strip_chars()
    as_int = s.cast(pl.Int64, strict=False)
    mapped = as_int.replace_strict(QTYPE_NAMES, default=None, return_dtype=pl.String)
    return (
        pl.when(as_int.is_null())
        .then(s.str.to_uppercase())
        .otherwise(pl.coalesce(mapped, pl.lit("TYPE") + as_int.cast(pl.String)))
    )


def rcode_name_expr(expr: pl.Expr) -> pl.Expr:
    s = expr.cast(pl.String).str.strip_chars()
    as_int = s.cast(pl.Int64, strict=False)
    mapped = as_int.replace_strict(RCODE_NAMES, default=None, return_dtype=pl.String)
    return (
        pl.when(as_int.is_null())
        .then(s.str.to_uppercase())
        .otherwise(pl.coalesce(mapped, pl.lit("RCODE") + as_int.cast(pl.String)))
    )


def normalize_name_expr(expr: pl.Expr) -> pl.Expr:
    """Lower-case, strip whitespace and one trailing dot. (Non-ASCII names are turned into punycode in
    :func:`finish_dns_records`, once per distinct name.)"""
    return expr.str.strip_chars().str.to_lowercase().str.strip_suffix(".")


def _to_punycode(name: str) -> str:
    try:
        return name.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        # a label IDNA 2003 refuses (too long, odd code points): plain punycode label by label
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in name.split(".")
        )


def finish_dns_records(df: pl.DataFrame) -> pl.DataFrame:
    """Bring a parser's output into canonical shape: every canonical column present, in order, with the
    canonical dtype; names normalised; non-ASCII names as punycode; rows without a name dropped is NOT
    done here (a parser must reject such lines itself so they are accounted for).

    Names repeat a lot in a log, so the normalisation is worked out once per distinct name and applied
    only to the names it changes (usually none)."""
    cols = []
    for name, dtype in DNS_RECORD_SCHEMA.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype, strict=False))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    out = df.select(cols)
    distinct = out.select(pl.col("query_name").unique().drop_nulls())
    new = pl.col("new")
    changed = distinct.with_columns(new=normalize_name_expr(pl.col("query_name"))).filter(
        (new != pl.col("query_name")) | (new.str.len_bytes() != new.str.len_chars()))
    if changed.height:
        mapping = {old: (_to_punycode(name) if not name.isascii() else name) for old, name in changed.iter_rows()}
        out = out.with_columns(pl.col("query_name").replace(mapping))
    return out


# --- records no line may store --------------------------------------------------------------------

_CONTROL_CHARS = r"[\x00-\x1f\x7f-\x9f]"
_TEXT_FIELDS = ("client", "query_name", "query_type", "response_code", "resolver_action", "answers")
_ESCAPE = r"\\[0-9]{3}|\\."  # dig-style escapes in names read from packets count as one character


def _string_bytes(values: pl.Series) -> np.ndarray | None:
    """The bytes of a string column's values, for cheap tests over all of them at once (the data buffer may
    hold bytes of values outside the column: a test gives "perhaps", never "no" wrongly); None when empty."""
    if values.dtype == pl.List(pl.String):
        values = values.explode()
    values = values.drop_nulls()
    if values.len() == 0:
        return None
    data = values.rechunk().to_arrow()
    if hasattr(data, "combine_chunks"):  # a chunked array
        data = data.combine_chunks()
    buf = data.buffers()[2]
    return None if buf is None else np.frombuffer(memoryview(buf), dtype=np.uint8)


def _may_hold_control(values: pl.Series) -> bool:
    """Cheap test on the bytes of a string column (False means none of its values holds a C0/C1 control
    character or DEL; True, perhaps)."""
    arr = _string_bytes(values)
    return arr is not None and bool(np.any(arr < 32) or np.any(arr == 127) or np.any(arr == 0xC2))


# in a JSON line: an escape that decodes to a control character (or a raw tab, which the reader lets by);
# a line without one cannot decode to a control character
JSON_CONTROL_ESCAPE = r"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\u00[89][0-9a-fA-F]|\\[bfnrt]|\t"


def holds_control(frame: pl.DataFrame) -> pl.Series:
    """Per row of a decoded frame: whether any of its text values (in structs and lists too) holds a control
    character — what a JSON escape (``\\u001b``) can put in a field the reader never saw raw."""
    texts: list[pl.Expr] = []

    def collect(expr: pl.Expr, dtype: object) -> None:
        if dtype == pl.String:
            texts.append(expr)
        elif isinstance(dtype, pl.Struct):
            for f in dtype.fields:
                collect(expr.struct.field(f.name), f.dtype)
        elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
            texts.append(expr.list.join(" "))
        elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            texts.append(expr.list.eval(pl.element().struct.json_encode()).list.join(" "))

    for name, dtype in frame.schema.items():
        collect(pl.col(name), dtype)
    if not texts or not frame.height:
        return pl.Series("control", [False] * frame.height, dtype=pl.Boolean)
    return frame.select(pl.any_horizontal(*(t.str.contains(_CONTROL_CHARS).fill_null(False) for t in texts))
                        .alias("control")).to_series()


def may_hold_upper_case(values: pl.Series) -> bool:
    """Cheap test (a pass over the bytes, ~10 ms per million names): False means no value holds an ASCII
    capital letter; True, perhaps."""
    arr = _string_bytes(values)
    return arr is not None and bool(((arr - 65) < 26).any())  # uint8: 'A'..'Z', anything below wraps high


def screened(result: ParseResult, set_aside: pl.DataFrame | None = None,
             lines: Callable[[], pl.DataFrame] | None = None, table: str = "dns_queries",
             also_writes: tuple[str, ...] | None = None) -> ParseResult:
    """What the driver stores of a parser's result, whatever the format: the lines the reader set aside
    (``ByteChunk.set_aside``; the parser saw them as empty lines) join the rejected lines, and a record
    that no line may store is rejected with its reason: a control character in a text field decoded from
    an escape (``result.unescaped``; raw control characters never get past the reader), a name
    longer than ``MAX_NAME_CHARS`` or with a label longer than ``MAX_LABEL_CHARS`` (counted on the stored
    name, trailing dot stripped), a query type that is neither a known mnemonic nor ``TYPEnnn`` (the name
    and type checks for ``dns_queries`` only; the control-character check on every text column of any
    ``table``).
    ``lines``: gives the chunk's (line_no, line) frame, for the text of such a record's line. ``also_writes``:
    the other tables the parser declares (``Parser.also_writes``); rows for any other is a ValueError.

    Vectorised, and cheap for a clean chunk: a byte test per text column, a length test on the names,
    a set lookup on the types; the exact checks run only on the columns that need them."""
    if also_writes is not None and set(result.tables) - set(also_writes):
        raise ValueError(f"rows for {', '.join(sorted(set(result.tables) - set(also_writes)))}, which the "
                         f"{table} parser has not declared (Parser.also_writes)")
    records, rejected, skipped, skipped_by = result.records, result.rejected, result.skipped, result.skipped_by
    if set_aside is not None and set_aside.height:
        # the parser skipped (or, for some formats, rejected) the emptied lines: they are the reader's
        ours = set_aside["source_line"].implode()
        theirs = rejected.filter(pl.col("source_line").is_in(ours))
        rejected = pl.concat([rejected.filter(~pl.col("source_line").is_in(ours)), set_aside])
        skipped -= set_aside.height - theirs.height
        skipped_by = _less_blank(skipped_by, set_aside.height - theirs.height)
    found: list[pl.DataFrame] = []  # (row, reason) of records to reject, each check on its candidates only

    def check(candidates: pl.Series, values: pl.DataFrame, reason: pl.Expr) -> None:
        rows = candidates.fill_null(False).arg_true()
        if rows.len():
            hits = values[rows].select(row=rows, reason=reason).filter(pl.col("reason").is_not_null())
            if hits.height:
                found.append(hits)

    is_dns = "query_name" in records.columns
    if records.height and result.unescaped:
        # a line format's fields are pieces of lines the reader has screened already; a field decoded from
        # an escape (JSON's \u001b) may still hold a control character (another table: its text columns)
        text_fields = _TEXT_FIELDS if is_dns else tuple(
            n for n, t in records.schema.items() if t in (pl.String, pl.List(pl.String)))
        for name in text_fields:
            if name in records.columns and _may_hold_control(records[name]):
                column = records[name]
                column_text = column.list.join(" ") if column.dtype == pl.List(pl.String) else column
                check(column_text.str.contains(_CONTROL_CHARS), records.select(name),
                      pl.lit(f"control character in the {name.replace('_', ' ')}"))
    if records.height and is_dns:
        names = records["query_name"]
        # only a name of more than 63 bytes can be too long or hold too long a label
        qname = pl.col("query_name")
        qname = (pl.when(qname.str.contains("\\", literal=True)).then(qname.str.replace_all(_ESCAPE, "x"))
                 .otherwise(qname))
        size = qname.str.len_chars()
        longest = qname.str.split(".").list.eval(pl.element().str.len_chars()).list.max()
        check(names.str.len_bytes() > MAX_LABEL_CHARS, records.select("query_name"),
              pl.when(size > MAX_NAME_CHARS)
              .then(pl.format("name of {} characters, longer than DNS allows ({})", size, pl.lit(MAX_NAME_CHARS)))
              .when(longest > MAX_LABEL_CHARS)
              .then(pl.format("name with a label of {} characters, longer than DNS allows ({})", longest,
                              pl.lit(MAX_LABEL_CHARS))))
        types = records["query_type"]
        qtype = pl.col("query_type")
        check(~types.is_in(_KNOWN_QTYPES.implode()) & types.is_not_null(), records.select("query_type"),
              pl.when(~qtype.str.contains(r"^TYPE[0-9]{1,5}$"))
              .then(pl.format("unknown query type '{}'", qtype.str.slice(0, 40))))
    if not found:
        return (ParseResult(records, rejected, skipped, result.unescaped, skipped_by, result.tables)
                if set_aside is not None else result)
    reasons = pl.concat(found).unique("row", keep="first", maintain_order=True)
    bad = records[reasons["row"]].with_columns(_reason=reasons["reason"])
    shown = ("client", "query_name", "query_type") if table == "dns_queries" else tuple(
        n for n, t in records.schema.items() if t == pl.String)[:4]
    text = pl.concat_str([pl.col(n).fill_null("-") for n in shown], separator=" ")
    if lines is not None:
        bad = bad.join(lines().select(source_line="line_no", line="line"), on="source_line", how="left",
                       maintain_order="left")
        text = pl.coalesce("line", text)
    bad_rows = bad.select("source_line", reason="_reason", text=text.str.slice(0, REJECTED_TEXT_CHARS))
    keep = pl.Series([True]).extend_constant(True, records.height - 1).scatter(reasons["row"], False)
    return ParseResult(records.filter(keep), pl.concat([rejected, bad_rows]).sort("source_line"), skipped,
                       result.unescaped, skipped_by, result.tables)


def _less_blank(skipped_by: dict[str, int], n: int) -> dict[str, int]:
    """``skipped_by`` less ``n`` lines the parser counted as blank (the reader's set-aside lines, which it
    saw emptied): they are rejected lines now. Without a "blank" class the detail is dropped."""
    if not n or not skipped_by:
        return skipped_by
    if skipped_by.get("blank", 0) < n:
        return {}
    return {**skipped_by, "blank": skipped_by["blank"] - n}


def empty_records(table: str = "dns_queries") -> pl.DataFrame:
    return pl.DataFrame(schema=DNS_RECORD_SCHEMA if table == "dns_queries" else record_schema(table))


def empty_rejected() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_SCHEMA)


def all_rejected(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Rejected rows gathered from several checks (``rejected_from`` frames), in line order."""
    kept = [r for r in parts if r.height]
    return pl.concat(kept).sort("source_line") if kept else empty_rejected()


def rejected_from(lines: pl.DataFrame, reason: str | pl.Expr) -> pl.DataFrame:
    """Rejected rows for every line in ``lines`` (columns line_no, line) with the given reason."""
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    return lines.select(
        pl.col("line_no").alias("source_line"),
        reason_expr.cast(pl.String).alias("reason"),
        pl.col("line").fill_null("").str.slice(0, REJECTED_TEXT_CHARS).alias("text"),
    )


def decode_json_objects(rows: pl.DataFrame, dtype: pl.Struct, what: str,
                        ) -> tuple[list[pl.DataFrame], list[tuple[int, str]]]:
    """Decode ``rows`` (line_no, line: one JSON object a line) against ``dtype`` with Polars' vectorised
    decoder: (frames of line_no and the struct's fields, (line_no, reason) of the lines that fail). On a
    failure the rows are bisected and decoded again, so the decoder still does the work and only the lines
    that really fail are rejected, with its message (``what``: how the reason names a good line, "a Zeek
    JSON record")."""
    try:
        return [rows.select("line_no", pl.col("line").str.json_decode(dtype).alias("j")).unnest("j")], []
    except pl.exceptions.PolarsError as exc:
        if rows.height == 1:
            message = str(exc).splitlines()[0].removeprefix("error deserializing JSON: ")
            return [], [(int(rows["line_no"][0]), f"not {what}: {message}"[:300])]
    half = rows.height // 2
    left, left_bad = decode_json_objects(rows.slice(0, half), dtype, what)
    right, right_bad = decode_json_objects(rows.slice(half), dtype, what)
    return left + right, left_bad + right_bad


def share_sniff(lines: list[str], matches: Callable[[str], object], weight: float = 0.9,
                least: float = 0.5) -> float:
    """A sniffer's score from the share of the first ``lines`` that ``matches``: ``weight`` × the share
    when it is at least ``least``, else 0 (a few lines that happen to match decide nothing)."""
    if not lines:
        return 0.0
    share = sum(1 for line in lines if matches(line)) / len(lines)
    return weight * share if share >= least else 0.0


def lines_frame(lines: list[str], first_line_no: int = 1) -> pl.DataFrame:
    """Build the (line_no, line) frame parsers take; handy in tests."""
    return pl.DataFrame(
        {"line_no": list(range(first_line_no, first_line_no + len(lines))), "line": lines}, schema=LINES_SCHEMA
    )


# --- time --------------------------------------------------------------------------------------------

def host_name(expr: pl.Expr) -> pl.Expr:
    """A Host header or URL host as stored: lower case, the port dropped (``example.com:8080``,
    ``[2001:db8::1]:443``); a bare IPv6 address is kept whole."""
    host = expr.str.to_lowercase()
    bracketed = host.str.extract(r"^\[([^\]]+)\]", 1)
    return (pl.when(bracketed.is_not_null()).then(bracketed)
            .when(host.str.count_matches(":") == 1).then(host.str.split(":").list.first()).otherwise(host))


def localize_expr(expr: pl.Expr, tz: str) -> pl.Expr:
    """Read a naive datetime in zone ``tz`` and return naive UTC (the stored convention)."""
    if tz in ("UTC", "utc", "Z"):
        return expr
    return (
        expr.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH_NAMES = [m.capitalize() for m in _MONTHS]


def year_note(ctx: ParseContext, year: int, first_month: int | None = None, last_year: int | None = None) -> str:
    """What the ingest report says about the year given to year-less stamps, and why: ``--year``, the
    file's modification time (or the year before it, for a first stamp in a later month), or today."""
    rolled = f", rolling over to {last_year} at New Year" if last_year is not None and last_year != year else ""
    if ctx.year is not None:
        return f"year-less stamps read as {year}{rolled} (--year)"
    if ctx.mtime is not None and ctx.path != "-":
        when = f"{ctx.mtime:%Y-%m-%d}"
        if year == ctx.mtime.year:
            why = f"the year the file was last modified ({when})"
        else:
            month = _MONTH_NAMES[(first_month or 1) - 1]
            why = f"the year before the file was last modified ({when}), as its first stamp ({month}) is later in the year"
    else:
        why = "the current year (stdin has no modification time)"
    return f"year-less stamps read as {year}, {why}{rolled}; --year changes it"


def iso_timestamps(stamps: pl.Series, tz: str) -> pl.Series:
    """ISO 8601 stamps (``T`` or a space between date and time, optional fraction, ``Z``, ``+hh:mm`` or
    ``+hhmm``: rsyslog's high-precision ``RSYSLOG_FileFormat``, RFC 5424) -> naive UTC; a stamp with an
    offset or Z is converted, a naive one read in ``tz``; one that does not parse comes back null."""
    s = stamps.str.replace(" ", "T").str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d\d)(\d\d)$", "$1:$2")
    has_offset = s.str.contains(r"[+-]\d\d:\d\d$")
    aware = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us", time_zone="UTC")
    naive = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    frame = pl.DataFrame({"a": aware.dt.replace_time_zone(None), "n": naive, "o": has_offset})
    return frame.select(pl.when(pl.col("o")).then(pl.col("a"))
                        .otherwise(localize_expr(pl.col("n"), tz)).alias(stamps.name)).to_series()


_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def is_ctime_stamp(text: pl.Expr) -> pl.Expr:
    """Whether a text starts with a ctime stamp (``Wed Dec  3 06:00:01 2026``: OpenWrt's ``logread``)."""
    return text.str.slice(0, 3).is_in(_WEEKDAYS) & (text.str.slice(3, 1) == " ") & (text.str.slice(7, 1) == " ")


def ctime_timestamps(stamps: pl.Series, tz: str) -> pl.Series:
    """ctime stamps (``Wed Dec  3 06:00:01 2026``, the day space-padded; what OpenWrt's ``logread``
    prints) -> naive UTC, read in ``tz``; one that does not parse comes back null."""
    text = stamps.str.slice(4).str.replace_all(r"\s+", " ").str.strip_chars()  # the weekday adds nothing
    return pl.DataFrame({"t": text}).select(localize_expr(
        pl.col("t").str.strptime(pl.Datetime("us"), "%b %d %H:%M:%S %Y", strict=False), tz)
        .alias(stamps.name)).to_series()


def syslog_timestamps(stamps: pl.Series, ctx: ParseContext) -> pl.Series:
    """Year-less syslog stamps (``May  9 02:36:02``, optional fraction) -> naive UTC datetimes.

    The first stamp of a file takes ``--year`` if given; otherwise the file's mtime year, or the year
    before when that would put the stamp more than a day after the mtime (a December log written to in
    January; a log of December 21 in a file last modified on December 3). Each
    later stamp whose month goes back by more than a month rolls the year over (New Year), unless that would
    put it more than a day after the file's mtime (lines out of order: it keeps the latest year not after
    it). State is kept in ``ctx.state`` so rollover works across chunks. Stamps that do not parse come back
    null.

    Consecutive lines mostly share their stamp: the work is done once per run of equal stamps and the
    result spread back over the run.
    """
    if stamps.len() == 0:
        return pl.Series(stamps.name, [], dtype=pl.Datetime("us"))
    run = stamps.rle_id()
    starts = stamps.filter(run != run.shift(1, fill_value=-1))
    return _syslog_run_timestamps(starts, ctx).gather(run).alias(stamps.name)


def _after_mtime(stamp: str, mtime: dt.datetime) -> bool:
    """Whether a year-less stamp (``Dec 21 10:00:00``), read in the year of the file's modification time,
    would lie more than a day after it: then it is from the year before. Compared by month, then by the
    whole stamp (a day's slack for zones and a last line written as the file closed)."""
    words = stamp.split()
    month = _MONTHS.get(words[0][:3].lower(), 0) if words else 0
    if month != mtime.month:
        return month > mtime.month
    try:
        hour, minute, second = (int(part) for part in words[2][:8].split(":"))
        when = dt.datetime(mtime.year, month, int(words[1]), hour, minute, second)
    except (IndexError, ValueError):
        return False
    return when > mtime.astimezone(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)


def _syslog_run_timestamps(stamps: pl.Series, ctx: ParseContext) -> pl.Series:
    s = stamps.str.strip_chars()
    month = s.str.slice(0, 3).str.to_lowercase().replace_strict(_MONTHS, default=None, return_dtype=pl.Int32)
    state = ctx.state
    if "syslog_year" not in state:
        first = month.drop_nulls()
        if first.len() == 0:
            return pl.Series(stamps.name, [None] * stamps.len(), dtype=pl.Datetime("us"))
        first_month = int(first[0])
        if ctx.year is not None:
            year = ctx.year
        elif ctx.mtime is not None:
            year = ctx.mtime.year - (1 if _after_mtime(str(s.filter(month.is_not_null())[0]), ctx.mtime) else 0)
        else:
            year = dt.datetime.now(dt.UTC).year
        state["syslog_year"] = year
        state["syslog_month"] = first_month
        state["syslog_first_year"], state["syslog_first_month"] = year, first_month
        ctx.assumed_year = year
        ctx.notes["year"] = year_note(ctx, year, first_month)
    prev_month = state["syslog_month"]
    # forward-fill months so unparsable lines do not break the rollover sequence
    filled = month.fill_null(strategy="forward").fill_null(prev_month)
    previous = filled.shift(1, fill_value=prev_month)
    years = ((previous - filled) > 1).cast(pl.Int32).cum_sum() + state["syslog_year"]
    fmt = "%Y %b %d %H:%M:%S%.f" if s.str.contains(".", literal=True).any() else "%Y %b %d %H:%M:%S"
    spaced = " " + s.str.replace_all(r"\s+", " ")

    def parsed(years: pl.Series) -> pl.Series:
        return pl.DataFrame({"t": years.cast(pl.String) + spaced}).select(
            localize_expr(pl.col("t").str.strptime(pl.Datetime("us"), fmt, strict=False), ctx.tz).alias(stamps.name)
        ).to_series()

    out = parsed(years)
    if ctx.mtime is not None:
        # a New Year that would put stamps after the file was last written is lines out of order, not a
        # New Year: those stamps keep the latest year that is not after it (and never go back before the
        # year the chunk began in)
        limit = ctx.mtime.astimezone(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
        late = out > limit
        if late.any():
            allowed = pl.when(parsed(pl.repeat(limit.year, len(s), eager=True)) > limit).then(
                limit.year - 1).otherwise(limit.year)
            years = pl.select(pl.max_horizontal(pl.min_horizontal(pl.lit(years), allowed),
                                                pl.lit(state["syslog_year"]))).to_series().cast(pl.Int32)
            out = parsed(years)
    state["syslog_year"] = int(years[-1]) if years.len() else state["syslog_year"]
    if state["syslog_year"] != state.get("syslog_noted_last", state["syslog_first_year"]):
        state["syslog_noted_last"] = state["syslog_year"]
        ctx.notes["year"] = year_note(ctx, state["syslog_first_year"], state["syslog_first_month"],
                                   state["syslog_year"])
    state["syslog_month"] = int(filled[-1]) if filled.len() else prev_month
    # the stamps are the starts of runs of equal stamps (syslog_timestamps): each is parsed once as it is
    return out


def skipped_by_kind(rows: pl.DataFrame, reasons: dict[str, str]) -> dict[str, int]:
    """Skipped lines counted by class, for parsers that give each line a ``kind``: the lines of each kind in
    ``reasons`` (kind -> the reason reported), blank ones counted as "blank" whatever their kind."""
    kind, blank = pl.col("kind"), pl.col("line").fill_null("").str.strip_chars() == ""
    counts = rows.select((kind.is_in(list(reasons)) & blank).sum().alias("blank"),
                         *(((kind == k) & ~blank).sum().alias(reason) for k, reason in reasons.items()))
    return counts.row(0, named=True)


def join_across_chunks(rows: pl.DataFrame, ctx: ParseContext, carry_key: str, hold_back: int,
                       records_of: Callable[[pl.DataFrame], pl.DataFrame], context: int = 0,
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The one cross-chunk join of the line parsers that join a question to lines logged near it (a
    response, a forward, a rewrite: Pi-hole, tcpdump, Windows DNS, BIND).

    ``rows``: this chunk's rows (sorted by ``line_no``). The parser's joins must be *bounded*: a line joins
    only lines less than a window W away (``join_asof(..., tolerance=W - 1)``, a distance check), so a
    record depends on the lines within W of it and on nothing else. Then the chunking cannot change a
    record: the rows this call accounts for are those from where the previous chunk stopped up to the last
    ``hold_back`` rows (>= W: the lines a question's answers may still be in), which wait for the next
    chunk; and the last ``context`` rows before them (>= W: the lines an answer's question may be in,
    already accounted for) are kept as well, to be joined with but never counted or recorded again.
    ``records_of`` builds records (with a ``line_no`` column) from the whole frame; those of the rows
    accounted for are kept. A format whose decisions chain two joins (BIND: a rewrite joins the nearest
    record, and a response is a record of its own when no question took it) needs 2W of each.
    ``ctx.final`` (the file's last chunk) accounts for everything left. Returns the rows this chunk
    accounts for and their records (both carry ``line_no``)."""
    carried = ctx.state.pop(carry_key, None)
    start: int | None = None
    if carried is not None:
        held, start = carried
        rows = pl.concat([held, rows], how="vertical_relaxed") if held.height else rows
    records = records_of(rows)
    line_no = pl.col("line_no")
    mine = line_no >= start if start is not None else None
    if not ctx.final and rows.height:
        keep = max(0, rows.height - hold_back)
        cut = int(rows["line_no"][keep]) if keep < rows.height else None
        if cut is not None:
            ctx.state[carry_key] = (rows.slice(max(0, keep - context)), cut)
            mine = line_no < cut if mine is None else mine & (line_no < cut)
    if mine is None:
        return rows, records
    return rows.filter(mine), records.filter(mine)
