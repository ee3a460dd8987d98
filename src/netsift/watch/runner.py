"""The watcher's loop: poll the sources, store a micro-batch, analyse on a cadence, alert.

One thread (the caller's) polls every ``poll`` seconds: each followed file's change (grown, rotated,
truncated; ``follow.py``), each syslog program's buffer, then the watched paths again for files that
appeared; every source with new complete lines becomes part of one micro-batch, committed with the
sources' checkpoints in one transaction (``batches.py``).

Detection runs in a second thread on a session of its own (:class:`Detector`) whenever rows were added, at
most every ``detect_every`` seconds and never more than half of the time (a run that took 3 s waits 3 s
before the next), so ingest is never held up by it. Each run is an :class:`~netsift.incremental.Incremental`
analysis: a full one (``pipeline.analyze``) at the start and every ``[watch] full_every`` seconds, and in
between recent ones (the kept baseline takes in only the new rows, each producer reads only its window),
so the time per run follows the recent rows, not the store. The store's remembered inputs (top lists,
allowlist, feeds, categories) and verdicts are read on each run; a verdict recorded on the live dashboard
asks for a full run. Each run's findings go through the :class:`~netsift.watch.alerts.Suppressor` to the
sinks. With ``--serve``, the dashboard's rollups are rebuilt after the alerts, at most every
``ROLLUP_SHARE`` of the time (a full run rebuilds them too).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from netsift import pipeline
from netsift.incremental import Incremental
from netsift.errors import InputError
from netsift.ingest import bookkeeping
from netsift.ingest.plan import IngestOptions
from netsift.store import Store
from netsift.store.rollups import ensure_rollups
from netsift.watch import batches
from netsift.watch.alerts import Sink, Suppressor
from netsift.watch.batches import Batcher, Followed, Whole
from netsift.watch.follow import BufferTail, StdinTail, Tail, file_ident, watched_paths
from netsift.watch.health import Health
from netsift.watch.spool import SpoolTail

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
DETECT_SECONDS = 2.0
DISCOVER_SECONDS = 1.0  # how often the watched paths are expanded again (new files)
BACKLOG_SECONDS = 1.0  # a source with a backlog is read for about this long per poll
# with --serve: the dashboard's rollups are rebuilt after recent runs, taking at most this share of the time
# (a rebuild that took 1 s waits 4 s before the next; on a small store they follow every run)
ROLLUP_SHARE = 0.2


@dataclass
class WatchOptions:
    paths: Sequence[str] = ()
    ingest: IngestOptions = field(default_factory=IngestOptions)
    analysis: pipeline.AnalysisOptions | None = None
    min_severity: str = "medium"
    poll: float = POLL_SECONDS
    detect_every: float = DETECT_SECONDS
    hold_seconds: float = batches.HOLD_SECONDS
    detect: bool = True
    rollups: bool = False  # keep the dashboard's rollups fresh between full runs (--serve)
    spool_dir: str | None = None  # syslog messages spooled here until stored (None: in memory only)


class Detector:
    """Runs the analysis in its own thread when asked (requests while it runs fold into one more run)."""

    def __init__(self, store: Store, opts: WatchOptions, health: Health, sinks: list[Sink],
                 on_done: Callable[[], None] = lambda: None):
        self.session = store.cursor()
        self.opts, self.health, self.sinks, self.on_done = opts, health, sinks, on_done
        self.suppressor = Suppressor(opts.min_severity, pipeline.load_findings(self.session))
        self.analysis = Incremental(self.session, opts.analysis)
        self.runs = 0
        self._wanted = threading.Event()
        self._full = False
        self._stop = threading.Event()
        self._next_at = 0.0
        self._rollups_at = time.monotonic()
        self._rollups_due = False
        self._rollups_cost = 0.0
        self._thread = threading.Thread(target=self._loop, name="netsift-detect", daemon=True)
        self._thread.start()

    def request(self, *, full: bool = False) -> None:
        """Ask for a run (``full``: a full analysis, e.g. after a verdict: it may explain carried findings)."""
        self._full = self._full or full
        self._wanted.set()

    def request_full(self) -> None:
        self.request(full=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._wanted.wait(0.2):
                if self._rollups_due and self._rollups_may():
                    self._refresh_rollups()
                    self.on_done()
                continue
            delay = self._next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
                continue
            self._wanted.clear()
            self.run_once()

    def run_once(self) -> list[dict]:
        started = time.monotonic()
        full, self._full = (True if self._full else None), False
        try:
            findings = self.analysis.run(full=full)
        except Exception as exc:  # keep watching; the health says what went wrong
            log.exception("analysis failed")
            self.health.analysis_error = f"{type(exc).__name__}: {exc}"
            self._next_at = time.monotonic() + self.opts.detect_every
            return []
        took = time.monotonic() - started
        last = self.analysis.last
        self.health.analysis_error = None
        self.health.analysis_seconds, self.health.last_analysis_at = took, time.time()
        self.health.findings = len(findings)
        if last is not None:
            self.health.extra["analysis"] = {"kind": "full" if last.full else "recent",
                                             "rows_read": last.rows_read, "windows_hours": last.windows}
        alerts = self.suppressor.alerts(findings)
        for alert in alerts:
            for sink in self.sinks:
                try:
                    sink.send(alert)
                except OSError as exc:
                    self.health.note(f"alert sink failed: {exc}")
            self.health.alerted(alert)
        if last is not None and last.full:
            self._rollups_due, self._rollups_at = False, time.monotonic()  # a full run rebuilt them
        elif self.opts.rollups:  # after the alerts: they do not wait for the dashboard's charts
            self._rollups_due = True
            if self._rollups_may():
                self._refresh_rollups()
        took = time.monotonic() - started
        # never more than half the time on recent runs; a full run (every [watch] full_every) is not repeated
        # so soon anyway, and the recent runs after it keep their cadence
        self._next_at = time.monotonic() + max(self.opts.detect_every, 0.0 if last is None or last.full else took)
        self.runs += 1
        self.on_done()
        return alerts

    def _rollups_may(self) -> bool:
        return time.monotonic() - self._rollups_at >= self._rollups_cost * (1 / ROLLUP_SHARE - 1)

    def _refresh_rollups(self) -> None:
        started = time.monotonic()
        try:
            ensure_rollups(self.session)
        except Exception as exc:  # noqa: BLE001 - the next try, or the next full run, rebuilds them
            log.exception("rebuilding the rollups failed")
            self.health.note(f"rollups: {type(exc).__name__}: {exc}")
        self._rollups_due, self._rollups_at = False, time.monotonic()
        self._rollups_cost = self._rollups_at - started

    def close(self, *, last_run: bool = False) -> None:
        """Stop; with ``last_run``, analyse once more if rows arrived since the last analysis (stdin ended:
        its last lines get their alerts)."""
        self._stop.set()
        self._thread.join(30)
        if last_run and self._wanted.is_set():
            self.run_once()
        if self.runs:
            self._refresh_rollups()  # recent runs leave them to full runs: current for the next reader
        self.session.close()


class Watcher:
    def __init__(self, store: Store, opts: WatchOptions, sinks: Sequence[Sink] = (), health: Health | None = None,
                 on_batch: Callable[[], None] = lambda: None, on_analysis: Callable[[], None] = lambda: None):
        self.store, self.opts = store, opts
        self.health = health or Health()
        self.batcher = Batcher(store, opts.hold_seconds)
        self.followed: dict[str, Followed] = {}
        self.whole: dict[str, Whole] = {}
        self.refused: dict[str, tuple[int, int, int] | None] = {}  # unreadable files, until they change
        self.seen: set[str] = set()  # paths looked at once (rotated siblings finished)
        self.deferred: dict[str, int] = {}  # copies of followed files -> the followed file's id
        self.buffers: dict[str, tuple[BufferTail, str | None]] = {}  # stdin, syslog programs -> format
        self.on_batch = on_batch
        self.spool_dir = opts.spool_dir
        self.stop = threading.Event()
        self._discovered_at = 0.0
        if "-" in opts.paths:
            self.buffers["-"] = (StdinTail(), opts.ingest.format)
        self.detector = Detector(store, opts, self.health, list(sinks), on_analysis) if opts.detect else None

    def add_buffer(self, key: str, tail: BufferTail, fmt: str | None) -> None:
        """A source in memory (a syslog program's messages) read with ``fmt``."""
        self.buffers = {**self.buffers, key: (tail, fmt)}  # rebound, not changed: the loop may be reading it

    def resume_points(self, prefix: str) -> dict[str, tuple[int, int, int]]:
        """The latest record of each source named ``prefix...`` (a syslog listener's): (file id, offset,
        line) that its stream continues from."""
        out: dict[str, tuple[int, int, int]] = {}
        for path, file_id, offset, line in self.store.rows(
                "SELECT path, file_id, last_offset, last_line FROM ingested_files WHERE starts_with(path, ?) "
                "ORDER BY file_id", [prefix]):
            out[path] = (int(file_id), int(offset or 0), int(line or 0))
        return out

    def _spooled(self) -> None:
        """After a commit: the spools drop what is stored, and fsync what they received since the last."""
        for f in self.followed.values():
            if isinstance(f.tail, SpoolTail):
                f.tail.committed(f.offset)
        for tail, _ in self.buffers.values():
            if isinstance(tail, SpoolTail):
                tail.sync()

    # --- the loop -----------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                self.poll()
                self.stop.wait(max(0.0, self.opts.poll - (time.monotonic() - started)))
        finally:
            self.close()

    def poll(self) -> int:
        """One round: every source's new lines stored (one transaction); returns the lines read."""
        lines = rows = rejected = 0
        for key, f in list(self.followed.items()):
            for b in self._advance(key, f):
                lines, rows, rejected = lines + b.lines, rows + b.rows, rejected + b.rejected
        for key, (tail, fmt) in list(self.buffers.items()):
            if key not in self.followed:
                try:
                    started = batches.follow_buffer(self.store, tail, self.opts.ingest, fmt)
                except InputError as exc:
                    self.health.note(str(exc))
                    self.buffers = {k: v for k, v in self.buffers.items() if k != key}
                    continue
                if started is None:
                    continue
                self.followed[key] = started
                first = self.batcher.step(started)
                if first is not None:
                    lines, rows, rejected = lines + first.lines, rows + first.rows, rejected + first.rejected
                    self.health.counted(first.lines, first.rows, first.rejected)
        self.batcher.commit()
        caught_up = 0
        if time.monotonic() - self._discovered_at >= DISCOVER_SECONDS:
            self._discovered_at = time.monotonic()
            caught_up = self._discover()
            self.batcher.commit()
        self._spooled()
        if rows or caught_up:
            if self.detector is not None:
                self.detector.request()
            self.on_batch()
        self._update_sources()
        if self._input_ended():
            self.health.note("stdin ended")
            self.stop.set()
        return lines

    def _input_ended(self) -> bool:
        """Only stdin is watched (no files, no syslog) and it ended, all of it stored."""
        if list(self.opts.paths) != ["-"] or set(self.buffers) != {"-"}:
            return False
        tail = self.buffers["-"][0]
        f = self.followed.get("-")
        return tail.ended and not tail.behind() and (f is None or not f.pending_lines)

    def _advance(self, key: str, f: Followed) -> list[batches.Batch]:
        change = f.tail.check()
        out = []
        if change == "truncated":
            b = self.batcher.step(f, flush=True, read=False)
            out += [b] if b else []
            self._drop(key, f, "truncated: read again from its start")
            return out
        started = time.monotonic()
        while True:
            b = self.batcher.step(f)
            if b is not None:
                out.append(b)
                self.health.counted(b.lines, b.rows, b.rejected)
            if b is None or b.lines == 0 or not f.tail.behind():
                break  # caught up
            # a backlog larger than a batch: read in several, each committed (small transactions), and
            # at most about a second per source per poll, so other sources and the health move on too
            self.batcher.commit()
            if time.monotonic() - started >= BACKLOG_SECONDS:
                break
        if change == "rotated" and (b is None or b.flushed):
            self._drop(key, f, "rotated: finished")
        return out

    def _drop(self, key: str, f: Followed, why: str) -> None:
        self.batcher.complete(f)
        self.deferred = {p: i for p, i in self.deferred.items() if i != f.file_id}  # looked at again
        if isinstance(f.tail, Tail):
            moved = _find_inode(os.path.dirname(f.path), f.tail.ident)
            if moved is not None and moved != f.path:
                bookkeeping.rename(self.store, f.file_id, moved)
                why += f" (now {moved})"
        f.tail.close()
        del self.followed[key]
        if key in self.buffers and f.tail.finishing:
            del self.buffers[key]
        self.health.note(f"{f.path}: {why}")

    def _discover(self) -> int:
        rows = 0
        idents = {f.tail.ident for f in self.followed.values() if isinstance(f.tail, Tail)}
        for path in watched_paths(self.opts.paths):
            if path in self.followed:
                continue
            sig = batches.signature(path)
            if sig is None:
                continue
            if path in self.refused and self.refused[path] == sig:
                continue
            if (os.stat(path).st_dev, sig[0]) in idents:
                continue  # a followed file under another name (renamed while this round ran)
            whole = self.whole.get(path)
            if whole is not None:
                whole.changed(sig, time.monotonic())
                if not whole.due(time.monotonic(), self.opts.hold_seconds):
                    continue
            self.batcher.commit()  # a catch-up's writer opens transactions of its own
            if path in self.deferred:
                continue
            following = {f.file_id: f for f in self.followed.values()}
            copied = batches.copy_of(self.store, path, self.opts.ingest) if path not in self.seen else None
            if copied in following:
                # a copy of a file being followed (copytruncate's pihole.log.1, a compressed copy): the lines
                # the copy holds are read from the followed file; looked at again when that one is done
                # (after a truncation the copy continues its record with what the followed file lost)
                self.deferred[path] = following[copied].file_id
                self.health.note(f"{path}: a copy of {following[copied].path}, which is followed")
                continue
            if whole is None and path not in self.seen:
                for report in batches.finish_rotated(self.store, path, self.opts.ingest):
                    rows += report.rows
                    self.health.counted(report.lines, report.rows, report.rejected)
                    self.health.note(f"{report.path}: rotated while not watched; {report.status}, "
                                     f"{report.rows:,} rows")
            self.seen.add(path)
            f = batches.follow_file(self.store, path, self.opts.ingest) if whole is None else None
            if f is None:
                started = time.monotonic()
                report = batches.catch_up(self.store, path, self.opts.ingest)
                if report.status == "error":
                    self.refused[path] = sig
                    self.health.note(f"{path}: {report.message}")
                    continue
                rows += report.rows
                self.health.counted(report.lines, report.rows, report.rejected)
                if report.rows or report.rejected:
                    self.health.note(f"{path}: {report.format} {report.status}, {report.rows:,} rows, "
                                     f"{report.rejected:,} rejected")
                f = batches.follow_file(self.store, path, self.opts.ingest) if whole is None else None
                if f is None:
                    if report.status != "waiting":
                        now = time.monotonic()
                        self.whole[path] = Whole(path, sig, now, cost=now - started)
                    continue
            self.refused.pop(path, None)
            self.whole.pop(path, None)
            self.followed[path] = f
            # the backlog (a new file, or what was written while the watcher was stopped) in batches
            rows += sum(b.rows for b in self._advance(path, f))
        return rows

    def _update_sources(self) -> None:
        now = time.monotonic()
        sources = [{"path": f.path, "format": f.parser.name, "rows": f.rows, "rejected": f.rejected,
                    "lines": f.lines, "offset": f.offset, "behind_bytes": f.tail.behind() + len(f.pending),
                    "idle_seconds": round(now - f.tail.last_data, 1)} for f in self.followed.values()]
        sources += [{"path": w.path, "format": None, "mode": "re-read when changed", "behind_bytes": 0}
                    for w in self.whole.values()]
        self.health.sources = sources

    def close(self) -> None:
        """Stop: flush what the parsers hold, mark every record complete, stop detection."""
        for key, f in list(self.followed.items()):
            try:
                self.batcher.step(f, flush=True)
                self.batcher.complete(f)
            except Exception:  # noqa: BLE001 - the next start reads again from the checkpoint
                log.exception("flushing %s failed", key)
        self.batcher.close()
        self._spooled()
        for tail, _ in self.buffers.values():
            tail.close()
        if self.detector is not None:
            self.detector.close(last_run=self._input_ended())


def _find_inode(directory: str, ident: tuple[int, int]) -> str | None:
    """Where a rotated file went: the path in ``directory`` with this device and inode."""
    try:
        with os.scandir(directory or ".") as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False) and file_ident(entry.stat(follow_symlinks=False)) == ident:
                        return os.path.abspath(entry.path)
                except OSError:
                    continue
    except OSError:
        pass
    return None
