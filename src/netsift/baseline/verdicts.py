"""The analyst's verdicts (benign / malicious / needs_review) on a domain, name, client or finding.
The latest verdict per entity wins; a benign verdict on a domain explains it as normal."""

from __future__ import annotations

import datetime as dt
import getpass

from netsift.errors import ConfigError
from netsift.store import DuckDBStore

VERDICTS = ("benign", "malicious", "needs_review")


def add_verdict(store: DuckDBStore, entity: str, verdict: str, note: str | None = None,
                who: str | None = None) -> None:
    verdict = verdict.strip().lower().replace("-", "_").replace(" ", "_")
    if verdict not in VERDICTS:
        raise ConfigError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    entity = entity.strip().lower().rstrip(".")
    if not entity:
        raise ConfigError("a verdict needs an entity (domain, client or finding id)")
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
