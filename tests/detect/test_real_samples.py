"""Detectors on the real samples of ../shared/data (skipped when absent): the dnscat2 capture is a tunnel;
the benign DNS logs raise nothing high."""

from __future__ import annotations

import pytest

from netsift import pipeline
from netsift.store import DuckDBStore

pytestmark = pytest.mark.shared_data

BENIGN = [
    "dns_logs/bind_querylog/sunilbinghamton_queries2.log",
    "dns_logs/pihole_dnsmasq/bazmonk_pihole.0236.log",
    "dns_logs/pihole_dnsmasq/bazmonk_API_queries_pihole_v6.json",
    "dns_logs/windows_dns_debug/jschpp_dns-Locale_en-US-Windows2012.txt",
    "dns_logs/zeek_json/zat_json_dns.log",
    "dns_logs/zeek_tsv/rita_proxy_dns.log",
    "dns_logs/zeek_tsv/zat_dns.log",
    "pcaps/dns_general/zeek_wikipedia.pcap",
]


def analysed(path):
    store = DuckDBStore(":memory:")
    pipeline.ingest(store, [str(path)])
    findings = [f for f in pipeline.analyze(store).findings if f.kind != "unexplained_domain"]
    rows = store.scalar("SELECT count(*) FROM dns_queries")
    store.close()
    return rows, findings


def test_dnscat2_capture_is_a_tunnel(shared_data):
    rows, findings = analysed(shared_data / "pcaps/dns_tunnelling/dmachard_dnscat2.pcap")
    assert rows == 12  # 24 packets: 12 questions (MX/TXT/CNAME) and their answers
    [f] = findings
    assert (f.kind, f.client, f.domain) == ("tunnel", "192.168.1.17", "biillpi.com")
    assert f.severity == "high"
    assert "100% of its names carry an encoded-looking label (hex" in " ".join(f.reasons)


@pytest.mark.parametrize("sample", BENIGN)
def test_benign_samples_raise_nothing_high(shared_data, sample):
    _rows, findings = analysed(shared_data / sample)
    assert [(f.kind, f.client, f.domain) for f in findings if f.severity in ("high", "critical")] == []
