"""ids_alert: the scoring table, one finding per (local host, rule) from Suricata alerts in a real store, the
local end chosen, IPS blocks discounted, and the alerts on the client's timeline."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from netsift.config import Settings
from netsift.detect import ids_alert
from netsift.ingest.run import ingest
from netsift.store import open_store
from netsift.timeline import client_events

S = Settings(ids_alert.SETTINGS)


@pytest.mark.parametrize("severity, times, blocked, expected", [
    (1, 1, 0, 0.8),
    (2, 1, 0, 0.6),
    (3, 1, 0, 0.4),
    (4, 1, 0, 0.3),
    (None, 1, 0, 0.3),
    (1, 100, 0, 0.9),  # fired a hundred times: the whole repeat bonus
    (1, 1, 1, 0.65),  # every one blocked
    (1, 2, 1, 0.8 + 0.1 * ids_alert.log_ramp(2, 1, 100)),  # some went through: no discount
])
def test_score(severity, times, blocked, expected):
    assert ids_alert.score_alerts(severity, times, blocked, S)[0] == pytest.approx(expected)


@pytest.mark.parametrize("address, local", [("10.0.0.5", True), ("192.168.1.1", True), ("fd00::1", True),
                                            ("8.8.8.8", False), ("2001:db8::1", False), ("host.lan", False),
                                            (None, False)])
def test_local_addresses(address, local):
    assert ids_alert.is_local(address) is local


def alert(second: int, src: str, dest: str, sid: int, signature: str, severity: int, action: str = "allowed") -> str:
    stamp = (dt.datetime(2026, 11, 30, 10) + dt.timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    return json.dumps({"timestamp": stamp, "event_type": "alert", "src_ip": src, "src_port": 40000, "dest_ip": dest,
                       "dest_port": 80, "proto": "TCP", "app_proto": "http",
                       "alert": {"action": action, "gid": 1, "signature_id": sid, "rev": 3, "signature": signature,
                                 "category": "A Network Trojan was detected", "severity": severity}})


@pytest.fixture
def store(tmp_path):
    log = tmp_path / "eve.json"
    log.write_text("\n".join([
        # a local host calling out: three alerts of one rule to one server
        *(alert(i, "10.0.0.5", "198.51.100.9", 2018358, "ET MALWARE Trojan checkin", 1) for i in range(3)),
        # the same rule the other way (the reply), same host: one finding
        alert(5, "198.51.100.9", "10.0.0.5", 2018358, "ET MALWARE Trojan checkin", 1),
        # an internet scanner on a local server, blocked by the IPS: listed under the local server
        *(alert(10 + i, f"203.0.113.{i}", "10.0.0.80", 2100498, "GPL ATTACK_RESPONSE id check", 2, "blocked")
          for i in range(7)),
        # a policy rule of priority 3
        alert(30, "10.0.0.6", "192.0.2.1", 2013028, "ET POLICY curl User-Agent Outbound", 3),
    ]) + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as s:
        ingest(s, [str(log)])
        yield s


def test_one_finding_per_host_and_rule(store):
    found = {(f.client, f.host): f for f in ids_alert.run(store, S)}
    assert set(found) == {("10.0.0.5", "198.51.100.9"), ("10.0.0.80", None), ("10.0.0.6", "192.0.2.1")}
    trojan = found[("10.0.0.5", "198.51.100.9")]
    assert trojan.evidence_count == 4 and trojan.severity == "high"
    assert "'ET MALWARE Trojan checkin' (sid 2018358, A Network Trojan was detected, priority 1) fired 4 times " \
           "for 10.0.0.5 with 198.51.100.9 over http" in trojan.reasons[0]
    scanned = found[("10.0.0.80", None)]
    assert scanned.sub_scores["blocked"] == 1.0 and "blocked every one" in scanned.reasons[1]
    assert "with 7 peers (203.0.113.0, 203.0.113.1, 203.0.113.2, 203.0.113.3, 203.0.113.4, ...)" in scanned.reasons[0]
    assert found[("10.0.0.6", "192.0.2.1")].score == pytest.approx(0.4)
    assert len({f.id for f in found.values()}) == 3


def test_the_same_host_with_two_rules_gives_two_findings(tmp_path):
    log = tmp_path / "eve.json"
    log.write_text(alert(0, "10.0.0.5", "198.51.100.9", 1, "rule one", 1) + "\n"
                   + alert(1, "10.0.0.5", "198.51.100.9", 2, "rule two", 1) + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as s:
        ingest(s, [str(log)])
        findings = ids_alert.run(s, S)
    assert len(findings) == 2 and len({f.id for f in findings}) == 2


def test_min_score_silences_a_low_priority_rule(store):
    quiet = Settings(ids_alert.SETTINGS, {"min_score": 0.45})
    assert {f.client for f in ids_alert.run(store, quiet)} == {"10.0.0.5", "10.0.0.80"}


def test_no_alerts_no_findings(tmp_path):
    with open_store(str(tmp_path / "s.duckdb")) as s:
        assert ids_alert.run(s, S) == []


def test_the_alerts_are_on_the_hosts_timeline(store):
    events = [e for e in client_events(store, "10.0.0.5") if e["family"] == "alerts"]
    assert [(e["count"], e["text"]) for e in events] == [
        (3, "IDS alert 'ET MALWARE Trojan checkin' (sid 2018358, priority 1) 3x in the hour, to 198.51.100.9"),
        (1, "IDS alert 'ET MALWARE Trojan checkin' (sid 2018358, priority 1) 1x in the hour, from 198.51.100.9")]


def test_an_inbound_attack_from_one_peer_names_the_attacker_as_client(tmp_path):
    log = tmp_path / "eve.json"
    log.write_text("\n".join(alert(i, "203.0.113.66", "10.0.0.80", 2024897, "ET EXPLOIT Log4j", 1) for i in range(2))
                   + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as s:
        ingest(s, [str(log)])
        [finding] = ids_alert.run(s, S)
    assert (finding.client, finding.host) == ("203.0.113.66", "10.0.0.80")
    assert finding.id == ids_alert.finding_id("ids_alert", "10.0.0.80", "sid:2024897")  # keyed by the local end
