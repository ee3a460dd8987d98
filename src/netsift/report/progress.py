"""Byte-counting progress bar on stderr. It turns itself off when stderr is not a terminal or when the
user asked for --quiet: callers always get an object with start/advance/stop (a null bar), never None."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import TaskID


class NullProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def stop(self) -> None:
        pass


class ByteProgress(NullProgress):
    def __init__(self, description: str = "ingest"):
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TimeRemainingColumn,
                                   TransferSpeedColumn)

        self._progress = Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        )
        self._description = description
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(self._description, total=total or None)

    def advance(self, n: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)

    def stop(self) -> None:
        self._progress.stop()


def progress_bar(quiet: bool = False, description: str = "ingest") -> NullProgress:
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return ByteProgress(description)
