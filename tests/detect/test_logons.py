"""The logon detectors over hand-made logon_events: each scenario names the findings it must raise (kind,
client, account, host) and the ones it must not; a DNS-only store gives nothing and no error."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from netsift.config import Settings
from netsift.detect import (BY_NAME, brute_force, logons, login_after_failures, new_logon_source, off_hours_logon,
                            password_spray, run_detectors, user_enumeration)
from netsift.ingest.base import finish_records
from netsift.store import open_store

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
LOGON_KINDS = ["brute_force", "password_spray", "user_enumeration", "login_after_failures", "new_logon_source",
               "off_hours_logon"]


def ev(minutes: float, client: str | None, account: str | None, event: str = "failure", host: str | None = "web1",
       service: str = "sshd", method: str | None = "password", unknown: bool = False, **extra) -> dict:
    return dict(ts=T0 + dt.timedelta(minutes=minutes), client=client, account=account, event=event, host=host,
                service=service, method=method, unknown_account=unknown, **extra)


def store_with(rows: list[dict], store=None):
    """A store holding ``rows`` (an in-memory DuckDB one unless given: the any_store fixture's)."""
    store = store if store is not None else open_store(":memory:")
    if rows:
        frame = finish_records(pl.DataFrame(rows).with_columns(source_line=pl.int_range(1, len(rows) + 1)),
                               "logon_events")
        store.append("logon_events", frame.with_columns(source_file_id=pl.lit(1, pl.Int64)))
    return store


def brute(client="203.0.113.9", n=30, account="root", step=0.2, start=0.0, **kw):
    return [ev(start + i * step, client, account, **kw) for i in range(n)]


def history(account="bob", client="10.0.0.5", days=5, hour=9, host="web1"):
    """An account's daily successes at its usual hour from its usual source."""
    return [ev(d * 1440 + (hour - 9) * 60, client, account, "success", host=host) for d in range(days)]


SCENARIOS = [
    # (name, rows, expected (kind, client, account, host), kinds that must stay quiet)
    ("ssh brute force on root", brute(), [("brute_force", "203.0.113.9", "root", "web1")],
     ["login_after_failures", "password_spray"]),
    ("four failures are not a brute force", brute(n=4), [], ["brute_force"]),
    ("failures spread over a day stay under fail2ban's window", brute(n=20, step=60), [], ["brute_force"]),
    ("pam lines beside sshd's own are not counted twice",
     brute(n=3) + brute(n=3, method="pam", start=0.1), [], ["brute_force"]),
    ("pam lines alone count", brute(n=6, method="pam"), [("brute_force", "203.0.113.9", "root", "web1")], []),
    ("brute force that ends in a success",
     brute(n=12) + [ev(3, "203.0.113.9", "root", "success")],
     [("brute_force", "203.0.113.9", "root", "web1"), ("login_after_failures", "203.0.113.9", "root", "web1")], []),
    ("a success long after the failures is not their result",
     brute(n=12) + [ev(600, "203.0.113.9", "root", "success")], [("brute_force", "203.0.113.9", "root", "web1")],
     ["login_after_failures"]),
    ("a user mistyping twice then logging on", brute(client="10.0.0.5", account="bob", n=2)
     + [ev(1, "10.0.0.5", "bob", "success")], [], ["brute_force", "login_after_failures"]),
    ("kerberos spray over 40 accounts", [ev(i * 0.5, "10.1.1.66", f"user{i}", host="dc1", service="windows",
                                           method="kerberos", status="0x18", event_id=4771) for i in range(40)],
     [("password_spray", "10.1.1.66", None, "dc1")], ["brute_force"]),
    ("many accounts, many tries each is brute force, not a spray",
     [ev(i * 0.05, "10.1.1.67", f"user{i % 12}") for i in range(120)], [], ["password_spray"]),
    ("invalid users from a wordlist",
     [ev(i, "198.51.100.7", n, "invalid_user", unknown=True, method=None)
      for i, n in enumerate(["admin", "test", "oracle", "postgres", "ubuntu", "pi", "git"])],
     [("user_enumeration", "198.51.100.7", None, "web1")], []),
    ("kerberos principal unknown (0x6)",
     [ev(i, "10.1.1.70", f"svc{i}", host="dc1", service="windows", method="kerberos", status="0x6", unknown=True,
         event_id=4768) for i in range(6)], [("user_enumeration", "10.1.1.70", None, "dc1")], []),
    ("two unknown names are a typo", [ev(i, "10.0.0.9", n, "invalid_user", unknown=True) for i, n in
                                      enumerate(["bbo", "Bob "])], [], ["user_enumeration"]),
    ("an account from a new source", history() + [ev(6 * 1440, "198.51.100.20", "bob", "success")],
     [("new_logon_source", "198.51.100.20", "bob", "web1")], ["off_hours_logon"]),
    ("a new source without history is not news", history(days=2) + [ev(2 * 1440, "10.0.0.8", "bob", "success")],
     [], ["new_logon_source"]),
    ("an account at 3 in the morning", history(days=12) + [ev(12 * 1440 - 6 * 60, "10.0.0.5", "bob", "success")],
     [("off_hours_logon", "10.0.0.5", "bob", "web1")], ["new_logon_source"]),
    ("an hour early is not off hours", history(days=12) + [ev(12 * 1440 - 60, "10.0.0.5", "bob", "success")], [],
     ["off_hours_logon"]),
    # rsyslog's "message repeated N times": two lines standing for 2 + 6 failures are a brute force
    ("folded repeats count as the events they stand for", [ev(0, "203.0.113.9", "root"),
                                                          ev(0.1, "203.0.113.9", "root", repeats=6)],
     [("brute_force", "203.0.113.9", "root", "web1")], []),
    ("folded repeats of unknown names count as attempts, not names",
     [ev(i, "198.51.100.8", "admin", "invalid_user", unknown=True, repeats=9) for i in range(2)], [],
     ["user_enumeration"]),
]


@pytest.mark.parametrize("name, rows, expected, quiet", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenarios(name, rows, expected, quiet, any_store):
    found = run_detectors(store_with(rows, any_store), only=LOGON_KINDS)
    got = {(f.kind, f.client, f.account, f.host) for f in found}
    for e in expected:
        assert e in got, (name, sorted(got, key=str))
    for kind in quiet:
        assert not [f for f in found if f.kind == kind], (name, [f.reasons for f in found if f.kind == kind])
    for f in found:
        assert f.reasons and all(isinstance(r, str) and r for r in f.reasons)
        assert f.first_seen is not None and f.last_seen is not None and f.evidence_count >= 1


def test_login_after_failures_is_high_and_outranks_the_brute_force():
    with store_with(brute(n=30) + [ev(7, "203.0.113.9", "root", "success")]) as store:
        found = {f.kind: f for f in run_detectors(store, only=LOGON_KINDS)}
    assert found["login_after_failures"].severity in ("high", "critical")
    assert found["login_after_failures"].score > found["brute_force"].score
    # the acting address stays the client; tagged external, without the external-client DNS wording
    assert not any("resolver" in r for f in found.values() for r in f.reasons)
    assert all(f.sub_scores.get("external_client") == 1.0 for f in found.values())


@pytest.mark.parametrize("kind", LOGON_KINDS)
def test_a_store_without_logons_gives_nothing(kind):
    with open_store(":memory:") as store:  # the table exists, empty
        detector = BY_NAME[kind]
        assert detector.run(store, Settings(detector.settings)) == []
        store.execute("DROP TABLE logon_events")  # an older store without the table
        assert detector.run(store, Settings(detector.settings)) == []


@pytest.mark.parametrize("fn, args, low, high", [
    (brute_force.score_brute_force, (4, 4), 0.0, 0.0),
    (brute_force.score_brute_force, (5, 5), 0.35, 0.5),
    (brute_force.score_brute_force, (200, 5000), 0.85, 0.9),
    (password_spray.score_spray, (9, 1), 0.0, 0.0),
    (password_spray.score_spray, (40, 1), 0.6, 0.8),
    (password_spray.score_spray, (40, 5), 0.0, 0.0),
    (user_enumeration.score_enumeration, (4,), 0.0, 0.0),
    (user_enumeration.score_enumeration, (50,), 0.6, 0.8),
    (login_after_failures.score_success, (4, 4), 0.0, 0.0),
    (login_after_failures.score_success, (5, 5), 0.85, 0.95),
])
def test_scores(fn, args, low, high):
    module = {brute_force.score_brute_force: brute_force, password_spray.score_spray: password_spray,
              user_enumeration.score_enumeration: user_enumeration,
              login_after_failures.score_success: login_after_failures}[fn]
    score, _ = fn(*args, Settings(module.SETTINGS))
    assert low <= score <= high


def test_thresholds_are_settings():
    rows = brute(n=4)
    with store_with(rows) as store:
        assert brute_force.run(store, Settings(brute_force.SETTINGS)) == []
        assert brute_force.run(store, Settings(brute_force.SETTINGS, {"min_failures": 3}))
    assert {s.name for s in new_logon_source.SETTINGS} >= {"min_history", "recent_days", "min_score"}
    assert {s.name for s in off_hours_logon.SETTINGS} >= {"min_history", "max_share", "min_score"}


def test_one_per_event_repeats_rows_in_place_and_caps_a_fold():
    frame = pl.DataFrame({"ts": [1, 2, 3], "repeats": [None, 3, 10**9]})
    out = logons.one_per_event(frame)
    assert out.columns == ["ts"]
    assert out["ts"].to_list() == [1, 2, 2, 2] + [3] * logons.MAX_REPEATS
