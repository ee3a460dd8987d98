"""Which bytes of which file are already in the store (``ingested_files``), so that ingest is idempotent
and incremental.

- The same content twice adds nothing (content hash of everything ingested so far).
- A file that has grown adds only its new tail: its first ``last_offset`` bytes still hash to the stored
  ``content_hash``, so reading resumes at ``last_offset`` (a line boundary) with line numbers continuing.
- A rotated (renamed) file is recognised by the hash of its first 4 KiB, then checked like a grown file;
  the record follows the new name.
- Hashes and offsets are of the *decompressed* content: ``b.log``, ``b.log.gz`` and ``b.log.1.gz`` are the
  same file, a gzipped copy of an ingested file adds nothing, and a gz that extends one adds its tail.
  Records written before that for a compressed file hold the hash of its compressed bytes; such a record
  still recognises the same compressed file (the driver checks the compressed bytes first).
- A different file that starts with the bytes of an ingested one which still exists elsewhere is a copy:
  it gets a record of its own that starts where the shared prefix ends (the prefix's rows stay the
  other file's). A file whose record's path is gone, or now holds other content, was rotated: the
  record follows it.

Content hashes are BLAKE3 (cryptographic, ~4x faster than SHA-256 here), stored as ``blake3:<hex>``.
Records written by netsift before that hold a bare SHA-256 hex digest; such a record is still recognised
(the prefix is hashed both ways once) and carries a BLAKE3 hash from its next update on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from typing import IO, Any

import blake3

from netsift import schema
from netsift.store import Store

HEAD_HASH_BYTES = 4096
HASH_BLOCK = _BLOCK = 4 * 1024 * 1024


@dataclass
class PriorFile:
    file_id: int
    path: str
    last_offset: int
    last_line: int
    content_hash: str
    format: str | None
    head_hash: str | None = None


@dataclass
class ResumePoint:
    prior: PriorFile | None  # the record this read continues (None: a new file)
    offset: int  # where to start reading
    line: int  # line number of the last line already ingested
    hasher: Any  # content hasher (see content_hasher) already fed with bytes [0, offset)
    already_complete: bool  # nothing new to read


def head_hash(data: bytes) -> str:
    return hashlib.sha256(data[:HEAD_HASH_BYTES]).hexdigest()


_PREFIX = "blake3:"


def content_hasher() -> Any:
    """A new content hasher; ``digest_of`` turns it into the stored string."""
    return blake3.blake3()


def digest_of(hasher: Any) -> str:
    return _PREFIX + hasher.hexdigest()


def _digest_of_bytes(data: bytes) -> str:
    return _PREFIX + blake3.blake3(data).hexdigest()


def _hash_prefix(fh: IO[bytes], length: int, legacy: bool) -> tuple[Any, str | None]:
    """(content hasher fed with the first ``length`` bytes, their SHA-256 hex when ``legacy``)."""
    fh.seek(0)
    h, old = content_hasher(), hashlib.sha256() if legacy else None
    remaining = length
    while remaining > 0:
        block = fh.read(min(_BLOCK, remaining))
        if not block:
            break
        h.update(block)
        if old is not None:
            old.update(block)
        remaining -= len(block)
    return h, old.hexdigest() if old is not None else None


_PRIOR = "file_id, path, last_offset, last_line, content_hash, format, head_hash"


def prefix_hasher(fh: IO[bytes], prior: PriorFile) -> Any | None:
    """The content hasher fed with the first ``prior.last_offset`` bytes of ``fh`` when they are the
    content ``prior`` recorded (None otherwise); ``fh`` is left after them."""
    legacy = not prior.content_hash.startswith(_PREFIX)
    hasher, sha256 = _hash_prefix(fh, prior.last_offset, legacy)
    return hasher if (sha256 if legacy else digest_of(hasher)) == prior.content_hash else None


def hashes_on_to(fh: IO[bytes], hasher: Any, start: int, prior: PriorFile) -> bool:
    """Feed ``hasher`` (fed with bytes [0, start) of ``fh``, positioned there) the bytes up to
    ``prior.last_offset``: whether they all are the content ``prior`` recorded."""
    remaining = prior.last_offset - start
    while remaining > 0:
        block = fh.read(min(_BLOCK, remaining))
        if not block:
            return False
        hasher.update(block)
        remaining -= len(block)
    return digest_of(hasher) == prior.content_hash


def candidates(store: Store, path: str, head: bytes) -> list[PriorFile]:
    """In one query, the complete records a file at ``path`` starting with ``head`` may continue or be a
    part of: those of the same path, those with the same head hash, and those of files smaller than the
    head-hash window (compared by content). Ordered by last_offset, then file_id, descending."""
    rows = store.rows(
        f"SELECT {_PRIOR} FROM ingested_files WHERE (path = ? OR head_hash = ? OR "
        "(last_offset < ? AND last_offset > 0)) AND NOT coalesce(in_progress, false) "
        "ORDER BY last_offset DESC, file_id DESC",
        [path, head_hash(head), HEAD_HASH_BYTES],
    )
    return [PriorFile(*r) for r in rows]


def find_resume_point(store: Store, path: str, fh: IO[bytes], size: int | None, head: bytes,
                      records: list[PriorFile] | None = None) -> ResumePoint:
    """Decide where reading ``fh`` (seekable content: raw bytes, or a compressed file's decompressed
    bytes) should start. ``size``: the content's length, None when unknown (compressed). ``records``:
    ``candidates(store, path, head)`` when the caller has them."""
    limit = size if size is not None else 2**62
    if records is None:
        records = candidates(store, path, head)
    wanted = head_hash(head)
    fitting = [r for r in records if r.last_offset <= limit]
    order = [r for r in fitting if r.path == path or r.head_hash == wanted]
    # files smaller than the head-hash window: compare their whole content with our prefix of that length
    small = [r for r in fitting if r.last_offset < HEAD_HASH_BYTES and r.last_offset <= len(head)
             and r.content_hash in (_digest_of_bytes(head[:r.last_offset]),
                                    hashlib.sha256(head[:r.last_offset]).hexdigest())]
    for prior in order + small:
        if prior.last_offset == 0:
            continue
        hasher = prefix_hasher(fh, prior)
        if hasher is not None:
            fh.seek(prior.last_offset)
            complete = size is not None and prior.last_offset >= size
            return ResumePoint(prior, prior.last_offset, prior.last_line, hasher, complete)
    fh.seek(0)
    return ResumePoint(None, 0, 0, content_hasher(), False)


def longer_records(records: list[PriorFile], head: bytes, length: int, path: str) -> list[PriorFile]:
    """Of ``candidates(store, path, head)``: the records of other paths with this head hash and more
    content than ``length`` bytes — the files a file of ``length`` bytes (at least the head-hash window)
    may be a part of. Ordered by file_id."""
    if length < HEAD_HASH_BYTES:
        return []
    wanted = head_hash(head)
    return sorted((r for r in records if r.head_hash == wanted and r.last_offset > length and r.path != path),
                  key=lambda r: r.file_id)


def same_content(store: Store, content_hash: str) -> str | None:
    """Path of a file already ingested with exactly this content, if any."""
    return store.scalar("SELECT path FROM ingested_files WHERE content_hash = ? LIMIT 1", [content_hash])


def new_file_id(store: Store) -> int:
    return int(store.scalar("SELECT nextval('file_ids')"))


def record(store: Store, *, file_id: int, is_new: bool, path: str, size: int, head: str,
           content_hash: str, last_offset: int, last_line: int, fmt: str, rows: int, rejected: int,
           in_progress: bool = False) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if is_new:
        store.execute(
            "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, path, size, head, content_hash, last_offset, last_line, fmt, rows, rejected, now, in_progress],
        )
    else:
        store.execute(
            "UPDATE ingested_files SET path = ?, size = ?, head_hash = ?, content_hash = ?, last_offset = ?, "
            "last_line = ?, format = ?, rows = rows + ?, rejected = rejected + ?, ingested_at = ?, in_progress = ? "
            "WHERE file_id = ?",
            [path, size, head, content_hash, last_offset, last_line, fmt, rows, rejected, now, in_progress, file_id],
        )


def mark_in_progress(store: Store, file_id: int) -> None:
    store.execute("UPDATE ingested_files SET in_progress = true WHERE file_id = ?", [file_id])


def _row_tables() -> list[str]:
    return [t.name for t in schema.all_tables()
            if {"source_file_id", "source_line"} <= set(t.column_names)]


def discard_after(store: Store, file_id: int, last_line: int, *, drop_record: bool) -> None:
    """Undo a read that did not finish: remove the file's rows past ``last_line`` (committed in batches)
    and either drop its record (a new file) or mark it complete again at its previous state."""
    for table in _row_tables():
        store.execute(f"DELETE FROM {table} WHERE source_file_id = ? AND source_line > ?", [file_id, last_line])
    if drop_record:
        store.execute("DELETE FROM ingested_files WHERE file_id = ?", [file_id])
    else:
        store.execute("UPDATE ingested_files SET in_progress = false WHERE file_id = ?", [file_id])


def rename(store: Store, file_id: int, path: str) -> None:
    """The record follows its file to a new name (rotation)."""
    store.execute("UPDATE ingested_files SET path = ? WHERE file_id = ?", [path, file_id])


def recover_interrupted(store: Store) -> list[str]:
    """Clean up after a run that was killed mid-file; returns the paths recovered. DuckDB lets one process
    write a store, so records in progress found by a process that opens it for writing were left by an
    ingest that died: the store runs this whenever it is opened writable."""
    rows = store.rows("SELECT file_id, path, last_line, last_offset FROM ingested_files WHERE in_progress")
    for file_id, _path, last_line, last_offset in rows:
        discard_after(store, file_id, last_line, drop_record=last_offset == 0)
    return [r[1] for r in rows]


def hide_interrupted(store: Store) -> None:
    """For a store opened read-only (nothing can be cleaned up): temporary views over the row tables and
    the file records hide what a killed ingest left (rows past an in-progress record's last complete
    line, records with nothing complete), so every reader sees only complete work."""
    if not store.scalar("SELECT count(*) FROM ingested_files WHERE coalesce(in_progress, false)"):
        return
    files = f'"{store.scalar("SELECT current_database()")}".main'  # the stored tables, past the views
    for table in _row_tables():
        store.execute(
            f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT t.* FROM {files}.{table} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {files}.ingested_files f WHERE coalesce(f.in_progress, false) "
            "AND f.file_id = t.source_file_id AND t.source_line > f.last_line)")
    store.execute(f"CREATE OR REPLACE TEMP VIEW ingested_files AS SELECT * FROM {files}.ingested_files "
                      "WHERE NOT (coalesce(in_progress, false) AND last_offset = 0)")


def forget_file(store: Store, file_id: int) -> tuple[int, int]:
    """Remove a file's rows, rejected lines and record (one transaction); returns (rows, rejected)."""
    removed = {}
    with store.transaction():
        for table in _row_tables():
            removed[table] = store.scalar(f"SELECT count(*) FROM {table} WHERE source_file_id = ?", [file_id])
            store.execute(f"DELETE FROM {table} WHERE source_file_id = ?", [file_id])
        store.execute("DELETE FROM ingested_files WHERE file_id = ?", [file_id])
    rejected = removed.pop("rejected_lines", 0)
    return sum(removed.values()), rejected


def record_path(path: str) -> str:
    """How a path given on the command line is stored in ``ingested_files.path``."""
    return path if path == "-" else os.path.abspath(path)


def forget(store: Store, paths: list[str]) -> list[dict]:
    """``netsift forget``: remove what was ingested from these paths (rows, rejected lines, record), so the
    next ingest reads them again. Returns one dict per record removed; paths without a record give none."""
    out = []
    for p in paths:
        for file_id, path, fmt in store.rows(
                "SELECT file_id, path, format FROM ingested_files WHERE path = ? ORDER BY file_id", [record_path(p)]):
            rows, rejected = forget_file(store, file_id)
            out.append({"path": path, "file_id": file_id, "format": fmt, "rows": rows, "rejected": rejected})
    return out
