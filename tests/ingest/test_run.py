"""The ingest driver against a real DuckDB: idempotency, growth, rotation, copies, stdin, bad files,
--strict, truncated compressed input."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import sys
from pathlib import Path

import pytest

from netsift.errors import BadLineError
from netsift.ingest.run import IngestOptions, expand_paths, ingest_paths
from netsift.store import open_store
from tests.packets import dns_query_packet, pcap_record

DATA = Path(__file__).parent.parent / "data" / "pihole"
LINE = "May  9 02:36:{s:02d} dnsmasq[1]: query[A] host{i}.example.com from 10.0.0.{c}\n"


def pihole_lines(n: int, start: int = 0) -> str:
    return "".join(LINE.format(s=i % 60, i=i, c=i % 7) for i in range(start, start + n))


@pytest.fixture
def store():
    with open_store(":memory:") as s:
        yield s


def count(store) -> int:
    return store.scalar("SELECT count(*) FROM dns_queries")


def test_same_file_twice_adds_nothing(store, tmp_path):
    f = tmp_path / "a.log"
    f.write_text(pihole_lines(50))
    first = ingest_paths(store, [str(f)], IngestOptions(year=2024))
    second = ingest_paths(store, [str(f)], IngestOptions(year=2024))
    assert first.files[0].status == "ingested" and first.files[0].format == "pihole"
    assert second.files[0].status == "unchanged" and count(store) == 50


def test_grown_file_adds_only_its_tail_with_continued_line_numbers(store, tmp_path):
    f = tmp_path / "a.log"
    f.write_text(pihole_lines(30))
    ingest_paths(store, [str(f)], IngestOptions(year=2024))
    with f.open("a") as fh:
        fh.write(pihole_lines(20, start=30))
    report = ingest_paths(store, [str(f)], IngestOptions(year=2024)).files[0]
    assert report.status == "resumed" and report.rows == 20
    assert count(store) == 50
    assert store.scalar("SELECT max(source_line) FROM dns_queries") == 50
    assert store.scalar("SELECT count(*) FROM ingested_files") == 1


@pytest.mark.parametrize("lines", [30, 2])  # a large file (head hash) and one under 4 KiB (content hash)
def test_a_record_from_an_older_version_with_a_sha256_hash_is_still_recognised(store, tmp_path, lines):
    import hashlib

    f = tmp_path / "a.log"
    f.write_text(pihole_lines(lines))
    ingest_paths(store, [str(f)], IngestOptions(year=2024))
    assert store.scalar("SELECT content_hash FROM ingested_files").startswith("blake3:")
    store.con.execute("UPDATE ingested_files SET content_hash = ?", [hashlib.sha256(f.read_bytes()).hexdigest()])
    assert ingest_paths(store, [str(f)], IngestOptions(year=2024)).files[0].status == "unchanged"
    with f.open("a") as fh:
        fh.write(pihole_lines(20, start=lines))
    report = ingest_paths(store, [str(f)], IngestOptions(year=2024)).files[0]
    assert report.status == "resumed" and report.rows == 20 and count(store) == lines + 20
    assert store.scalar("SELECT content_hash FROM ingested_files").startswith("blake3:")
    assert ingest_paths(store, [str(f)], IngestOptions(year=2024)).files[0].status == "unchanged"


def test_rotated_file_is_recognised(store, tmp_path):
    f = tmp_path / "pihole.log"
    f.write_text(pihole_lines(200))
    ingest_paths(store, [str(f)], IngestOptions(year=2024))
    rotated = tmp_path / "pihole.log.1"
    os.rename(f, rotated)
    with rotated.open("a") as fh:  # the last lines written before rotation
        fh.write(pihole_lines(5, start=200))
    f.write_text(pihole_lines(10, start=1000))  # the new file
    summary = ingest_paths(store, [str(tmp_path)], IngestOptions(year=2024))
    by_name = {Path(r.path).name: r for r in summary.files}
    assert by_name["pihole.log.1"].status == "resumed" and by_name["pihole.log.1"].rows == 5
    assert by_name["pihole.log"].status == "ingested" and by_name["pihole.log"].rows == 10
    assert count(store) == 215
    paths = {r[0] for r in store.rows("SELECT path FROM ingested_files")}
    assert paths == {str(rotated), str(f)}


def test_a_copy_is_recognised_and_a_grown_copy_adds_only_its_tail(store, tmp_path):
    a = tmp_path / "a.log"
    a.write_text(pihole_lines(40))
    ingest_paths(store, [str(a)], IngestOptions(year=2024))
    b = tmp_path / "b.log"
    shutil.copy(a, b)
    assert ingest_paths(store, [str(b)], IngestOptions(year=2024)).files[0].status == "unchanged"
    with b.open("a") as fh:
        fh.write(pihole_lines(3, start=40))
    assert ingest_paths(store, [str(b)], IngestOptions(year=2024)).files[0].rows == 3
    assert ingest_paths(store, [str(a)], IngestOptions(year=2024)).files[0].status == "unchanged"
    assert count(store) == 43


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (bytes(range(256)) * 64, "binary"),
    (b"just some words\nthat are no log at all\n", "format not recognised"),
])
def test_bad_files_get_one_line_and_the_batch_goes_on(store, tmp_path, content, message):
    bad = tmp_path / "bad.log"
    bad.write_bytes(content)
    good = tmp_path / "good.log"
    good.write_text(pihole_lines(5))
    summary = ingest_paths(store, [str(bad), str(good)], IngestOptions(year=2024))
    assert summary.files[0].status == "error" and message in summary.files[0].message
    assert "\n" not in summary.files[0].message
    if message == "format not recognised":
        assert "--format" in summary.files[0].message and "pihole" in summary.files[0].message
    assert summary.files[1].rows == 5


def test_missing_file(store, tmp_path):
    summary = ingest_paths(store, [str(tmp_path / "nope.log")])
    assert summary.files[0].status == "error" and "no such file" in summary.files[0].message


def test_rejected_lines_are_kept_with_file_and_line(store):
    ingest_paths(store, [str(DATA / "truncated.log")], IngestOptions(year=2024))
    rows = store.rows("SELECT source_line, reason, text FROM rejected_lines ORDER BY source_line")
    assert [r[0] for r in rows] == [2, 3, 4]
    assert rows[1][2] == "this is not a dnsmasq line at all"
    assert store.scalar("SELECT rejected FROM ingested_files") == 3


def test_strict_stops_at_the_first_bad_line_and_keeps_nothing_of_that_file(store):
    with pytest.raises(BadLineError, match="line 2"):
        ingest_paths(store, [str(DATA / "truncated.log")], IngestOptions(year=2024, strict=True))
    assert count(store) == 0 and store.scalar("SELECT count(*) FROM ingested_files") == 0


def test_compressed_and_truncated_compressed(store, tmp_path):
    data = pihole_lines(3000).encode()
    good = tmp_path / "good.log.gz"
    good.write_bytes(gzip.compress(data))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(data.replace(b"host", b"cuth"))[:-4000])
    summary = ingest_paths(store, [str(good), str(cut)], IngestOptions(year=2024))
    assert summary.files[0].rows == 3000
    assert summary.files[1].status == "ingested" and 0 < summary.files[1].rows < 3000
    assert "truncated" in summary.files[1].message
    assert store.scalar("SELECT count(*) FROM rejected_lines WHERE reason LIKE '%truncated%'") == 1


def test_stdin_and_duplicate_stdin(store, monkeypatch):
    payload = pihole_lines(12).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    assert ingest_paths(store, ["-"], IngestOptions(year=2024)).files[0].rows == 12
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    assert ingest_paths(store, ["-"], IngestOptions(year=2024)).files[0].status == "duplicate"
    assert count(store) == 12


def test_expand_paths_dirs_and_globs(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.log", "a.log", "sub/c.log", ".hidden"):
        (tmp_path / name).write_text("x")
    assert [Path(p).name for p in expand_paths([str(tmp_path)])] == ["a.log", "b.log", "c.log"]
    assert [Path(p).name for p in expand_paths([str(tmp_path / "*.log")])] == ["a.log", "b.log"]


def test_file_mtime_gives_the_year(store, tmp_path):
    f = tmp_path / "old.log"
    f.write_text("Dec 30 10:00:00 dnsmasq[1]: query[A] a.example.com from 10.0.0.1\n")
    os.utime(f, (1420070400, 1420070400))  # 2015-01-01: a December line is from 2014
    ingest_paths(store, [str(f)])
    assert store.scalar("SELECT year(ts) FROM dns_queries") == 2014


def test_grown_capture_adds_only_new_packets(store, tmp_path):
    import dpkt

    f = tmp_path / "cap.pcap"
    with f.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        for i in range(5):
            writer.writepkt(dns_query_packet(i), ts=1700000000 + i)
    assert ingest_paths(store, [str(f)]).files[0].rows == 5 + 5  # the questions, and each one's flow
    with f.open("ab") as fh:  # pcap records appended after the existing ones
        for i in range(5, 8):
            fh.write(pcap_record(i))
    report = ingest_paths(store, [str(f)]).files[0]
    assert report.status == "resumed" and report.rows == 3 + 3
    assert count(store) == 8 and store.scalar("SELECT count(*) FROM connections") == 8
    assert sorted(r[0] for r in store.rows("SELECT query_name FROM dns_queries"))[-1] == "host7.example.com"


ZEEK_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqtype_name\trcode_name\tanswers\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\tstring\tstring\tvector[string]\n"
)


def _zeek_rows(start: int, n: int) -> str:
    return "".join(f"{1700000000 + i}.5\tC{i}\t10.0.0.{i % 9}\t5{i % 999}\t10.0.0.1\t53\tudp\t{i}\t"
                   f"h{i}.example.net\tA\tNOERROR\t192.0.2.{i % 250}\n" for i in range(start, start + n))


@pytest.mark.parametrize("fmt, header, rows", [
    ("zeek_tsv", ZEEK_HEADER, _zeek_rows),
    ("csv_columns", "timestamp,client,query_name,query_type\n",
     lambda s, n: "".join(f"2026-01-01T00:00:{i % 60:02d}Z,10.0.0.{i % 9},h{i}.example.net,A\n" for i in range(s, s + n))),
])
def test_grown_file_with_a_header_keeps_parsing_its_tail(store, tmp_path, fmt, header, rows):
    f = tmp_path / f"grow.{fmt}"
    f.write_text(header + rows(0, 300))
    first = ingest_paths(store, [str(f)]).files[0]
    assert (first.format, first.rows) == (fmt, 300)
    with f.open("a") as fh:
        fh.write(rows(300, 40))
    report = ingest_paths(store, [str(f)]).files[0]
    assert report.status == "resumed" and (report.rows, report.rejected) == (40, 0)
    assert count(store) == 340


def test_batched_commits_and_strict_discard_everything_of_that_file(store, tmp_path, monkeypatch):
    import netsift.ingest.reader as reader
    import netsift.ingest.run as run
    import netsift.ingest.writer as writer

    monkeypatch.setattr(writer, "INSERT_ROWS", 10)  # insert and commit every ~10 rows
    f = tmp_path / "big.log"
    f.write_text(pihole_lines(400) + "garbage at the end\n")
    orig = reader.iter_byte_chunks
    monkeypatch.setattr(run, "iter_byte_chunks", lambda *a, **k: orig(*a, **{**k, "chunk_bytes": 2048}))
    with pytest.raises(BadLineError, match="line 401"):
        ingest_paths(store, [str(f)], IngestOptions(year=2024, strict=True))
    assert count(store) == 0 and store.scalar("SELECT count(*) FROM ingested_files") == 0
    report = ingest_paths(store, [str(f)], IngestOptions(year=2024)).files[0]
    assert (report.rows, report.rejected) == (400, 1) and count(store) == 400


def test_an_interrupted_read_is_cleaned_up_by_the_next_run(store, tmp_path):
    f = tmp_path / "a.log"
    f.write_text(pihole_lines(30))
    ingest_paths(store, [str(f)], IngestOptions(year=2024))
    # what a killed run leaves behind: the record in progress, rows past its last complete line
    store.con.execute("UPDATE ingested_files SET in_progress = true")
    store.con.execute("INSERT INTO dns_queries (ts, query_name, source_file_id, source_line) "
                      "SELECT ts, query_name, source_file_id, source_line + 1000 FROM dns_queries LIMIT 7")
    assert count(store) == 37
    report = ingest_paths(store, [str(f)], IngestOptions(year=2024)).files[0]
    assert report.status == "unchanged" and count(store) == 30
    assert store.scalar("SELECT bool_or(in_progress) FROM ingested_files") is False


def test_a_store_made_by_an_older_netsift_gains_new_columns(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE ingested_files (file_id BIGINT, path VARCHAR)")
    con.execute("INSERT INTO ingested_files VALUES (1, '/x')")
    con.close()
    with open_store(path) as s:
        cols = {r[0] for r in s.rows("SELECT column_name FROM information_schema.columns "
                                     "WHERE table_name = 'ingested_files'")}
        assert {"in_progress", "content_hash", "last_offset"} <= cols
        assert s.scalar("SELECT path FROM ingested_files") == "/x"
