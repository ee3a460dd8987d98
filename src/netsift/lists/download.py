"""``netsift lists update``: fetch the public lists of the catalog into the user data directory.

The only place in netsift that downloads lists. Each list is streamed with httpx to a temporary file
beside its destination, checked (HTTP status, size limit, complete body, archive integrity, not an HTML
error page, enough entries in the expected format), unpacked (zip / gzip / tar), and moved into place with
an atomic rename, so a failed or interrupted update leaves the previous copy untouched. ``manifest.json``
in the data directory records, per list, the URL, the date, the SHA-256 of the downloaded bytes and the
entry count; :func:`installed` reads it back with each list's age and a stale flag.

Data directory: ``$NETSIFT_DATA_DIR``, else the platform's user data directory for ``netsift``
(``~/.local/share/netsift`` on Linux). Lists live in its ``lists/`` folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from netsift import __version__
from netsift.lists import catalog
from netsift.lists.unpack import ListError, install

Progress = Callable[[str, int, int | None], None]  # (list name, bytes so far, total bytes or None)
MANIFEST = "manifest.json"
_CHUNK = 1 << 16


@dataclass
class UpdateResult:
    name: str
    ok: bool
    url: str
    path: Path | None = None
    entries: int = 0
    bytes: int = 0
    sha256: str | None = None
    date: dt.datetime | None = None
    error: str | None = None


@dataclass
class InstalledList:
    name: str
    path: Path
    kind: str
    format: str
    url: str
    date: dt.datetime
    age_days: float
    entries: int
    sha256: str
    stale: bool
    max_age_days: int


def data_dir(override: str | Path | None = None) -> Path:
    """Where netsift keeps downloaded data: the argument, ``$NETSIFT_DATA_DIR``, or the user data dir."""
    if override:
        return Path(override)
    env = os.environ.get("NETSIFT_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("netsift", appauthor=False))


def update(
    names: Iterable[str] | None = None,
    *,
    data_dir: str | Path | None = None,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
    urls: dict[str, str] | None = None,
) -> list[UpdateResult]:
    """Download the named lists (all of the catalog when ``names`` is None). Failures are reported in the
    results, never raised; an unknown name raises ValueError before anything is fetched."""
    specs = [catalog.get(n) for n in names] if names else list(catalog.CATALOG.values())
    root = _data_dir(data_dir)
    (root / "lists").mkdir(parents=True, exist_ok=True)
    own_client = client is None
    if client is None:
        client = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=15.0),
            headers={"User-Agent": f"netsift/{__version__} (+lists update)"},
            follow_redirects=True,
        )
    results = []
    try:
        for spec in specs:
            url = catalog.url_for(spec, (urls or {}).get(spec.name))
            result = _update_one(spec, url, root, client, progress or _no_progress)
            if result.ok:
                _record(root, spec, result)
            results.append(result)
    finally:
        if own_client:
            client.close()
    return results


def installed(data_dir: str | Path | None = None, *, now: dt.datetime | None = None) -> list[InstalledList]:
    """What ``update`` has installed, with age and stale flag (lists whose files are gone are left out)."""
    root = _data_dir(data_dir)
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for name, entry in sorted(_read_manifest(root).get("lists", {}).items()):
        path = root / entry["path"]
        if not path.exists():
            continue
        spec = catalog.CATALOG.get(name)
        max_age = spec.max_age_days if spec else 30
        date = dt.datetime.fromisoformat(entry["date"])
        age = (now - date).total_seconds() / 86400
        out.append(InstalledList(
            name=name, path=path, kind=entry.get("kind", ""), format=entry.get("format", ""),
            url=entry.get("url", ""), date=date, age_days=age, entries=int(entry.get("entries", 0)),
            sha256=entry.get("sha256", ""), stale=age > max_age, max_age_days=max_age,
        ))
    return out


def list_path(name: str, data_dir: str | Path | None = None) -> Path | None:
    """The installed file (or folder) of one list, or None when it has not been downloaded."""
    for item in installed(data_dir):
        if item.name == name:
            return item.path
    return None


def _data_dir(override: str | Path | None) -> Path:
    # the public functions take a ``data_dir`` argument, which hides the function of that name
    return data_dir(override)


def _no_progress(name: str, done: int, total: int | None) -> None:
    return None


def _update_one(spec: catalog.ListSpec, url: str, root: Path, client: httpx.Client,
                progress: Progress) -> UpdateResult:
    lists_dir = root / "lists"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".download", dir=lists_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size, digest = _stream(spec, url, client, out, progress)
        entries, path = install(spec, tmp, lists_dir)
        return UpdateResult(spec.name, True, url, path=path, entries=entries, bytes=size, sha256=digest,
                            date=dt.datetime.now(dt.UTC).replace(microsecond=0))
    except ListError as exc:
        return UpdateResult(spec.name, False, url, error=str(exc))
    except OSError as exc:  # disk full, permissions: the list is not installed, the others may be
        return UpdateResult(spec.name, False, url, error=f"{spec.name}: could not write under {lists_dir}: {exc}")
    finally:
        tmp.unlink(missing_ok=True)


def _stream(spec: catalog.ListSpec, url: str, client: httpx.Client, out, progress: Progress) -> tuple[int, str]:
    """Write the body of ``url`` to ``out``; (bytes, sha256). Raises ListError on any failure."""
    digest = hashlib.sha256()
    size = 0
    try:
        # Ask for the bytes as stored: the archive checks below then see exactly what the server holds.
        with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as resp:
            if resp.status_code != 200:
                raise ListError(f"{url} answered HTTP {resp.status_code} {resp.reason_phrase}".rstrip())
            encoded = resp.headers.get("content-encoding", "identity").lower() not in ("", "identity")
            total = None if encoded else _content_length(resp)
            if total is not None and total > spec.max_bytes:
                raise ListError(f"{url} announces {total} bytes, above the {spec.max_bytes}-byte limit")
            chunks = resp.iter_bytes(_CHUNK) if encoded else resp.iter_raw(_CHUNK)
            for chunk in chunks:
                size += len(chunk)
                if size > spec.max_bytes:
                    raise ListError(f"{url} sent more than the {spec.max_bytes}-byte limit")
                digest.update(chunk)
                out.write(chunk)
                progress(spec.name, size, total)
            if total is not None and size != total:
                raise ListError(f"{url}: body truncated ({size} of {total} bytes received)")
    except httpx.HTTPError as exc:
        raise ListError(f"could not download {url}: {type(exc).__name__}: {exc}") from exc
    if size == 0:
        raise ListError(f"{url} sent an empty body")
    return size, digest.hexdigest()


def _content_length(resp: httpx.Response) -> int | None:
    try:
        return int(resp.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _read_manifest(root: Path) -> dict:
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "lists": {}}
    except (OSError, ValueError):
        return {"version": 1, "lists": {}}


def _record(root: Path, spec: catalog.ListSpec, result: UpdateResult) -> None:
    assert result.date is not None and result.path is not None  # set by every successful update
    manifest = _read_manifest(root)
    manifest.setdefault("lists", {})[spec.name] = {
        "url": result.url,
        "date": result.date.isoformat(),
        "sha256": result.sha256,
        "bytes": result.bytes,
        "entries": result.entries,
        "path": result.path.relative_to(root).as_posix(),
        "kind": spec.kind,
        "format": spec.format,
    }
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".json", dir=root)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
    os.replace(tmp, root / MANIFEST)


def remove(name: str, data_dir: str | Path | None = None) -> bool:
    """Delete an installed list and its manifest entry; False when it was not installed."""
    root = _data_dir(data_dir)
    manifest = _read_manifest(root)
    entry = manifest.get("lists", {}).pop(name, None)
    if entry is None:
        return False
    path = root / entry["path"]
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".json", dir=root)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
    os.replace(tmp, root / MANIFEST)
    return True
