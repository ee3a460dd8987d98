"""The next small file of a batch is read and prepared while the current one is parsed (run.Lookahead); the
stored rows, records and rejected lines are those of reading every file on its own, and a file that
changed after it was prepared, or that the plan does not read new and whole, is read as usual."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from netsift.errors import BadLineError
from netsift.ingest import run
from netsift.ingest.run import IngestOptions, ingest_file, ingest_paths
from netsift.store import open_store

DATA = Path(__file__).parent.parent / "data"
OLD = 1_600_000_000  # an old mtime: no last line held back
LINE = "May  9 02:36:{s:02d} dnsmasq[1]: query[A] host{i}.example.com from 10.0.0.{c}\n"
REPLY = "May  9 02:36:{s:02d} dnsmasq[1]: reply host{i}.example.com is 192.0.2.{c}\n"


def pihole(n: int, start: int = 0) -> str:
    return "".join(LINE.format(s=i % 60, i=i, c=i % 7) + REPLY.format(s=i % 60, i=i, c=i % 7)
                   for i in range(start, start + n))


def _batch(tmp_path: Path) -> list[str]:
    """Small files of several kinds in one directory: Pi-hole, a gzipped one, a copy, a BIND log, a line
    that is rejected, a file of the same content twice over."""
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(pihole(40))
    (d / "b.log").write_text(pihole(30, 100) + "not a dnsmasq line\n")
    (d / "c.log.gz").write_bytes(gzip.compress(pihole(20, 200).encode()))
    (d / "d.log").write_text(pihole(25, 300))
    shutil.copy(d / "a.log", d / "e.log")  # a copy of a.log: nothing new
    shutil.copy(DATA / "bind" / "valid.log", d / "f.log")
    (d / "g.log").write_text(pihole(10, 400))
    for f in d.iterdir():
        os.utime(f, (OLD, OLD))
    return [str(f) for f in sorted(d.iterdir())]


def _tables(store) -> dict[str, list[tuple]]:
    return {
        "files": store.rows("SELECT path, size, content_hash, last_offset, last_line, format, rows, rejected "
                            "FROM ingested_files ORDER BY path"),
        "rows": store.rows("SELECT f.path, q.source_line, q.query_name, q.answers, q.response_code FROM dns_queries q "
                           "JOIN ingested_files f ON f.file_id = q.source_file_id ORDER BY 1, 2"),
        "rejected": store.rows("SELECT f.path, r.source_line, r.reason FROM rejected_lines r "
                               "JOIN ingested_files f ON f.file_id = r.source_file_id ORDER BY 1, 2"),
    }


def test_a_batch_stores_what_reading_each_file_alone_stores(tmp_path, monkeypatch):
    paths = _batch(tmp_path)
    used = []
    take = run.Lookahead.take

    def spy(self, src, plan):
        got = take(self, src, plan)
        used.append(got is not None)
        return got

    monkeypatch.setattr(run.Lookahead, "take", spy)
    with open_store(":memory:") as batch, open_store(":memory:") as alone:
        reports = ingest_paths(batch, paths, IngestOptions())
        for path in paths:
            ingest_file(alone, path, IngestOptions())
        assert _tables(batch) == _tables(alone)
        assert [r.status for r in reports.files] == ["ingested"] * 4 + ["unchanged"] + ["ingested"] * 2
        # a.log starts the batch, c.log.gz is compressed, e.log is a copy (unchanged), f.log (BIND) was
        # prepared as Pi-hole, g.log as BIND: only b and d were prepared ahead and used
        assert used == [False, True, False, True, False, False, False]
        assert [r.status for r in ingest_paths(batch, paths, IngestOptions()).files] == ["unchanged"] * 7


@pytest.mark.parametrize("change", ["append", "rewrite"])
def test_a_file_changed_after_it_was_prepared_is_read_again(tmp_path, monkeypatch, change):
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(pihole(20))
    (d / "b.log").write_text(pihole(20, 100))
    for f in d.iterdir():
        os.utime(f, (OLD, OLD))
    prepare = run._prepare_ahead

    def then_changed(path, parser):
        got = prepare(path, parser)
        text = pihole(5, 500) if change == "rewrite" else Path(path).read_text() + pihole(5, 500)
        Path(path).write_text(text)
        os.utime(path, (OLD + 60, OLD + 60))
        return got

    monkeypatch.setattr(run, "_prepare_ahead", then_changed)
    with open_store(":memory:") as store:
        reports = ingest_paths(store, [str(d / "a.log"), str(d / "b.log")], IngestOptions())
        assert [r.rows for r in reports.files] == [20, 25 if change == "append" else 5]
        names = {r[0] for r in store.rows("SELECT query_name FROM dns_queries WHERE source_file_id = ?",
                                          [reports.files[1].file_id])}
        assert "host500.example.com" in names


def test_small_files_before_a_strict_failure_are_stored_whole(tmp_path):
    """Small files' rows wait for the batch's commit (Writer(hold_small=True)): a later file failing under
    --strict leaves the earlier files stored, rows and records, and nothing of itself."""
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(pihole(20))
    (d / "b.log").write_text(pihole(15, 100))
    (d / "c.log").write_text(pihole(5, 200) + "not a dnsmasq line\n")
    for f in d.iterdir():
        os.utime(f, (OLD, OLD))
    with open_store(":memory:") as store:
        with pytest.raises(BadLineError):
            ingest_paths(store, [str(d / "a.log"), str(d / "b.log"), str(d / "c.log")], IngestOptions(strict=True))
        assert store.rows("SELECT f.path, count(q.source_line), f.rows FROM ingested_files f "
                          "LEFT JOIN dns_queries q ON q.source_file_id = f.file_id GROUP BY ALL ORDER BY 1") == [
            (str(d / "a.log"), 20, 20), (str(d / "b.log"), 15, 15)]
