"""systemd journal export, ``journalctl -o json`` (one JSON object per line): the authentication
messages of sshd, sudo, su, login and PAM, read as in ``linux_auth``.

Rows go to ``logon_events``. Fields used: ``__REALTIME_TIMESTAMP`` (microseconds since the epoch, UTC),
``_HOSTNAME`` (the host), ``SYSLOG_IDENTIFIER`` (else ``_COMM``: the program) and ``MESSAGE``; the
messages are those listed under ``linux_auth`` (same rules, ``ingest/auth_messages.py``). A ``MESSAGE``
journald stored as an array of bytes (non-UTF-8 text) is decoded as UTF-8 with replacement. Every other
field is ignored.

Skipped, counted by class: entries of other programs, other messages of these programs, entries without
a ``MESSAGE``, blank lines. Rejected: lines that are not a JSON object, entries without a readable
``__REALTIME_TIMESTAMP``, and authentication messages in an unrecognised form.
"""

from __future__ import annotations

import json

import polars as pl

from netsift.ingest.auth_messages import TABLE, auth_events
from netsift.ingest.base import ParseContext, Parser, ParseResult, rejected_from

_FIELDS = {"stamp": "__REALTIME_TIMESTAMP", "host": "_HOSTNAME", "ident": "SYSLOG_IDENTIFIER", "comm": "_COMM",
           "message": "MESSAGE"}


def _byte_array_text(value: str | None) -> str | None:
    """MESSAGE stored as a JSON array of bytes -> text (UTF-8, replacement for bad bytes)."""
    if value is None or not value.startswith("["):
        return value
    try:
        return bytes(json.loads(value)).decode("utf-8", errors="replace")
    except (ValueError, TypeError):
        return None


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    text = pl.col("line").fill_null("").str.strip_chars()
    blank = lines.filter(text == "")
    rows = lines.filter(text != "")
    got = rows.with_columns(**{k: text.str.json_path_match(f"$.{v}") for k, v in _FIELDS.items()})
    is_object = text.str.starts_with("{") & text.str.ends_with("}")
    valid = is_object & pl.any_horizontal(pl.col(k).is_not_null() for k in _FIELDS)
    not_json = got.filter(~valid)
    got = got.filter(valid)
    arrays = got["message"].str.starts_with("[").fill_null(False)
    if arrays.any():
        got = got.with_columns(message=pl.when(arrays).then(
            got["message"].map_elements(_byte_array_text, return_dtype=pl.String)).otherwise(pl.col("message")))
    no_message = got.filter(pl.col("message").is_null())
    got = got.filter(pl.col("message").is_not_null())
    stamp = pl.col("stamp").cast(pl.Int64, strict=False)
    env = got.select("line_no", "line", ts=pl.from_epoch(stamp, time_unit="us"), host="host",
                     program=pl.coalesce("ident", "comm").fill_null(""), message="message")
    result = auth_events(env)
    rejected = pl.concat([result.rejected, rejected_from(not_json, "not a journal JSON entry")]).sort("source_line")
    return ParseResult(result.records, rejected, unescaped=True,
                       skipped_by={**result.skipped_by, "no MESSAGE": no_message.height, "blank": blank.height})


def sniff(lines: list[str]) -> float:
    """JSON objects with the journal's __REALTIME_TIMESTAMP and MESSAGE (or _COMM) fields."""
    sample = [ln.strip() for ln in lines[:50] if ln.strip()]
    if not sample:
        return 0.0
    hits = sum(1 for ln in sample if ln.startswith("{") and '"__REALTIME_TIMESTAMP"' in ln
               and ('"MESSAGE"' in ln or '"_COMM"' in ln))
    return 0.95 if hits * 2 > len(sample) else 0.0


PARSER = Parser("journald_json", "systemd journal export (journalctl -o json): sshd, sudo, su, login, PAM",
                "lines", table=TABLE, sniff=sniff, parse=parse)
