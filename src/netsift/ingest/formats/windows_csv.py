"""Windows events exported as CSV with their fields as columns (``Get-WinEvent ... | Select-Object
TimeCreated, Id, MachineName, @{n='TargetUserName'; e={...}} ... | Export-Csv``, a SIEM export, a
spreadsheet): a header naming an event-id column and event-data columns.

Rows go to ``logon_events``, as for ``windows_evtx`` (``ingest/windows_events.py``). Columns are matched
by name, case and spaces ignored: the event id (``EventID``, ``Id``, ``Event ID``), the time
(``TimeCreated``, ``SystemTime``, ``TimeGenerated``, ``Date and Time``, ``Date``: ISO 8601, or Event
Viewer's ``3/3/2026 2:02:11 PM``; read in ``--tz`` unless it ends in ``Z``), the computer (``Computer``,
``MachineName``, ``ComputerName``) and the EventData names (``TargetUserName``, ``TargetDomainName``,
``IpAddress``, ``IpPort``, ``WorkstationName``, ``LogonType``, ``Status``, ``SubStatus``, ...). Other
columns (``Message`` included: its text is not read) are ignored. The file is read whole (quoted fields
may span lines); each data row is a unit (``source_line``: its row number, the header being row 1).
Skipped: rows of other event ids. Rejected: rows without an event id or a readable time.
"""

from __future__ import annotations

import io

import polars as pl

from netsift.ingest.base import (ParseContext, Parser, ParseResult, empty_rejected, localize_expr,
                                 rejected_from)
from netsift.ingest.windows_events import DATA_FIELDS, TABLE, logon_rows

_ALIASES = {
    "eventid": "EventID", "id": "EventID", "event id": "EventID",
    "timecreated": "ts", "systemtime": "ts", "timegenerated": "ts", "date and time": "ts", "date": "ts",
    "computer": "Computer", "machinename": "Computer", "computername": "Computer",
    **{f.lower(): f for f in DATA_FIELDS},
}
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


def parse_document(text: str, ctx: ParseContext) -> ParseResult:
    frame = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=True)
    named = {c: _ALIASES[_key(c)] for c in frame.columns if _key(c) in _ALIASES}
    if "EventID" not in named.values():
        raise ValueError("no event id column (EventID, Id, Event ID) in the header")
    taken: set[str] = set()
    cols = []
    for c, canonical in named.items():
        if canonical not in taken:
            taken.add(canonical)
            cols.append(pl.col(c).alias(canonical))
    frame = frame.select(unit=pl.int_range(2, frame.height + 2, dtype=pl.Int64), *cols, line=pl.concat_str(
        [pl.col(c).fill_null("") for c in frame.columns], separator=","))
    for missing in ("ts", "Computer", "Provider", *DATA_FIELDS):
        if missing not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(missing))
    no_id = frame.filter(pl.col("EventID").cast(pl.Int64, strict=False).is_null())
    frame = frame.filter(pl.col("EventID").cast(pl.Int64, strict=False).is_not_null())
    records, other = logon_rows(frame, _stamps(pl.col("ts"), ctx.tz))
    no_ts = records.filter(pl.col("ts").is_null())["source_line"]
    rejected = [rejected_from(no_id.select(line_no="unit", line="line"), "no event id"),
                rejected_from(frame.filter(pl.col("unit").is_in(no_ts.implode())).select(line_no="unit", line="line"),
                              "no readable time")]
    return ParseResult(records.filter(pl.col("ts").is_not_null()),
                       pl.concat(rejected).sort("source_line") if rejected else empty_rejected(),
                       skipped_by={"other event id": other, "header": 1})


def sniff(lines: list[str]) -> float:
    if not lines:
        return 0.0
    header = {_key(c) for c in lines[0].split(",")}
    has_id = bool(header & {"eventid", "id", "event id"})
    data = header & {f.lower() for f in DATA_FIELDS}
    return 0.9 if has_id and data else 0.0


PARSER = Parser("windows_csv", "Windows events exported as CSV with their fields as columns (EventID, "
                "TimeCreated, TargetUserName, IpAddress, ...)", "document", table=TABLE, sniff=sniff,
                parse_document=parse_document)
