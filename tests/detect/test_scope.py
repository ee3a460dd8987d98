"""Client scope: local (private, ULA, link-local, CGNAT, loopback, [network] local_networks) or external;
findings about external clients are marked, their beacon/behaviour_change findings dropped by default."""

from __future__ import annotations

import pytest

from netsift.config import Settings, validate
from netsift.detect import scope, settings_sections
from netsift.findings import Finding

NETS = scope.local_networks()


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("10.1.2.3", "local"),
        ("172.16.0.9", "local"),
        ("172.32.0.9", "external"),  # just outside 172.16/12
        ("192.168.50.23", "local"),
        ("100.64.3.4", "local"),  # CGNAT
        ("100.128.0.1", "external"),
        ("127.0.0.1", "local"),
        ("169.254.10.20", "local"),
        ("fd12:3456::1", "local"),  # ULA
        ("fe80::1%eth0", "local"),  # link-local with a zone
        ("::1", "local"),
        ("::ffff:192.168.1.5", "local"),  # IPv4-mapped
        ("8.8.8.8", "external"),
        ("203.0.113.9", "external"),  # documentation ranges are not local (ipaddress calls them private)
        ("2001:db8::77", "external"),
        ("2a00:1450::1", "external"),
        ("laptop-anna", "local"),  # a host name: only a local log names its clients
        ("", "local"),
    ],
)
def test_scope_of(client, expected):
    assert scope.scope_of(client, NETS) == expected


def test_local_networks_setting_and_distinct_clients():
    got = scope.client_scopes(["203.0.113.9", "203.0.113.9", "198.51.100.1", None], ["203.0.113.0/24"])
    assert got == {"203.0.113.9": "local", "198.51.100.1": "external"}


def test_local_networks_are_validated():
    sections = settings_sections()
    assert validate(sections, {"network": {"local_networks": ["203.0.113.0/24", "2001:db8::/32"]}}) == []
    assert validate(sections, {"network": {"judge_external_clients": True}}) == []
    [bad] = validate(sections, {"network": {"local_networks": ["203.0.113.0/24", "not-a-net"]}})
    assert "local_networks" in bad and "not-a-net" in bad
    [bad] = validate(sections, {"network": {"local_networks": "10.0.0.0/8"}})
    assert "expected a list" in bad
    [bad] = validate(sections, {"network": {"judge_external_clients": "yes"}})
    assert "true/false" in bad


@pytest.mark.parametrize(
    ("judge", "kinds"),
    [(False, ["dga", "tunnel", "beacon"]), (True, ["dga", "tunnel", "beacon", "beacon", "behaviour_change"])],
)
def test_apply_scope(judge, kinds):
    findings = [
        Finding("dga", 0.8, ["r"], client="8.8.4.4"),
        Finding("tunnel", 0.8, ["r"], domain="x.net"),
        Finding("beacon", 0.8, ["r"], client="10.0.0.5", domain="a.net"),
        Finding("beacon", 0.8, ["r"], client="8.8.4.4", domain="a.net"),
        Finding("behaviour_change", 0.6, ["r"], client="2a00:1450::1"),
    ]
    kept = scope.apply_scope(findings, Settings(scope.SETTINGS, {"judge_external_clients": judge}))
    assert [f.kind for f in kept] == kinds
    marked = [f for f in kept if f.sub_scores.get("external_client") == 1.0]
    assert {f.client for f in marked} == ({"8.8.4.4", "2a00:1450::1"} if judge else {"8.8.4.4"})
    assert all("External client" in f.reasons[-1] for f in marked)
