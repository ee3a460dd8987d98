"""A store holding a far but valid stamp (year 2286, the last hour of year 9999) beside a normal log:
analysis, the HTML report, the chart data and the dashboard's JSON (``/``, ``/client``, ``/domain``)
all work. The scenario runs in a subprocess whose timeout only guards against a hang (the old
behaviour_change walked every hour up to year 9999); it asserts no speed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
FAR_CLIENT = "10.0.0.9"
HANG_GUARD_SECONDS = 120


def add_far_rows(path: Path, far: dt.datetime) -> None:
    """Append questions stamped at ``far`` (a new client and one of the fixture's) to the store."""
    from netsift.store import open_store

    with open_store(path) as store:
        first = store.rows("SELECT max(source_line) FROM dns_queries")[0][0] + 1
        frame = pl.DataFrame({
            "ts": [far, far - dt.timedelta(minutes=5)], "client": [FAR_CLIENT, "10.0.0.1"],
            "query_name": ["x.far-future.example", "y.far-future.example"], "query_type": ["A", "A"],
            "response_code": ["NOERROR", "NOERROR"], "answers": [["192.0.2.7"], None],
            "resolver_action": [None, None], "source_file_id": [1, 1], "source_line": [first, first + 1],
        }, schema_overrides={"ts": pl.Datetime("us"), "answers": pl.List(pl.String), "resolver_action": pl.String})
        store.append("dns_queries", frame)


def scenario(path: str, far_iso: str) -> None:
    """Build, analyse, report and query the dashboard; raises on any failure (run in a subprocess)."""
    import asyncio

    from netsift import pipeline
    from netsift.report import chart_data
    from netsift.report.html import write_report
    from netsift.store import open_store
    from netsift.web.app import create_app
    from netsift.web.cli import get_json
    from tests.web.store_builder import build

    db = Path(path)
    far = dt.datetime.fromisoformat(far_iso)
    build(db)
    add_far_rows(db, far)
    with open_store(db) as store:
        analysis = pipeline.analyze(store)
        assert analysis.findings
        bucket = chart_data.bucket_for(store)
        summary = chart_data.summary(store)
        assert summary["end"] >= far.replace(minute=0).isoformat()
        points = chart_data.timeline(store, bucket=bucket)
        rows = store.rows("SELECT count(*) FROM dns_queries")[0][0]
        assert len(points) <= rows  # buckets with questions, never every hour/day of the span
        # the charts draw the bulk of the data and count the two far questions instead of stretching the axis
        assert summary["outside_drawn"] == 2 and summary["drawn_end"] < far.replace(minute=0).isoformat()
        assert points and not any(p["t"].startswith(far.strftime("%Y")) for p in points)
        assert bucket in ("minute", "5 min", "15 min", "hour", "6 h")
        for c in chart_data.client_timelines(store, bucket=bucket):
            assert len(c["series"]) <= rows
        assert chart_data.heatmap(store, FAR_CLIENT)["rows"]
        report = write_report(store, db.with_suffix(".html"))
        assert far.strftime("%Y") in report.read_text()
        assert "2 questions are stamped far from the" in report.read_text()
    app = create_app(str(db))
    try:
        out = {}
        for page in ("/", f"/client?name={FAR_CLIENT}", "/client?name=10.0.0.1", "/domain?name=far-future.example",
                     "/findings"):
            status, text = asyncio.run(get_json(app, page))
            assert status == 200, (page, status, text[:500])
            out[page] = json.loads(text)
        assert out[f"/client?name={FAR_CLIENT}"]["queries"] == 1
        for page in ("/", f"/client?name={FAR_CLIENT}"):  # the HTML pages too
            status = asyncio.run(get_page(app, page))
            assert status == 200, (page, status)
    finally:
        app.state.netsift.close()


async def get_page(app, path: str) -> int:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return (await client.get(path)).status_code


@pytest.mark.parametrize("far", ["2286-11-20T17:46:40", "9999-12-31T23:30:00"])
def test_far_stamp_analyses_reports_and_serves(tmp_path, far):
    code = ("import sys; from tests.report.test_far_timestamps import scenario; "
            "scenario(sys.argv[1], sys.argv[2])")
    try:
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "far.duckdb"), far], cwd=ROOT,
                              capture_output=True, text=True, timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"analysing a store with a stamp at {far} hangs (> {HANG_GUARD_SECONDS} s)")
    assert done.returncode == 0, done.stderr[-3000:]


def test_without_far_stamps_the_charts_draw_every_hour(tmp_path):
    from netsift import pipeline
    from netsift.report import chart_data
    from netsift.store import open_store
    from tests.web.store_builder import build

    build(tmp_path / "s.duckdb")
    with open_store(tmp_path / "s.duckdb") as store:
        pipeline.analyze(store)
        summary = chart_data.summary(store)
        assert summary["outside_drawn"] == 0
        assert (summary["drawn_start"], summary["drawn_end"]) == (summary["start"], summary["end"])
        assert sum(p["queries"] for p in chart_data.timeline(store)) == summary["rows"]
