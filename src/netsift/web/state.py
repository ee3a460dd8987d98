"""What the dashboard process holds: the one DuckDB connection, the secrets, and the background
re-analysis that runs after a verdict.

DuckDB allows one read-write process per file, so the server opens the store once and keeps it: each
request reads through its own cursor of that connection (:class:`RequestStore`; cursors are separate
connections to the same database and safe to use from different threads), and re-analysis runs in one
background thread on the main connection. Another ``netsift`` command on the same file must wait until
the server stops (or use a copy of the file).
"""

from __future__ import annotations

import logging
import secrets
import threading

from netsift import pipeline
from netsift.report.rollups import ensure_rollups
from netsift.store import DuckDBStore, open_store

log = logging.getLogger("netsift.web")


class RequestStore(DuckDBStore):
    """A DuckDBStore over a cursor of the server's connection; closed at the end of the request."""

    def __init__(self, parent: DuckDBStore):  # noqa: super().__init__ would open a second connection
        self.path = parent.path
        self.con = parent.con.cursor()


class Reanalyzer:
    """Runs ``pipeline.analyze`` in a background thread after verdicts; requests that arrive while it
    runs are folded into one more run."""

    def __init__(self, store: DuckDBStore, options: pipeline.AnalysisOptions | None = None):
        self.store = store
        self.options = options
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
        while True:
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                self._pending = False
            try:
                pipeline.analyze(self.store, self.options)
                ensure_rollups(self.store.con)
                self.error = None
            except Exception as exc:  # keep serving; the banner shows the error
                log.exception("re-analysis failed")
                self.error = f"{type(exc).__name__}: {exc}"
            self.runs += 1

    def wait(self, timeout: float | None = None) -> None:
        """Block until no analysis is running or pending (tests, shutdown)."""
        thread = self._thread
        while thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return
            with self._lock:
                thread = self._thread if self._running else None


class Dashboard:
    """Process-wide state of one dashboard app."""

    def __init__(self, store_path: str | None, *, token: str | None = None,
                 options: pipeline.AnalysisOptions | None = None):
        pipeline.register_all_tables()
        self.store = open_store(store_path)
        ensure_rollups(self.store.con)
        self.token = token
        self.csrf_token = secrets.token_urlsafe(32)
        self.reanalyzer = Reanalyzer(self.store, options)

    def request_store(self) -> RequestStore:
        return RequestStore(self.store)

    def close(self) -> None:
        self.reanalyzer.wait()
        self.store.close()
