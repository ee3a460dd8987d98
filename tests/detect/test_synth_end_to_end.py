"""End to end on the synthetic network: every planted threat is found by its detector and ranks in the top
10; the benign population raises nothing high."""

from __future__ import annotations

import pytest

from netsift.detect import run_detectors
from tests.detect.conftest import make_store, well_known_sites

synth = pytest.importorskip("netsift.synth")

# planted threat -> (detector kind, matched on)
EXPECTED = {
    "dga": ("dga", "client"),
    "tunnel": ("tunnel", "domain"),
    "beacon": ("beacon", "client+domain"),
    "phishing": ("new_domain", "domain"),
    "nxdomain_storm": ("nxdomain_storm", "client"),
}


@pytest.fixture(scope="module", params=[(7, 3), (11, 7)], ids=["seed7-3days", "seed11-7days"])
def ranked(request):
    seed, days = request.param
    con = make_store(synth.generate(seed=seed, days=days), top_sites=well_known_sites())
    try:
        yield run_detectors(con)
    finally:
        con.close()


def _matches(f, planted, on):
    if on == "client":
        return f.client == planted["client"]
    if on == "domain":
        return f.domain == planted["domain"]
    return f.client == planted["client"] and f.domain == planted["domain"]


@pytest.mark.parametrize("threat", sorted(EXPECTED))
def test_planted_threat_is_found_in_the_top_10(ranked, threat):
    kind, on = EXPECTED[threat]
    planted = synth.PLANTED[threat]
    ranks = [i for i, f in enumerate(ranked, start=1) if f.kind == kind and _matches(f, planted, on)]
    assert ranks, f"{threat} not found by {kind}"
    assert ranks[0] <= 10, [(f.kind, f.client, f.domain, round(f.score, 2)) for f in ranked[:12]]
    assert ranked[ranks[0] - 1].severity in ("high", "critical")


def test_benign_population_raises_nothing_high(ranked):
    clients = {p["client"] for p in synth.PLANTED.values()}
    domains = {p["domain"] for p in synth.PLANTED.values()}
    benign = [f for f in ranked if f.client not in clients and f.domain not in domains]
    assert [
        (f.kind, f.client, f.domain, round(f.score, 2)) for f in benign if f.severity in ("high", "critical")
    ] == []
