"""Turn a downloaded list into its installed form, checking on the way that it is the list it claims to be.

A zip (Tranco), a gzip or a plain body becomes one file ``lists/<name>.<ext>``; the UT1 tarball becomes a
folder ``lists/<name>/<category>/domains``. Every check failure raises :class:`ListError` with a message
saying what was seen: a truncated archive, an HTML page instead of a list, too few lines in the expected
format. Nothing replaces the installed copy until the new one has passed: the new file is written beside
it under a temporary name and moved over it with ``os.replace``.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from netsift.errors import ServiceError
from netsift.lists.catalog import ListSpec

_SUFFIX = {"tranco_csv": ".csv", "hosts": ".txt", "domains": ".txt", "csv": ".csv"}
_LINE_OK = {
    "tranco_csv": re.compile(r"^\d+,[^,\s]+$"),
    "hosts": re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]+)\s+[^\s#]+"),
    "domains": re.compile(r"^[^\s,<>\"']+(?:\s+#.*)?$"),
}
_CATEGORY = re.compile(r"^[A-Za-z0-9_.-]+$")
_READ_ERRORS = (zipfile.BadZipFile, gzip.BadGzipFile, tarfile.TarError, EOFError, zlib.error, OSError)


class ListError(ServiceError):
    """A download that failed or is not the list it should be; the message says what was seen."""


def install(spec: ListSpec, raw: Path, lists_dir: Path) -> tuple[int, Path]:
    """Unpack and check ``raw``; move the result into ``lists_dir``. Returns (entries, installed path)."""
    if spec.format == "ut1_tar":
        return _install_tree(spec, raw, lists_dir)
    final = lists_dir / f"{spec.name}{_SUFFIX[spec.format]}"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".unpacked", dir=lists_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with _payload(raw) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            except _READ_ERRORS as exc:
                raise ListError(f"{spec.name}: the download is damaged or truncated ({_describe(exc)})") from exc
        entries = count_entries(spec, tmp)
        if entries < spec.min_entries:
            raise ListError(f"{spec.name}: only {entries} entries (at least {spec.min_entries} expected): "
                            "is the URL right?")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return entries, final


@contextlib.contextmanager
def _payload(raw: Path):
    """The list's bytes, whatever the wrapping: zip (largest member), gzip or none."""
    with open(raw, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        with zipfile.ZipFile(raw) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if not members:
                raise zipfile.BadZipFile("the zip archive is empty")
            member = max(members, key=lambda m: m.file_size)
            with zf.open(member) as src:
                yield src
    elif magic.startswith(b"\x1f\x8b"):
        with gzip.open(raw, "rb") as src:
            yield src
    else:
        with open(raw, "rb") as src:
            yield src


def count_entries(spec: ListSpec, path: Path) -> int:
    """Entries in an unpacked single-file list; ListError when its lines are not in the list's format."""
    with open(path, "rb") as fh:
        head = fh.read(1024).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]:
        raise ListError(f"{spec.name}: the server sent an HTML page, not the list")
    good = bad = 0
    header_seen = spec.format != "csv"
    pattern = _LINE_OK.get(spec.format)
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not header_seen:
                if "," not in line:
                    raise ListError(f"{spec.name}: expected a CSV header line, got {line[:80]!r}")
                header_seen = True
                continue
            if pattern is None or pattern.match(line):
                good += 1
            else:
                bad += 1
    if bad > max(10, good // 10):
        raise ListError(f"{spec.name}: {bad} of {good + bad} lines are not in {spec.format} format")
    return good


def _install_tree(spec: ListSpec, raw: Path, lists_dir: Path) -> tuple[int, Path]:
    """UT1-style tarball: keep ``<category>/domains`` files only (no links, no paths outside)."""
    final = lists_dir / spec.name
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", suffix=".unpacked", dir=lists_dir))
    try:
        entries = 0
        categories = 0
        try:
            with tarfile.open(raw, "r:*") as tar:
                for member in tar:
                    parts = PurePosixPath(member.name).parts
                    if len(parts) < 2 or parts[-1] != "domains" or not (member.isfile() or member.islnk()):
                        continue
                    if member.name.startswith("/") or ".." in parts:  # never trust paths outside the tree
                        continue
                    category = parts[-2]
                    if not _CATEGORY.match(category) or category in (".", ".."):
                        continue
                    src = tar.extractfile(member)
                    if src is None:
                        continue
                    (tmp / category).mkdir(exist_ok=True)
                    with src, open(tmp / category / "domains", "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    with open(tmp / category / "domains", "rb") as fh:
                        entries += sum(1 for line in fh if line.strip() and not line.startswith(b"#"))
                    categories += 1
        except _READ_ERRORS as exc:
            raise ListError(f"{spec.name}: the archive is damaged or truncated ({_describe(exc)})") from exc
        if categories == 0:
            raise ListError(f"{spec.name}: no <category>/domains files in the archive")
        if entries < spec.min_entries:
            raise ListError(f"{spec.name}: only {entries} entries (at least {spec.min_entries} expected)")
        old = None
        if final.exists():
            old = lists_dir / f".{spec.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entries, final


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text

