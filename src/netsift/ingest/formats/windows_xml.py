"""Windows events exported as XML (``wevtutil qe Security /f:xml``, ``Get-WinEvent | % { $_.ToXml() }``,
Event Viewer's "Save as XML"): ``<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">``
elements, one after another or inside an ``<Events>`` root.

Rows go to ``logon_events``, as for ``windows_evtx`` (the same event ids and fields,
``ingest/windows_events.py``): ``System/EventID``, ``System/TimeCreated/@SystemTime`` (UTC),
``System/Computer``, ``EventData/Data[@Name]`` (unnamed ``Data`` elements for MSSQL's 18456). Each
``<Event>`` element is one unit (its ``source_line`` is its position in the file, 1-based), parsed on its
own: a malformed event is rejected, its neighbours are read. A document with a DTD (``<!DOCTYPE``) is
refused whole (entity expansion). Sysmon's DNS query events (22) go to ``dns_queries``, its
network connection events (3) to ``connections``. Skipped: events of
other ids. Rejected: malformed events, events without a readable time.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import polars as pl

from netsift.ingest.base import REJECTED_TEXT_CHARS, ParseContext, Parser, ParseResult, empty_rejected
from netsift.ingest.windows_events import TABLE, event_rows, frame_of, iso_stamps

_EVENT = re.compile(r"<Event[\s>].*?</Event>", re.S)
NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _event(unit: int, text: str) -> dict:
    root = ET.fromstring(text)
    event: dict = {"unit": unit}
    data_values: list[str | None] = []
    for part in root:
        kind = _local(part.tag)
        if kind == "System":
            for el in part:
                name = _local(el.tag)
                if name == "EventID":
                    event["EventID"] = (el.text or "").strip()
                elif name == "TimeCreated":
                    event["ts"] = el.get("SystemTime")
                elif name == "Computer":
                    event["Computer"] = el.text
                elif name == "Provider":
                    event["Provider"] = el.get("Name")
        elif kind in ("EventData", "UserData"):
            for el in part.iter():
                if _local(el.tag) != "Data":
                    continue
                field = el.get("Name")
                if field:
                    event[field] = el.text
                else:
                    data_values.append(el.text)
    if data_values:
        event["Data"] = data_values
    return event


def parse_document(text: str, ctx: ParseContext) -> ParseResult:
    if "<!DOCTYPE" in text[:4096].upper():
        raise ValueError("an XML document with a DTD (<!DOCTYPE): refused, entities are not expanded")
    events, bad = [], []
    for unit, match in enumerate(_EVENT.finditer(text), start=1):
        try:
            events.append(_event(unit, match.group(0)))
        except ET.ParseError as exc:
            bad.append((unit, f"malformed event XML: {exc}", match.group(0)[:REJECTED_TEXT_CHARS]))
    rows = event_rows(frame_of(events), iso_stamps(pl.col("ts")))
    bad += [(int(n), "event without a readable TimeCreated", "") for n in rows.unstamped]
    rejected = pl.DataFrame(bad, schema=empty_rejected().schema, orient="row") if bad else empty_rejected()
    return ParseResult(rows.logons, rejected.sort("source_line"), skipped_by=rows.skipped_by, tables=rows.tables())


def sniff(lines: list[str]) -> float:
    head = " ".join(lines[:20])
    if "<Event" in head and NS in head:
        return 0.95
    return 0.6 if re.search(r"<Event[\s>]", head) and "<EventID" in head else 0.0


PARSER = Parser("windows_xml", "Windows events exported as XML (wevtutil /f:xml, ToXml(), Save as XML): the "
                "logon events, Sysmon DNS queries and connections of windows_evtx", "document", table=TABLE,
                also_writes=("dns_queries", "connections"), sniff=sniff, parse_document=parse_document)
