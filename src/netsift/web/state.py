"""What the dashboard process holds: the one store, the secrets, and the background
re-analysis that runs after a verdict.

DuckDB allows one read-write process per file, so the server opens the store once and keeps it: each
request reads through a session of its own (``store.reader()``; sessions are separate connections to
the same database and safe to use from different threads), and re-analysis runs in one background
thread on the store itself, at a lower CPU priority than the requests (and with the GIL
handed over more often while it runs). Pages are computed
once per store version and kept (:class:`~netsift.web.cache.PageCache`), and while a re-analysis runs they
are computed from a :class:`Snapshot` taken before it began: readers see the previous findings, never a
half-done analysis, and never wait for it. A verdict and the end of each re-analysis move the version on.
Another ``netsift`` command on the same file must wait until
the server stops (or use a copy of the file).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterator

from netsift import pipeline
from netsift.store import Store, open_store
from netsift.store.rollups import ensure_rollups
from netsift.web.cache import PageCache

log = logging.getLogger("netsift.web")
REANALYSIS_NICE = 10
REANALYSIS_SWITCH_INTERVAL = 0.0005  # seconds (Python's default is 0.005)
PAGE_WORKERS = 4  # pages computed at once (and cursors in a snapshot)


class Snapshot:
    """Sessions that all read the store as it was when the snapshot was taken: each holds one open
    read transaction (:meth:`Store.reader`; the database keeps what it saw while others commit). A session
    serves one page computation at a time; :meth:`retire` closes each as soon as nobody uses it."""

    def __init__(self, store: Store, size: int):
        self._lock = threading.Lock()
        self._free: list[tuple[Store, contextlib.ExitStack]] = []
        self._retired = False
        self._available = threading.Semaphore(size)
        for _ in range(size):
            stack = contextlib.ExitStack()
            self._free.append((stack.enter_context(store.reader()), stack))

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Store | None]:
        """One of the sessions, or None when the snapshot was retired meanwhile."""
        with self._available:
            with self._lock:
                held = None if self._retired else self._free.pop()
            try:
                yield None if held is None else held[0]
            finally:
                if held is not None:
                    with self._lock:
                        if self._retired:
                            held[1].close()
                        else:
                            self._free.append(held)

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            free, self._free = self._free, []
        for _, stack in free:
            stack.close()


class Reanalyzer:
    """Runs ``pipeline.analyze`` in a background thread after verdicts; requests that arrive while it
    runs are folded into one more run."""

    def __init__(self, store: Store, options: pipeline.AnalysisOptions | None = None,
                 before: Callable[[], None] = lambda: None, after: Callable[[], None] = lambda: None):
        self.store = store
        self.options = options
        self.before = before  # called before each run
        self.after = after  # and after it (the store changed)
        self.runs = 0
        self.error: str | None = None
        self._lock = threading.Lock()
        self._pending = False
        self._running = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._running

    def request(self) -> None:
        with self._lock:
            self._pending = True
            if self._running:
                return
            self._running = True
            self._thread = threading.Thread(target=self._loop, name="netsift-reanalyze", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        _lower_priority()
        switch = sys.getswitchinterval()
        # the analysis' Python steps hold the GIL: hand it to the event loop and the page threads sooner
        sys.setswitchinterval(min(switch, REANALYSIS_SWITCH_INTERVAL))
        while True:
            with self._lock:
                if not self._pending:
                    self._running = False
                    sys.setswitchinterval(switch)
                    return
                self._pending = False
            try:
                self.before()
                pipeline.analyze(self.store, self.options)
                ensure_rollups(self.store)
                self.error = None
            except Exception as exc:  # keep serving; the banner shows the error
                log.exception("re-analysis failed")
                self.error = f"{type(exc).__name__}: {exc}"
            self.runs += 1
            self.after()

    def wait(self, timeout: float | None = None) -> None:
        """Block until no analysis is running or pending (tests, shutdown)."""
        thread = self._thread
        while thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return
            with self._lock:
                thread = self._thread if self._running else None


def _lower_priority() -> None:
    """Let the re-analysis thread yield the CPU to the threads answering requests (Linux: a thread's
    native id is its own scheduling entity; elsewhere nothing happens)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), REANALYSIS_NICE)



class Dashboard:
    """Process-wide state of one dashboard app."""

    def __init__(self, store_path: str | None, *, token: str | None = None,
                 options: pipeline.AnalysisOptions | None = None, store: Store | None = None,
                 live: str | None = None):
        pipeline.register_all_tables()
        # ``store``: a session of a store another part of this process writes (``netsift watch --serve``)
        self.store = store if store is not None else open_store(store_path)
        self.live = live  # the server-sent events URL when pages update as the store grows (watch --serve)
        self.generation = 0  # bumped by the watcher when rows are stored or an analysis ends
        ensure_rollups(self.store)
        self.token = token
        self.csrf_token = secrets.token_urlsafe(32)
        self.pages = PageCache(PAGE_WORKERS)
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()
        self.reanalyzer = Reanalyzer(self.store, options, before=self._freeze, after=self._thaw)

    def request_store(self) -> Store:
        """A session of its own (autocommit; for writes such as a verdict); close it when done."""
        return self.store.cursor()

    @contextlib.contextmanager
    def reader(self) -> Iterator[Store]:
        """A store for computing one page: while a re-analysis runs, a session of the snapshot taken
        before it began; otherwise a session of its own, in one read transaction (so a page is
        consistent even when a write commits while it is computed)."""
        snapshot = self._snapshot
        if snapshot is not None:
            with snapshot.borrow() as session:
                if session is not None:
                    yield session
                    return
        with self.store.reader() as session:
            yield session

    def store_changed(self) -> None:
        """After a write by a request (a verdict): readers see it from now on, also during a re-analysis
        (whose snapshot is then taken again, with what the re-analysis has committed so far)."""
        with self._snapshot_lock:
            if self._snapshot is not None:
                old, self._snapshot = self._snapshot, Snapshot(self.store, PAGE_WORKERS)
                old.retire()
            self.pages.bump()

    def _freeze(self) -> None:
        with self._snapshot_lock:
            self._snapshot = Snapshot(self.store, PAGE_WORKERS)

    def _thaw(self) -> None:
        with self._snapshot_lock:
            old, self._snapshot = self._snapshot, None
            self.pages.bump()
        if old is not None:
            old.retire()

    def close(self) -> None:
        self.reanalyzer.wait()
        self.pages.close()
        self.store.close()
