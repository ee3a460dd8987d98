"""tunnel: scoring of few vs many subdomains, encoded labels, record types, volume; gathering query."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from netsift.config import Settings
from netsift.detect import tunnel
from tests.detect.conftest import T0, events

S = Settings(tunnel.SETTINGS)


@pytest.mark.parametrize(
    ("name", "subdomains", "encoded", "types", "peak_bytes", "low", "high"),
    [
        ("too few subdomains", 4, 1.0, 1.0, 1e6, 0.0, 0.0),
        ("few plain subdomains", 12, 0.0, 0.0, 500, 0.0, 0.05),
        ("120 plain subdomains (a SaaS's customers)", 120, 0.0, 0.0, 3000, 0.0, 0.2),
        ("RITA's 1000 plain subdomains", 1000, 0.0, 0.0, 3000, 0.74, 0.9),
        ("dnscat2 capture: 12 hex names, all MX/TXT/CNAME", 12, 1.0, 1.0, 550, 0.75, 0.85),
        ("iodine: thousands of encoded NULL questions", 5000, 1.0, 0.9, 500000, 0.97, 1.0),
        ("encoded labels over A records", 300, 0.9, 0.0, 40000, 0.8, 0.97),
        ("many names, TXT-heavy but plain (DNSBL-like)", 150, 0.0, 1.0, 2500, 0.1, 0.3),
    ],
)
def test_score_domain(name, subdomains, encoded, types, peak_bytes, low, high):
    score, subs = tunnel.score_domain(subdomains, encoded, types, peak_bytes, S)
    assert low <= score <= high, (name, score, subs)
    assert all(0.0 <= v <= 1.0 for v in subs.values())


def hexlabel(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def tunnel_network():
    rng = random.Random(3)
    rows = []
    for k in range(400):  # dnscat2-like: hex labels, TXT/MX/CNAME, one client
        rows.append(
            (
                T0 + dt.timedelta(seconds=3 * k),
                "10.0.0.9",
                f"{hexlabel(rng, 60)}.{hexlabel(rng, 30)}.exfil.net",
                rng.choice(["TXT", "MX", "CNAME"]),
            )
        )
    for k in range(300):  # noise: a popular CDN's many host names, reverse lookups, search-suffix junk
        rows.append((T0 + dt.timedelta(seconds=k), "10.0.0.2", f"img{k}.fbcdn.net"))
        rows.append(
            (T0 + dt.timedelta(seconds=k), "10.0.0.2", f"{k % 256}.{k // 256}.168.192.in-addr.arpa", "PTR")
        )
        rows.append(
            (T0 + dt.timedelta(seconds=k), "10.0.0.3", f"host{k}.example.com.corp.lan", "A", "NXDOMAIN")
        )
    for k in range(20):  # a small site's handful of host names
        rows.append(
            (T0 + dt.timedelta(minutes=k), "10.0.0.4", f"{['www', 'cdn', 'api', 'img'][k % 4]}.smallshop.com")
        )
    return rows


def test_run_finds_the_tunnel_and_names_its_client(store):
    con = store(events(tunnel_network()), top_sites=[("fbcdn.net", 30)])
    findings = tunnel.run(con, S)
    assert [(f.domain, f.client) for f in findings] == [("exfil.net", "10.0.0.9")]
    f = findings[0]
    assert f.severity == "critical" and f.evidence_count == 400
    assert f.reasons[0].startswith("400 distinct subdomains under exfil.net in 0.3 h (RITA threshold 100")
    text = " ".join(f.reasons)
    assert "100% of its names carry a label of 20+ characters" in text
    assert "100% of its 400 questions ask for record types that carry data back" in text
    assert "Used by 1 client: 10.0.0.9." in text


def test_shared_channel_names_no_single_client(store):
    rng = random.Random(4)
    rows = [
        (T0 + dt.timedelta(seconds=k), f"10.0.0.{10 + k % 3}", f"{hexlabel(rng, 40)}.exfil.net", "TXT")
        for k in range(150)
    ]
    con = store(events(rows))
    [f] = tunnel.run(con, S)
    assert f.client is None and "Used by 3 clients" in f.reasons[-1]


def test_gather_skips_domains_below_min_subdomains(store):
    con = store(events(tunnel_network()), top_sites=[("fbcdn.net", 30)])
    assert tunnel.gather(con, S)["registered_domain"].to_list() == ["exfil.net"]
    looser = Settings(tunnel.SETTINGS, {"min_subdomains": 4})
    assert tunnel.gather(con, looser)["registered_domain"].to_list() == ["exfil.net", "smallshop.com"]
    assert [f.domain for f in tunnel.run(con, looser)] == ["exfil.net"]  # smallshop.com scores too low
