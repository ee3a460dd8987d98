"""Storing one file's parse results: batched inserts on a writer thread, the file's record, clean-up.

A :class:`Writer` serves a whole batch of files (one thread, one DuckDB thread setting); per file,
``start`` → ``submit`` each chunk's result → ``finish`` with the file's record, or ``abort``.

- **Batches.** DuckDB pays ~10-40 ms per INSERT statement (a new row group each time), so records
  (converted to Arrow on the parsing thread) are gathered until ``INSERT_ROWS`` and written in one
  statement and one transaction. The writer may lag ``ROWS_IN_FLIGHT`` rows behind, so that an insert does
  not stall the parser; memory stays bounded by those buffers whatever the file size.
- **Bookkeeping in the same transactions.** The file's record is marked in progress in the transaction of
  its first intermediate insert (a killed run leaves committed rows only with such a record, which the
  next writable open removes, see ``bookkeeping.recover_interrupted``), and the final record is written in
  the transaction of the last insert. That transaction stays open for the next files until it holds
  ``INSERT_ROWS`` rows or is ``COMMIT_SECONDS`` old (or the batch ends): many small files, one commit.
  With ``hold_small`` (a batch ingest), a small file's rows are also held until that commit, so many
  small files' rows go in one INSERT per table (their records are written at once, in the same
  transaction).
- **Clean-up.** ``abort`` drops what is buffered and, if some of the file's rows were committed, removes
  them and restores the record (``bookkeeping.discard_after``).
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

import polars as pl
import pyarrow as pa

from netsift.ingest import bookkeeping
from netsift.ingest.base import ParseResult
from netsift.ingest.times import FileTimes
from netsift.store.base import Store
from netsift.store.duckdb import arrow_for_append

INSERT_ROWS = 500_000  # rows gathered per INSERT (and per transaction) while ingesting one file
ROWS_IN_FLIGHT = INSERT_ROWS  # parsed rows the writer may lag behind by (bounds memory)
COMMIT_SECONDS = 5.0  # small files' rows wait at most about this long in an open transaction
TIMES_ROWS = 2_000_000  # up to this many records, the file's stamp range is computed from them (no query)


@dataclass
class FileRecord:
    """A file's row in ``ingested_files`` (``rows`` and ``rejected``: this read's, added to a record's)."""

    file_id: int
    path: str
    size: int
    head: str
    content_hash: str
    last_offset: int
    last_line: int
    fmt: str
    rows: int = 0
    rejected: int = 0
    # still being followed (``netsift watch``): a run that dies leaves rows past ``last_line`` that the next
    # writable open removes, as for an interrupted ingest
    in_progress: bool = False

    def write(self, store: Store, *, is_new: bool, in_progress: bool = False) -> None:
        bookkeeping.record(store, file_id=self.file_id, is_new=is_new, path=self.path, size=self.size,
                           head=self.head, content_hash=self.content_hash, last_offset=self.last_offset,
                           last_line=self.last_line, fmt=self.fmt, rows=self.rows, rejected=self.rejected,
                           in_progress=in_progress or self.in_progress)


class Writer:
    """Stores the files of one batch (see the module docstring). Use as a context manager."""

    def __init__(self, store: Store, *, hold_small: bool = False):
        self._store = store
        # a new file written whole by its final write (a small file) has its rows held, with the held rows of
        # the small files before it, until the open transaction commits: one INSERT per table for many
        # small files instead of one each (only for a batch whose store nobody reads from in between: the
        # files' records are written at once; their rows before the commit)
        self._hold_small = hold_small
        self._held: dict[str, list[pa.Table]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._threads: int | None = None  # the store's thread setting, restored on close
        self._one_thread = False
        self._in_transaction = False  # a transaction left open by small files' final writes
        self._uncommitted = 0  # rows written in it
        self._since = 0.0  # when it began

    # --- per file -----------------------------------------------------------------------------------
    def start(self, table: str, file_id: int, *, opening: FileRecord | None, resume_line: int) -> None:
        """A new file's rows go to ``table``. ``opening``: the record to insert, in progress, with the
        first intermediate insert (None: the file continues an existing record, marked in progress then).
        ``resume_line``: the last line already stored (what ``abort`` keeps)."""
        self._table, self._file_id, self._opening, self._resume_line = table, file_id, opening, resume_line
        self._pending: deque[Future[int]] = deque()
        self._records: list[pa.Table] = []
        self._others: dict[str, list[pa.Table]] = {}  # rows of other tables (ParseResult.tables)
        self._rejected: list[pl.DataFrame] = []
        self._buffered = self._pending_rows = 0
        self._committed = False  # some of this file's rows (and its record in progress) are committed
        self._stamps: list[pl.Series] | None = []  # the records' stamps while there are few enough
        self._stamped = 0
        self._file_id_lit = pl.lit(file_id, pl.Int64)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netsift-store")
        self._set_one_thread(True)

    def submit(self, result: ParseResult) -> None:
        # the writer may fall behind by about one insert's worth of rows, so that the parser fills the next
        # batch while the previous one is written; no more, so memory stays bounded
        rows = result.rows + result.rejected.height
        while self._pending and self._pending_rows + rows > ROWS_IN_FLIGHT:
            self._pending_rows -= self._pending.popleft().result()
        self._pending_rows += rows
        records = None
        if result.records.height:
            self._note_stamps(result.records)
            # the conversion to Arrow happens here, on the parsing thread, to keep the writer (the slower
            # side for a log with one record per line) to the insert itself
            records = arrow_for_append(result.records.with_columns(source_file_id=self._file_id_lit))
        others = {table: arrow_for_append(frame.with_columns(source_file_id=self._file_id_lit))
                  for table, frame in result.tables.items() if frame.height}
        assert self._pool is not None
        self._pending.append(self._pool.submit(self._gather, records, result.rejected, others))

    def drain(self) -> None:
        """Wait until the inserts submitted so far are done (the store may then be queried)."""
        while self._pending:
            self._pending_rows -= self._pending.popleft().result()

    def finish(self, record: FileRecord) -> FileTimes | None:
        """Write what is left and the file's final record, in one transaction. Returns the file's stamp
        range (rows, min, max, median) when every row of the file went through this writer, else None."""
        self.drain()
        # parsing is over: the last insert may use every DuckDB thread when it is a large one
        if self._buffered >= INSERT_ROWS // 5:
            self._set_one_thread(False)
        assert self._pool is not None
        self._pending.append(self._pool.submit(self._write_final, record))
        self.drain()
        self._committed = False  # the file is complete (its record may wait for the commit of later files')
        return self._times() if self._opening is not None else None

    def abort(self) -> None:
        """Drop this file's buffered rows and remove the committed ones (its record restored or dropped)."""
        while self._pending:
            self._pending.popleft().exception()
        self._records, self._rejected, self._buffered, self._others = [], [], 0, {}
        if self._committed:
            bookkeeping.discard_after(self._store, self._file_id, self._resume_line,
                                      drop_record=self._opening is not None)
            self._committed = False

    # --- the batch ----------------------------------------------------------------------------------
    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.commit()
        self._set_one_thread(False)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- the writer thread -----------------------------------------------------------------------------
    def _gather(self, records: pa.Table | None, rejected: pl.DataFrame,
                others: dict[str, pa.Table] | None = None) -> int:
        """Buffer one result (writing the buffer when it is full); returns the rows it held."""
        if records is not None:
            self._records.append(records)
        if rejected.height:
            self._rejected.append(rejected)
        rows = (records.num_rows if records is not None else 0) + rejected.height
        for table, frame in (others or {}).items():
            self._others.setdefault(table, []).append(frame)
            rows += frame.num_rows
        self._buffered += rows
        if self._buffered >= INSERT_ROWS:
            self._write()
        return rows

    def _write_final(self, record: FileRecord) -> int:
        self._write(record)
        return 0

    def _write(self, final: FileRecord | None = None) -> None:
        """One transaction: the buffered rows, and the file's record (in progress on the first
        intermediate write; ``final`` on the last)."""
        records = pa.concat_tables(self._records) if self._records else None
        rejected = pl.concat(self._rejected) if self._rejected else None
        others = {table: pa.concat_tables(frames) for table, frames in self._others.items()}
        self._records, self._rejected, self._buffered, self._others = [], [], 0, {}
        if final is None and records is None and rejected is None and not others:
            return
        if not self._in_transaction:
            self._store.execute("BEGIN TRANSACTION")
            self._in_transaction, self._since = True, time.monotonic()
        hold = (final is not None and self._hold_small and self._opening is not None and not self._committed
                and self._stamps is not None)
        try:
            tables = [(self._table, records)] if records is not None else []
            tables += others.items()
            if rejected is not None:
                tables.append(("rejected_lines",
                               arrow_for_append(rejected.with_columns(source_file_id=self._file_id_lit))))
            for table, rows in tables:
                if hold:
                    self._held.setdefault(table, []).append(rows)
                else:
                    self._store.append(table, rows)
                self._uncommitted += rows.num_rows
            is_new = self._opening is not None and not self._committed
            if final is not None:
                final.write(self._store, is_new=is_new)
            elif is_new:
                assert self._opening is not None
                self._opening.write(self._store, is_new=True, in_progress=True)
            elif not self._committed:
                bookkeeping.mark_in_progress(self._store, self._file_id)
        except BaseException:
            self._in_transaction, self._held = False, {}  # the held rows' records go with the transaction
            self._store.execute("ROLLBACK")
            raise
        if final is None:
            self._committed = True
            self.commit()
        elif self._uncommitted >= INSERT_ROWS or time.monotonic() - self._since > COMMIT_SECONDS:
            self.commit()
        # else: a small file's rows and record wait in the open transaction for the next files' (one
        # commit for many small files); the store's readers in this process see them, and a run that dies
        # before the commit leaves nothing of them

    def commit(self) -> None:
        """Commit the open transaction, if any (needed before another transaction starts on the store), with
        the small files' rows held for it."""
        if self._in_transaction:
            held, self._held = self._held, {}
            try:
                for table, frames in held.items():
                    self._store.append(table, pa.concat_tables(frames, promote_options="default"))
            except BaseException:
                self._in_transaction = False
                self._store.execute("ROLLBACK")
                raise
            self._in_transaction = False
            self._uncommitted = 0
            self._store.execute("COMMIT")

    def _set_one_thread(self, one: bool) -> None:
        # one DuckDB thread for the inserts while parsing: the other core is parsing, and a two-thread
        # insert of an Arrow table spends more CPU for no gain in wall time here
        if one == self._one_thread:
            return
        if self._threads is None:
            self._threads = int(self._store.scalar("SELECT current_setting('threads')"))
        self._store.execute(f"SET threads = {1 if one else self._threads}")
        self._one_thread = one

    # --- the file's stamp range -------------------------------------------------------------------------
    def _note_stamps(self, records: pl.DataFrame) -> None:
        self._stamped += records.height
        if self._stamps is not None and "ts" in records.columns:
            self._stamps.append(records["ts"])
            if self._stamped > TIMES_ROWS:
                self._stamps = None  # too many to keep: the store is asked instead

    def _times(self) -> FileTimes | None:
        if self._stamps is None:
            return None
        stamps = pl.concat(self._stamps) if self._stamps else pl.Series("ts", [], pl.Datetime("us"))
        known = stamps.drop_nulls().sort()
        if not known.len():
            return (self._stamped, None, None, None)
        # the store's quantile_disc(ts, 0.5): the lower middle value
        return (self._stamped, known[0], known[-1], known[(known.len() - 1) // 2])

