"""The Python API (netsift.api), `netsift query` and `netsift export --parquet`, on DuckDB and on chdb."""

from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from netsift import api
from netsift.cli import main
from netsift.errors import StoreError, UsageError
from netsift.synth import write_demo

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "api_example.py"


def test_the_notebook_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), str(tmp_path)])
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    # the demo grows as logs of new kinds join it; its DNS questions stay
    assert re.search(r"[\d,]+ rows from \d+ files, 66,961 of them DNS questions", out), out[:300]
    assert "cloudsync-telemetry.com: 542 questions in 48 hours" in out
    assert (tmp_path / "parquet" / "dns_queries" / "day=2026-11-20" / "part-0.parquet").is_file()


@pytest.fixture(scope="module")
def demo_logs(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def analysed(any_store, demo_logs):
    """Each store with the demo network ingested (beacon detector only: the API, not the detectors, is tested)."""
    api.ingest(any_store, demo_logs)
    api.analyze(any_store, detectors=["beacon"])
    return any_store


def test_api_frames(analysed):
    found = api.findings(analysed, min_severity="high")
    assert found["kind"].to_list() == ["beacon"] and found["client"].to_list() == ["192.168.50.23"]
    assert api.findings(analysed, kind="nope").height == 0
    hours = api.domain_history(analysed, "CloudSync-Telemetry.com.")
    assert hours.columns == ["hour", "queries", "nxdomain", "clients", "names"]
    assert hours["queries"].sum() == 542 and hours.height == 48 and hours["clients"].max() == 1
    assert api.client_history(analysed, "192.168.50.23")["queries"].sum() == 3283
    top = api.query(analysed, "SELECT client, count(*) AS n FROM dns_queries WHERE client LIKE ? "
                              "GROUP BY ALL ORDER BY n DESC, client LIMIT 2", ["192.168.%"])
    assert top.rows() == [("192.168.50.24", 4606), ("192.168.50.23", 3283)]
    with pytest.raises(UsageError):
        api.findings(analysed, min_severity="urgent")
    with pytest.raises(StoreError):
        api.query(analysed, "SELECT nope FROM nowhere")


def test_export_parquet_by_day_reads_back_with_polars(analysed, tmp_path):
    done = {e.table: e for e in api.export_parquet(analysed, tmp_path / "out")}
    assert done["dns_queries"].rows == 66961 and done["dns_queries"].files == 3
    days = sorted(p.name for p in (tmp_path / "out" / "dns_queries").iterdir())
    assert days == ["day=2026-11-20", "day=2026-11-21", "day=2026-11-22"]
    frame = pl.scan_parquet(tmp_path / "out" / "dns_queries" / "**" / "*.parquet", hive_partitioning=True).collect()
    assert frame.height == 66961 and frame["day"].dtype == pl.Date
    assert frame.filter(pl.col("ts").dt.date() != pl.col("day")).height == 0
    assert frame.schema["answers"] == pl.List(pl.String)
    assert pl.read_parquet(tmp_path / "out" / "verdicts" / "part-0.parquet").columns[0] == "entity"  # empty
    findings = pl.read_parquet(tmp_path / "out" / "findings" / "part-0.parquet")
    assert findings.height == analysed.scalar("SELECT count(*) FROM findings")



def test_query_command(analysed):
    db = analysed.path
    if db.endswith(".duckdb"):
        analysed.close()  # DuckDB: one process (here: one connection) writes a file
    run = CliRunner()
    sql = "SELECT client, count(*) AS n FROM dns_queries GROUP BY ALL ORDER BY n DESC, client LIMIT 2"
    table = run.invoke(main, ["query", sql, "--db", db])
    assert table.exit_code == 0 and "192.168.50.24" in table.output and "2 row(s)" in table.output
    as_json = run.invoke(main, ["query", sql, "--db", db, "--json"])
    assert json.loads(as_json.output) == [{"client": "192.168.50.24", "n": 4606}, {"client": "192.168.50.23", "n": 3283}]
    as_csv = run.invoke(main, ["query", sql, "--db", db, "--csv"])
    assert as_csv.output.splitlines() == ["client,n", "192.168.50.24,4606", "192.168.50.23,3283"]
    for write in ("DELETE FROM findings", "DROP TABLE findings", "INSERT INTO verdicts (entity) VALUES ('x')"):
        refused = run.invoke(main, ["query", write, "--db", db])
        assert refused.exit_code == 1 and "Error:" in refused.output and "Traceback" not in refused.output
    check = run.invoke(main, ["query", "SELECT count(*) AS n FROM findings", "--db", db, "--json"])
    assert json.loads(check.output)[0]["n"] > 0


def test_export_command(analysed, tmp_path):
    db = analysed.path
    if db.endswith(".duckdb"):
        analysed.close()
    done = CliRunner().invoke(main, ["export", "--db", db, "--parquet", str(tmp_path / "p"), "--table", "findings",
                                     "--json"])
    assert done.exit_code == 0, done.output
    assert [r["table"] for r in json.loads(done.output)] == ["findings"]
    bad = CliRunner().invoke(main, ["export", "--db", db, "--parquet", str(tmp_path / "p"), "--table", "nope"])
    assert bad.exit_code == 2 and "unknown table" in bad.output
