"""new_domain and rare_domain: pure scoring and the gathering queries (history, prevalence, names)."""

from __future__ import annotations

import datetime as dt

import pytest

from netsift.config import Settings
from netsift.detect import new_domain, rare_domain
from tests.detect.conftest import T0, events

NEW = Settings(new_domain.SETTINGS)
RARE = Settings(rare_domain.SETTINGS)
SITES = [("google.com", 1), ("microsoft.com", 4), ("paypal.com", 50)]


@pytest.mark.parametrize(
    ("history_h", "clients", "suspicion", "low", "high"),
    [
        (48, 1, 0.0, 0.3, 0.35),  # a new website a user visits: low, below min_score
        (48, 3, 0.0, 0.2, 0.25),
        (168, 1, 0.0, 0.34, 0.36),
        (48, 1, 1.0, 0.9, 0.95),  # a brand look-alike with phishing words
        (48, 1, 0.45, 0.55, 0.6),
    ],
)
def test_score_new(history_h, clients, suspicion, low, high):
    score, _ = new_domain.score_new(history_h, clients, suspicion, NEW)
    assert low <= score <= high


@pytest.mark.parametrize(
    ("clients", "days", "suspicion", "low", "high"),
    [
        (1, 1, 0.0, 0.24, 0.26),
        (2, 1, 0.0, 0.14, 0.16),
        (1, 5, 0.0, 0.39, 0.41),
        (1, 5, 0.8, 0.8, 0.85),
    ],
)
def test_score_rare(clients, days, suspicion, low, high):
    score, _ = rare_domain.score_rare(clients, days, suspicion, RARE)
    assert low <= score <= high


def network(days: int = 4, start: dt.datetime = T0):
    """Six clients browse popular sites daily (one of them every hour); on the last day .41 opens a
    look-alike; .42 has visited a look-alike daily all along; .43 visits an innocent new site; a
    scanner-style NXDOMAIN name."""
    rows = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        for c in range(6):
            rows += [(day + dt.timedelta(hours=h), f"10.0.0.{c}", "www.google.com") for h in (9, 13, 17)]
        rows += [(day + dt.timedelta(hours=h, minutes=30), "10.0.0.0", "www.google.com") for h in range(24)]
        rows.append((day + dt.timedelta(hours=10), "10.0.0.42", "paypa1-account.net"))
    last = start + dt.timedelta(days=days - 1, hours=15)
    rows += [
        (last + dt.timedelta(seconds=s), "10.0.0.41", n)
        for s, n in (
            (0, "micros0ft-secure-login.com"),
            (2, "www.micros0ft-secure-login.com"),
            (40, "login.micros0ft-secure-login.com"),
        )
    ]
    rows += [(last, "10.0.0.43", "gardenclub.org"), (last, "10.0.0.44", "qxzvbnwtrplk.com", "A", "NXDOMAIN")]
    return rows


def test_new_domain_finds_the_lookalike_only(store):
    con = store(events(network()), top_sites=SITES)
    findings = new_domain.run(con, NEW)
    assert [(f.domain, f.client) for f in findings] == [("micros0ft-secure-login.com", "10.0.0.41")]
    f = findings[0]
    assert f.severity == "critical" and f.evidence_count == 3
    assert f.reasons[0] == "Its name is one edit from the popular brand 'microsoft' (microsoft.com, rank 4)."
    assert "after 87 hours with traffic in which nobody asked for it" in " ".join(f.reasons)
    # gardenclub.org is new too, but its name is innocent: gathered, scored ~0.35, not reported
    assert "gardenclub.org" in new_domain.gather(con, NEW)["registered_domain"].to_list()
    # the never-resolving name is the dga / nxdomain_storm detectors' business
    assert "qxzvbnwtrplk.com" not in new_domain.gather(con, NEW)["registered_domain"].to_list()


def test_history_counts_only_hours_with_data(store):
    """A store with two years of nothing between an old log and this week's: the look-alike comes after
    the hours that hold questions, not after 17,000 h of wall clock."""
    old = [(T0 - dt.timedelta(days=730) + dt.timedelta(hours=h), "10.0.0.1", "www.google.com") for h in range(10)]
    con = store(events(old + network()), top_sites=SITES)
    findings = new_domain.run(con, NEW)
    assert [f.domain for f in findings] == ["micros0ft-secure-login.com"]
    reasons = " ".join(findings[0].reasons)
    assert "after 97 hours with traffic in which nobody asked for it" in reasons  # 87 this week + 10 then
    assert "17," not in reasons


def test_sparse_hours_are_not_enough_history(store):
    """Ten hours of questions spread over two years are not the 24 h of history a domain must come after."""
    old = [(T0 - dt.timedelta(days=730 - 70 * h), "10.0.0.1", "www.google.com") for h in range(10)]
    last = T0 + dt.timedelta(hours=15)
    con = store(events(old + [(last, "10.0.0.41", "micros0ft-secure-login.com")]), top_sites=SITES)
    assert new_domain.gather(con, NEW).height == 0


def test_nothing_is_new_without_history(store):
    con = store(events(network(days=1)), top_sites=SITES)
    assert new_domain.gather(con, NEW).height == 0


def test_rare_domain_finds_the_persistent_lookalike(store):
    con = store(events(network()), top_sites=SITES)
    findings = rare_domain.run(con, RARE)
    assert [(f.domain, f.client) for f in findings] == [("paypa1-account.net", "10.0.0.42")]
    assert (
        findings[0]
        .reasons[-1]
        .startswith("Rare: asked for by 1 client of 10 (10.0.0.42), 4 questions on 4 days")
    )
    # new domains are new_domain's: not gathered here
    assert "micros0ft-secure-login.com" not in rare_domain.gather(con, RARE)["registered_domain"].to_list()


def test_generated_names_of_a_dga_host_are_left_to_dga(store):
    """Without response codes (a BIND query log) a DGA walk looks like many rare resolving names: they
    belong to one dga finding about the host, not one rare_domain finding per name."""
    rows = network()
    rows += [
        (T0 + dt.timedelta(days=1, minutes=3 * k), "10.0.0.66", n, "A", None)
        for k, n in enumerate(
            ["tixlzwxuqaoy.com", "xgnifymfyzcettoe.info", "rvugfwgmjalnf.ru", "eickjtsatvwkcjl.org"] * 2
        )
    ]
    con = store(events(rows), top_sites=SITES)
    assert "tixlzwxuqaoy.com" in rare_domain.gather(con, RARE)["registered_domain"].to_list()
    assert [f.domain for f in rare_domain.run(con, RARE)] == ["paypa1-account.net"]


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ([("a.com", ["h"], 0.9), ("b.com", ["h"], 0.9), ("c.com", ["h"], 0.9)], {"a.com", "b.com", "c.com"}),
        ([("a.com", ["h"], 0.9), ("b.com", ["h"], 0.9), ("c.com", ["h"], 0.2)], set()),
        ([("a.com", ["h", "x"], 0.9), ("b.com", ["h"], 0.9), ("c.com", ["h"], 0.9)], {"b.com", "c.com"}),
    ],
)
def test_left_to_dga(candidates, expected):
    from netsift.detect.dga import left_to_dga

    assert left_to_dga(candidates) == expected
