"""behaviour_change: a client's hours against its own history (silent hours, spikes); updates stay quiet."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from netsift.config import Settings
from netsift.detect import behaviour_change
from tests.detect.conftest import T0, events

S = Settings(behaviour_change.SETTINGS)


def office_hours(days: int, per_hour: int = 30, unexplained: int = 5):
    return [
        (T0 + dt.timedelta(days=d, hours=h), per_hour, unexplained) for d in range(days) for h in range(9, 18)
    ]


def at(day: int, hour: int, queries: int, unexplained: int):
    return [(T0 + dt.timedelta(days=day, hours=hour), queries, unexplained)]


HIST_END = T0 + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("name", "window", "history_days", "low", "high", "kinds"),
    [
        ("an ordinary office day", office_hours(8)[-9:], 7, 0.0, 0.0, []),
        ("busy at 03:00, silent there for a week", at(7, 3, 40, 40), 7, 0.1, 0.3, ["silent_hour"]),
        (
            "three night hours of unexplained questions",
            at(7, 2, 200, 200) + at(7, 3, 200, 200) + at(7, 4, 150, 150),
            7,
            0.55,
            0.65,
            ["silent_hour"] * 3,
        ),
        ("03:00, but only a few unexplained", at(7, 3, 300, 3), 7, 0.0, 0.0, []),  # a software-update burst
        ("a surge at 10:00", at(7, 10, 400, 300), 7, 0.5, 0.7, ["spike"]),
        ("night activity with too little history", at(2, 3, 200, 200), 2, 0.0, 0.0, []),
    ],
)
def test_departures(name, window, history_days, low, high, kinds):
    end = T0 + dt.timedelta(days=history_days)
    score, subs, found = behaviour_change.departures(office_hours(history_days), window, T0, end, S)
    assert low <= score <= high, (name, score, subs)
    assert [d["kind"] for d in found] == kinds


def test_weekly_profile_after_two_weeks():
    end = T0 + dt.timedelta(days=14)
    history = [h for h in office_hours(14) if h[0].weekday() < 5]  # weekdays only
    saturday = T0 + dt.timedelta(days=19, hours=10)  # a Saturday, office hour
    score, _, found = behaviour_change.departures(history, [(saturday, 80, 80)], T0, end, S)
    assert [d["kind"] for d in found] == ["silent_hour"] and found[0]["weekly"] and score > 0


def test_run_flags_the_night_owl_only(store):
    rows = []
    for d in range(6):
        for h in range(9, 18):
            for c in ("10.0.0.1", "10.0.0.2"):
                rows += [
                    (T0 + dt.timedelta(days=d, hours=h, minutes=m), c, "intranet-portal.net") for m in (5, 35)
                ]
                rows.append((T0 + dt.timedelta(days=d, hours=h, minutes=50), c, "www.google.com"))
    night = T0 + dt.timedelta(days=5, hours=2)
    rows += [
        (night + dt.timedelta(seconds=20 * k), "10.0.0.1", f"cdn{k % 7}.odd-backup-host.biz")
        for k in range(300)
    ]
    rows += [
        (night + dt.timedelta(seconds=5 * k), "10.0.0.2", "download.windowsupdate.com") for k in range(400)
    ]
    rows.append((T0 + dt.timedelta(days=5, hours=17, minutes=59), "10.0.0.1", "www.google.com"))
    con = store(events(rows), top_sites=[("google.com", 1), ("windowsupdate.com", 30)])
    findings = behaviour_change.run(con, S)
    assert [f.client for f in findings] == ["10.0.0.1"]
    f = findings[0]
    assert f.reasons[0].startswith(
        "Active at 2026-03-07 02:00 UTC with 180 unexplained questions, though it was "
        "active at 02:00 on only 0 of 4 days before"
    )
    assert "odd-backup-host.biz" in f.reasons[0]


@pytest.mark.parametrize("weekly", [False, True])
def test_observed_bins_match_walking_the_hours(weekly):
    rnd = random.Random(5)
    for _ in range(300):
        start = T0 + dt.timedelta(seconds=rnd.randrange(10**7))
        end = start + dt.timedelta(seconds=rnd.randrange(-10**4, 5 * 10**6))
        if rnd.random() < 0.5:
            end = end.replace(minute=0, second=0, microsecond=0)
        walked: dict[int, int] = {}
        t = start.replace(minute=0, second=0, microsecond=0)
        while t < end:
            b = behaviour_change._bin(t, weekly)
            walked[b] = walked.get(b, 0) + 1
            t += dt.timedelta(hours=1)
        assert behaviour_change.observed_bins(start, end, weekly) == walked


@pytest.mark.parametrize("far", [dt.datetime(2286, 11, 20, 17, 46), dt.datetime(9999, 12, 31, 23, 30)])
def test_work_follows_the_rows_not_the_time_span(store, monkeypatch, far):
    """One question stamped centuries later must not make the detector visit every hour in between:
    the hour-bin function is called a number of times bounded by the rows (the old code walked every
    hour of the history, per client: 70 million calls per client for year 9999)."""
    rows = [(T0 + dt.timedelta(days=d, hours=h, minutes=m), c, "intranet-portal.net")
            for d in range(5) for h in range(9, 18) for m in (5, 35) for c in ("10.0.0.1", "10.0.0.2")]
    rows += [(far - dt.timedelta(minutes=k), "10.0.0.1", f"n{k}.odd-backup-host.biz") for k in range(12)]
    con = store(events(rows))
    calls = 0
    real_bin = behaviour_change._bin

    def counting_bin(hour, weekly):
        nonlocal calls
        calls += 1
        if calls > 50 * len(rows):
            raise AssertionError("behaviour_change walks the time span")
        return real_bin(hour, weekly)

    monkeypatch.setattr(behaviour_change, "_bin", counting_bin)
    findings = behaviour_change.run(con, Settings(behaviour_change.SETTINGS, {"min_score": 0.01}))
    assert calls <= 50 * len(rows)
    assert [f.client for f in findings] == ["10.0.0.1"]
    assert findings[0].last_seen.year == far.year


@pytest.mark.parametrize(("client", "judge", "found"), [
    ("10.0.0.1", False, True),  # local: judged
    ("198.51.100.40", False, False),  # external (a host on the internet asking this resolver): not judged
    ("198.51.100.40", True, True),  # ... unless [network] judge_external_clients
])
def test_external_clients_are_not_judged_by_default(store, client, judge, found):
    from netsift.detect import run_detectors

    rows = [(T0 + dt.timedelta(days=d, hours=h, minutes=5), client, "intranet-portal.net")
            for d in range(6) for h in range(9, 18)]
    night = T0 + dt.timedelta(days=5, hours=2)
    rows += [(night + dt.timedelta(seconds=20 * k), client, f"cdn{k % 7}.odd-backup-host.biz")
             for k in range(300)]
    rows.append((T0 + dt.timedelta(days=5, hours=17, minutes=59), client, "intranet-portal.net"))
    con = store(events(rows))
    findings = run_detectors(con, {"network": {"judge_external_clients": judge}}, only=["behaviour_change"])
    assert [f.client for f in findings] == ([client] if found else [])
    if found and client.startswith("198."):
        assert findings[0].sub_scores["external_client"] == 1.0
