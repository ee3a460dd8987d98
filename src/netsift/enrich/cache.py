"""The enrichment cache: answers of online services kept in the store, reused until too old.

One table, ``enrichment_cache(service, key, value_json, fetched_at)`` (declared in
:mod:`netsift.enrich.tables`), one row per (service, key); a newer answer replaces the older one.
Timestamps are naive UTC, as everywhere in the store. The clock is injectable for tests.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from netsift.enrich.tables import ENRICHMENT_CACHE
from netsift.store.base import Store


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class EnrichmentCache:
    """get/put of JSON-able answers per (service, key) in a store."""

    def __init__(self, store: Store, *, clock: Callable[[], dt.datetime] = utcnow):
        self.store = store
        self.clock = clock
        store.ensure_tables([ENRICHMENT_CACHE])

    def get(self, service: str, key: str, max_age: dt.timedelta) -> dict[str, Any] | None:
        """The cached answer, or None when absent or older than ``max_age``."""
        rows = self.store.rows(
            "SELECT value_json, fetched_at FROM enrichment_cache WHERE service = ? AND key = ?", [service, key])
        row = rows[0] if rows else None
        if row is None or self.clock() - row[1] > max_age:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, service: str, key: str, value: dict[str, Any]) -> None:
        self.store.execute(
            self.store.sql.upsert("enrichment_cache", ("service", "key", "value_json", "fetched_at")),
            [service, key, json.dumps(value, sort_keys=True, default=str), self.clock()],
        )

    def fetched_since(self, service: str, since: dt.datetime) -> list[dt.datetime]:
        """When this service's cached answers were fetched, from ``since`` on (seeds rate limiters)."""
        rows = self.store.rows(
            "SELECT fetched_at FROM enrichment_cache WHERE service = ? AND fetched_at >= ? ORDER BY fetched_at",
            [service, since])
        return [r[0] for r in rows]

    def purge(self, service: str | None = None, older_than: dt.timedelta | None = None) -> int:
        """Delete cached answers (of one service, and/or older than an age); returns how many."""
        clauses: list[str] = []
        params: list[object] = []
        if service is not None:
            clauses.append("service = ?")
            params.append(service)
        if older_than is not None:
            clauses.append("fetched_at < ?")
            params.append(self.clock() - older_than)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        before = self.store.scalar(f"SELECT count(*) FROM enrichment_cache{where}", params)
        self.store.execute(f"DELETE FROM enrichment_cache{where}", params)
        return int(before)
