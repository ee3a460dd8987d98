"""Names that belong to a finding are listed inside it, not as queue rows of their own; what is left is
grouped by hosting platform / answer network; verdicts can be given in bulk, listed and undone."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from netsift import pipeline
from netsift.baseline.leftovers import GROUP_MIN, is_platform_suffix, network_of
from netsift.baseline.verdicts import add_verdicts, latest_verdicts, list_verdicts, undo_verdicts
from netsift.errors import UsageError
from netsift.store import open_store
from tests.detect.conftest import well_known_sites

synth = pytest.importorskip("netsift.synth")


def fill(store, frame: pl.DataFrame) -> None:
    cols = {c for (c,) in store.rows("SELECT column_name FROM information_schema.columns "
                                     "WHERE table_name = 'dns_queries'")}
    frame = frame.select([c for c in frame.columns if c in cols]).with_columns(
        source_file_id=pl.lit(1, pl.Int64), source_line=pl.int_range(1, frame.height + 1, dtype=pl.Int64))
    store.append("dns_queries", frame)
    store.con.executemany("INSERT INTO top_sites VALUES (?, ?, 'test')", [list(s) for s in well_known_sites()])


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    pipeline.register_all_tables()
    path = tmp_path_factory.mktemp("fold") / "net.duckdb"
    frame = synth.generate(seed=7, days=2, clients=24)
    with open_store(str(path)) as store:
        fill(store, frame)
        result = pipeline.analyze(store)
        generated = {r[0] for r in store.rows(
            "SELECT DISTINCT d.registered_domain FROM dns_queries q JOIN domain_names d USING (query_name) "
            "WHERE q.client = ?", [synth.PLANTED["dga"]["client"]])}
    return path, result, generated


def test_a_dga_clients_generated_names_are_inside_its_finding_not_queue_rows(analysed):
    _, result, asked = analysed
    client = synth.PLANTED["dga"]["client"]
    dga = [f for f in result.findings if f.kind == "dga" and f.client == client]
    assert len(dga) == 1
    names = dga[0].to_dict()["names"]
    assert len(names) >= 50 and set(names) <= asked
    rows = [f for f in result.findings if f.kind == "unexplained_domain" and f.domain in set(names)]
    assert rows == []
    assert any("listed with this finding" in r for r in dga[0].reasons)


def test_a_storms_names_are_inside_its_finding(analysed):
    _, result, _ = analysed
    storm = [f for f in result.findings if f.kind == "nxdomain_storm"
             and f.client == synth.PLANTED["nxdomain_storm"]["client"]]
    assert storm
    folded = set(storm[0].names)
    assert not [f for f in result.findings if f.kind == "unexplained_domain" and f.domain in folded]


def test_names_and_group_are_stored_and_read_back(analysed):
    path, result, _ = analysed
    with open_store(str(path)) as store:
        loaded = {f.id: f for f in pipeline.load_findings(store)}
    for f in result.findings:
        assert loaded[f.id].names == f.names and loaded[f.id].group == f.group
    doc = result.findings[0].to_dict()
    assert pipeline.finding_from_dict(doc).to_dict() == doc  # the JSON shape round-trips, new fields too


def test_leftovers_sharing_a_network_or_platform_are_grouped(analysed):
    _, result, _ = analysed
    groups: dict[str, list] = {}
    for f in result.findings:
        if f.group:
            assert f.kind == "unexplained_domain"
            groups.setdefault(f.group, []).append(f)
    assert groups and all(len(members) >= GROUP_MIN for members in groups.values())
    assert all(k.startswith(("platform:", "network:")) for k in groups)


def test_platform_suffix_and_network():
    assert is_platform_suffix("duckdns.org") and is_platform_suffix("github.io")
    assert not is_platform_suffix("co.uk") and not is_platform_suffix("com")
    assert network_of("203.0.114.7") is None or network_of("8.8.4.4") == "8.8.4.0/24"
    assert network_of("10.1.2.3") is None and network_of("cname.example.com") is None
    assert network_of("2606:4700::1111") == "2606:4700::/48"


def test_platform_customers_form_one_group(tmp_path):
    pipeline.register_all_tables()
    start = dt.datetime(2024, 5, 1)
    rows = []
    for i in range(12):  # 12 clients ask for the popular site; one asks for 4 customer names of a platform
        for h in range(30):
            rows.append({"ts": start + dt.timedelta(hours=h), "client": f"10.0.0.{i}", "query_name": "www.google.com",
                         "answers": ["142.250.1.1"]})
    for k, name in enumerate(["alpha", "bravo", "charlie", "delta", "echo"]):
        rows.append({"ts": start + dt.timedelta(hours=40 + k), "client": "10.0.0.1",
                     "query_name": f"{name}.duckdns.org", "answers": [f"198.51.100.{k}"]})
    frame = pl.DataFrame(rows, schema_overrides={"ts": pl.Datetime("us"), "answers": pl.List(pl.String)})
    with open_store(str(tmp_path / "p.duckdb")) as store:
        fill(store, frame)
        result = pipeline.analyze(store)
    leftovers = [f for f in result.findings if f.kind == "unexplained_domain"]
    assert len(leftovers) >= GROUP_MIN  # (a detector may take one of them, e.g. as new_domain)
    assert all(f.group == "platform:duckdns.org" and f.domain.endswith(".duckdns.org") for f in leftovers)
    assert any("hosting platform duckdns.org" in r for r in leftovers[0].reasons)


def test_bulk_verdicts_check_every_entity_before_writing(tmp_path):
    with open_store(str(tmp_path / "v.duckdb")) as store:
        assert add_verdicts(store, ["A.com.", "b.com", "a.com"], "benign", "ours") == ["a.com", "b.com"]
        with pytest.raises(UsageError):
            add_verdicts(store, ["c.com", "bad\x1bname"], "malicious")
        with pytest.raises(UsageError):
            add_verdicts(store, [], "malicious")
        assert sorted(e for e, *_ in latest_verdicts(store)) == ["a.com", "b.com"]  # c.com not written


def test_undo_keeps_an_audit_trail_and_restores_the_earlier_verdict(tmp_path):
    with open_store(str(tmp_path / "u.duckdb")) as store:
        add_verdicts(store, ["a.com"], "needs_review", who="ann")
        add_verdicts(store, ["a.com"], "benign", who="ann")
        assert dict((e, v) for e, v, *_ in latest_verdicts(store)) == {"a.com": "benign"}
        assert undo_verdicts(store, ["a.com", "nothing.example"], who="bob") == [("a.com", "benign")]
        assert dict((e, v) for e, v, *_ in latest_verdicts(store)) == {"a.com": "needs_review"}
        history = list_verdicts(store, include_history=True)
        assert [(r["verdict"], r["state"], r["undone_by"]) for r in history] == [
            ("benign", "undone", "bob"), ("needs_review", "in force", None)]
        undo_verdicts(store, ["a.com"])
        assert latest_verdicts(store) == [] and list_verdicts(store) == []
        assert len(list_verdicts(store, include_history=True)) == 2
