"""The demo's traffic beyond DNS: a Zeek conn.log with one heavy sender and a capture with a cleartext HTTP
login, written beside the DNS logs, read back by their parsers and found by the detectors, ranked with the
DNS threats."""

from __future__ import annotations

import pytest

from netsift import pipeline
from netsift.ingest.plan import IngestOptions
from netsift.store import open_store
from netsift.synth.network import NETWORK_PLANTED
from netsift.synth.scenario import write_demo


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-net")
    paths = write_demo(folder / "logs")
    store = open_store(folder / "net.duckdb")
    summary = pipeline.ingest(store, [str(p) for p in paths], IngestOptions())
    result = pipeline.analyze(store)
    yield store, summary, result.findings
    store.close()


def test_network_files_are_read_by_their_formats(analysed):
    store, summary, _ = analysed
    formats = {f.path.rsplit("/", 1)[-1]: (f.format, f.status, f.rejected) for f in summary.files}
    assert formats["sensor-conn.log"] == ("zeek_conn_tsv", "ingested", 0)
    assert formats["sensor-http.pcap"] == ("pcap", "ingested", 0)
    assert store.scalar("SELECT count(*) FROM connections") > 5000
    assert store.rows("SELECT client, protocol, account, secret FROM credentials") == [
        ("10.0.0.44", "http-form", "j.doe", "S" + "*" * 10)]  # Spring2026!


@pytest.mark.parametrize("name", list(NETWORK_PLANTED))
def test_planted_network_threats_are_found_and_ranked(analysed, name):
    _, _, findings = analysed
    planted = NETWORK_PLANTED[name]
    mine = [f for f in findings if f.kind == planted["kind"]]
    assert [f.client for f in mine] == [planted["client"]], "found on its client only (no false positive)"
    assert mine[0].host == planted["host"]
    assert mine[0].severity in ("medium", "high", "critical")
    rank = findings.index(mine[0]) + 1
    assert rank <= 15, f"{name} ranked {rank}"
