"""Windows event log file (EVTX: Security, or Application for MSSQL), read with the Rust-backed ``evtx``
package (``pip install evtx``; the pure-Python parsers are about 100× slower).

Rows go to ``logon_events``; the event ids and fields read are those of
``ingest/windows_events.py`` (4624, 4625, 4634, 4647, 4648, 4672, 4768, 4769, 4771, 4776 and MSSQL's
18456); Sysmon's DNS query events (22, from its Operational log) go to ``dns_queries`` and its network
connection events (3) to ``connections``. EVTX is not line-based: a record's "line" (``source_line``) is its record number in the file
(``event_record_id``). Records are read in batches of 20,000; the time is the event's
``TimeCreated/SystemTime`` (UTC). Skipped, counted by class: records of other event ids. Rejected: a
record the library cannot decode (its reason), a record without a readable time. A truncated file keeps
the records read before the damage, and the ingest report says where it stopped.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import evtx
import orjson
import polars as pl

from netsift.ingest.base import ParseContext, Parser, ParseResult, empty_rejected
from netsift.ingest.windows_events import DATA_FIELDS, READ_IDS, TABLE, event_rows, frame_of, iso_stamps

MAGIC = b"ElfFile\x00"
BATCH = 20_000
SPOOL_BYTES = 64 << 20
# a record's JSON holds "EventID": 4624 (or, with qualifiers, {..., "#text": 18456}): read the others no further
_EVENT_ID = re.compile(r'"EventID":\s*(?:\{[^}]*?"#text":\s*)?"?(\d+)')
_WANTED = frozenset(str(i) for i in READ_IDS)


def _event(record: dict) -> dict | None:
    """An evtx record -> an event dict (None when its id is not one we read)."""
    text = record["data"]
    found = _EVENT_ID.search(text)
    if found is None or found.group(1) not in _WANTED:
        return None
    doc = orjson.loads(text)["Event"]  # ~3x json.loads on these records
    system = doc.get("System") or {}
    eid = system.get("EventID")
    if isinstance(eid, dict):
        eid = eid.get("#text")
    data = doc.get("EventData") or {}
    event = {"unit": record["event_record_id"], "EventID": eid, "Computer": system.get("Computer"),
             "ts": ((system.get("TimeCreated") or {}).get("#attributes") or {}).get("SystemTime")
             or record.get("timestamp"),
             "Provider": ((system.get("Provider") or {}).get("#attributes") or {}).get("Name")}
    if isinstance(data, dict):
        if "Data" in data:
            values = data["Data"]
            event["Data"] = values if isinstance(values, list) else [values]
        for k in DATA_FIELDS:
            if k in data:
                event[k] = data[k]
    return event


def _result(events: list[dict], skipped: int, rejected: list[tuple[int, str, str]]) -> ParseResult:
    rows = event_rows(frame_of(events), iso_stamps(pl.col("ts")))
    bad = [*rejected, *((int(n), "event without a readable time", "") for n in rows.unstamped)]
    rej = (pl.DataFrame(bad, schema=empty_rejected().schema, orient="row") if bad else empty_rejected())
    skipped_by = {**rows.skipped_by, "other event id": skipped + rows.skipped_by["other event id"]}
    return ParseResult(rows.logons, rej.sort("source_line"), skipped_by=skipped_by, tables=rows.tables())


def parse_stream(stream: IO[bytes], ctx: ParseContext) -> Iterator[ParseResult]:
    if not (hasattr(stream, "seekable") and stream.seekable()):  # the library seeks: spool a pipe or a
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # decompressed stream (disk past 64 MiB)
        shutil.copyfileobj(stream, spool, 1 << 20)
        spool.seek(0)
        stream = spool
    try:
        parser = evtx.PyEvtxParser(stream, number_of_threads=1)
    except (RuntimeError, OSError) as exc:
        raise ValueError(f"not a readable EVTX file: {exc}") from exc
    read_any = False
    for result in results_of(parser.records_json()):
        read_any = True
        yield result
    if not read_any:
        raise ValueError("no EVTX record could be read (an empty or damaged event log)")


def results_of(records: Iterator[Any]) -> Iterator[ParseResult]:
    """The evtx library's records (``records_json()``) as ParseResults of up to ``BATCH`` records each."""
    events: list[dict] = []
    skipped = 0
    rejected: list[tuple[int, str, str]] = []
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except (RuntimeError, OSError) as exc:  # a record the library cannot decode: it says which
            rejected.append((len(events) + skipped + len(rejected) + 1, f"undecodable EVTX record: {exc}"[:300], ""))
            if len(rejected) > 1000:
                raise ValueError(f"too many undecodable records ({exc})") from exc
            continue
        event = _event(record) if record is not None else None
        if event is None:
            skipped += 1
        else:
            events.append(event)
        if len(events) + skipped >= BATCH:
            yield _result(events, skipped, rejected)
            events, skipped, rejected = [], 0, []
    if events or skipped or rejected:
        yield _result(events, skipped, rejected)


def sniff_bytes(head: bytes) -> float:
    return 1.0 if head.startswith(MAGIC) else 0.0


PARSER = Parser("windows_evtx", "Windows event log (EVTX): Security logons 4624/4625/4634/4647/4648/4672/4768/"
                "4769/4771/4776, MSSQL 18456", "binary", table=TABLE,
                also_writes=("dns_queries", "connections"), sniff_bytes=sniff_bytes,
                parse_stream=parse_stream)
