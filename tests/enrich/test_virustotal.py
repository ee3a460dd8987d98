"""VirusTotal v3 against a local server speaking its documented JSON: answers, 404, 401, 429 with
Retry-After, 5xx, malformed bodies, the rate limit and the cache. A fake clock: nothing sleeps."""

from __future__ import annotations

import datetime as dt
import email.utils
import json

import duckdb
import pytest

from netsift.store import DuckDBStore
from netsift.enrich.cache import EnrichmentCache
from netsift.enrich.virustotal import VirusTotal, summarise, verdict
from tests.lists.http_server import Reply

KEY = "vt-test-key-0123456789abcdef"


def domain_object(domain: str, malicious: int = 3) -> bytes:
    return json.dumps({"data": {"id": domain, "type": "domain", "links": {"self": f"/api/v3/domains/{domain}"},
                                "attributes": {
                                    "last_analysis_stats": {"harmless": 60, "malicious": malicious, "suspicious": 1,
                                                            "undetected": 10, "timeout": 0},
                                    "reputation": -12,
                                    "categories": {"Forcepoint ThreatSeeker": "malicious web sites",
                                                   "BitDefender": "malware", "Sophos": "malware"},
                                    "last_analysis_date": 1700000000,
                                    "tags": ["dga"],
                                }}}).encode()


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


JSON = {"Content-Type": "application/json"}


@pytest.fixture
def vt(server, clock):
    def make(**kwargs):
        kwargs.setdefault("token", KEY)
        return VirusTotal(base_url=server.base_url, clock=clock, sleep=clock.sleep, **kwargs)

    return make


def test_documented_answer(server, vt):
    server.add("/api/v3/domains/evil.example", Reply(200, domain_object("evil.example"), JSON))
    result = vt().lookup("Evil.Example.")
    assert result.ok and not result.cached
    assert result.data == {"found": True, "malicious": 3, "suspicious": 1, "harmless": 60, "undetected": 10,
                           "timeout": 0, "reputation": -12,
                           "categories": ["malicious web sites", "malware"], "tags": ["dga"],
                           "last_analysis_date": "2023-11-14T22:13:20+00:00"}
    [req] = server.requests
    assert req.headers["x-apikey"] == KEY
    assert verdict(result.data) == ("VirusTotal: 3 engines malicious, 1 suspicious; "
                                    "categories malicious web sites, malware")


def test_not_found_is_an_answer(server, vt):
    server.add("/api/v3/domains/new.example", Reply(404, error_body("NotFoundError", 'Domain "new.example" not found'),
                                                      JSON))
    result = vt().lookup("new.example")
    assert result.ok and result.data == {"found": False}
    assert verdict(result.data) == "VirusTotal: not known"


def test_wrong_key_is_a_clear_error_and_stops_the_run(server, vt):
    server.add("/api/v3/domains/a.example", Reply(401, error_body("WrongCredentialsError", "Wrong API key"), JSON))
    client = vt()
    first, second = client.lookup_many(["a.example", "b.example"])
    assert not first.ok and "refused the key in VT_API_KEY" in first.error and "WrongCredentialsError" in first.error
    assert not second.ok and "not sent" in second.error
    assert len(server.requests) == 1
    assert KEY not in first.error + second.error + repr(client)


def test_missing_key_sends_nothing(server, vt, monkeypatch):
    monkeypatch.delenv("VT_API_KEY", raising=False)
    result = vt(token=None).lookup("a.example")
    assert not result.ok and "set VT_API_KEY" in result.error
    assert server.requests == []


def test_key_read_from_environment(server, vt, monkeypatch):
    monkeypatch.setenv("VT_API_KEY", "from-env")
    server.add("/api/v3/domains/a.example", Reply(200, domain_object("a.example"), JSON))
    assert vt(token=None).lookup("a.example").ok
    assert server.requests[0].headers["x-apikey"] == "from-env"


def test_429_waits_for_retry_after_then_retries(server, vt, clock):
    server.add("/api/v3/domains/a.example",
               Reply(429, error_body("QuotaExceededError", "Quota exceeded"), {"Retry-After": "30", **JSON}),
               Reply(200, domain_object("a.example"), JSON))
    result = vt().lookup("a.example")
    assert result.ok and result.data["malicious"] == 3
    assert clock.sleeps == [30.0]
    assert len(server.requests) == 2


def test_429_with_http_date(server, vt, clock):
    when = email.utils.formatdate(clock.now + 45, usegmt=True)
    server.add("/api/v3/domains/a.example", Reply(429, b"", {"Retry-After": when}),
               Reply(200, domain_object("a.example"), JSON))
    assert vt().lookup("a.example").ok
    assert clock.sleeps == [45.0]


def test_429_with_a_long_retry_after_gives_up_with_the_time(server, vt, clock):
    server.add("/api/v3/domains/a.example", Reply(429, error_body("QuotaExceededError", "daily quota"),
                                                  {"Retry-After": "3600", **JSON}))
    result = vt(max_wait=120).lookup("a.example")
    assert not result.ok and "retry after 3600 s" in result.error
    assert clock.sleeps == [] and len(server.requests) == 1


def test_429_without_retry_after_backs_off_then_gives_up(server, vt, clock):
    server.add("/api/v3/domains/a.example", Reply(429, b"{}", JSON))
    result = vt(max_retries=3).lookup("a.example")
    assert not result.ok and "gave up after 4 attempts" in result.error and "HTTP 429" in result.error
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert len(server.requests) == 4


def test_server_error_is_retried(server, vt, clock):
    server.add("/api/v3/domains/a.example", Reply(503, b"busy"), Reply(200, domain_object("a.example"), JSON))
    assert vt().lookup("a.example").ok
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Bad gateway</html>", "not a JSON object"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"data": {"id": "a.example"}}', "no data.attributes"),
        (b'{"data": {"attributes": {"reputation": 0}}}', "no data.attributes.last_analysis_stats"),
        (b'{"data": {"attributes": {"last_analysis_stats": {"malicious": "many"}}}}', "is not a number"),
        (b'{"data": {"attributes": {"last_analysis_stats": {"malicious": true}}}}', "is not a number"),
        (b'{"data": {"attributes": {"last_analysis_stats": {"harm', "not a JSON object"),
    ],
    ids=["html", "list", "no_attributes", "no_stats", "string_count", "bool_count", "cut_json"],
)
def test_malformed_bodies_are_errors_not_crashes(server, vt, body, message):
    cache = EnrichmentCache(DuckDBStore.over(duckdb.connect()))
    server.add("/api/v3/domains/a.example", Reply(200, body, JSON))
    result = vt(cache=cache).lookup("a.example")
    assert not result.ok and "malformed answer" in result.error and message in result.error
    assert cache.get("virustotal", "a.example", dt.timedelta(days=7)) is None


def test_unreachable_service(vt, clock):
    client = VirusTotal(token=KEY, base_url="http://127.0.0.1:9", clock=clock, sleep=clock.sleep, max_retries=1)
    result = client.lookup("a.example")
    assert not result.ok and "gave up after 2 attempts" in result.error and "ConnectError" in result.error
    assert KEY not in result.error


def test_public_rate_limit_is_honoured(server, vt, clock):
    for i in range(6):
        server.add(f"/api/v3/domains/d{i}.example", Reply(200, domain_object(f"d{i}.example"), JSON))
    results = vt().lookup_many([f"d{i}.example" for i in range(6)])
    assert all(r.ok for r in results)
    assert clock.sleeps == [60.0]  # four go at once, the fifth waits a minute, the sixth goes with it


def test_daily_limit_refuses_without_sending(server, vt, clock):
    for i in range(3):
        server.add(f"/api/v3/domains/d{i}.example", Reply(200, domain_object(f"d{i}.example"), JSON))
    results = vt(limits=[(4, 60), (2, 86400)]).lookup_many([f"d{i}.example" for i in range(3)])
    assert [r.ok for r in results] == [True, True, False]
    assert "client-side rate limit reached (4 per minute, 2 per day)" in results[2].error
    assert len(server.requests) == 2 and clock.sleeps == []


def test_cache_is_reused_until_too_old(server, vt, clock):
    now = {"t": dt.datetime(2026, 1, 1)}
    cache = EnrichmentCache(DuckDBStore.over(duckdb.connect()), clock=lambda: now["t"])
    server.add("/api/v3/domains/a.example", Reply(200, domain_object("a.example"), JSON))
    client = vt(cache=cache, max_age_days=7)
    assert not client.lookup("a.example").cached
    again = client.lookup("a.example")
    assert again.cached and again.data["malicious"] == 3
    assert len(server.requests) == 1
    now["t"] += dt.timedelta(days=8)
    assert not client.lookup("a.example").cached
    assert len(server.requests) == 2


def test_todays_cached_fetches_count_against_the_daily_quota(server, vt):
    now = dt.datetime(2026, 1, 1, 12)
    cache = EnrichmentCache(DuckDBStore.over(duckdb.connect()), clock=lambda: now)
    for i in range(500):
        cache.put("virustotal", f"seen{i}.example", {"found": False})
    result = vt(cache=cache).lookup("fresh.example")
    assert not result.ok and "500 per day" in result.error
    assert server.requests == []


def test_summarise_tolerates_missing_optional_fields():
    body = {"data": {"attributes": {"last_analysis_stats": {"malicious": 0}}}}
    assert summarise(body) == {"found": True, "malicious": 0, "suspicious": 0, "harmless": 0, "undetected": 0,
                               "timeout": 0, "reputation": None, "categories": [], "tags": [],
                               "last_analysis_date": None}
