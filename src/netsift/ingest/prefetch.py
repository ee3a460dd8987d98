"""Overlap reading, parsing and storing: a bounded background producer for an iterator. Polars and
DuckDB release the GIL, so on two cores the reader (decompress, hash, split lines) runs while the
parser works on the previous chunk. Memory stays bounded by ``depth`` chunks; an exception in the
producer is re-raised in the consumer at the point it happened."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer
            q.put((_DONE, exc))

    worker = threading.Thread(target=produce, name="netsift-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
