"""Machine output on stdout: JSON (one document), NDJSON (one object per line) and CSV. Lists and nested
values are JSON-encoded inside CSV cells. Timestamps are ISO 8601 UTC."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable
from typing import IO, Any


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    return str(value)


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_default, ensure_ascii=False)


def write_json(obj: Any, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    json.dump(obj, out, default=_default, ensure_ascii=False, indent=2)
    out.write("\n")


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
