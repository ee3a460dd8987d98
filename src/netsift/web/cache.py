"""Page results shared between requests, so that a team looking at the same pages costs one query each.

Everything the dashboard shows comes from the store, and only this process writes to it (DuckDB allows
one writer per file): a verdict, and the re-analysis that follows. Each write ends with
:meth:`PageCache.bump`, which moves the store's *version* on; results are kept per (version, page, query)
and a result computed while the version moved is handed to its requests but never kept. So a page is
computed at most once per version, and a request for a kept page is answered on the event loop without a
thread or a query.

Computations run in a small pool of worker threads (``workers``, default 4): when many requests arrive at
once, they queue for the store instead of all slowing each other down on two cores, and requests for a
page that is being computed wait for that one computation (no stampede after a bump).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024


class PageCache:
    def __init__(self, workers: int = 4, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.version = 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()  # key -> (value, size)
        self._bytes = 0
        self._running: dict[Hashable, Future] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netsift-page")
        self.hits = self.misses = 0

    def bump(self) -> None:
        """The store changed: forget every kept result."""
        with self._lock:
            self.version += 1
            self._kept.clear()
            self._running.clear()
            self._bytes = 0

    async def get(self, key: Hashable, compute: Callable[[], Any], size: Callable[[Any], int] = lambda v: 0) -> Any:
        """The value of ``compute()`` for ``key`` at the current version: kept, being computed (then waited
        for), or computed now in the pool. ``size`` tells how many bytes a value holds (for the bound)."""
        with self._lock:
            version = self.version
            full = (version, key)
            kept = self._kept.get(full)
            if kept is not None:
                self._kept.move_to_end(full)
                self.hits += 1
                return kept[0]
            future = self._running.get(full)
            if future is None:
                self.misses += 1
                future = self._pool.submit(self._compute, full, compute, size)
                self._running[full] = future
        # shield: a client that goes away must not cancel the computation others wait for
        return await asyncio.shield(asyncio.wrap_future(future))

    def _compute(self, full: tuple[int, Hashable], compute: Callable[[], Any], size: Callable[[Any], int]) -> Any:
        try:
            value = compute()
        except BaseException:
            with self._lock:
                self._running.pop(full, None)
            raise
        nbytes = size(value)
        with self._lock:
            self._running.pop(full, None)
            if full[0] == self.version and nbytes <= self.max_bytes:
                self._kept[full] = (value, nbytes)
                self._bytes += nbytes
                while len(self._kept) > self.max_entries or self._bytes > self.max_bytes:
                    _, (_, dropped) = self._kept.popitem(last=False)
                    self._bytes -= dropped
        return value

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
