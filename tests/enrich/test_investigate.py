"""Umbrella Investigate against a local server speaking its documented JSON (categorization with
showLabels, security scores), including 429 with Retry-After, 401 and malformed bodies. Fake clock."""

from __future__ import annotations

import json

import pytest

from netsift.enrich.investigate import Investigate, verdict
from tests.lists.http_server import Reply

TOKEN = "umbrella-test-token-42"
JSON = {"Content-Type": "application/json"}
CAT = "/domains/categorization/evil.example"
SEC = "/security/name/evil.example"


def categorization(domain: str, status: int = -1) -> bytes:
    return json.dumps({domain: {"status": status, "security_categories": ["Malware", "Command and Control"],
                                "content_categories": ["Infrastructure and Content Delivery Networks"]}}).encode()


SECURITY = json.dumps({
    "dga_score": -52.3, "perplexity": 0.81, "entropy": 3.1, "securerank2": -41.0, "pagerank": 0.0,
    "asn_score": -11.2, "prefix_score": -20.5, "rip_score": -30.0, "popularity": 0.0, "fastflux": False,
    "geodiversity": [["RU", 0.6]], "geodiversity_normalized": [["RU", 0.9]], "tld_geodiversity": [],
    "geoscore": 0.0, "ks_test": 0.0, "attack": "Emotet", "threat_type": "Botnet", "found": True,
}).encode()


@pytest.fixture
def inv(server, clock):
    def make(**kwargs):
        kwargs.setdefault("token", TOKEN)
        return Investigate(base_url=server.base_url, clock=clock, sleep=clock.sleep, **kwargs)

    return make


def test_documented_answers(server, inv):
    server.add(CAT + "?showLabels", Reply(200, categorization("evil.example"), JSON))
    server.add(SEC, Reply(200, SECURITY, JSON))
    result = inv().lookup("evil.example")
    assert result.ok, result.error
    assert result.data["status"] == -1 and result.data["status_label"] == "malicious"
    assert result.data["security_categories"] == ["Malware", "Command and Control"]
    assert result.data["security"]["dga_score"] == -52.3 and result.data["security"]["attack"] == "Emotet"
    assert result.data["security"]["fastflux"] is False
    assert [r.path for r in server.requests] == [CAT + "?showLabels", SEC]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert verdict(result.data) == ("Umbrella Investigate: malicious; security Malware, Command and Control; "
                                    "content Infrastructure and Content Delivery Networks; attack Emotet (Botnet)")


def test_unknown_domain_security_404(server, inv):
    server.add(CAT + "?showLabels", Reply(200, categorization("evil.example", 0), JSON))
    server.add(SEC, Reply(404, b'{"errorMessage": "not found"}', JSON))
    result = inv().lookup("evil.example")
    assert result.ok and result.data["status_label"] == "undetermined"
    assert result.data["security"] == {"found": False}


def test_401_is_clear_and_stops(server, inv):
    server.add(CAT + "?showLabels", Reply(401, b'{"message": "Unauthorized"}', JSON))
    client = inv()
    first, second = client.lookup_many(["evil.example", "other.example"])
    assert not first.ok and "refused the key in UMBRELLA_INVESTIGATE_TOKEN (HTTP 401)" in first.error
    assert not second.ok and len(server.requests) == 1
    assert TOKEN not in first.error + second.error + repr(client)


def test_missing_token(server, inv, monkeypatch):
    monkeypatch.delenv("UMBRELLA_INVESTIGATE_TOKEN", raising=False)
    result = inv(token=None).lookup("evil.example")
    assert not result.ok and "set UMBRELLA_INVESTIGATE_TOKEN" in result.error and server.requests == []


def test_429_retry_after_on_the_second_request(server, inv, clock):
    server.add(CAT + "?showLabels", Reply(200, categorization("evil.example"), JSON))
    server.add(SEC, Reply(429, b"", {"Retry-After": "2"}), Reply(200, SECURITY, JSON))
    result = inv().lookup("evil.example")
    assert result.ok and result.data["security"]["threat_type"] == "Botnet"
    assert clock.sleeps == [2.0]


def test_429_without_retry_after_waits_from_one_second(server, inv, clock):
    server.add(CAT + "?showLabels", Reply(429, b""), Reply(200, categorization("evil.example"), JSON))
    server.add(SEC, Reply(200, SECURITY, JSON))
    assert inv().lookup("evil.example").ok
    assert clock.sleeps == [1.0]


@pytest.mark.parametrize(
    ("cat_body", "sec_body", "message"),
    [
        (b"not json", SECURITY, "categorization body is not a JSON object"),
        (b'{"other.example": {"status": 1}, "x.example": {"status": 1}}', SECURITY, "no object for evil.example"),
        (b'{"evil.example": {"status": "bad"}}', SECURITY, "status is not -1, 0 or 1"),
        (b'{"evil.example": {"status": 1, "content_categories": "News"}}', SECURITY, "content_categories is not a list"),
        (categorization("evil.example"), b"[]", "security body is not a JSON object"),
    ],
    ids=["not_json", "wrong_domain", "bad_status", "categories_not_list", "security_list"],
)
def test_malformed_bodies(server, inv, cat_body, sec_body, message):
    server.add(CAT + "?showLabels", Reply(200, cat_body, JSON))
    server.add(SEC, Reply(200, sec_body, JSON))
    result = inv().lookup("evil.example")
    assert not result.ok and "malformed answer" in result.error and message in result.error


def test_rate_limit_three_per_second(server, inv, clock):
    for i in range(2):
        server.add(f"/domains/categorization/d{i}.example?showLabels", Reply(200, categorization(f"d{i}.example"), JSON))
        server.add(f"/security/name/d{i}.example", Reply(200, SECURITY, JSON))
    results = inv().lookup_many(["d0.example", "d1.example"])
    assert all(r.ok for r in results)
    assert clock.sleeps == [1.0]  # 4 requests: three in the first second, the fourth one second later
