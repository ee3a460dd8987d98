"""tunnel: scoring of few vs many subdomains, encoded labels, record types, volume; gathering query."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from netsift.config import Settings
from netsift.detect import tunnel
from tests.detect.conftest import T0, events

S = Settings(tunnel.SETTINGS)


M = tunnel.Measures


@pytest.mark.parametrize(
    ("name", "m", "low", "high"),
    [
        ("too few subdomains", M(4, 4, 1.0, 1.0, 1.0, 1.0, 1.0, 4, 1e6), 0.0, 0.0),
        ("few plain subdomains", M(12, 30, 0.0, 0.0, 0.0, 0.0, 0.4, 12, 100), 0.0, 0.05),
        ("120 plain subdomains (a SaaS's customers)", M(120, 500, info_rate=1500), 0.0, 0.2),
        ("RITA's 1000 plain subdomains", M(1000, 3000, info_rate=1500), 0.74, 0.9),
        ("dnscat2 capture: 12 hex names, all MX/TXT/CNAME",
         M(12, 12, 1.0, 1.0, 1.0, 0.4, 1.0, 12, 408), 0.75, 0.85),
        ("iodine: thousands of encoded NULL questions",
         M(5000, 9000, 1.0, 1.0, 0.9, 0.9, 0.6, 5000, 3e5), 0.97, 1.0),
        ("encoded labels over A records", M(300, 900, 0.9, 0.9, 0.0, 0.0, 0.3, 300, 20000), 0.8, 0.97),
        ("many names, TXT-heavy but plain (DNSBL look-ups)",
         M(150, 400, 0.0, 0.0, 1.0, 1.0, 0.4, 0, 2500), 0.1, 0.3),
        # low and slow: whatever the subdomain count
        ("24 TXT questions, 18-hex labels (dnscat2, slow)",
         M(24, 24, 1.0, 0.0, 1.0, 1.0, 1.0, 24, 432), 0.5, 1.0),
        ("the same with only 4 distinct names", M(4, 24, 1.0, 0.0, 1.0, 1.0, 0.3, 4, 72), 0.5, 1.0),
        ("19 TXT questions, 18-hex labels: under slow_min_questions",
         M(19, 19, 1.0, 0.0, 1.0, 1.0, 1.0, 19, 342), 0.25, 0.5),
        ("30 A questions, 18-hex labels (device ids)",
         M(30, 30, 1.0, 0.0, 0.0, 0.0, 1.0, 30, 540), 0.0, 0.25),
        ("50 TXT questions, 19 short names (C2 polling)",
         M(19, 50, 0.0, 0.0, 1.0, 1.0, 0.38, 19, 150), 0.5, 0.75),
        ("50 TXT questions, one name polled (config record)",
         M(1, 50, 0.0, 0.0, 1.0, 1.0, 0.02, 1, 10), 0.0, 0.0),
        ("50 TXT questions, 19 names asked ~10x each",
         M(19, 190, 0.0, 0.0, 1.0, 1.0, 0.1, 19, 150), 0.0, 0.25),
        ("50 TXT questions, reversed IPs (DNSBL)", M(40, 50, 0.0, 0.0, 1.0, 1.0, 0.8, 0, 600), 0.0, 0.25),
        ("50 MX questions, short names (a mail server)",
         M(19, 50, 0.0, 0.0, 1.0, 0.0, 0.38, 19, 150), 0.0, 0.25),
    ],
)
def test_score_domain(name, m, low, high):
    score, subs = tunnel.score_domain(m, S)
    assert low <= score <= high, (name, score, subs)
    assert all(0.0 <= v <= 1.0 for v in subs.values())


@pytest.mark.parametrize(
    ("label", "shape"),
    [
        ("147901b8d3df9cc46c59d600078b3316ce", "hex"),
        ("4f2a9c41d0e7b3a8c1", "hex"),  # 18 hex characters
        ("4f2a9c41d0e7", "hex"),
        ("4f2a9c41d0e", None),  # 11: too short
        ("deadbeefcafe", None),  # letters only: a word, not data
        ("201603021234", None),  # a counter
        ("nbswy3dpeb3w64tmmq", "base32"),  # base32 of "hello world"
        ("office365connector", None),  # a product name: two switches
        ("aGVsbG8gd29ybGQh0x", "base64"),
        ("Windows10Update", None),
        ("www", None),
        ("mail-server-01", None),
    ],
)
def test_label_shapes(label, shape):
    assert tunnel.label_shapes(pl.Series([label]), S)["shape"][0] == shape


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
    for k in range(16):  # a small site's handful of host names
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
    assert "100% of its names carry an encoded-looking label (hex" in text
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


def test_gather_takes_slow_domains_whatever_the_subdomain_count(store):
    rows = [(T0 + dt.timedelta(minutes=k), "10.0.0.4", f"{['www', 'api'][k % 2]}.smallshop.com")
            for k in range(20)]
    con = store(events(rows))
    assert tunnel.gather(con, S)["registered_domain"].to_list() == ["smallshop.com"]  # 20 questions
    assert tunnel.run(con, S) == []  # 2 names over A records: nothing


# --- what must and must not fire ----------------------------------------------------------------------

HEX = "0123456789abcdef"
B32 = "abcdefghijklmnopqrstuvwxyz234567"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _label(rng, alphabet, n):
    while True:  # random data switches classes; redraw the rare label that does not (as a real one would)
        out = "".join(rng.choice(alphabet) for _ in range(n))
        if tunnel.label_shapes(pl.Series([out]), S)["shape"][0]:
            return out


def _times(n, seconds=40):
    return [T0 + dt.timedelta(hours=30, seconds=seconds * k) for k in range(n)]


def case_rows(case: str) -> list[tuple]:
    rng = random.Random(case)
    c = "10.0.0.9"
    if case == "dnscat2 slow: 24 TXT, 18-hex labels":
        return [(t, c, f"{_label(rng, HEX, 18)}.cdn-metrics.net", "TXT") for t in _times(24)]
    if case == "C2: 50 TXT, 19 short names":
        names = [f"{rng.choice(['api', 'a', 'b', 'cdn'])}{rng.randrange(100)}.{rng.choice(['x', 'q', 'z'])}"
                 for _ in range(19)]
        return [(t, c, f"{names[k % 19]}.updatesvc.net", "TXT") for k, t in enumerate(_times(50, 60))]
    if case == "iodine-like: 30 NULL, base32 labels":
        return [(t, c, f"{_label(rng, B32, 17)}.t.slowtun.org", "NULL") for t in _times(30)]
    if case == "base64 labels (case kept): 25 TXT":
        return [(t, c, f"{_label(rng, B64, 18)}.b64c2.info", "TXT") for t in _times(25)]
    if case == "20 CNAME, 14-hex labels":
        return [(t, c, f"{_label(rng, HEX, 14)}.dd.exfil-lab.com", "CNAME") for t in _times(20)]
    if case == "DKIM selectors":
        return [(t, c, f"sel{k}._domainkey.mailer-x.com", "TXT") for k, t in enumerate(_times(40))]
    if case == "DMARC and SPF":
        return [(t, c, ["_dmarc.mailer-x.com", "_spf.mailer-x.com"][k % 2], "TXT")
                for k, t in enumerate(_times(60))]
    if case == "ACME challenges":
        return [(t, c, f"_acme-challenge.h{k}.customer-x.com", "TXT") for k, t in enumerate(_times(40))]
    if case == "antivirus hashes, vendor top-listed":
        return [(t, c, f"{_label(rng, HEX, 32)}.avqs.mcafee.com", "TXT") for t in _times(60)]
    if case == "antivirus hashes, vendor prevalent":
        return [(t, f"10.0.0.{10 + k % 6}", f"{_label(rng, HEX, 40)}.rep.av-vendor.net", "TXT")
                for k, t in enumerate(_times(60))]
    if case == "PTR look-ups":
        return [(t, c, f"{k % 250}.{k // 250}.16.172.in-addr.arpa", "PTR")
                for k, t in enumerate(_times(300, 2))]
    if case == "CDN host names, top-listed":
        return [(t, c, f"e{_label(rng, HEX, 16)}.akamaiedge.net", "CNAME") for t in _times(60)]
    if case == "hex host names over A (device ids)":
        return [(t, c, f"{_label(rng, HEX, 14)}.edge.smallcdn.net") for t in _times(60)]
    if case == "DNSBL TXT look-ups":
        return [(t, c, f"{rng.randrange(256)}.{rng.randrange(256)}.51.198.dnsbl.small-rbl.org", "TXT")
                for t in _times(50)]
    if case == "one TXT record polled":
        return [(t, c, "config.app-vendor.io", "TXT") for t in _times(50)]
    raise ValueError(case)


FIRE = [
    "dnscat2 slow: 24 TXT, 18-hex labels",
    "C2: 50 TXT, 19 short names",
    "iodine-like: 30 NULL, base32 labels",
    "base64 labels (case kept): 25 TXT",
    "20 CNAME, 14-hex labels",
]
QUIET = [
    "DKIM selectors",
    "DMARC and SPF",
    "ACME challenges",
    "antivirus hashes, vendor top-listed",
    "antivirus hashes, vendor prevalent",
    "PTR look-ups",
    "CDN host names, top-listed",
    "hex host names over A (device ids)",
    "DNSBL TXT look-ups",
    "one TXT record polled",
]


def _network(case):
    # ten clients browsing popular sites for two days, so prevalence and top lists explain what they should
    popular = ["www.google.com", "www.mcafee.com"]
    rows = [(T0 + dt.timedelta(minutes=7 * k), f"10.0.0.{10 + k % 10}", popular[k % 2]) for k in range(400)]
    return rows + case_rows(case)


SITES = [("google.com", 1), ("mcafee.com", 900), ("akamaiedge.net", 80)]


@pytest.mark.parametrize("case", FIRE)
def test_low_and_slow_tunnels_fire_at_medium_or_above(store, case):
    con = store(events(_network(case)), top_sites=SITES)
    findings = tunnel.run(con, S)
    assert [f.client for f in findings] == ["10.0.0.9"], case
    [f] = findings
    assert f.severity in ("medium", "high", "critical"), (case, f.score, f.sub_scores)
    assert "Information rate: up to" in " ".join(f.reasons)


@pytest.mark.parametrize("case", QUIET)
def test_benign_lookups_do_not_fire(store, case):
    con = store(events(_network(case)), top_sites=SITES)
    assert [(f.domain, round(f.score, 2)) for f in tunnel.run(con, S) if f.score >= 0.5] == []
