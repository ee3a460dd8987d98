"""The enrichment cache in an in-memory DuckDB, with an injected clock."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from netsift.store import DuckDBStore
from netsift.enrich.cache import EnrichmentCache


@pytest.fixture
def now():
    return {"t": dt.datetime(2026, 1, 10, 12, 0, 0)}


@pytest.fixture
def cache(now):
    return EnrichmentCache(DuckDBStore.over(duckdb.connect()), clock=lambda: now["t"])


def test_put_then_get(cache):
    cache.put("virustotal", "evil.example", {"malicious": 5})
    assert cache.get("virustotal", "evil.example", dt.timedelta(days=7)) == {"malicious": 5}
    assert cache.get("investigate", "evil.example", dt.timedelta(days=7)) is None
    assert cache.get("virustotal", "other.example", dt.timedelta(days=7)) is None


@pytest.mark.parametrize(("age_days", "max_age_days", "fresh"), [(0, 7, True), (6.9, 7, True), (7.1, 7, False),
                                                                 (1, 0, False)])
def test_max_age(cache, now, age_days, max_age_days, fresh):
    cache.put("virustotal", "a.example", {"x": 1})
    now["t"] += dt.timedelta(days=age_days)
    assert (cache.get("virustotal", "a.example", dt.timedelta(days=max_age_days)) is not None) is fresh


def test_newer_answer_replaces_older(cache, now):
    cache.put("virustotal", "a.example", {"v": 1})
    now["t"] += dt.timedelta(days=1)
    cache.put("virustotal", "a.example", {"v": 2})
    rows = cache.store.rows("SELECT value_json, fetched_at FROM enrichment_cache")
    assert rows == [('{"v": 2}', dt.datetime(2026, 1, 11, 12, 0, 0))]


def test_fetched_since_and_purge(cache, now):
    for i in range(3):
        cache.put("virustotal", f"d{i}.example", {})
        now["t"] += dt.timedelta(hours=10)
    cache.put("investigate", "x.example", {})
    assert len(cache.fetched_since("virustotal", dt.datetime(2026, 1, 10, 20))) == 2
    assert cache.purge(service="virustotal", older_than=dt.timedelta(hours=25)) == 1
    assert cache.purge() == 3
