"""The analyst's verdicts (benign / malicious / needs_review) on a domain, name, client or finding.
The latest verdict per entity wins; a benign verdict on a domain explains it as normal.

Verdicts are never deleted: :func:`undo_verdicts` marks the entity's latest verdict in force as undone
(``undone_at``, ``undone_by``), so the one before it (if any) is in force again and the table stays an
audit trail of who judged what, and who took it back."""

from __future__ import annotations

import datetime as dt
import getpass

from netsift.errors import UsageError
from netsift.report.console import UNSAFE_CHARS, printable
from netsift.store import Store

VERDICTS = ("benign", "malicious", "needs_review")
MAX_ENTITY_CHARS = 253  # the longest domain name; IP addresses, clients and finding ids are shorter
MAX_NOTE_CHARS = 2_000


def check_entity(entity: str) -> str:
    """The entity as stored (trimmed, lower case, no trailing dot); UsageError when it cannot be a domain,
    an IP address, a client or a finding id: empty, longer than a domain name, or holding control
    characters."""
    entity = entity.strip().lower().rstrip(".")
    if not entity:
        raise UsageError("a verdict needs an entity (domain, client or finding id)")
    if len(entity) > MAX_ENTITY_CHARS:
        raise UsageError(f"the entity is {len(entity):,} characters long; a domain, IP address, client or finding "
                          f"id has at most {MAX_ENTITY_CHARS}")
    if UNSAFE_CHARS.search(entity):
        raise UsageError(f"the entity '{printable(entity)}' holds control characters; give the domain, IP "
                          "address, client or finding id as `netsift analyze` shows it")
    return entity


def check_note(note: str | None) -> str | None:
    """The note as stored (trimmed; None when empty); UsageError when longer than MAX_NOTE_CHARS or holding
    control characters other than line breaks and tabs."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise UsageError(f"the note is {len(note):,} characters long; at most {MAX_NOTE_CHARS:,}")
    if UNSAFE_CHARS.search(note.replace("\r\n", "").replace("\n", "").replace("\t", "")):
        raise UsageError("the note holds control characters; write plain text (line breaks are fine)")
    return note or None


def check_verdict(verdict: str) -> str:
    verdict = (verdict or "").strip().lower().replace("-", "_").replace(" ", "_")
    if verdict not in VERDICTS:
        raise UsageError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    return verdict


def _who(who: str | None) -> str:
    try:
        return who or getpass.getuser()
    except (KeyError, OSError):
        return "analyst"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def add_verdict(store: Store, entity: str, verdict: str, note: str | None = None,
                who: str | None = None) -> None:
    add_verdicts(store, [entity], verdict, note, who)


def add_verdicts(store: Store, entities: list[str], verdict: str, note: str | None = None,
                 who: str | None = None) -> list[str]:
    """Record one verdict on many entities at once: every entity is checked (:func:`check_entity`) before
    anything is written, then all are written in one transaction. Returns the entities as stored
    (duplicates once). UsageError when none is given or one is not valid."""
    verdict, note = check_verdict(verdict), check_note(note)
    checked = list(dict.fromkeys(check_entity(e) for e in entities))
    if not checked:
        raise UsageError("a verdict needs at least one entity (domain, client or finding id)")
    now, who = _now(), _who(who)
    with store.transaction():
        store.executemany("INSERT INTO verdicts (entity, verdict, note, who, ts) VALUES (?, ?, ?, ?, ?)",
                          [[e, verdict, note, who, now] for e in checked])
    return checked


def undo_verdicts(store: Store, entities: list[str], who: str | None = None) -> list[tuple[str, str]]:
    """Mark the latest verdict in force on each entity as undone (kept, with when and by whom). Returns
    (entity, verdict undone) for each entity that had one; entities without a verdict in force are
    skipped."""
    checked = list(dict.fromkeys(check_entity(e) for e in entities))
    if not checked:
        raise UsageError("give at least one entity whose verdict to undo")
    now, who = _now(), _who(who)
    undone: list[tuple[str, str]] = []

    with store.transaction():
        for entity in checked:
            found = store.rows(
                "SELECT verdict, ts FROM verdicts WHERE entity = ? AND undone_at IS NULL ORDER BY ts DESC LIMIT 1",
                [entity])
            if not found:
                continue
            store.execute("UPDATE verdicts SET undone_at = ?, undone_by = ? WHERE entity = ? AND ts = ? "
                          "AND undone_at IS NULL", [now, who, entity, found[0][1]])
            undone.append((entity, found[0][0]))
    return undone


LATEST_VERDICTS_SQL = """
SELECT entity, verdict, note, who, ts FROM (
  SELECT *, row_number() OVER (PARTITION BY entity ORDER BY ts DESC) AS n FROM verdicts WHERE undone_at IS NULL
) WHERE n = 1
"""


def latest_verdicts(store: Store) -> list[tuple]:
    return store.rows(LATEST_VERDICTS_SQL + " ORDER BY ts DESC")


def verdict_history(store: Store, entity: str) -> list[tuple]:
    """Verdicts in force or superseded on an entity, newest first (undone ones are left out)."""
    return store.rows("SELECT entity, verdict, note, who, ts FROM verdicts WHERE entity = ? AND undone_at IS NULL "
                      "ORDER BY ts DESC", [entity.lower()])


VERDICT_FIELDS = ("entity", "verdict", "note", "who", "ts", "state", "undone_at", "undone_by")


def list_verdicts(store: Store, include_history: bool = False) -> list[dict]:
    """The verdicts in force (latest not undone per entity), newest first; with ``include_history`` every
    verdict ever given, each with its ``state``: ``in force``, ``superseded`` (a later one on the same
    entity is in force) or ``undone``."""
    rows = store.rows(f"""
        SELECT v.entity, v.verdict, v.note, v.who, v.ts,
               CASE WHEN v.undone_at IS NOT NULL THEN 'undone'
                    WHEN l.ts = v.ts THEN 'in force' ELSE 'superseded' END AS state,
               v.undone_at, v.undone_by
        FROM verdicts v LEFT JOIN ({LATEST_VERDICTS_SQL}) l ON l.entity = v.entity
        {"" if include_history else "WHERE v.undone_at IS NULL AND l.ts = v.ts"}
        ORDER BY v.ts DESC, v.entity""")
    return [dict(zip(VERDICT_FIELDS, r)) for r in rows]
