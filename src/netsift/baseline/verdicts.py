"""The analyst's verdicts (benign / malicious / needs_review) on a domain, name, client or finding.
The latest verdict per entity wins; a benign verdict on a domain explains it as normal."""

from __future__ import annotations

import datetime as dt
import getpass

from netsift.errors import ConfigError
from netsift.report.console import UNSAFE_CHARS, printable
from netsift.store import DuckDBStore

VERDICTS = ("benign", "malicious", "needs_review")
MAX_ENTITY_CHARS = 253  # the longest domain name; IP addresses, clients and finding ids are shorter
MAX_NOTE_CHARS = 2_000


def check_entity(entity: str) -> str:
    """The entity as stored (trimmed, lower case, no trailing dot); ConfigError when it cannot be a domain,
    an IP address, a client or a finding id: empty, longer than a domain name, or holding control
    characters."""
    entity = entity.strip().lower().rstrip(".")
    if not entity:
        raise ConfigError("a verdict needs an entity (domain, client or finding id)")
    if len(entity) > MAX_ENTITY_CHARS:
        raise ConfigError(f"the entity is {len(entity):,} characters long; a domain, IP address, client or finding "
                          f"id has at most {MAX_ENTITY_CHARS}")
    if UNSAFE_CHARS.search(entity):
        raise ConfigError(f"the entity '{printable(entity)}' holds control characters; give the domain, IP "
                          "address, client or finding id as `netsift analyze` shows it")
    return entity


def check_note(note: str | None) -> str | None:
    """The note as stored (trimmed; None when empty); ConfigError when longer than MAX_NOTE_CHARS or holding
    control characters other than line breaks and tabs."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ConfigError(f"the note is {len(note):,} characters long; at most {MAX_NOTE_CHARS:,}")
    if UNSAFE_CHARS.search(note.replace("\r\n", "").replace("\n", "").replace("\t", "")):
        raise ConfigError("the note holds control characters; write plain text (line breaks are fine)")
    return note or None


def add_verdict(store: DuckDBStore, entity: str, verdict: str, note: str | None = None,
                who: str | None = None) -> None:
    verdict = verdict.strip().lower().replace("-", "_").replace(" ", "_")
    if verdict not in VERDICTS:
        raise ConfigError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    entity, note = check_entity(entity), check_note(note)
    try:
        who = who or getpass.getuser()
    except (KeyError, OSError):
        who = "analyst"
    store.con.execute(
        "INSERT INTO verdicts VALUES (?, ?, ?, ?, ?)",
        [entity, verdict, note, who, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )


LATEST_VERDICTS_SQL = """
SELECT entity, verdict, note, who, ts FROM (
  SELECT *, row_number() OVER (PARTITION BY entity ORDER BY ts DESC) AS n FROM verdicts
) WHERE n = 1
"""


def latest_verdicts(store: DuckDBStore) -> list[tuple]:
    return store.rows(LATEST_VERDICTS_SQL + " ORDER BY ts DESC")


def verdict_history(store: DuckDBStore, entity: str) -> list[tuple]:
    return store.rows("SELECT entity, verdict, note, who, ts FROM verdicts WHERE entity = ? ORDER BY ts DESC",
                      [entity.lower()])
