"""nxdomain_storm: scoring of a client's worst NXDOMAIN hour; noise (reverse lookups, search suffixes,
software-update bursts) stays quiet."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from netsift.config import Settings
from netsift.detect import nxdomain_storm
from tests.detect.conftest import T0, events

S = Settings(nxdomain_storm.SETTINGS)


@pytest.mark.parametrize(
    ("name", "peak", "names", "typical", "network", "low", "high"),
    [
        ("below the floor", 29, 29, 0, 0, 0.0, 0.0),
        ("just over the floor", 35, 35, 0.1, 1, 0.3, 0.5),
        ("a few hundred distinct names out of nowhere", 250, 250, 0.2, 1, 0.8, 0.9),
        ("thousands in an hour", 3000, 2900, 0.5, 2, 0.95, 1.0),
        ("a chatty client's usual misses", 60, 5, 40, 30, 0.25, 0.4),
    ],
)
def test_score_storm(name, peak, names, typical, network, low, high):
    score, subs = nxdomain_storm.score_storm(peak, names, typical, network, S)
    assert low <= score <= high, (name, score, subs)


def storm_network():
    rng = random.Random(1)
    rows = []
    for k in range(300):  # random-subdomain flood under one domain from 10.0.0.8
        label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
        rows.append(
            (
                T0 + dt.timedelta(hours=5, seconds=10 * k),
                "10.0.0.8",
                f"{label}.victim-shop.com",
                "A",
                "NXDOMAIN",
            )
        )
    for k in range(500):  # an internet-facing resolver asked by scanners: reverse lookups that fail
        rows.append(
            (
                T0 + dt.timedelta(hours=5, seconds=5 * k),
                "198.51.100.9",
                f"{k % 250}.{k // 250}.0.203.in-addr.arpa",
                "PTR",
                "NXDOMAIN",
            )
        )
    for k in range(200):  # search-suffix junk, a software-update burst to a popular vendor
        rows.append(
            (
                T0 + dt.timedelta(hours=5, seconds=15 * k),
                "10.0.0.3",
                f"www.google.com{k % 3}.corp.lan",
                "A",
                "NXDOMAIN",
            )
        )
        rows.append(
            (
                T0 + dt.timedelta(hours=3, seconds=2 * k),
                "10.0.0.3",
                f"dl{k}.delivery.mp.microsoft.com",
                "A",
                "NXDOMAIN" if k % 2 else "NOERROR",
            )
        )
    for c in ("10.0.0.3", "10.0.0.8", "10.0.0.4"):  # ordinary days
        rows += [(T0 + dt.timedelta(hours=h), c, "weatherstation.com") for h in range(24)]
    return rows


def test_run_finds_the_flood_and_names_its_domain(store):
    con = store(events(storm_network()), top_sites=[("microsoft.com", 4)])
    [f] = nxdomain_storm.run(con, S)
    assert (f.kind, f.client, f.domain) == ("nxdomain_storm", "10.0.0.8", "victim-shop.com")
    assert f.severity == "high" and f.evidence_count == 300
    assert f.reasons[0].startswith(
        "300 NXDOMAIN answers in one hour (2026-03-02 05:00 UTC) for 300 distinct names "
        "under 1 registered domain"
    )
    assert "100% of the storm is under victim-shop.com" in f.reasons[-1]


def test_gather_ignores_infrastructure_and_explained_names(store):
    con = store(events(storm_network()), top_sites=[("microsoft.com", 4)])
    assert nxdomain_storm.gather(con, S)["client"].to_list() == ["10.0.0.8"]
