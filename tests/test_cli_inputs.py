"""Analysis inputs are remembered by the store: a later `netsift analyze` (and the dashboard's re-analysis)
uses the feeds, categories, top lists, allowlist and settings given once, until they are changed or
forgotten; `netsift status` shows them with their age."""

from __future__ import annotations

import json
from pathlib import Path

from netsift import pipeline
from netsift.store import open_store
from tests.test_cli import netsift

DATA = Path(__file__).parent / "data"
PIHOLE = str(DATA / "pihole" / "valid.log")


def analyze_json(tmp_path, *args) -> dict:
    return json.loads(netsift("analyze", "--json", "--year", "2025", *args, cwd=tmp_path).stdout)


def enrichment_of(doc: dict) -> tuple[int, int]:
    e = doc["summary"]["enrichment"]
    return e["feed_hits"], e["categorised_names"]


def write_inputs(tmp_path: Path) -> None:
    (tmp_path / "bb.csv").write_text("Domain,Malware,Date added,Source\nnosuch.example.org,emotet,2024-01-01,x\n")
    (tmp_path / "cats.csv").write_text("example.com,webmail\n")
    (tmp_path / "allow.txt").write_text("*.example.net\n")
    (tmp_path / "settings.toml").write_text("[baseline]\n")


def test_a_plain_analyze_keeps_the_inputs_given_before(tmp_path):
    write_inputs(tmp_path)
    first = analyze_json(tmp_path, "--feed", "bb:suspicious=bb.csv", "--categories", "cats.csv",
                         "--allowlist", "allow.txt", "--config", "settings.toml", PIHOLE)
    hits, categorised = enrichment_of(first)
    assert hits == 1 and categorised >= 1
    again = analyze_json(tmp_path)
    assert enrichment_of(again) == (hits, categorised)
    assert [f["kind"] for f in again["findings"]] == [f["kind"] for f in first["findings"]]
    feed = [item for item in again["summary"]["enrichment"]["lists"] if item["used_for"] == "feeds"]
    assert [(item["name"], item["kind"]) for item in feed] == [("bb", "suspicious")]
    kinds = {(i["kind"], Path(i["path"]).name) for i in again["summary"]["inputs"]}
    assert kinds == {("feed", "bb.csv"), ("categories", "cats.csv"), ("allowlist", "allow.txt"),
                     ("config", "settings.toml")}


def test_the_library_call_without_options_uses_the_remembered_inputs(tmp_path):
    """What the dashboard's background re-analysis after a verdict does."""
    write_inputs(tmp_path)
    analyze_json(tmp_path, "--feed", "bb=bb.csv", "--categories", "cats.csv", PIHOLE)
    with open_store(str(tmp_path / "netsift.duckdb")) as store:
        result = pipeline.analyze(store, None)
        assert result.enrichment is not None
        assert result.enrichment.tables.feed_hits == 1
        assert store.scalar("SELECT count(*) FROM domain_categories") >= 1


def test_giving_a_kind_again_replaces_it_and_forget_input_drops_it(tmp_path):
    write_inputs(tmp_path)
    (tmp_path / "other.csv").write_text("example.com,bank\n")
    analyze_json(tmp_path, "--categories", "cats.csv", "--feed", "bb=bb.csv", PIHOLE)
    doc = analyze_json(tmp_path, "--categories", "other.csv")
    assert [Path(i["path"]).name for i in doc["summary"]["inputs"] if i["kind"] == "categories"] == ["other.csv"]
    doc = analyze_json(tmp_path, "--forget-input", "feed")
    assert enrichment_of(doc)[0] == 0
    assert [i["kind"] for i in doc["summary"]["inputs"]] == ["categories"]
    doc = analyze_json(tmp_path, "--forget-input", str(tmp_path / "other.csv"))
    assert doc["summary"]["inputs"] == []
    proc = netsift("analyze", "--forget-input", "nonsense", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr
    assert b"netsift status" in proc.stderr


def test_a_remembered_file_that_is_gone_is_a_note(tmp_path):
    write_inputs(tmp_path)
    analyze_json(tmp_path, "--feed", "bb=bb.csv", PIHOLE)
    (tmp_path / "bb.csv").unlink()
    proc = netsift("analyze", "--json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert enrichment_of(doc)[0] == 0
    assert any("bb.csv is gone" in note for note in doc["summary"]["enrichment"]["notes"])
    status = json.loads(netsift("status", "--json", cwd=tmp_path).stdout)
    assert [(i["kind"], i["exists"], i["age_days"]) for i in status["inputs"]] == [("feed", False, None)]


def test_status_shows_the_store_and_its_inputs(tmp_path):
    write_inputs(tmp_path)
    (tmp_path / "top.csv").write_text("1,example.com\n2,example.net\n")
    analyze_json(tmp_path, "--top-list", "top.csv", "--feed", "bb=bb.csv", PIHOLE)
    doc = json.loads(netsift("status", "--json", cwd=tmp_path).stdout)
    assert doc["rows"] > 0 and doc["analyzed_at"] and sum(doc["findings"].values()) > 0
    assert {i["kind"] for i in doc["inputs"]} == {"top_list", "feed"}
    assert all(i["age_days"] is not None and i["age_days"] < 1 for i in doc["inputs"])
    text = netsift("status", cwd=tmp_path).stdout.decode()
    assert "--feed" in text and "bb.csv" in text and "Remembered analysis inputs" in text


def test_after_the_demo_the_next_command_without_flags_shows_it(tmp_path):
    proc = netsift("demo", "--limit", "5", cwd=tmp_path)
    assert b"netsift serve" in proc.stderr
    status = json.loads(netsift("status", "--json", cwd=tmp_path).stdout)
    assert status["rows"] > 50_000 and sum(status["findings"].values()) > 0
    assert Path(status["store"]).name == "netsift.duckdb" and (tmp_path / "netsift.duckdb").exists()
    top = json.loads(netsift("analyze", "--json", "--limit", "5", cwd=tmp_path).stdout)
    assert top["summary"]["rows"] == status["rows"]


def test_the_demo_does_not_mix_into_a_store_holding_other_logs(tmp_path):
    netsift("ingest", "--year", "2025", PIHOLE, cwd=tmp_path)
    proc = netsift("demo", "--limit", "5", "-q", cwd=tmp_path)
    assert proc.returncode == 0
    mine = json.loads(netsift("files", "--json", cwd=tmp_path).stdout)
    assert [Path(f["path"]).name for f in mine] == ["valid.log"]
    assert (tmp_path / "netsift-demo" / "netsift.duckdb").exists()
