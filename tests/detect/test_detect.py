"""The detector table, run_detectors (selection, settings, modifiers, order) and the noise that must stay
quiet across every detector at once."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from netsift.config import Settings, validate
from netsift.detect import DETECTORS, apply_modifiers, run_detectors, settings_sections
from netsift.detect.scoring import MODIFIER_SETTINGS
from netsift.findings import SEVERITIES, Finding
from tests.detect.conftest import T0, events

EXPECTED = ["dga", "tunnel", "beacon", "nxdomain_storm", "new_domain", "rare_domain", "behaviour_change",
            "brute_force", "password_spray", "user_enumeration", "login_after_failures", "new_logon_source",
            "off_hours_logon", "cleartext_credential", "ids_alert", "bandwidth"]


def test_table_lists_every_detector_with_documented_settings():
    assert [d.name for d in DETECTORS] == EXPECTED
    for d in DETECTORS:
        assert d.description and callable(d.run)
        for s in d.settings:
            assert s.help.endswith(".") or s.help.endswith(")"), (d.name, s.name)
            assert s.check(s.default) is None, (d.name, s.name)
            assert s.min is not None and s.max is not None, (d.name, s.name)


def test_settings_sections_validate():
    sections = settings_sections()
    assert list(sections) == [*EXPECTED, "modifiers", "network"]
    assert (
        validate(sections, {"beacon": {"tolerance": 0.2}, "modifiers": {"prevalence_score_increase": 0.1}})
        == []
    )
    problems = validate(sections, {"beacon": {"tolerance": 0.9, "nope": 1}, "dga": {"threshold": "high"}})
    assert len(problems) == 3


def test_unknown_detector_is_refused(store):
    con = store(events([(T0, "10.0.0.1", "example.org")]))
    with pytest.raises(ValueError, match="unknown detector.*nope.*known: dga"):
        run_detectors(con, only=["dga", "nope"])


def test_empty_store_gives_no_findings(store):
    con = store(events([]))
    assert run_detectors(con) == []


def busy_network(clients: int = 12, days: int = 3):
    """``clients`` hosts browsing popular and a few small sites for ``days`` days, plus every kind of noise
    that must stay quiet."""
    rng = random.Random(2)
    popular = ["www.google.com", "outlook.office365.com", "www.wikipedia.org", "static.xx.fbcdn.net"]
    small = ["gardenclub.org", "weatherstation.com", "mountainbikes.net", "citylibrary.org"]
    rows = []
    for d in range(days):
        for c in range(clients):
            client = f"10.0.0.{10 + c}"
            for h in range(8, 19):
                t = T0 + dt.timedelta(days=d, hours=h, minutes=rng.randint(0, 59))
                rows += [(t, client, rng.choice(popular)), (t, client, rng.choice(popular), "AAAA")]
            for _ in range(rng.randint(0, 4)):  # a small site now and then
                t = T0 + dt.timedelta(days=d, hours=8, seconds=rng.uniform(0, 11 * 3600))
                rows.append((t, client, f"www.{small[c % len(small)]}"))
            for k in range(24 * 12):  # mDNS chatter and the clock of a popular service
                ts = T0 + dt.timedelta(days=d, minutes=5 * k, seconds=c)
                rows += [
                    (ts, client, "_googlecast._tcp.local", "PTR", None),
                    (ts, client, "time.windows.com"),
                ]
        night = T0 + dt.timedelta(days=d, hours=3)
        # software-update burst at night, popular CDN names, a platform customer's machine-made names
        rows += [
            (night + dt.timedelta(seconds=k), "10.0.0.10", f"dl{k}.delivery.mp.microsoft.com")
            for k in range(300)
        ]
        rows += [
            (night + dt.timedelta(seconds=k), "10.0.0.11", f"scontent-{k}.xx.fbcdn.net") for k in range(300)
        ]
        rows += [
            (night + dt.timedelta(seconds=60 * k), "10.0.0.12", "d3kq9x1v0w2z7a.cloudfront.net")
            for k in range(300)
        ]
        # an internet-facing resolver answering scanners' reverse lookups; search-suffix junk
        rows += [
            (
                night + dt.timedelta(seconds=2 * k),
                "10.0.0.2",
                f"{k % 250}.{k // 250}.0.198.in-addr.arpa",
                "PTR",
                "NXDOMAIN",
            )
            for k in range(1000)
        ]
        rows += [
            (night + dt.timedelta(seconds=10 * k), "10.0.0.13", f"{n}.corp.lan", "A", "NXDOMAIN")
            for k, n in enumerate(["www.google.com", "wpad", "isatap", "outlook.office365.com"] * 50)
        ]
    return rows


SITES = [
    ("google.com", 1),
    ("microsoft.com", 4),
    ("office365.com", 40),
    ("wikipedia.org", 10),
    ("fbcdn.net", 30),
    ("windows.com", 20),
    ("cloudfront.net", 80),
]


def test_noise_stays_quiet(store):
    con = store(events(busy_network()), top_sites=SITES)
    assert [(f.kind, f.client, f.domain, round(f.score, 2)) for f in run_detectors(con)] == []


def test_findings_are_ranked_with_modifiers_and_settings(store):
    rng = random.Random(8)
    rows = busy_network(days=2)
    rows += [
        (
            T0 + dt.timedelta(days=1, hours=2, seconds=2 * k),
            "10.0.0.15",
            "".join(rng.choice("0123456789abcdef") for _ in range(50)) + ".exfil.net",
            "TXT",
        )
        for k in range(300)
    ]
    rows += [(T0 + dt.timedelta(days=1, hours=22), "10.0.0.16", "paypa1-account.net")]
    con = store(events(rows), top_sites=SITES)
    findings = run_detectors(con)
    assert [f.kind for f in findings] == ["tunnel", "new_domain"]
    assert [f.score for f in findings] == sorted((f.score for f in findings), reverse=True)
    tunnel, new = findings
    assert tunnel.sub_scores["modifier_prevalence"] == pytest.approx(0.15)  # 1 client of 15
    assert tunnel.sub_scores["modifier_first_seen"] == pytest.approx(0.15)  # after a day without it
    assert not any(k.startswith("modifier_") for k in new.sub_scores)  # built into new_domain's score
    assert all(f.severity in SEVERITIES for f in findings)
    quiet = {"min_subdomains": 5000, "slow_min_questions": 1e6}  # neither many names nor a slow channel
    assert run_detectors(con, {"tunnel": quiet}, only=["tunnel"]) == []
    assert [f.kind for f in run_detectors(con, only=["new_domain"])] == ["new_domain"]


def test_apply_modifiers_lowers_common_domains(store):
    rows = [
        (T0 + dt.timedelta(hours=h), f"10.0.0.{c}", "shared-app.net") for h in range(3) for c in range(12)
    ]
    con = store(events(rows), prevalence_min_clients=100)  # so the test baseline does not explain it
    f = Finding(kind="beacon", score=0.5, reasons=["r"], client="10.0.0.1", domain="shared-app.net")
    apply_modifiers(con, [f], Settings(MODIFIER_SETTINGS))
    assert f.score == pytest.approx(0.35) and f.sub_scores["modifier_prevalence"] == pytest.approx(-0.15)
    assert f.reasons[-1].startswith("Common on this network: 12 of 12 clients")
