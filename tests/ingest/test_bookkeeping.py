"""Ingest bookkeeping against real DuckDB files: compressed copies and rotations, a last line still being
written, a killed ingest, a file read with the wrong format (and ``forget``), a different file that shares
another's first bytes."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netsift.ingest import bookkeeping
from netsift.ingest.run import IngestOptions, ingest_paths
from netsift.store import open_store

LINE = "May  9 02:36:{s:02d} dnsmasq[1]: query[A] host{i}.example.com from 10.0.0.{c}\n"
OPTS = IngestOptions(year=2024)


def pihole_lines(n: int, start: int = 0) -> str:
    return "".join(LINE.format(s=i % 60, i=i, c=i % 7) for i in range(start, start + n))


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "netsift.duckdb") as s:
        yield s


def count(store) -> int:
    return store.scalar("SELECT count(*) FROM dns_queries")


def distinct_lines(store) -> int:
    return store.scalar("SELECT count(DISTINCT query_name) FROM dns_queries")


def age(path: Path, seconds: float = 3600) -> None:
    """Make a file look finished (not written to for a while)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def rotate(store, tmp_path: Path, *, ingested: int, last: int, new: int) -> tuple[Path, Path]:
    """pihole.log with ``ingested`` lines is ingested, renamed to pihole.log.1 and gets ``last`` more lines;
    a new pihole.log has ``new`` other lines. Returns both paths."""
    log, rotated = tmp_path / "pihole.log", tmp_path / "pihole.log.1"
    log.write_text(pihole_lines(ingested))
    ingest(store, log)
    os.rename(log, rotated)
    with rotated.open("a") as fh:
        fh.write(pihole_lines(last, start=ingested))
    log.write_text(pihole_lines(new, start=7000))
    return log, rotated


def ingest(store, *paths, **opts):
    return ingest_paths(store, [str(p) for p in paths], IngestOptions(year=2024, **opts))


# --- 3. compressed copies ----------------------------------------------------------------------------------

def test_a_gzipped_copy_of_an_ingested_file_adds_nothing(store, tmp_path):
    plain = tmp_path / "b.log"
    plain.write_text(pihole_lines(300))
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(plain.read_bytes()))
    summary = ingest(store, plain, tmp_path / "b.log.gz")
    assert [f.status for f in summary.files] == ["ingested", "unchanged"]
    assert count(store) == 300
    # and the other way round: the plain copy of an ingested gz
    other = tmp_path / "c.log"
    other.write_text(pihole_lines(200, start=1000))
    (tmp_path / "c.log.gz").write_bytes(gzip.compress(other.read_bytes()))
    summary = ingest(store, tmp_path / "c.log.gz", other)
    assert [f.status for f in summary.files] == ["ingested", "unchanged"]
    assert count(store) == 500


def test_logrotate_rename_then_gzip_reads_only_what_is_new(store, tmp_path):
    # logrotate (create, compress): rename, the daemon writes its last lines, a new file, then gzip
    log, rotated = rotate(store, tmp_path, ingested=300, last=7, new=5)
    (tmp_path / "pihole.log.1.gz").write_bytes(gzip.compress(rotated.read_bytes()))
    rotated.unlink()
    summary = ingest(store, *sorted(tmp_path.glob("pihole.log*")))
    by_name = {Path(f.path).name: f for f in summary.files}
    assert by_name["pihole.log.1.gz"].status == "resumed" and by_name["pihole.log.1.gz"].rows == 7
    assert by_name["pihole.log"].rows == 5
    assert count(store) == 312 and distinct_lines(store) == 312
    # the next rotation (.1.gz -> .2.gz) and a rerun add nothing
    os.rename(tmp_path / "pihole.log.1.gz", tmp_path / "pihole.log.2.gz")
    summary = ingest(store, *sorted(tmp_path.glob("pihole.log*")))
    assert {f.status for f in summary.files} == {"unchanged"} and count(store) == 312


def test_a_gz_of_a_prefix_of_an_ingested_file_adds_nothing(store, tmp_path):
    log = tmp_path / "b.log"
    log.write_text(pihole_lines(300))
    ingest(store, log)
    old = tmp_path / "b-old.log.gz"
    old.write_bytes(gzip.compress(pihole_lines(200).encode()))
    report = ingest(store, old).files[0]
    assert report.status == "unchanged" and "b.log" in report.message
    assert count(store) == 300 and store.scalar("SELECT count(*) FROM ingested_files") == 1


def test_a_gz_that_extends_an_ingested_file_adds_only_its_tail(store, tmp_path):
    log = tmp_path / "b.log"
    log.write_text(pihole_lines(300))
    ingest(store, log)
    longer = tmp_path / "b-copy.log.gz"
    longer.write_bytes(gzip.compress(pihole_lines(320).encode()))
    report = ingest(store, longer).files[0]
    assert report.rows == 20 and count(store) == 320 and distinct_lines(store) == 320


def test_a_compressed_record_from_an_older_version_is_still_recognised(store, tmp_path):
    gz = tmp_path / "a.log.gz"
    gz.write_bytes(gzip.compress(pihole_lines(300).encode()))
    ingest(store, gz)
    raw = gz.read_bytes()
    # what netsift wrote before hashing decompressed content: the hashes and offset of the compressed bytes
    store.con.execute("UPDATE ingested_files SET content_hash = ?, head_hash = ?, last_offset = ?, size = ?",
                      [hashlib.sha256(raw).hexdigest(), bookkeeping.head_hash(raw), len(raw), len(raw)])
    assert ingest(store, gz).files[0].status == "unchanged" and count(store) == 300


# --- 4. a last line still being written ----------------------------------------------------------------------

def test_an_unterminated_last_line_is_held_back_until_it_is_complete(store, tmp_path):
    f = tmp_path / "pihole.log"
    whole = pihole_lines(11)
    cut = whole.rindex("example")  # the last line cut mid-name
    f.write_text(whole[:cut])
    first = ingest(store, f).files[0]
    assert (first.rows, first.rejected) == (10, 0) and "held back" in first.message
    assert ingest(store, f).files[0].status == "unchanged"
    with f.open("a") as fh:
        fh.write(whole[cut:])
    second = ingest(store, f).files[0]
    assert second.status == "resumed" and (second.rows, second.rejected) == (1, 0)
    assert store.scalar("SELECT count(*) FROM rejected_lines") == 0
    assert store.scalar("SELECT source_line FROM dns_queries WHERE query_name = 'host10.example.com'") == 11


def test_a_finished_file_without_a_final_newline_keeps_its_last_line(store, tmp_path):
    f = tmp_path / "export.log"
    f.write_text(pihole_lines(3).rstrip("\n"))
    age(f)
    report = ingest(store, f).files[0]
    assert (report.rows, report.rejected) == (3, 0) and "held back" not in report.message
    assert ingest(store, f).files[0].status == "unchanged"


def test_a_file_of_one_unterminated_line_is_read_once_it_is_finished(store, tmp_path):
    f = tmp_path / "one.log"
    f.write_text(pihole_lines(1).rstrip("\n"))  # echo -n by hand
    first = ingest(store, f).files[0]
    assert first.rows == 0 and first.status != "error" and "held back" in first.message
    assert store.scalar("SELECT count(*) FROM ingested_files") == 0
    age(f)
    assert ingest(store, f).files[0].rows == 1 and count(store) == 1


@pytest.mark.parametrize("how", ["renamed", "gzipped"])
def test_a_held_back_line_is_read_when_the_file_is_rotated(store, tmp_path, how):
    f = tmp_path / "pihole.log"
    f.write_text(pihole_lines(10).rstrip("\n"))
    assert ingest(store, f).files[0].rows == 9
    if how == "renamed":
        later = tmp_path / "pihole.log.1"
        os.rename(f, later)
    else:
        later = tmp_path / "pihole.log.1.gz"
        later.write_bytes(gzip.compress(f.read_bytes()))
        f.unlink()
    report = ingest(store, later).files[0]
    assert report.status == "resumed" and report.rows == 1 and count(store) == 10


# --- 5. a killed ingest ---------------------------------------------------------------------------------------

def test_opening_the_store_cleans_up_what_a_killed_ingest_left(tmp_path):
    db = tmp_path / "netsift.duckdb"
    f = tmp_path / "a.log"
    f.write_text(pihole_lines(30))
    with open_store(db) as s:
        ingest(s, f)
        # what a killed run leaves behind: a grown file's record in progress with rows past its last line,
        # and a new file's record (nothing complete yet) with rows
        s.con.execute("UPDATE ingested_files SET in_progress = true")
        s.con.execute("INSERT INTO dns_queries (ts, query_name, source_file_id, source_line) "
                      "SELECT ts, query_name, source_file_id, source_line + 1000 FROM dns_queries LIMIT 7")
        s.con.execute("INSERT INTO ingested_files (file_id, path, last_offset, last_line, in_progress) "
                      "VALUES (99, '/x.log', 0, 0, true)")
        s.con.execute("INSERT INTO dns_queries (ts, query_name, source_file_id, source_line) "
                      "SELECT ts, query_name, 99, source_line FROM dns_queries LIMIT 5")
    with open_store(db, read_only=True) as s:  # a reader that may not write sees only complete work
        assert count(s) == 30
    with open_store(db) as s:
        assert count(s) == 30
        assert s.rows("SELECT path, in_progress FROM ingested_files") == [(str(f), False)]


KILLABLE = """
import sys
import netsift.ingest.writer as writer
from netsift.cli import main
writer.INSERT_ROWS = writer.ROWS_IN_FLIGHT = 2000  # commit often, so that a kill finds committed rows
write = writer.Writer._write
def _write(self, final=None):
    write(self, final)
    print("committed", file=sys.stderr, flush=True)
writer.Writer._write = _write
main(sys.argv[1:])
"""


def test_after_a_killed_ingest_analyze_counts_only_complete_files(tmp_path):
    env = {**os.environ, "NETSIFT_DATA_DIR": str(tmp_path / "data-dir")}
    env.pop("NETSIFT_DB", None)

    def netsift(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "netsift", *args], cwd=tmp_path, env=env,
                              capture_output=True, check=True, timeout=300)

    small = tmp_path / "small.log"
    small.write_text(pihole_lines(40))
    netsift("ingest", "--year", "2024", "small.log")
    big = tmp_path / "big.log"
    with big.open("w") as fh:
        for start in range(0, 400_000, 50_000):
            fh.write(pihole_lines(50_000, start=10_000 + start))
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, "ingest", "-q", "--year", "2024", "big.log"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        for line in proc.stderr:  # wait until rows of big.log are committed, then kill mid-file
            if b"committed" in line:
                break
        else:
            pytest.fail("the ingest ended before committing a batch")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    summary = json.loads(netsift("analyze", "--json", "-q").stdout)["summary"]
    assert summary["rows"] == 40
    assert [Path(f["path"]).name for f in summary["files"]] == ["small.log"]


# --- 6. the wrong --format, and forget ------------------------------------------------------------------------

BIND_LINE = "10-Nov-2015 15:25:{s:02d}.000 client 10.0.0.1#1 (b{s}.example.com): query: b{s}.example.com IN A + (10.0.0.2)\n"


def test_rereading_with_another_format_replaces_what_the_wrong_one_stored(store, tmp_path):
    f = tmp_path / "a.log"
    f.write_text(pihole_lines(20) + "".join(BIND_LINE.format(s=s) for s in range(2)))
    wrong = ingest(store, f, format="bind").files[0]
    assert wrong.rows == 2 and wrong.rejected == 20
    right = ingest(store, f, format="pihole").files[0]
    assert right.status == "ingested" and (right.rows, right.rejected) == (20, 2) and "bind" in right.message
    assert count(store) == 20 and store.scalar("SELECT count(*) FROM rejected_lines") == 2
    assert store.rows("SELECT format, rows, rejected FROM ingested_files") == [("pihole", 20, 2)]
    assert ingest(store, f, format="pihole").files[0].status == "unchanged"


def test_a_wrong_format_that_matches_nothing_stores_nothing(store, tmp_path):
    f = tmp_path / "a.log"
    f.write_text(pihole_lines(20))
    wrong = ingest(store, f, format="bind").files[0]
    assert wrong.status == "error" and wrong.message == (
        "--format bind matched none of its 20 lines (all 20 rejected); the detected format would be pihole "
        "(drop --format, or --format pihole)")
    assert count(store) == 0 and store.scalar("SELECT count(*) FROM ingested_files") == 0
    right = ingest(store, f, format="pihole").files[0]
    assert right.status == "ingested" and (right.rows, right.rejected) == (20, 0)


def test_forget_removes_a_file_so_that_the_next_ingest_reads_it_again(store, tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text(pihole_lines(20) + "not a line\n")
    b.write_text(pihole_lines(5, start=100))
    ingest(store, a, b)
    removed = bookkeeping.forget(store, [str(a)])
    assert [(Path(r["path"]).name, r["rows"], r["rejected"]) for r in removed] == [("a.log", 20, 1)]
    assert count(store) == 5 and store.scalar("SELECT count(*) FROM rejected_lines") == 0
    assert ingest(store, a).files[0].rows == 20 and count(store) == 25


def test_forget_command(tmp_path):
    from click.testing import CliRunner

    from netsift.cli import main

    a = tmp_path / "a.log"
    a.write_text(pihole_lines(20))
    db = str(tmp_path / "x.duckdb")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", "-q", "--db", db, "--year", "2024", str(a)]).exit_code == 0
    result = runner.invoke(main, ["forget", "--db", db, "--json", str(a)])
    assert result.exit_code == 0, result.output
    assert [(r["path"], r["rows"]) for r in json.loads(result.stdout)] == [(str(a), 20)]
    result = runner.invoke(main, ["forget", "--db", db, str(tmp_path / "never.log")])
    assert result.exit_code == 1 and "not ingested" in result.stderr


# --- 10. a different file that starts like another ---------------------------------------------------------

def test_a_different_file_sharing_a_prefix_gets_its_own_record_and_an_honest_status(store, tmp_path):
    a = tmp_path / "a.log"
    a.write_text(pihole_lines(100))
    ingest(store, a)
    b = tmp_path / "b.log"
    b.write_text(pihole_lines(100) + pihole_lines(30, start=900))
    report = ingest(store, b).files[0]
    assert report.status == "ingested" and report.rows == 30
    assert "a.log" in report.message and "100" in report.message
    assert count(store) == 130 and store.scalar("SELECT count(*) FROM ingested_files") == 2
    assert ingest(store, a, b).files[0].status == "unchanged"


def test_a_renamed_file_that_grew_continues_its_record(store, tmp_path):
    a = tmp_path / "a.log"
    a.write_text(pihole_lines(100))
    ingest(store, a)
    b = tmp_path / "b.log"
    os.rename(a, b)
    with b.open("a") as fh:
        fh.write(pihole_lines(3, start=100))
    report = ingest(store, b).files[0]
    assert report.status == "resumed" and report.rows == 3
    assert store.rows("SELECT path, rows FROM ingested_files") == [(str(b), 103)]


def test_a_rotated_file_continues_its_record_although_a_new_file_has_its_old_name(store, tmp_path):
    # the new file is already larger than the old one was
    log, rotated = rotate(store, tmp_path, ingested=100, last=3, new=150)
    summary = ingest(store, rotated, log)
    assert summary.files[0].status == "resumed" and summary.files[0].rows == 3
    assert summary.files[1].status == "ingested" and summary.files[1].rows == 150
    assert sorted(store.rows("SELECT path, rows FROM ingested_files")) == [(str(log), 150),
                                                                        (str(rotated), 103)]


@pytest.mark.parametrize("encoding, newline", [("utf-8", "\r\n"), ("utf-16", "\n"), ("utf-16-be", "\n")])
def test_a_held_back_line_in_other_encodings_and_line_ends(store, tmp_path, encoding, newline):
    f = tmp_path / "pihole.log"
    whole = pihole_lines(11).replace("\n", newline)
    cut = whole.rindex("example")
    bom = "\ufeff" if encoding == "utf-16-be" else ""
    f.write_bytes((bom + whole[:cut]).encode(encoding))
    first = ingest(store, f).files[0]
    assert (first.rows, first.rejected) == (10, 0) and "held back" in first.message
    with f.open("ab") as fh:
        fh.write(whole[cut:].encode(encoding.replace("utf-16", "utf-16-le") if encoding == "utf-16" else encoding))
    second = ingest(store, f).files[0]
    assert (second.status, second.rows, second.rejected) == ("resumed", 1, 0)
    assert store.scalar("SELECT source_line FROM dns_queries WHERE query_name = 'host10.example.com'") == 11
