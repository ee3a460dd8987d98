"""Suricata EVE: DNS events of logging versions 1, 2 and 3 joined request to response (whatever the
chunking), HTTP and flow events into their tables, the accounting, bad lines, sniffing and a real ingest."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import detect_format, suricata_eve
from tests.formats.parsing import check_accounting, dropping, parse_lines, sample_heads

T0 = dt.datetime(2026, 11, 30, 10, 0, 0)


def event(kind: str, second: float, **fields) -> str:
    stamp = (T0 + dt.timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    return json.dumps({"timestamp": stamp, "event_type": kind, "proto": "UDP", **fields})


def request(flow: int, dns_id: int, name: str, client: str = "10.0.0.5", qtype: str = "A", second: float = 0,
            version: int = 2) -> str:
    question = ({"type": "request", "version": 3, "queries": [{"rrname": name, "rrtype": qtype}]} if version == 3
                else {"type": "query", "rrname": name, "rrtype": qtype, "tx_id": 0})
    return event("dns", second, flow_id=flow, src_ip=client, src_port=40000 + dns_id, dest_ip="10.0.0.1",
                 dest_port=53, dns={"id": dns_id, **question})


def response(flow: int, dns_id: int, name: str, rcode: str = "NOERROR", answers: tuple[str, ...] = (),
             client: str = "10.0.0.5", qtype: str = "A", second: float = 0.01, version: int = 2,
             grouped: bool = False) -> str:
    dns: dict = {"id": dns_id, "rcode": rcode}
    if version == 3:
        dns |= {"version": 3, "type": "response", "queries": [{"rrname": name, "rrtype": qtype}]}
        src, dest = ("10.0.0.1", 53), (client, 40000 + dns_id)  # Suricata 8 logs a response from the responder
    else:
        dns |= {"version": 2, "type": "answer", "rrname": name, "rrtype": qtype}
        src, dest = (client, 40000 + dns_id), ("10.0.0.1", 53)
    if answers:
        if grouped:
            dns["grouped"] = {qtype: list(answers)}
        else:
            dns["answers"] = [{"rrname": name, "rrtype": qtype, "ttl": 60, "rdata": a} for a in answers]
    return event("dns", second, flow_id=flow, src_ip=src[0], src_port=src[1], dest_ip=dest[0], dest_port=dest[1],
                 dns=dns)


def parsed(lines: list[str], chunk: int | None = None):
    result = parse_lines(suricata_eve.parse, lines, ParseContext(), chunk)
    check_accounting(result, len(lines))
    return result


def rows(result) -> list[tuple]:
    parts = result if isinstance(result, list) else [result]
    return [(r["client"], r["query_name"], r["query_type"], r["response_code"], r["answers"], r["source_line"])
            for p in parts for r in p.records.iter_rows(named=True)]


@pytest.mark.parametrize("version", [2, 3])
def test_a_request_is_joined_to_its_response(version):
    lines = [request(1, 7, "www.example.com", version=version),
             response(1, 7, "www.example.com", answers=("93.184.216.34",), version=version)]
    result = parsed(lines)
    assert rows(result) == [("10.0.0.5", "www.example.com", "A", "NOERROR", ["93.184.216.34"], 1)]
    assert result.records["ts"][0] == T0
    assert result.skipped_by == {"DNS response joined to its request": 1}


def test_grouped_answers_nxdomain_and_an_unanswered_request():
    lines = [request(1, 1, "a.example.com", qtype="AAAA"),
             response(1, 1, "a.example.com", qtype="AAAA", answers=("2001:db8::1",), grouped=True),
             request(2, 2, "qwxkjz.biz"), response(2, 2, "qwxkjz.biz", rcode="NXDOMAIN"),
             request(3, 3, "lost.example.com")]
    assert rows(parsed(lines)) == [("10.0.0.5", "a.example.com", "AAAA", "NOERROR", ["2001:db8::1"], 1),
                                   ("10.0.0.5", "qwxkjz.biz", "A", "NXDOMAIN", None, 3),
                                   ("10.0.0.5", "lost.example.com", "A", None, None, 5)]


def test_responses_without_requests_are_records_and_version_1_answer_events_join_theirs():
    v1 = [event("dns", 0, flow_id=9, src_ip="10.0.0.8", src_port=1001, dest_ip="10.0.0.1", dest_port=53,
                dns={"type": "answer", "id": 4, "rcode": "NOERROR", "rrname": "v1.example.net", "rrtype": "CNAME",
                     "rdata": "edge.example.net"}),
          event("dns", 0, flow_id=9, src_ip="10.0.0.8", src_port=1001, dest_ip="10.0.0.1", dest_port=53,
                dns={"type": "answer", "id": 4, "rcode": "NOERROR", "rrname": "edge.example.net", "rrtype": "A",
                     "rdata": "192.0.2.7"})]
    lines = [response(5, 5, "only.example.org", client="10.0.0.9", version=3, answers=("192.0.2.1",)), *v1]
    assert rows(parsed(lines)) == [
        ("10.0.0.9", "only.example.org", "A", "NOERROR", ["192.0.2.1"], 1),  # the client is dest_ip in version 3
        ("10.0.0.8", "v1.example.net", "CNAME", "NOERROR", ["edge.example.net", "192.0.2.7"], 2)]


def test_the_same_id_in_another_flow_is_another_question():
    lines = [request(1, 7, "one.example.com"), request(2, 7, "two.example.com", client="10.0.0.6"),
             response(2, 7, "two.example.com", client="10.0.0.6", answers=("192.0.2.2",)),
             response(1, 7, "one.example.com", answers=("192.0.2.1",))]
    assert [(r[1], r[4]) for r in rows(parsed(lines))] == [("one.example.com", ["192.0.2.1"]),
                                                          ("two.example.com", ["192.0.2.2"])]


def test_http_and_flow_events_fill_their_tables():
    lines = [event("flow", 5, flow_id=80, src_ip="10.0.0.5", src_port=50000, dest_ip="93.184.216.34", dest_port=443,
                   proto="TCP", app_proto="tls",
                   flow={"pkts_toserver": 12, "pkts_toclient": 10, "bytes_toserver": 1500, "bytes_toclient": 9000,
                         "start": "2026-11-30T09:59:00.000000+0100", "end": "2026-11-30T09:59:30.500000+0100",
                         "state": "closed"}),
             event("http", 6, flow_id=81, src_ip="10.0.0.5", src_port=50001, dest_ip="198.51.100.9", dest_port=8080,
                   proto="TCP", http={"hostname": "Evil.Example:8080", "url": "/payload.exe", "http_method": "GET",
                                      "http_user_agent": "curl/8.0", "status": 200, "length": 73802}),
             event("alert", 7, src_ip="10.0.0.5", dest_ip="198.51.100.9", alert={"signature": "ET x", "severity": 1}),
             event("stats", 8, stats={"uptime": 10}), event("mqtt", 9, src_ip="10.0.0.5", dest_ip="10.0.0.2")]
    result = parsed(lines)
    flow = result.tables["connections"].row(0, named=True)
    assert (flow["ts"], flow["client"], flow["client_port"], flow["server"], flow["server_port"], flow["protocol"],
            flow["service"], flow["duration"], flow["bytes_out"], flow["bytes_in"], flow["packets_out"],
            flow["packets_in"], flow["source_line"]) == (
        dt.datetime(2026, 11, 30, 8, 59), "10.0.0.5", 50000, "93.184.216.34", 443, "tcp", "tls", 30.5, 1500, 9000,
        12, 10, 1)
    http = result.tables["http_requests"].row(0, named=True)
    assert (http["client"], http["server"], http["server_port"], http["method"], http["host"], http["uri"],
            http["user_agent"], http["status"], http["bytes_in"], http["log"]) == (
        "10.0.0.5", "198.51.100.9", 8080, "GET", "evil.example", "/payload.exe", "curl/8.0", 200, 73802, "suricata")
    alert = result.tables["ids_alerts"].row(0, named=True)
    assert (alert["src"], alert["dest"], alert["signature"], alert["severity"], alert["source_line"]) == (
        "10.0.0.5", "198.51.100.9", "ET x", 1, 3)
    assert result.skipped_by == {"flow event (stored in connections)": 1, "http event (stored in http_requests)": 1,
                                 "alert event (stored in ids_alerts)": 1, "stats event": 1, "other event": 1}


def test_alert_events_fill_ids_alerts():
    lines = [event("alert", 1, flow_id=3, src_ip="10.0.0.5", src_port=51234, dest_ip="192.0.2.9", dest_port=80,
                   proto="TCP", app_proto="http",
                   alert={"action": "blocked", "gid": 1, "signature_id": 2018358, "rev": 10, "severity": 2,
                          "signature": "ET HUNTING GENERIC SUSPICIOUS POST", "category": "Potentially Bad Traffic"},
                   http={"hostname": "192.0.2.9", "url": "/gate.php", "status": "200"}),
             event("alert", 2, src_ip="10.0.0.5", dest_ip="192.0.2.9", alert={"severity": 1})]
    result = parsed(lines)
    assert result.tables["ids_alerts"].select(
        "ts", "src", "src_port", "dest", "dest_port", "protocol", "signature_id", "signature", "category", "severity",
        "action", "app_proto").rows() == [
        (T0 + dt.timedelta(seconds=1), "10.0.0.5", 51234, "192.0.2.9", 80, "tcp", 2018358,
         "ET HUNTING GENERIC SUSPICIOUS POST", "Potentially Bad Traffic", 2, "blocked", "http")]
    assert "http_requests" not in result.tables  # an alert's http object is the alert's context, not a request
    assert result.skipped_by == {"alert event (stored in ids_alerts)": 1, "alert event without a signature": 1}


def test_bad_lines_are_rejected_with_reasons():
    lines = [json.dumps({"timestamp": "soon", "event_type": "dns", "dns": {"type": "query", "rrname": "x.com"}}),
             request(1, 1, "ok.example.com")[:50], "",
             event("dns", 1, src_ip="10.0.0.5", dns={"type": "query", "rrname": {"nested": 1}}),
             event("flow", 2, flow={"start": "2026-11-30T10:00:00Z"}),
             event("dns", 3, src_ip="10.0.0.5", dns={"type": "query", "rrname": ""})]
    result = parsed(lines)
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons[1] == "missing or unreadable timestamp"
    assert reasons[2].startswith("not a complete JSON object")
    assert reasons[4].startswith("not a Suricata EVE event")
    assert reasons[5] == "flow or http event without src_ip and dest_ip"
    assert result.skipped_by == {"blank": 1, "DNS event without a question name": 1}


def _conversation(n: int) -> list[str]:
    """n questions, each answered a few DNS events later, with other events between."""
    lines, pending = [], []
    for i in range(n):
        lines.append(request(i, i, f"h{i}.example.com", version=2 + i % 2))
        pending.append(i)
        if i % 3 == 2:
            lines.append(event("flow", i, src_ip="10.0.0.5", dest_ip="10.0.0.1", flow={"start": None}))
        if len(pending) > 2 or i == n - 1:
            for j in pending:
                lines.append(response(j, j, f"h{j}.example.com", answers=(f"192.0.2.{j % 250}",), version=2 + j % 2))
            pending = []
    return lines


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_chunking_never_changes_a_record(chunk):
    lines = _conversation(20)
    assert rows(parsed(lines, chunk)) == rows(parsed(lines))
    assert len(rows(parsed(lines))) == 20 and all(r[4] for r in rows(parsed(lines)))


_LINES = st.sampled_from([request(i % 3, i % 3, f"h{i}.example.com") for i in range(4)]
                         + [response(i % 3, i % 3, f"h{i}.example.com", answers=("192.0.2.1",)) for i in range(4)]
                         + ["", "{}", "junk", event("tls", 1), event("http", 1, src_ip="1.1.1.1", dest_ip="2.2.2.2",
                                                                     http={"hostname": "x"})])


@settings(max_examples=60, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    whole = parsed(lines)
    assert rows(parsed(lines, chunk)) == rows(whole)


def test_the_accounting_catches_a_dropped_record():
    lines = [request(1, 1, "a.example.com", qtype="AAAA"), request(2, 2, "b.example.com")]
    with pytest.raises(AssertionError):
        check_accounting(parse_lines(dropping(suricata_eve.parse), lines, ParseContext()), len(lines))


def test_sniffed_before_the_generic_json_formats():
    head = [request(1, 1, "a.example.com"), event("flow", 1, src_ip="1.1.1.1", dest_ip="2.2.2.2", flow={}),
            event("alert", 2, alert={"signature": "x"})]
    assert detect_format(b"", head)[0].name == "suricata_eve"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert suricata_eve.sniff(lines) == 0.0, path


def test_an_eve_file_ingests_into_four_tables(tmp_path):
    from netsift.ingest.run import ingest
    from netsift.store import open_store

    log = tmp_path / "eve.json"
    log.write_text("\n".join(_conversation(6) + [
        event("http", 9, src_ip="10.0.0.5", dest_ip="198.51.100.9", dest_port=80, http={"hostname": "a.example"}),
        event("flow", 9, src_ip="10.0.0.5", src_port=1, dest_ip="198.51.100.9", dest_port=80, proto="TCP",
              flow={"start": "2026-11-30T10:00:00Z", "end": "2026-11-30T10:00:01Z", "bytes_toserver": 10}),
        event("alert", 9, src_ip="10.0.0.5", dest_ip="198.51.100.9", alert={"signature_id": 1, "signature": "x"})])
        + "\n")
    db = tmp_path / "s.duckdb"
    with open_store(str(db)) as store:
        summary = ingest(store, [str(log)])
    assert (summary.files[0].status, summary.files[0].format) == ("ingested", "suricata_eve")
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("SELECT count(*), count(answers) FROM dns_queries").fetchall()[0] == (6, 6)
    assert con.sql("SELECT host, server_port, log FROM http_requests").fetchall() == [("a.example", 80, "suricata")]
    assert con.sql("SELECT count(*) FROM connections WHERE bytes_out = 10").fetchall()[0] == (1,)
    assert con.sql("SELECT signature_id, signature FROM ids_alerts").fetchall() == [(1, "x")]


def test_a_control_character_decoded_from_an_escape_rejects_the_event():
    # the http, flow and alert rows go to tables of their own: the parser screens them (JSON's \u001b)
    lines = [event("http", 1, src_ip="10.0.0.5", dest_ip="198.51.100.9",
                   http={"hostname": "a.example", "http_user_agent": "\u001b]0;owned\u0007curl"}),
             event("alert", 2, src_ip="10.0.0.5", dest_ip="198.51.100.9",
                   alert={"signature_id": 1, "signature": "ET x\u001b[2J"}),
             event("http", 3, src_ip="10.0.0.5", dest_ip="198.51.100.9", http={"hostname": "b.example"})]
    result = parsed(lines)
    assert result.tables["http_requests"]["host"].to_list() == ["b.example"]
    assert "ids_alerts" not in result.tables
    assert dict(zip(result.rejected["source_line"], result.rejected["reason"])) == {
        1: "control character in a field (decoded from a JSON escape)",
        2: "control character in a field (decoded from a JSON escape)"}


def test_suricata_8_dns_events_are_not_taken_for_a_pihole_export():
    # version 3 puts the question in a "queries" array, and http events carry a "status": the words of
    # Pi-hole's API export
    head = [request(1, 1, "a.example.com", version=3), response(1, 1, "a.example.com", version=3),
            event("http", 2, src_ip="10.0.0.5", dest_ip="198.51.100.9", http={"hostname": "x", "status": 200})]
    assert detect_format(b"", head)[0].name == "suricata_eve"
