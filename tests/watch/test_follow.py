"""The watcher follows files like tail -F (appends, rotation by rename, copytruncate, files that appear later,
stdin-like buffers) and stores exactly what a batch ingest of the same lines stores."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import time
import zlib

from netsift.ingest.plan import IngestOptions
from netsift.ingest.run import ingest_paths
from netsift.store import open_store
from netsift.watch import batches
from netsift.watch.follow import CompressedTail, StdinTail
from netsift.watch.runner import WatchOptions, Watcher
from tests.packets import dns_query_packet, pcap_record
from tests.watch.lines import pihole_lines, rows


def _watcher(store, paths, **kw) -> Watcher:
    opts = WatchOptions(paths=paths, ingest=IngestOptions(year=2026), detect=False, hold_seconds=30.0, **kw)
    return Watcher(store, opts)


def _batch(tmp_path, lines: list[str]) -> list:
    """What a one-shot ingest of ``lines`` stores."""
    src = tmp_path / "batch" / "all.log"
    src.parent.mkdir(exist_ok=True)
    src.write_text("".join(lines))
    db = str(tmp_path / "batch.duckdb")
    with open_store(db) as store:
        ingest_paths(store, [str(src)], IngestOptions(year=2026))
    return rows(db)


def _append(path, lines: list[str]) -> None:
    with open(path, "a") as fh:
        fh.write("".join(lines))


def _poll(w: Watcher, times: int = 3) -> None:
    for _ in range(times):
        w._discovered_at = 0.0  # discover on every poll (the loop does it once a second)
        w.poll()


def test_appends_rotation_and_truncation_store_what_a_batch_ingest_stores(tmp_path):
    log = tmp_path / "logs" / "pihole.log"
    log.parent.mkdir()
    parts = [pihole_lines(0, 50), pihole_lines(50, 70), pihole_lines(120, 40), pihole_lines(160, 30),
             pihole_lines(190, 25), pihole_lines(215, 10)]
    log.write_text("".join(parts[0]))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        _poll(w)
        _append(log, parts[1])  # appended
        _poll(w)
        # rotation by rename: lines written to the old file just before the rename are finished first
        _append(log, parts[2])
        os.rename(log, str(log) + ".1")
        log.write_text("".join(parts[3]))
        _poll(w)
        assert str(log) in w.followed
        # copytruncate: the content is copied away, the file emptied and written again from its start
        _append(log, parts[4])
        _poll(w)
        with open(log, "r+") as fh:
            fh.truncate(0)
        _poll(w)
        log.write_text("".join(parts[5]))
        _poll(w)
        w.close()
        files = store.rows("SELECT path, rows, in_progress FROM ingested_files ORDER BY file_id")
    everything = [line for part in parts for line in part]
    assert rows(db) == _batch(tmp_path, everything)
    assert [f[1] for f in files] == [160, 55, 10]  # the rotated file, the truncated one, the new content
    assert files[0][0] == str(log) + ".1"  # the record followed its file to the rotated name
    assert not any(f[2] for f in files)


def test_files_appearing_later_in_a_directory_or_glob_are_followed(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text("".join(pihole_lines(0, 10)))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(logs)])
        _poll(w)
        (logs / "b.log").write_text("".join(pihole_lines(10, 10)))
        _poll(w)
        _append(logs / "b.log", pihole_lines(20, 5))
        _poll(w)
        w.close()
    assert len(rows(db)) == 25


def test_a_line_without_its_newline_waits_until_complete(tmp_path):
    log = tmp_path / "p.log"
    lines = pihole_lines(0, 3)
    log.write_text("".join(lines[:-1]) + lines[-1][:20])
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        _poll(w)
        assert (store.scalar("SELECT max(last_line) FROM ingested_files") or 0) <= 5
        _append(log, [lines[-1][20:]])
        _poll(w)
        w.close()
    assert rows(db) == _batch(tmp_path, lines)


def test_stdin_is_followed_until_it_ends(tmp_path):
    lines = pihole_lines(0, 20)
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [])
        tail = StdinTail(io.BytesIO("".join(lines).encode()))
        w.buffers["-"] = (tail, None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (tail.ended and "-" in w.followed and not tail.behind()):
            w.poll()
            time.sleep(0.05)
        w.poll()
        w.close()
        assert store.rows("SELECT path, in_progress FROM ingested_files") == [("-", False)]
    assert rows(db) == _batch(tmp_path, lines)


def test_replies_join_across_batches_while_lines_are_held(tmp_path):
    """A query at the end of one batch and its reply at the start of the next: held by the parser (the
    checkpoint stays before the held lines), the reply joins as in a batch ingest."""
    log = tmp_path / "p.log"
    lines = pihole_lines(0, 10)
    log.write_text("".join(lines[:4]))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        w.batcher.hold_seconds = 30.0
        _poll(w)
        _append(log, lines[4:7])  # ends with a query whose reply is not written yet
        _poll(w)
        # lines still held: the checkpoint is before them (and no row past it is stored)
        last_line, in_progress = store.rows("SELECT last_line, in_progress FROM ingested_files")[0]
        assert last_line < 7 and not in_progress
        _append(log, lines[7:])
        _poll(w)
        w.close()
    assert rows(db) == _batch(tmp_path, lines)


def test_a_rotation_while_no_watcher_ran_is_finished_at_start(tmp_path):
    log = tmp_path / "pihole.log"
    first, before_rotation, after = pihole_lines(0, 40), pihole_lines(40, 30), pihole_lines(70, 20)
    log.write_text("".join(first))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        _poll(w)
        w.close()
    _append(log, before_rotation)  # written, then rotated away, while no watcher runs
    os.rename(log, str(log) + ".1")
    (tmp_path / "pihole.log.2.gz").write_bytes(b"")  # an older rotation, not this record's: left alone
    log.write_text("".join(after))
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        _poll(w)
        w.close()
        paths = [r[0] for r in store.rows("SELECT path FROM ingested_files ORDER BY file_id")]
    assert rows(db) == _batch(tmp_path, first + before_rotation + after)
    assert paths == [str(log) + ".1", str(log)]


def test_a_backlog_read_in_several_batches_joins_as_one_read(tmp_path, monkeypatch):
    """Held lines are let go at the end of what is written, never at the cut of a batch (a batch ends at its
    last newline, a little short of the batch size: that is not the end of the file)."""
    monkeypatch.setattr(batches, "BATCH_BYTES", 4096)
    log = tmp_path / "p.log"
    lines = pihole_lines(0, 400)
    log.write_text("".join(lines))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        w.batcher.hold_seconds = 0.0  # any pause lets held lines go
        _poll(w)
        w.close()
    assert rows(db) == _batch(tmp_path, lines)


def test_compressed_files_in_a_watched_directory_are_followed_and_copies_add_nothing(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    live, old = pihole_lines(0, 30), pihole_lines(100, 20)
    (logs / "pihole.log").write_text("".join(live))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(logs)])
        w.opts.hold_seconds = w.batcher.hold_seconds = 0.0  # no line held: the checkpoint is at the end
        _poll(w)
        (logs / "old.log.gz").write_bytes(gzip.compress("".join(old).encode()))
        (logs / "pihole.log.1.gz").write_bytes(gzip.compress("".join(live).encode()))  # a compressed copy
        _poll(w)
        assert str(logs / "old.log.gz") in w.followed and str(logs / "pihole.log") in w.followed
        w.close()
    assert rows(db) == _batch(tmp_path, live + old)


def test_copytruncate_into_a_watched_directory_stores_every_line_once(tmp_path):
    """logrotate's copytruncate with the copy in the watched directory: while the original is followed the
    copy is left alone (its lines are read from the original); once the original is truncated, the copy
    gives what the original lost (lines written after the last poll, before the truncation)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "pihole.log"
    a, b, c, d = pihole_lines(0, 50), pihole_lines(50, 10), pihole_lines(60, 10), pihole_lines(70, 5)
    log.write_text("".join(a))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(logs)])
        w.opts.hold_seconds = w.batcher.hold_seconds = 0.0
        _poll(w)
        shutil.copy(log, logs / "pihole.log.1")  # the copy, seen while the original is followed
        _poll(w)
        assert str(logs / "pihole.log.1") in w.deferred
        _append(log, b)
        _append(logs / "pihole.log.1", b)  # (as if copied a moment later, with b)
        with open(log, "r+") as fh:
            fh.truncate(0)
        log.write_text("".join(c))
        _poll(w)
        _append(log, d)
        _poll(w)
        w.close()
    assert rows(db) == _batch(tmp_path, a + b + c + d)


def test_a_growing_compressed_file_is_read_as_it_grows_and_after_a_restart(tmp_path):
    """gzip members appended (``gzip -c >> log.gz``), then one stream flushed as it is written: each poll
    decompresses only what was appended (the same tail, its decompressor kept); a restart starts at the
    record's end (decompressed offsets), and the rows are a batch ingest's."""
    log = tmp_path / "pihole.log.gz"
    parts = [pihole_lines(0, 40), pihole_lines(40, 30), pihole_lines(70, 25), pihole_lines(95, 20)]
    log.write_bytes(gzip.compress("".join(parts[0]).encode()))
    db = str(tmp_path / "w.duckdb")
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        w.opts.hold_seconds = w.batcher.hold_seconds = 0.0
        _poll(w)
        tail = w.followed[str(log)].tail
        assert isinstance(tail, CompressedTail)
        with open(log, "ab") as fh:
            fh.write(gzip.compress("".join(parts[1]).encode()))  # a second member
        _poll(w)
        assert w.followed[str(log)].tail is tail and tail.zpos == log.stat().st_size
        assert tail.read_to == len("".join(parts[0] + parts[1]).encode())
        assert store.scalar("SELECT count(*) FROM dns_queries") == 70
        w.close()
    z = zlib.compressobj(wbits=31)  # a third member, written and flushed while the watcher is stopped
    with open(log, "ab") as fh:
        fh.write(z.compress("".join(parts[2]).encode()) + z.flush(zlib.Z_SYNC_FLUSH))
    with open_store(db) as store:
        w = _watcher(store, [str(log)])
        w.opts.hold_seconds = w.batcher.hold_seconds = 0.0
        _poll(w)  # (a member unfinished at the start is read once it ends: ingest's plan reads it whole)
        with open(log, "ab") as fh:  # the same member goes on, then ends
            fh.write(z.compress("".join(parts[3]).encode()) + z.flush())
        _poll(w)
        assert isinstance(w.followed[str(log)].tail, CompressedTail)
        w.close()
    assert rows(db) == _batch(tmp_path, [line for part in parts for line in part])


def test_a_capture_that_never_goes_quiet_is_still_read_as_it_grows(tmp_path):
    """``tcpdump -w`` on a busy network writes every moment: a capture re-read only after a quiet spell
    would never be read again. It is re-read at least every few holds (or a few times its own re-read
    cost) while it keeps changing."""
    import dpkt

    cap = tmp_path / "logs" / "live.pcap"
    cap.parent.mkdir()
    with cap.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        for i in range(5):
            writer.writepkt(dns_query_packet(i), ts=1700000000 + i)
    with open_store(str(tmp_path / "w.duckdb")) as store:
        w = Watcher(store, WatchOptions(paths=[str(cap.parent)], ingest=IngestOptions(), detect=False,
                                        hold_seconds=0.3))
        try:
            _poll(w, 1)
            assert store.scalar("SELECT count(*) FROM dns_queries") == 5
            i, deadline = 5, time.monotonic() + 4.0
            while time.monotonic() < deadline:  # a packet every 0.1 s: never quiet for 0.3 s
                with cap.open("ab") as fh:
                    fh.write(pcap_record(i))
                i += 1
                _poll(w, 1)
                time.sleep(0.1)
            stored = store.scalar("SELECT count(*) FROM dns_queries")
            assert 5 + 10 <= stored <= i  # read while it grew, each packet once
        finally:
            w.close()
