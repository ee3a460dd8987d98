"""Windows events exported as CSV: with their fields as columns (``Get-WinEvent ... | Select-Object
TimeCreated, Id, MachineName, @{n='TargetUserName'; e={...}} ... | Export-Csv``, a SIEM export, a
spreadsheet), or whole events with their fields only in the rendered message (Event Viewer's "Save as CSV":
``Keywords,Date and Time,Source,Event ID,Task Category`` and the message as an unnamed last field;
``Get-WinEvent | Export-Csv``: ``Message,Id,...,TimeCreated,...``, after PowerShell 5's ``#TYPE`` line).

Rows go to ``logon_events``, as for ``windows_evtx`` (``ingest/windows_events.py``). Columns are matched
by name, case and spaces ignored: the event id (``EventID``, ``Id``, ``Event ID``), the time
(``TimeCreated``, ``SystemTime``, ``TimeGenerated``, ``Date and Time``, ``Date``: ISO 8601, or Event
Viewer's ``3/3/2026 2:02:11 PM``; read in ``--tz`` unless it ends in ``Z``), the computer (``Computer``,
``MachineName``, ``ComputerName``) and the EventData names (``TargetUserName``, ``TargetDomainName``,
``IpAddress``, ``IpPort``, ``WorkstationName``, ``LogonType``, ``Status``, ``SubStatus``, ...). A
``Message`` (or ``Description``) column fills the event-data fields the columns lack, read from the
English message text (``ingest/windows_message.py``). Other columns are ignored. The file is read whole
(quoted fields may span lines); each data row is a unit (``source_line``: its row number, the header being
row 1, or row 2 after a ``#TYPE`` line).
Skipped: rows of other event ids. Rejected: rows without an event id or a readable time.
"""

from __future__ import annotations

import csv
import io
import itertools

import polars as pl

from netsift.ingest.base import (ParseContext, Parser, ParseResult, empty_rejected, localize_expr,
                                 rejected_from)
from netsift.ingest.windows_events import DATA_FIELDS, TABLE, event_rows
from netsift.ingest.windows_message import message_fields

_ALIASES = {
    "eventid": "EventID", "id": "EventID", "event id": "EventID",
    "timecreated": "ts", "systemtime": "ts", "timegenerated": "ts", "date and time": "ts", "date": "ts",
    "computer": "Computer", "machinename": "Computer", "computername": "Computer",
    **{f.lower(): f for f in DATA_FIELDS},
}
_MESSAGE = {"message", "description"}
# columns of an export of whole events (Event Viewer's "Save as CSV", Get-WinEvent | Export-Csv)
_WINDOWS_COLUMNS = {"task category", "keywords", "source", "providername", "logname", "machinename", "recordid",
                    "leveldisplayname", "message", "taskdisplayname", "level"}
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M:%S",
                 "%d.%m.%Y %H:%M:%S")


def _key(name: str) -> str:
    return " ".join(name.strip().strip('"').lower().split())


def _stamps(expr: pl.Expr, tz: str) -> pl.Expr:
    s = expr.str.strip_chars()
    utc = s.str.ends_with("Z")
    s = s.str.strip_suffix("Z").str.replace(r"(\.\d{6})\d+$", "$1")
    parsed = pl.coalesce([s.str.to_datetime(f, strict=False, time_unit="us") for f in _TIME_FORMATS])
    return pl.when(utc).then(parsed).otherwise(localize_expr(parsed, tz))


def _read(text: str) -> tuple[pl.DataFrame, int]:
    """(the CSV as text columns, the first data row's number); rows with one field more than the header
    (Event Viewer's "Save as CSV": the message has no column name) get it as ``Message``."""
    first = 2
    if text.startswith("#TYPE "):
        text, first = text[text.find("\n") + 1:], 3
    head = list(itertools.islice(csv.reader(io.StringIO(text)), 2))
    header = head[0] if head else []
    if len(head) == 2 and len(head[1]) == len(header) + 1 and not any(_key(c) in _MESSAGE for c in header):
        return pl.read_csv(io.StringIO(text), infer_schema=False, has_header=False, skip_rows=1,
                           new_columns=[*header, "Message"], truncate_ragged_lines=True), first
    return pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=True), first


def _with_message_fields(frame: pl.DataFrame, named: dict[str, str]) -> pl.DataFrame:
    """Fill the event-data columns the CSV lacks (or leaves empty) from each row's rendered message."""
    message = next((c for c in frame.columns if _key(c) in _MESSAGE), None)
    if message is None:
        return frame
    event_col = next(c for c, canonical in named.items() if canonical == "EventID")
    found = [message_fields(int(e) if e and e.strip().isdigit() else None, m)
             for e, m in zip(frame[event_col], frame[message], strict=True)]
    fill = {}
    for f in DATA_FIELDS:
        values = [d.get(f) for d in found]
        if any(v is not None for v in values):
            fill[f] = values
    have = {canonical: c for c, canonical in named.items()}
    extra = []
    for f, values in fill.items():
        series = pl.Series(f"_msg_{f}", values, dtype=pl.String)
        frame = frame.with_columns(series)
        if f in have:
            extra.append(pl.coalesce(pl.col(have[f]).replace("", None), pl.col(series.name)).alias(have[f]))
        else:
            named[series.name] = f
    return frame.with_columns(extra) if extra else frame


def parse_document(text: str, ctx: ParseContext) -> ParseResult:
    frame, first = _read(text)
    named = {c: _ALIASES[_key(c)] for c in frame.columns if _key(c) in _ALIASES}
    if "EventID" not in named.values():
        raise ValueError("no event id column (EventID, Id, Event ID) in the header")
    frame = _with_message_fields(frame, named)
    taken: set[str] = set()
    cols = []
    for c, canonical in named.items():
        if canonical not in taken:
            taken.add(canonical)
            cols.append(pl.col(c).alias(canonical))
    shown = [c for c in frame.columns if not c.startswith("_msg_")]
    frame = frame.select(unit=pl.int_range(first, frame.height + first, dtype=pl.Int64), *cols, line=pl.concat_str(
        [pl.col(c).fill_null("") for c in shown], separator=","))
    for missing in ("ts", "Computer", "Provider", *DATA_FIELDS):
        if missing not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(missing))
    no_id = frame.filter(pl.col("EventID").cast(pl.Int64, strict=False).is_null())
    frame = frame.filter(pl.col("EventID").cast(pl.Int64, strict=False).is_not_null())
    rows = event_rows(frame, _stamps(pl.col("ts"), ctx.tz))
    rejected = [rejected_from(no_id.select(line_no="unit", line="line"), "no event id"),
                rejected_from(frame.filter(pl.col("unit").is_in(rows.unstamped.implode())).select(line_no="unit",
                                                                                                   line="line"),
                              "no readable time")]
    return ParseResult(rows.logons, pl.concat(rejected).sort("source_line") if rejected else empty_rejected(),
                       skipped_by={**rows.skipped_by, "header": first - 1}, tables=rows.tables())


def _header(lines: list[str]) -> list[str]:
    """The header line, after PowerShell 5's ``#TYPE System.Diagnostics...`` line when there is one."""
    lines = [x for x in lines[:2] if not x.startswith("#TYPE ")]
    return next(csv.reader(lines[:1]), []) if lines else []


def sniff(lines: list[str]) -> float:
    header = {_key(c) for c in _header(lines)}
    has_id = bool(header & {"eventid", "id", "event id"})
    has_time = bool(header & {k for k, v in _ALIASES.items() if v == "ts"})
    data = header & {f.lower() for f in DATA_FIELDS}
    windows = header & _WINDOWS_COLUMNS  # an export of whole events: the fields are in the message
    return 0.9 if has_id and (data or (has_time and len(windows) >= 2)) else 0.0


PARSER = Parser("windows_csv", "Windows events exported as CSV: fields as columns (EventID, TimeCreated, "
                "TargetUserName, IpAddress, ...) or in the message text (Event Viewer's Save as CSV, Export-Csv)", "document", table=TABLE,
                also_writes=("dns_queries", "connections"), sniff=sniff,
                parse_document=parse_document)
