"""base.screened: what no line may store, whatever its format (issue 9, items 8 and 10) — names longer
than DNS allows, control characters in any text field, unknown query types — and the reader's set-aside
lines joining the parser's rejected ones."""

from __future__ import annotations

import json

import polars as pl
import pytest

from netsift.ingest.base import (
    REJECTED_SCHEMA,
    ParseContext,
    ParseResult,
    empty_rejected,
    finish_dns_records,
    lines_frame,
    screened,
)
from netsift.ingest.formats import parsers

LABEL = "a" * 63


def records(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"ts": [None] * n, "client": ["10.0.0.1"] * n, "query_type": ["A"] * n,
            "source_line": list(range(1, n + 1))}
    return finish_dns_records(pl.DataFrame({**base, **columns}))


def screen(frame: pl.DataFrame, lines=None) -> ParseResult:
    return screened(ParseResult(frame, empty_rejected(), 0, unescaped=True), lines=lines)


def name_of(length: int) -> str:
    """A name of ``length`` characters with labels of at most 63."""
    labels, left = [], length
    while left > 0:
        take = min(63, left)
        labels.append("b" * take)
        left -= take + 1
    name = ".".join(labels)
    return name[:length] if len(name) >= length else name + "c" * (length - len(name))


@pytest.mark.parametrize("name, kept, reason", [
    (name_of(253), True, None),
    (name_of(253) + ".", True, None),  # counted without the trailing dot
    (name_of(254), False, "name of 254 characters, longer than DNS allows (253)"),
    ("x" * 209_715, False, "name of 209715 characters"),
    (f"{LABEL}.example.com", True, None),
    (f"a{LABEL}.example.com", False, "a label of 64 characters"),
    ("www." + "\\000" * 60 + ".example", True, None),  # dig-style escapes from a capture count as one
])
def test_name_and_label_lengths(name, kept, reason):
    result = screen(records(query_name=[name, "ok.example.com"]))
    assert result.records["query_name"].to_list()[:1] == ([name.removesuffix(".")] if kept else ["ok.example.com"])
    assert result.lines_accounted == 2
    if reason:
        assert reason in result.rejected["reason"][0] and result.rejected["source_line"][0] == 1


@pytest.mark.parametrize("column, value", [
    ("client", "10.0.0.1\x1b]0;owned\x07"),
    ("query_name", "x\x00.example.com"),
    ("resolver_action", "blocked:\x1b[2J"),
    ("query_type", "A\x00"),
    ("answers", ["1.2.3.4", "\x9b31m"]),
])
def test_a_control_character_in_any_text_field_rejects_the_record(column, value):
    frame = records(**{"query_name": ["x.example.com"], column: [value]})
    frame = pl.concat([frame, records(query_name=["ok.example.com"]).with_columns(source_line=pl.lit(2, pl.Int64))])
    result = screen(frame)
    assert result.records["query_name"].to_list() == ["ok.example.com"]
    assert result.rejected.rows() == [(1, f"control character in the {column.replace('_', ' ')}",
                                       result.rejected["text"][0])]


@pytest.mark.parametrize("qtype, kept", [
    ("A", True), ("HTTPS", True), ("NSAP-PTR", True), ("TYPE65534", True), ("A6", True), ("NB", True),
    ("NBSTAT", True),
    ("A]", False), ("FOO", False), ("TYPE", False), ("", False),
])
def test_a_query_type_is_a_known_mnemonic_or_typennn(qtype, kept):
    result = screen(records(query_name=["x.example.com"], query_type=[qtype]))
    assert result.records.height == int(kept)
    if not kept:
        assert result.rejected["reason"][0].startswith("unknown query type")


def test_a_rejected_record_keeps_its_line_text_when_the_lines_are_known():
    lines = lines_frame(["the original line"])
    result = screen(records(query_name=[name_of(300)]), lines=lambda: lines)
    assert result.rejected["text"].to_list() == ["the original line"]


def test_set_aside_lines_join_the_rejected_and_leave_the_skipped():
    aside = pl.DataFrame([(2, "control character 0x00 (NUL) in the line", "a")], schema=REJECTED_SCHEMA, orient="row")
    kept = screened(ParseResult(records(query_name=["ok.example.com"]), empty_rejected(), 2), aside)
    assert (kept.records.height, kept.rejected.height, kept.skipped) == (1, 1, 1)
    # a parser that rejected the emptied line itself: the reader's reason wins, counted once
    theirs = pl.DataFrame([(2, "not a log line", "")], schema=REJECTED_SCHEMA, orient="row")
    kept = screened(ParseResult(records(query_name=["ok.example.com"]), theirs, 1), aside)
    assert kept.rejected.rows() == aside.rows() and kept.skipped == 1


def test_a_clean_result_passes_unchanged():
    result = ParseResult(records(query_name=["a.example.com", "b.example.com"]), empty_rejected(), 3)
    assert screened(result) is result


ZEEK = {"ts": 1700000000.0, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 5353, "id.resp_h": "10.0.0.53",
        "id.resp_p": 53, "proto": "udp", "query": "a.example.com", "qtype": 1, "qtype_name": "A", "rcode": 0,
        "rcode_name": "NOERROR"}


@pytest.mark.parametrize("field, value, reason", [
    ("id.orig_h", "10.0.0.1\u001b[2J", "control character in the client"),
    ("query", "evil\u0000.example.com", "control character in the query name"),
    ("query", "x" * 300 + ".example.com", "longer than DNS allows"),
    ("qtype_name", "A]", "unknown query type"),
])
def test_escaped_fields_of_a_json_log_are_screened_too(field, value, reason):
    line = json.dumps({**ZEEK, field: value})
    if field == "qtype_name":
        line = json.dumps({k: v for k, v in {**ZEEK, field: value}.items() if k != "qtype"})
    lines = lines_frame([line, json.dumps(ZEEK)])
    result = screened(parsers()["zeek_json"].parse(lines, ParseContext()), lines=lambda: lines)
    assert result.records.height == 1 and result.rejected.height == 1
    assert reason in result.rejected["reason"][0] and result.rejected["text"][0] == line
