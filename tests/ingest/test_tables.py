"""Parsers of tables other than dns_queries: each parser declares the record table it writes, the writer
stores its records there, and the bookkeeping (rejected lines, forget, clean-up) is the same for every
table."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from netsift.ingest import bookkeeping
from netsift.ingest.base import (ParseContext, Parser, ParseResult, empty_records, finish_records,
                                 rejected_from, screened)
from netsift.ingest.formats import parsers
from netsift.ingest.run import IngestOptions, ingest_paths
from netsift.schema import record_table
from netsift.store import open_store


def _parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    """'ts user' lines become logon_events rows; a line without a space is rejected; '#' lines skipped."""
    text = pl.col("line")
    comment = lines.filter(text.str.starts_with("#"))
    rest = lines.filter(~text.str.starts_with("#"))
    bad = rest.filter(~text.str.contains(" ", literal=True))
    good = rest.filter(text.str.contains(" ", literal=True)).select(
        ts=text.str.split(" ").list.get(0).str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S"),
        account=text.str.split(" ").list.get(1), service=pl.lit("test"), event=pl.lit("failure"),
        source_line="line_no")
    return ParseResult(finish_records(good, "logon_events"), rejected_from(bad, "no account"),
                       skipped_by={"comment": comment.height})


FAKE = Parser("fake_logons", "test-only logon lines", "lines", table="logon_events",
              sniff=lambda lines: 0.0, parse=_parse)


@pytest.fixture
def fake_format():
    parsers()[FAKE.name] = FAKE
    yield FAKE
    del parsers()[FAKE.name]


def test_a_parser_must_name_a_record_table():
    with pytest.raises(KeyError, match="not a record table.*dns_queries.*logon_events"):
        Parser("x", "x", "lines", table="findings", sniff=lambda lines: 0.0, parse=_parse)
    with pytest.raises(KeyError, match="not a record table"):
        Parser("x", "x", "lines", table="no_such_table", sniff=lambda lines: 0.0, parse=_parse)


def test_records_of_another_table_take_its_columns():
    df = finish_records(pl.DataFrame({"account": ["bob"], "source_line": [3]}), "logon_events")
    assert df.columns == [c for c in record_table("logon_events").column_names if c != "source_file_id"]
    assert empty_records("logon_events").schema == df.schema
    assert empty_records().columns[:3] == ["ts", "client", "query_name"]


def test_the_writer_routes_by_table_and_rejected_lines_are_kept(tmp_path, fake_format):
    f = tmp_path / "auth.txt"
    f.write_text("# header\n2026-01-02T03:04:05 alice\nbroken\n2026-01-02T03:04:06 bob\n")
    with open_store(":memory:") as store:
        summary = ingest_paths(store, [str(f)], IngestOptions(format="fake_logons"))
        report = summary.files[0]
        assert (report.status, report.rows, report.rejected, report.lines) == ("ingested", 2, 1, 4)
        assert store.scalar("SELECT count(*) FROM dns_queries") == 0
        assert store.rows("SELECT account, source_line FROM logon_events ORDER BY source_line") == [
            ("alice", 2), ("bob", 4)]
        assert store.rows("SELECT source_line, reason, text FROM rejected_lines") == [(3, "no account", "broken")]
        assert store.rows("SELECT format, rows, rejected FROM ingested_files") == [("fake_logons", 2, 1)]
        # the file's rows leave with it, whatever the table
        file_id = store.scalar("SELECT file_id FROM ingested_files")
        bookkeeping.discard_after(store, file_id, 2, drop_record=False)
        assert store.rows("SELECT account FROM logon_events") == [("alice",)]
        # a second read of the same file adds nothing
        again = ingest_paths(store, [str(f)], IngestOptions(format="fake_logons")).files[0]
        assert again.status in ("unchanged", "resumed")


def test_screening_of_another_table_checks_its_text_columns_not_dns_names():
    records = finish_records(pl.DataFrame({
        "ts": [dt.datetime(2026, 1, 1)], "account": ["a\x1bb"], "service": ["x"], "event": ["failure"],
        "source_line": [1]}), "logon_events")
    lines = pl.DataFrame({"line_no": [1], "line": ["{...}"]})
    out = screened(ParseResult(records, rejected_from(lines.head(0), ""), unescaped=True),
                   lines=lambda: lines, table="logon_events")
    assert out.records.height == 0
    assert out.rejected.rows() == [(1, "control character in the account", "{...}")]
    # a long account is not a "name longer than DNS allows"
    long = records.with_columns(account=pl.lit("x" * 300))
    assert screened(ParseResult(long, rejected_from(lines.head(0), "")), table="logon_events").records.height == 1


def test_account_and_host_go_through_the_findings_table_and_the_json(tmp_path):
    from netsift.findings import Finding
    from netsift.pipeline import finding_from_dict, load_findings, save_findings

    dns = Finding("beacon", 0.8, ["r"], client="10.0.0.1", domain="example.com")
    logon = Finding("brute_force", 0.9, ["r"], client="203.0.113.9", account="root", host="web1")
    assert dns.to_dict()["account"] is None and dns.to_dict()["host"] is None
    # DNS ids stay what they were; account and host tell two findings of one client apart
    assert dns.id == Finding("beacon", 0.1, [], client="10.0.0.1", domain="example.com").id
    assert logon.id != Finding("brute_force", 0.9, ["r"], client="203.0.113.9", account="root", host="web2").id
    with open_store(":memory:") as store:
        save_findings(store, [dns, logon])
        loaded = {f.kind: f for f in load_findings(store)}
        assert (loaded["brute_force"].account, loaded["brute_force"].host) == ("root", "web1")
        assert loaded["brute_force"].id == logon.id
        assert store.rows("SELECT account, host FROM findings WHERE kind = 'beacon'") == [(None, None)]
    back = finding_from_dict(logon.to_dict())
    assert (back.account, back.host, back.id) == ("root", "web1", logon.id)
