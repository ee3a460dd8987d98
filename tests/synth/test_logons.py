"""The demo's logons: web01's auth.log and dc01's Security log (XML) parse cleanly; the planted SSH brute
force that ends in a success and the Kerberos spray are found, high, and the benign logons raise nothing
above medium; the demo ranks them among the DNS threats."""

from __future__ import annotations

from datetime import datetime

import pytest

from netsift.detect import run_detectors
from netsift.ingest.run import ingest_paths
from netsift.store import open_store
from netsift.synth.logons import LOGON_PLANTED, write_logons

LOGON_KINDS = ["brute_force", "password_spray", "user_enumeration", "login_after_failures", "new_logon_source",
               "off_hours_logon"]


@pytest.fixture(scope="module", params=[(7, 3), (11, 7)], ids=["seed7-3days", "seed11-7days"])
def found(request, tmp_path_factory):
    seed, days = request.param
    directory = tmp_path_factory.mktemp("logons")
    paths = write_logons(directory, seed, datetime(2026, 11, 19), days)
    with open_store(":memory:") as store:
        summary = ingest_paths(store, [str(p) for p in paths])
        assert [(f.format, f.rejected) for f in summary.files] == [("linux_auth", 0), ("windows_xml", 0)]
        assert all(f.rows > 100 for f in summary.files)
        yield run_detectors(store, only=LOGON_KINDS)


@pytest.mark.parametrize("threat", sorted(LOGON_PLANTED))
def test_planted_logon_threats_are_found_high(found, threat):
    planted = LOGON_PLANTED[threat]
    for kind in planted["kinds"]:
        hits = [f for f in found if f.kind == kind and f.client == planted["client"] and f.host == planted["host"]]
        assert hits, (threat, kind, [(f.kind, f.client, f.host) for f in found])
    first = next(f for f in found if f.kind == planted["kinds"][0] and f.client == planted["client"])
    assert first.severity in ("high", "critical")
    if planted["account"]:
        assert first.account == planted["account"]


def test_the_success_ranks_above_the_attempts(found):
    kinds = [f.kind for f in found if f.client == LOGON_PLANTED["ssh_brute_force"]["client"]]
    assert kinds.index("login_after_failures") < kinds.index("brute_force")


def test_benign_logons_raise_nothing_high(found):
    attackers = {p["client"] for p in LOGON_PLANTED.values()}
    assert [(f.kind, f.client, f.account, round(f.score, 2)) for f in found
            if f.client not in attackers and f.severity in ("high", "critical")] == []
