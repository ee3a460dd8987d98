"""beacon: rhythm analysis of question times (periodic, jittered, gappy, random) and the gathering query."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from netsift.config import Settings
from netsift.detect import beacon
from tests.detect.conftest import T0, events

S = Settings(beacon.SETTINGS)
DAY = 86400.0


def periodic(period=300.0, hours=24.0, start=0.0):
    return [start + k * period for k in range(int(hours * 3600 / period))]


def jittered(period=300.0, hours=24.0, jitter=0.2, seed=1, cobalt=False):
    rng = random.Random(seed)
    t, out = 0.0, []
    while t < hours * 3600:
        out.append(t)
        t += period * (1 - rng.uniform(0, jitter)) if cobalt else period * rng.uniform(1 - jitter, 1 + jitter)
    return out


def missed(times, share=0.15, seed=2):
    rng = random.Random(seed)
    return [t for t in times if rng.random() >= share]


def asleep_at_night(times, sleep_from=23.0, wake_at=7.0):
    return [t for t in times if not (sleep_from * 3600 <= t % DAY or t % DAY < wake_at * 3600)]


def poisson(mean=300.0, hours=24.0, seed=3):
    rng = random.Random(seed)
    t, out = 0.0, []
    while t < hours * 3600:
        out.append(t)
        t += rng.expovariate(1 / mean)
    return out


def browsing(seed=4, hours=24.0):
    """Bursts of a few page loads seconds apart, at random moments."""
    rng = random.Random(seed)
    out = []
    for _ in range(60):
        t = rng.uniform(0, hours * 3600)
        out += [t + rng.uniform(0, 20) for _ in range(rng.randint(2, 8))]
    return sorted(out)


@pytest.mark.parametrize(
    ("name", "times", "low", "high"),
    [
        ("periodic 5 min", periodic(), 0.95, 1.0),
        ("jitter ±20 %", jittered(), 0.85, 1.0),
        ("jitter 20 % cobalt-style", jittered(cobalt=True), 0.9, 1.0),
        ("jitter ±20 %, 15 % beats missed", missed(jittered()), 0.8, 1.0),
        ("jitter ±20 %, asleep 23:00-07:00 for 3 days", asleep_at_night(jittered(hours=72)), 0.85, 1.0),
        ("every other beat missed", periodic(period=600), 0.95, 1.0),
        ("hourly for 3 days", periodic(period=3600, hours=72), 0.9, 1.0),
        ("random (Poisson) arrivals", poisson(), 0.0, 0.1),
        ("random (Poisson), slow", poisson(mean=1800, hours=72), 0.0, 0.1),
        ("browsing bursts", browsing(), 0.0, 0.1),
        ("five events only", periodic()[:5], 0.0, 0.0),
        ("a few beats: low confidence", periodic()[:8], 0.1, 0.35),
        ("too fast to be a beacon (2 s)", periodic(period=2, hours=1), 0.0, 0.0),
    ],
)
def test_analyse(name, times, low, high):
    score, subs, rhythm = beacon.analyse(times, 24 * 3600 if max(times) < DAY else 72 * 3600, S)
    assert low <= score <= high, (name, score, subs, rhythm)
    assert all(0.0 <= v <= 1.0 for v in subs.values())


def test_rhythm_reports_period_missed_beats_and_gaps():
    r = beacon.rhythm(asleep_at_night(missed(periodic(hours=72), share=0.1)), S)
    assert r.period == pytest.approx(300)
    assert r.gaps == 2 and r.longest_gap == pytest.approx(8 * 3600, rel=0.05)
    assert r.missed_beats > 10 and r.jitter == pytest.approx(0)
    assert r.on_beat_share > 0.99


def test_jitter_is_measured_not_punished():
    r = beacon.rhythm(jittered(jitter=0.2), S)
    assert 0.05 <= r.jitter <= 0.15 and r.on_beat_share > 0.95


@pytest.mark.parametrize(
    ("times", "merge", "expected"),
    [
        ([0, 0.4, 1.9, 2, 10], 2, [0, 2, 10]),
        ([5, 1, 1, 3], 0, [1, 3, 5]),
    ],
)
def test_merge_events(times, merge, expected):
    assert beacon.merge_events(times, merge) == expected


def beacon_network():
    rows = []
    rng = random.Random(9)
    t = T0
    while t < T0 + dt.timedelta(days=2):  # one service, three CDN-style host names: one finding
        rows.append((t, "10.0.0.5", rng.choice(["a1.svc-sync.net", "a2.svc-sync.net", "edge.svc-sync.net"])))
        t += dt.timedelta(seconds=120 * rng.uniform(0.8, 1.2))
    for k in range(2 * 24 * 12):  # clockwork, but explained: popular, mDNS, a popular platform's customer
        ts = T0 + dt.timedelta(minutes=5 * k)
        rows += [
            (ts, "10.0.0.6", "time.windows.com"),
            (ts, "10.0.0.6", "_ipp._tcp.local", "PTR"),
            (ts, "10.0.0.6", "d2abcdefgh.cloudfront.net"),
        ]
    rows += [(T0 + dt.timedelta(seconds=s), "10.0.0.7", "news-site.org") for s in browsing(seed=5, hours=48)]
    return rows


def test_run_groups_host_names_and_keeps_explained_clockwork_quiet(store):
    con = store(events(beacon_network()), top_sites=[("windows.com", 20), ("cloudfront.net", 90)])
    findings = beacon.run(con, S)
    assert [(f.client, f.domain) for f in findings] == [("10.0.0.5", "svc-sync.net")]
    f = findings[0]
    assert f.severity in ("high", "critical") and f.evidence_count > 1000
    assert "2.0 min beat" in f.reasons[0]
    assert any("3 host names grouped as one service under svc-sync.net" in r for r in f.reasons)


def test_gather_respects_min_events(store):
    rows = [(T0 + dt.timedelta(minutes=10 * k), "10.0.0.5", "rare-poll.net") for k in range(5)]
    con = store(events(rows))
    assert beacon.gather(con, S).height == 0
    assert beacon.gather(con, Settings(beacon.SETTINGS, {"min_events": 5})).height == 1


# --- beacons that last (RITA's duration and coverage) ------------------------------------------------


def scanner(seed, minutes=20.0, start=30 * 3600.0):
    """An internet scanner asking for one site on a 23-34 s beat for some minutes."""
    rng = random.Random(seed)
    out, t = [], start
    while t < start + minutes * 60:
        out.append(t)
        t += rng.uniform(23, 34)
    return out


@pytest.mark.parametrize(
    ("name", "times", "span_hours", "low", "high"),
    [
        ("scanner: 23-34 s beat for 14 min of 3 days", scanner(1, 14), 72, 0.0, 0.36),
        ("scanner: 23-34 s beat for 25 min of 3 days", scanner(2, 25), 72, 0.0, 0.36),
        ("a 20-minute capture, beaconing throughout", periodic(30, 1 / 3), 1 / 3, 0.0, 0.36),
        ("5 min beacon through a 4 h capture", periodic(300, 4), 4, 0.75, 1.0),
        ("5 min beacon, last 4 h of 3 days (new implant)", periodic(300, 4, start=68 * 3600), 72, 0.4, 0.75),
        ("5 min beacon over 3 days", periodic(300, 72), 72, 0.9, 1.0),
    ],
)
def test_duration_and_coverage_bound_the_score(name, times, span_hours, low, high):
    score, subs, _ = beacon.analyse(times, span_hours * 3600, S)
    assert low <= score <= high, (name, score, subs)
    assert subs["persistence"] == pytest.approx(subs["hours_seen"] * subs["coverage"])


def scanned_server():
    """Three days of an internet-facing resolver: local hosts browsing, and two external scanners asking
    for one site on a 23-34 s beat for 14 and 25 minutes (under 1 % of the span)."""
    rows = [(T0 + dt.timedelta(seconds=s), "10.0.0.7", "news-site.org") for s in browsing(seed=5, hours=72)]
    rows += [(T0 + dt.timedelta(seconds=s), "198.51.100.23", "scanned-site.com") for s in scanner(3, 14)]
    rows += [(T0 + dt.timedelta(seconds=s), "2001:db8::77", "scanned-site.com")
             for s in scanner(4, 25, 50 * 3600)]
    rows += [(T0 + dt.timedelta(seconds=s), "10.0.0.8", "short-poll.net") for s in scanner(5, 20, 40 * 3600)]
    return rows


def test_short_beats_are_not_high_and_external_clients_are_not_judged(store):
    from netsift.detect import run_detectors

    con = store(events(scanned_server()))
    findings = run_detectors(con, only=["beacon"])
    # the external scanners raise nothing; the local host's 20-minute burst is a finding, not a high one
    assert [(f.client, f.domain) for f in findings] == [("10.0.0.8", "short-poll.net")]
    assert findings[0].severity in ("info", "low")
    assert "a short periodic burst" in " ".join(findings[0].reasons)
    judged = run_detectors(con, {"network": {"judge_external_clients": True}}, only=["beacon"])
    external = [f for f in judged if f.client != "10.0.0.8"]
    assert sorted(f.client for f in external) == ["198.51.100.23", "2001:db8::77"]
    for f in external:
        assert f.severity not in ("high", "critical"), (f.client, f.score)
        assert f.sub_scores["external_client"] == 1.0
        assert any(r.startswith(f"External client: {f.client} is outside the local") for r in f.reasons)
    # an operator's own public range is local
    ours = run_detectors(con, {"network": {"local_networks": ["198.51.100.0/24"]}}, only=["beacon"])
    assert sorted(f.client for f in ours) == ["10.0.0.8", "198.51.100.23"]


def test_popular_domains_stay_explained(store):
    con = store(events(scanned_server()), top_sites=[("scanned-site.com", 250)])
    from netsift.detect import run_detectors

    judged = run_detectors(con, {"network": {"judge_external_clients": True}}, only=["beacon"])
    assert "scanned-site.com" not in {f.domain for f in judged}
