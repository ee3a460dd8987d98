"""Incremental analysis (what `netsift watch` runs on its cadence): a finding raised over a window equals the
finding a full analysis of the same store raises, and a recent run reads only the new rows and its windows.

The store: three days of ordinary traffic (a history, ending two days before the rest), then a few hours
with planted threats of several detectors (DNS and logons). The watcher's order is followed: a full run
over the history, the recent file stored, a recent run; then a full analysis of a copy of that store.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import string

import polars as pl
import pytest

from netsift import pipeline
from netsift.baseline import BaselineOptions
from netsift.incremental import Incremental
from netsift.ingest.plan import IngestOptions
from netsift.ingest.run import ingest
from netsift.store import open_store
from netsift.store.window import Windowed

START = dt.datetime(2026, 11, 20)  # the history: three days
RECENT = dt.datetime(2026, 11, 25, 9)  # the recent hours, two days after it
POPULAR = [f"{w}.example-{t}.com" for w in ("mail", "www", "cdn", "api") for t in ("news", "shop", "video", "maps")]
CLIENTS = [f"10.0.0.{i}" for i in range(10, 30)]


def stamp(t: dt.datetime) -> str:
    return f"{t:%b} {t.day:2d} {t:%H:%M:%S}"


def question(t: dt.datetime, name: str, client: str, answer: str = "192.0.2.7", qtype: str = "A") -> str:
    return (f"{stamp(t)} dnsmasq[7]: query[{qtype}] {name} from {client}\n"
            f"{stamp(t)} dnsmasq[7]: reply {name} is {answer}\n")


def ordinary(rng: random.Random, start: dt.datetime, hours: int, per_hour: int) -> list[tuple[dt.datetime, str]]:
    out = []
    for h in range(hours):
        for _ in range(per_hour):
            t = start + dt.timedelta(hours=h, seconds=rng.randrange(3600))
            out.append((t, question(t, rng.choice(POPULAR), rng.choice(CLIENTS))))
    return out


def random_label(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=k))


def threats(rng: random.Random) -> list[tuple[dt.datetime, str]]:
    out = []
    t0 = RECENT + dt.timedelta(hours=1)
    for i in range(300):  # nxdomain_storm: one client, 300 NXDOMAIN names in five minutes
        t = t0 + dt.timedelta(seconds=i)
        out.append((t, question(t, random_label(rng, 12) + ".storm-example.net", "10.0.0.66", "NXDOMAIN")))
    for i in range(60):  # dga: machine-made registered domains, most unanswered
        t = t0 + dt.timedelta(minutes=20, seconds=10 * i)
        out.append((t, question(t, random_label(rng, 14) + ".com", "10.0.0.77", "NXDOMAIN" if i % 10 else "198.51.100.9")))
    for i in range(500):  # tunnel: encoded labels under one domain, TXT
        t = t0 + dt.timedelta(minutes=30, seconds=3 * i)
        out.append((t, question(t, f"{random_label(rng, 50)}.{random_label(rng, 40)}.exfil-relay.net", "10.0.0.88",
                                "TXT", "TXT")))
    return out


def auth(t: dt.datetime, msg: str) -> tuple[dt.datetime, str]:
    return t, f"{stamp(t)} web01 sshd[4242]: {msg}\n"


def logons(rng: random.Random, start: dt.datetime, source: str = "203.0.113.9") -> list[tuple[dt.datetime, str]]:
    out = []
    for i in range(120):  # brute force, then the success (login_after_failures)
        out.append(auth(start + dt.timedelta(seconds=2 * i),
                        f"Failed password for root from {source} port {40000 + i} ssh2"))
    out.append(auth(start + dt.timedelta(seconds=300), f"Accepted password for root from {source} port 41000 ssh2"))
    for i in range(40):  # password spray: many accounts, one try each
        out.append(auth(start + dt.timedelta(minutes=20, seconds=20 * i),
                        f"Failed password for user{i:02d} from 198.51.100.44 port {50000 + i} ssh2"))
    return out


def write(path, items) -> None:
    path.write_text("".join(line for _, line in sorted(items, key=lambda x: x[0])))


@pytest.fixture
def stores(tmp_path):
    """(the store after a full run over the history and a recent run over the recent file, the recent
    run's findings, the full analysis of a copy of that store, the Incremental)."""
    rng = random.Random(5)
    old, recent, old_auth, recent_auth = (tmp_path / n for n in ("old.log", "recent.log", "old-auth.log",
                                                                 "recent-auth.log"))
    write(old, ordinary(rng, START, 72, 40))
    # an old brute force from another source: outside every window
    write(old_auth, logons(rng, START + dt.timedelta(hours=30), "203.0.113.200")[:121])
    # a domain new to the network that a top-sites list explains (its rank is looked up in a recent run)
    fresh = [(RECENT + dt.timedelta(minutes=30), question(RECENT + dt.timedelta(minutes=30), "www.fresh-portal.com",
                                                          "10.0.0.12"))]
    write(recent, ordinary(rng, RECENT, 4, 200) + threats(rng) + fresh)
    top = tmp_path / "top.csv"
    top.write_text("1,example-news.com\n2,fresh-portal.com\n3,example-maps.com\n")
    analysis = pipeline.AnalysisOptions(baseline=BaselineOptions(top_lists=[str(top)]))
    write(recent_auth, logons(rng, RECENT + dt.timedelta(hours=2)))
    opts = IngestOptions(year=2026)
    db = tmp_path / "w.duckdb"
    store = open_store(db)
    ingest(store, [str(old), str(old_auth)], opts)
    session = store.cursor()
    inc = Incremental(session, analysis)
    inc.run()  # the watcher's first run: full
    assert inc.last is not None and inc.last.full
    ingest(store, [str(recent), str(recent_auth)], opts)
    found = inc.run()
    assert inc.last is not None and not inc.last.full
    kept_stats = session.frame("SELECT * FROM domain_stats ORDER BY registered_domain")
    session.close()
    store.close()
    shutil.copy(db, tmp_path / "copy.duckdb")
    with open_store(tmp_path / "copy.duckdb") as copy:
        full = pipeline.analyze(copy, analysis).findings
        stats = copy.frame("SELECT * FROM domain_stats ORDER BY registered_domain")
    assert "top sites: rank 2" in stats.filter(pl.col("registered_domain") == "fresh-portal.com")["normal_reason"][0]
    assert kept_stats.equals(stats)  # the baseline kept from new rows only is the one a full analysis builds
    return found, full, inc, recent


@pytest.mark.parametrize("kind,client", [
    ("nxdomain_storm", "10.0.0.66"),
    ("dga", "10.0.0.77"),
    ("tunnel", "10.0.0.88"),
    ("brute_force", "203.0.113.9"),
    ("login_after_failures", "203.0.113.9"),
    ("password_spray", "198.51.100.44"),
])
def test_recent_finding_equals_full_analysis(stores, kind, client):
    found, full, _, _ = stores
    recent = [f.to_dict() for f in found if f.kind == kind and f.client == client]
    whole = [f.to_dict() for f in full if f.kind == kind and f.client == client]
    assert whole, f"the full analysis raises no {kind} about {client}: the fixture plants nothing"
    assert recent == whole


def test_every_finding_of_a_recent_run_is_the_full_analysis_one(stores):
    """Not only the planted ones: the same ids, and each finding equal (the carried old ones included)."""
    found, full, _, _ = stores
    assert {f.id: f.to_dict() for f in found} == {f.id: f.to_dict() for f in full}


def test_a_recent_run_reads_only_new_rows_and_its_windows(stores, tmp_path):
    found, _, inc, recent = stores
    # the kept history took in the recent file's questions only (not the history's 8,640)
    questions = sum(1 for line in recent.read_text().splitlines() if "query[" in line)
    assert inc.last.rows_read == questions
    assert inc.last.windows["brute_force"] == 1 and inc.last.windows["beacon"] == 24
    assert "rare_domain" not in inc.last.windows  # judged on whole histories: full runs only
    # the old brute force (two days before the window) is not seen by a recent run that carries nothing
    with open_store(tmp_path / "w.duckdb") as store:
        session = store.cursor()
        fresh = Incremental(session)
        fresh.kept.rebuild()
        fresh.full_at = float("inf")  # no full run due
        produced = fresh.run(full=False)
        # the window is a bound in the SQL every detector's query reads through
        w = Windowed(session, fresh.kept.ends)
        total = session.scalar("SELECT count(*) FROM logon_events")
        end = fresh.kept.ends["logon_events"]
        w.scope(1.0)
        view = session.scalar("SELECT sql FROM duckdb_views() WHERE temporary AND view_name = 'logon_events'")
        assert "WHERE (ts >= CAST(" in view
        recent_hour = session.scalar("SELECT count(*) FROM logon_events")
        assert 0 < recent_hour < total
        assert recent_hour == session.scalar(f"SELECT count(*) FROM {w.stored}.logon_events WHERE ts >= ?",
                                             [end - dt.timedelta(hours=1)])
        w.close()
        assert session.scalar("SELECT count(*) FROM logon_events") == total
        session.close()
    assert [f for f in found if f.kind == "brute_force" and f.client == "203.0.113.200"]  # carried
    assert not [f for f in produced if f.client == "203.0.113.200"]
    assert [f for f in produced if f.kind == "brute_force" and f.client == "203.0.113.9"]


def test_recent_runs_over_a_store_without_findings(tmp_path):
    """Nothing found (no table rows to compare): recent runs still store and carry (an empty frame has no
    column types)."""
    log = tmp_path / "quiet.log"
    write(log, ordinary(random.Random(1), RECENT, 2, 50))
    with open_store(tmp_path / "q.duckdb") as store:
        ingest(store, [str(log)], IngestOptions(year=2026))
        session = store.cursor()
        inc = Incremental(session)
        assert inc.run() == []
        more = tmp_path / "more.log"
        write(more, ordinary(random.Random(2), RECENT + dt.timedelta(hours=2), 1, 50))
        ingest(store, [str(more)], IngestOptions(year=2026))
        assert inc.run() == [] and inc.last is not None and not inc.last.full
        session.close()


def test_watch_settings_of_a_settings_file_the_store_remembers(tmp_path):
    """`[watch] full_every = 0` in a settings file given to an earlier analyze: every run is a full one."""
    cfg = tmp_path / "netsift.toml"
    cfg.write_text("[watch]\nfull_every = 0\n")
    log = tmp_path / "a.log"
    write(log, ordinary(random.Random(1), RECENT, 1, 50))
    with open_store(tmp_path / "r.duckdb") as store:
        ingest(store, [str(log)], IngestOptions(year=2026))
        pipeline.analyze(store, pipeline.AnalysisOptions(settings={"watch": {"full_every": 0}},
                                                         config_path=str(cfg)))
        session = store.cursor()
        inc = Incremental(session)  # the watcher given no --config
        inc.run()
        more = tmp_path / "b.log"
        write(more, ordinary(random.Random(2), RECENT + dt.timedelta(hours=1), 1, 50))
        ingest(store, [str(more)], IngestOptions(year=2026))
        inc.run()
        assert inc.last is not None and inc.last.full
        session.close()
