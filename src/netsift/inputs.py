"""The inputs of an analysis, remembered by the store.

An analyst gives top-sites lists, an allowlist, a settings file, threat feeds, category lists and GeoIP
databases once (``netsift analyze --top-list … --feed …``); every later analysis of the same store uses
them until they are changed — a plain ``netsift analyze``, ``netsift report``, ``netsift serve`` and the
dashboard's re-analysis after a verdict alike. Giving inputs of a kind again replaces the remembered ones
of that kind; ``--forget-input KIND|PATH`` removes them. Only paths are remembered, never file contents,
so an edited list is read afresh; a remembered file that has gone is a note, not an error.

Network switches (``--online``, ``--resolve``) are never remembered: netsift stays offline unless asked
each time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

from netsift.config import Setting, load_file, validate
from netsift.enrich.step import FeedFile
from netsift.errors import ConfigError, UsageError
from netsift.store.base import Store

Sections = Callable[[], dict[str, tuple[Setting, ...]]]

KINDS = ("top_list", "allowlist", "config", "feed", "categories", "geoip_db")
KIND_FLAGS = {"top_list": "--top-list", "allowlist": "--allowlist", "config": "--config", "feed": "--feed",
              "categories": "--categories", "geoip_db": "--geoip-db"}


@dataclass(frozen=True)
class Remembered:
    kind: str
    path: str  # absolute path of the file or folder
    spec: str  # what analysis options are rebuilt from (a feed's NAME:KIND=PATH; else the path)
    given_at: dt.datetime

    @property
    def exists(self) -> bool:
        return os.path.exists(self.path)

    def modified(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromtimestamp(os.stat(self.path).st_mtime, dt.UTC).replace(tzinfo=None)
        except OSError:
            return None

    def as_dict(self, now: dt.datetime | None = None) -> dict:
        now = now or _now()
        modified = self.modified()
        return {
            "kind": self.kind, "path": self.path, "spec": self.spec, "flag": KIND_FLAGS[self.kind],
            "given_at": self.given_at.isoformat(), "exists": modified is not None,
            "modified": modified.isoformat() if modified else None,
            "age_days": round((now - modified).total_seconds() / 86400, 1) if modified else None,
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def remembered(store: Store) -> list[Remembered]:
    rows = store.rows("SELECT kind, path, spec, given_at FROM analysis_inputs ORDER BY kind, position")
    return [Remembered(*r) for r in rows]


def remember(store: Store, kind: str, specs: list[tuple[str, str]]) -> None:
    """Replace the remembered inputs of ``kind`` with ``specs`` ((absolute path, spec) pairs)."""
    if kind not in KINDS:
        raise ValueError(f"unknown input kind {kind!r}")
    now = _now()
    with store.transaction():
        store.execute("DELETE FROM analysis_inputs WHERE kind = ?", [kind])
        store.executemany("INSERT INTO analysis_inputs VALUES (?, ?, ?, ?, ?)",
                          [(kind, position, path, spec, now) for position, (path, spec) in enumerate(specs)])


def remembered_section(store: Store, name: str) -> dict:
    """One section of the remembered settings file (``[network]`` …) as the user wrote it; empty when no
    file is remembered or it cannot be read now (pages that only *display* a setting must not fail)."""
    path = next((r.path for r in remembered(store) if r.kind == "config"), None)
    try:
        section = load_file(path).get(name, {}) if path and os.path.exists(path) else {}
    except (OSError, ValueError, ConfigError):
        return {}
    return section if isinstance(section, dict) else {}


def forget(store: Store, what: str) -> list[Remembered]:
    """Remove remembered inputs: every one of a kind (``top_list``, ``feed``, …, or the flag's name such as
    ``--top-list`` / ``top-list``), or the one(s) with this path. Returns what was removed."""
    key = what.strip().lstrip("-").replace("-", "_")
    have = remembered(store)
    if key in KINDS:
        gone = [r for r in have if r.kind == key]
        store.execute("DELETE FROM analysis_inputs WHERE kind = ?", [key])
        return gone
    path = os.path.abspath(what)
    gone = [r for r in have if r.path == path or r.spec == what]
    for r in gone:
        store.execute("DELETE FROM analysis_inputs WHERE kind = ? AND path = ?", [r.kind, r.path])
    if not gone:
        raise UsageError(f"{what!r} is neither a remembered input's path nor one of: {', '.join(KINDS)} "
                          "(`netsift status` lists them)")
    return gone


def _abs(path) -> str:
    return os.path.abspath(str(path))


def apply(store: Store, opts, sections: Sections) -> list[str]:
    """Remember the inputs ``opts`` (an :class:`netsift.pipeline.AnalysisOptions`) gives, and fill in the
    remembered ones of each kind it leaves empty. Changes ``opts`` in place; returns notes (files that
    have gone). ``sections``: the declared settings, to check a remembered settings file against."""
    given = _given(opts)
    for kind, specs in given.items():
        if specs:
            remember(store, kind, specs)
    notes: list[str] = []
    by_kind: dict[str, list[Remembered]] = {}
    for r in remembered(store):
        if given.get(r.kind):
            continue
        if not r.exists:
            notes.append(f"remembered {KIND_FLAGS[r.kind]} {r.path} is gone; skipped "
                         f"(`netsift analyze --forget-input {r.path}` stops using it)")
            continue
        by_kind.setdefault(r.kind, []).append(r)
    enrich = getattr(opts, "enrich", None)
    for kind, items in by_kind.items():
        if kind == "top_list":
            opts.baseline.top_lists = [r.path for r in items]
        elif kind == "allowlist":
            opts.baseline.allowlist = items[0].path
        elif kind == "config":
            opts.config_path = items[0].path
            opts.settings = _settings_of(items[0].path, sections())
        elif enrich is not None and kind == "feed":
            enrich.feeds = [FeedFile.parse(r.spec) for r in items]
        elif enrich is not None and kind == "categories":
            enrich.categories = [r.path for r in items]
        elif enrich is not None and kind == "geoip_db":
            enrich.geoip_db = [r.path for r in items]
    return notes


def _settings_of(path: str, sections: dict[str, tuple[Setting, ...]]) -> dict:
    """A remembered settings file, read and checked again (it may have been edited since)."""
    try:
        user = load_file(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"remembered settings file {path}: {exc} (fix it, or `netsift analyze "
                          "--forget-input config`)") from exc
    problems = validate(sections, user)
    if problems:
        raise ConfigError(f"remembered settings file {path}: {'; '.join(problems)} (fix it, or `netsift "
                          "analyze --forget-input config`)")
    return user


def _given(opts) -> dict[str, list[tuple[str, str]]]:
    """(absolute path, spec) pairs per kind of what ``opts`` was given explicitly."""
    given: dict[str, list[tuple[str, str]]] = {
        "top_list": [(_abs(p), _abs(p)) for p in opts.baseline.top_lists],
        "allowlist": [(_abs(opts.baseline.allowlist), _abs(opts.baseline.allowlist))]
        if opts.baseline.allowlist else [],
        "config": [(_abs(opts.config_path), _abs(opts.config_path))] if getattr(opts, "config_path", None) else [],
    }
    enrich = getattr(opts, "enrich", None)
    if enrich is not None and enrich.enabled:
        given["feed"] = [(_abs(f.path), _feed_spec(f)) for f in enrich.feeds]
        given["categories"] = [(_abs(p), _abs(p)) for p in enrich.categories]
        given["geoip_db"] = [(_abs(p), _abs(p)) for p in enrich.geoip_db]
    return given


def _feed_spec(feed) -> str:
    label = (feed.name or "") + (f":{feed.kind}" if feed.kind != "malicious" else "")
    return f"{label}={_abs(feed.path)}" if label else _abs(feed.path)
