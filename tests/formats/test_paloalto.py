"""PAN-OS CSV logs: TRAFFIC into connections, THREAT url into http_requests and the other threats into
ids_alerts, fields by position (quoted fields with commas), a syslog envelope ignored; the accounting in one
piece and in chunks; bad lines; sniffing; a threat raising an ids_alert finding."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.config import Settings
from netsift.detect import ids_alert
from netsift.ingest.base import ParseContext
from netsift.ingest.formats import detect_format, paloalto
from netsift.ingest.run import ingest
from netsift.store import open_store
from tests.formats.parsing import check_accounting, parse_lines, sample_heads


def pan(kind: str, subtype: str, fields: dict[int, str], size: int, when: str = "2026/11/30 10:00:05") -> str:
    """A PAN-OS log line of ``size`` fields, the given positions set (the header filled in)."""
    row = [""] * size
    row[:7] = ["1", when, "012501002341", kind, subtype, "2561", when]
    for i, value in fields.items():
        row[i] = f'"{value}"' if "," in value else value
    return ",".join(row)


COMMON = {7: "10.0.0.5", 8: "93.184.216.34", 12: "CORP\\alice", 14: "ssl", 24: "49583", 25: "443", 29: "tcp",
          30: "allow"}
TRAFFIC = pan("TRAFFIC", "end", {**COMMON, 32: "2228", 33: "5084", 35: "2026/11/30 09:59:32", 36: "33",
                                 44: "12", 45: "10", 46: "tcp-fin"}, 60)
URL = pan("THREAT", "url", {**COMMON, 8: "198.51.100.9", 25: "80", 14: "web-browsing", 30: "block-url",
                            31: "malware.example/payload.exe?a=1,2", 32: "(9999)", 34: "informational",
                            46: "curl/8.0", 63: "get"}, 70)
VULN = pan("THREAT", "vulnerability", {**COMMON, 7: "203.0.113.5", 8: "10.0.0.80", 24: "4444", 30: "reset-both",
                                        32: "Apache Log4j Remote Code Execution Vulnerability(91991)",
                                        34: "critical"}, 45)


def parsed(lines: list[str], chunk: int | None = None, **ctx):
    result = parse_lines(paloalto.parse, lines, ParseContext(**ctx), chunk)
    check_accounting(result, len(lines))
    return result


def test_traffic():
    row = parsed([TRAFFIC], tz="Europe/Berlin").records.row(0, named=True)
    assert (row["ts"], row["client"], row["client_port"], row["server"], row["server_port"], row["protocol"],
            row["service"], row["duration"], row["bytes_out"], row["bytes_in"], row["packets_out"],
            row["packets_in"], row["state"]) == (dt.datetime(2026, 11, 30, 8, 59, 32), "10.0.0.5", 49583,
                                                 "93.184.216.34", 443, "tcp", "ssl", 33.0, 2228, 5084, 12, 10,
                                                 "tcp-fin")


def test_url_and_threat_logs():
    result = parsed([URL, VULN, pan("SYSTEM", "general", {}, 20)])
    web = result.tables["http_requests"].row(0, named=True)
    assert (web["client"], web["server_port"], web["method"], web["host"], web["uri"], web["user_agent"],
            web["account"], web["result"], web["log"]) == (
        "10.0.0.5", 80, "GET", "malware.example", "malware.example/payload.exe?a=1,2", "curl/8.0", "CORP\\alice",
        "block-url", "paloalto")
    alert = result.tables["ids_alerts"].row(0, named=True)
    assert (alert["src"], alert["dest"], alert["signature_id"], alert["signature"], alert["category"],
            alert["severity"], alert["action"], alert["app_proto"]) == (
        "203.0.113.5", "10.0.0.80", 91991, "Apache Log4j Remote Code Execution Vulnerability", "vulnerability", 1,
        "blocked", "ssl")
    assert result.skipped_by == {"URL log (stored in http_requests)": 1, "threat log (stored in ids_alerts)": 1,
                                 "SYSTEM log": 1}


@pytest.mark.parametrize("prefix", ["", "Oct  4 18:54:26 fw01 ", "<14>Oct  4 18:54:26 fw01 ", "<14>"])
def test_a_syslog_envelope_is_ignored(prefix):
    assert parsed([prefix + TRAFFIC]).records["client"].to_list() == ["10.0.0.5"]


def test_bad_lines_are_rejected_with_reasons():
    lines = ["not a firewall line", "", TRAFFIC[:60], pan("TRAFFIC", "end", {**COMMON, 6: "soon"}, 60),
             pan("TRAFFIC", "end", {**COMMON}, 60, when="30.11.2026 10:00")]
    result = parsed(lines)
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons[1].startswith("not a PAN-OS log line")
    assert reasons[3].startswith("a TRAFFIC log of") and reasons[3].endswith("fewer than its format has")
    assert reasons[4] == "unreadable time (expected yyyy/mm/dd hh:mm:ss)"
    assert reasons[5].startswith("not a PAN-OS log line")  # the receive time is part of the header


_LINES = st.sampled_from([TRAFFIC, URL, VULN, "", "junk", pan("CONFIG", "0", {}, 20)])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    parsed(lines, chunk)


def test_sniffed():
    assert detect_format(b"", [TRAFFIC, URL, VULN])[0].name == "paloalto"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert paloalto.sniff(lines) == 0.0, path


def test_a_threat_is_an_ids_alert_finding(tmp_path):
    path = tmp_path / "pan.log"
    path.write_text("\n".join([TRAFFIC, VULN, VULN]) + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as store:
        ingest(store, [str(path)])
        found = ids_alert.run(store, Settings(ids_alert.SETTINGS))
    # an inbound attack from one peer: the attacker is the client, the local server the host
    assert [(f.client, f.host, f.evidence_count, f.sub_scores["blocked"]) for f in found] == [
        ("203.0.113.5", "10.0.0.80", 2, 1.0)]
