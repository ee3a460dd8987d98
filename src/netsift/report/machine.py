"""Machine output on stdout: JSON (one document), NDJSON (one object per line) and CSV. Lists and nested
values are JSON-encoded inside CSV cells. Timestamps are ISO 8601 UTC.

Values are exact. JSON escapes C0 control characters itself; DEL, C1 and the Unicode bidi controls (which
JSON allows raw) are written as ``\\u`` escapes too, so JSON and NDJSON are safe to print on a terminal and
decode to the same string. CSV keeps every value as it is, control characters included (a CSV is for a
program or a spreadsheet, not a terminal)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

from netsift.report import console
from netsift.report.console import BEYOND_C0


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    return str(value)


# what json.dumps(ensure_ascii=False) leaves raw but a terminal would act on; it can only occur inside
# JSON strings, where a \\u escape stands for the same character
_RAW_CONTROLS = re.compile(f"[{BEYOND_C0}]")


def _escaped(text: str) -> str:
    return _RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps(obj: Any, indent: int | None = None) -> str:
    return _escaped(json.dumps(obj, default=_default, ensure_ascii=False, indent=indent))


def write_json(obj: Any, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    out.write(dumps(obj, indent=2) + "\n")


def write_ndjson(rows: Iterable[dict], out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    for row in rows:
        out.write(dumps(row) + "\n")


def write_csv(rows: list[dict], out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    if not rows:
        return
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (dumps(v) if isinstance(v, (list, dict)) else
                             v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()})


def emit(rows: list[dict], output: str | None, title: str, columns: list[str] | None = None,
         shown: list[list] | None = None) -> None:
    """Rows as ``--json`` / ``--ndjson`` / ``--csv`` asked, else a terminal table of ``columns`` (``shown``:
    the cells to print instead of the raw values, e.g. sizes in kB)."""
    if output == "json":
        write_json(rows)
    elif output == "ndjson":
        write_ndjson(rows)
    elif output == "csv":
        write_csv(rows)
    else:
        cols = columns or (list(rows[0]) if rows else [])
        cells = shown if shown is not None else [[r.get(c) for c in cols] for r in rows]
        console.console().print(console.table(title, cols, cells))
