"""Windows Security / MSSQL events: the XML export (one row per event id and field), the CSV export,
EVTX through the evtx package (the shared samples), and EVTX and its own XML giving the same rows."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest

from netsift.ingest.base import ParseContext
from netsift.ingest.formats import detect_format, windows_csv, windows_evtx, windows_xml
from netsift.ingest.run import IngestOptions, ingest_file
from netsift.store import open_store
from tests.formats.parsing import read_lines

DATA = Path(__file__).parent.parent / "data" / "auth"
XML = (DATA / "security.xml").read_text()


def xml_rows() -> dict[int, dict]:
    result = windows_xml.parse_document(XML, ParseContext())
    assert result.lines_accounted == 16  # every <Event> element: a record, skipped or rejected
    return {r["source_line"]: r for r in result.records.to_dicts()}


@pytest.mark.parametrize("unit, expected", [
    (1, dict(event_id=4624, event="success", client="10.0.0.21", account="alice", domain="CORP", host="dc1.corp.example",
             workstation="WS01", method="kerberos", logon_type=3, port=50000, ts=dt.datetime(2026, 3, 3, 14, 0, 1, 123456))),
    (2, dict(event_id=4625, event="failure", client="10.0.0.66", account="ghost", status="0xc000006d",
             sub_status="0xc0000064", unknown_account=True, method="ntlm", detail="unknown user name or bad password")),
    (3, dict(event_id=4625, client=None, account="bob", sub_status="0xc000006a", unknown_account=False, logon_type=10)),
    (4, dict(event_id=4771, event="failure", client="10.0.0.66", account="carol", method="kerberos", status="0x18",
             unknown_account=False)),
    (5, dict(event_id=4768, event="failure", account="nobody", status="0x6", unknown_account=True)),
    (6, dict(event_id=4768, event="success", account="alice", status="0x0")),
    (7, dict(event_id=4769, event="success", detail="service MSSQLSvc/db1")),
    (8, dict(event_id=4776, event="failure", client="WS07", workstation="WS07", method="ntlm", unknown_account=True)),
    (9, dict(event_id=4634, event="logoff", account="alice", client=None)),
    (10, dict(event_id=4647, event="logoff")),
    (11, dict(event_id=4672, event="privileged", account="admin", detail="SeDebugPrivilege SeBackupPrivilege")),
    (12, dict(event_id=4648, event="explicit_credentials", account="admin", detail="by alice to srv2")),
    (16, dict(event_id=18456, service="mssql", event="failure", account="sa", client="10.0.0.77", host="db1.corp.example",
              method="password")),
])
def test_xml_export_event_by_event(unit, expected):
    row = xml_rows()[unit]
    assert {k: row[k] for k in expected} == expected


def test_xml_accounting():
    result = windows_xml.parse_document(XML, ParseContext())
    assert result.skipped_by == {"other event id": 1}  # 4688
    assert dict(result.rejected.select("source_line", "reason").rows())[14].startswith("malformed event XML")
    assert "readable TimeCreated" in dict(result.rejected.select("source_line", "reason").rows())[15]
    with pytest.raises(ValueError, match="DTD"):
        windows_xml.parse_document('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + XML, ParseContext())


def test_csv_export():
    text = (DATA / "security.csv").read_text()
    result = windows_csv.parse_document(text, ParseContext())
    rows = {r["source_line"]: r for r in result.records.to_dicts()}
    assert (rows[2]["account"], rows[2]["client"], rows[2]["event"]) == ("alice", "10.0.0.21", "success")
    assert rows[3]["ts"] == dt.datetime(2026, 3, 3, 14, 0, 2) and rows[3]["unknown_account"] is True  # Event Viewer's stamp
    assert (rows[4]["event_id"], rows[4]["method"], rows[4]["status"]) == (4771, "kerberos", "0x18")
    assert result.skipped_by == {"other event id": 1, "header": 1}
    assert dict(result.rejected.select("source_line", "reason").rows()) == {6: "no event id", 7: "no readable time"}
    assert result.lines_accounted == 7
    # read in --tz when the stamp has no zone
    paris = windows_csv.parse_document(text, ParseContext(tz="Europe/Paris")).records
    assert paris.filter(pl.col("source_line") == 4)["ts"][0] == dt.datetime(2026, 3, 3, 13, 0, 4)


def test_sniffing():
    assert detect_format(b"", read_lines(DATA / "security.xml")[:50])[0] is windows_xml.PARSER
    assert detect_format(b"", read_lines(DATA / "security.csv")[:50])[0] is windows_csv.PARSER
    assert detect_format(b"ElfFile\x00" + bytes(100), [])[0] is windows_evtx.PARSER


def _evtx(shared_data, name):
    path = shared_data / "windows_events" / name
    if not path.exists():
        pytest.skip("sample absent")
    pytest.importorskip("evtx")
    return path


@pytest.mark.parametrize("name, expected", [
    ("mdecrevoisier_ID4625-OpenSSH_brutforce_with_valid_users.evtx",
     {("failure", 4625): 5, ("success", 4624): 2, ("explicit_credentials", 4648): 2}),
    ("sbousseaden_CA_4624_4625_LogonType2_LogonProc_chrome.evtx", {("failure", 4625): 1, ("success", 4624): 3}),
])
def test_evtx_samples(shared_data, name, expected):
    path = _evtx(shared_data, name)
    results = list(windows_evtx.parse_stream(io.BytesIO(path.read_bytes()), ParseContext()))
    records = pl.concat([r.records for r in results])
    assert dict(((e, i), n) for e, i, n in records.group_by("event", "event_id").len().rows()) == expected
    assert sum(r.lines_accounted for r in results) == 11 if "mdecrevoisier" in name else 4
    failed = records.filter(pl.col("event") == "failure").row(0, named=True)
    assert failed["status"] == "0xc000006d" and failed["sub_status"] == "0xc000006a" and failed["host"]


def test_evtx_and_its_xml_give_the_same_rows(shared_data):
    import evtx

    path = _evtx(shared_data, "mdecrevoisier_ID4625-OpenSSH_brutforce_with_valid_users.evtx")
    from_evtx = pl.concat([r.records for r in windows_evtx.parse_stream(io.BytesIO(path.read_bytes()), ParseContext())])
    xml = "<Events>" + "".join(r["data"].split("?>", 1)[-1] for r in evtx.PyEvtxParser(str(path)).records()) + "</Events>"
    from_xml = windows_xml.parse_document(xml, ParseContext()).records
    assert from_xml.drop("source_line").equals(from_evtx.drop("source_line"))


def test_a_damaged_evtx_says_so():
    pytest.importorskip("evtx")
    with pytest.raises(ValueError, match="EVTX"):
        list(windows_evtx.parse_stream(io.BytesIO(b"ElfFile\x00" + bytes(4088)), ParseContext()))


def _sysmon_dns(record: int, name: str, status: str, results: str, when: str = "2026-11-30T10:00:01.1234567Z") -> str:
    return ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
            '<Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"/>'
            f'<EventID>22</EventID><TimeCreated SystemTime="{when}"/><EventRecordID>{record}</EventRecordID>'
            "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS-12.corp.example</Computer></System>"
            '<EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2026-11-30 10:00:01.120</Data>'
            f'<Data Name="QueryName">{name}</Data><Data Name="QueryStatus">{status}</Data>'
            f'<Data Name="QueryResults">{results}</Data>'
            '<Data Name="Image">C:\\Windows\\System32\\svchost.exe</Data></EventData></Event>')


def test_sysmon_dns_events_go_to_dns_queries_beside_the_logons(tmp_path):
    """Sysmon's DNS query events (22) in an XML export: dns_queries rows (the machine as client, the status
    as response code, the addresses of QueryResults as answers) stored by the real driver beside the file's
    logons; an event without a time is rejected, a Sysmon event of another id skipped."""
    logon = XML[XML.index("<Event "):XML.index("</Event>") + len("</Event>")]
    events = [_sysmon_dns(1, "www.example.com", "0", "type:  5 edge.example.net;::ffff:93.184.216.34;2001:db8::7;"),
              _sysmon_dns(2, "nx.example.org", "9003", ""),
              _sysmon_dns(3, "late.example", "0", "", when="soon"),
              _sysmon_dns(4, "x", "0", "").replace("<EventID>22<", "<EventID>1<"),
              logon]
    path = tmp_path / "sysmon.xml"
    path.write_text("<Events>" + "".join(events) + "</Events>")
    with open_store(":memory:") as store:
        report = ingest_file(store, str(path), IngestOptions())
        assert (report.format, report.rejected, report.lines) == ("windows_xml", 1, 5)
        rows = store.rows("SELECT ts, client, query_name, response_code, answers, source_line FROM dns_queries "
                          "ORDER BY source_line")
        assert rows == [(dt.datetime(2026, 11, 30, 10, 0, 1, 123456), "WS-12.corp.example", "www.example.com",
                         "NOERROR", ["93.184.216.34", "2001:db8::7"], 1),
                        (dt.datetime(2026, 11, 30, 10, 0, 1, 123456), "WS-12.corp.example", "nx.example.org",
                         "NXDOMAIN", None, 2)]
        assert store.scalar("SELECT count(*) FROM logon_events") == 1


def _sysmon_connect(record: int, source: str, dest: str, dest_port: str, initiated: str = "true",
                    when: str = "2026-11-30T10:00:02.5Z") -> str:
    return ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
            '<Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"/>'
            f'<EventID>3</EventID><TimeCreated SystemTime="{when}"/><EventRecordID>{record}</EventRecordID>'
            "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS-12.corp.example</Computer></System>"
            '<EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2026-11-30 10:00:02.500</Data>'
            '<Data Name="Image">C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe</Data>'
            '<Data Name="User">CORP\\bob</Data><Data Name="Protocol">tcp</Data>'
            f'<Data Name="Initiated">{initiated}</Data><Data Name="SourceIsIpv6">false</Data>'
            f'<Data Name="SourceIp">{source}</Data><Data Name="SourceHostname">-</Data>'
            '<Data Name="SourcePort">49823</Data><Data Name="SourcePortName">-</Data>'
            f'<Data Name="DestinationIsIpv6">false</Data><Data Name="DestinationIp">{dest}</Data>'
            f'<Data Name="DestinationHostname">-</Data><Data Name="DestinationPort">{dest_port}</Data>'
            '<Data Name="DestinationPortName">https</Data></EventData></Event>')


def test_sysmon_network_connections_go_to_connections(tmp_path):
    """Sysmon's network connection events (3): connections rows (source -> destination, the protocol, the
    process as the service), beside the file's DNS queries; an event without a time is rejected."""
    events = [_sysmon_connect(1, "10.0.0.12", "203.0.113.50", "443"),
              _sysmon_connect(2, "198.51.100.7", "10.0.0.12", "3389", initiated="false"),
              _sysmon_connect(3, "10.0.0.12", "203.0.113.50", "443", when="soon"),
              _sysmon_dns(4, "www.example.com", "0", "")]
    path = tmp_path / "sysmon.xml"
    path.write_text("<Events>" + "".join(events) + "</Events>")
    with open_store(":memory:") as store:
        report = ingest_file(store, str(path), IngestOptions())
        assert (report.format, report.rejected, report.lines) == ("windows_xml", 1, 4)
        rows = store.rows("SELECT ts, client, client_port, server, server_port, protocol, service, source_line "
                          "FROM connections ORDER BY source_line")
        assert rows == [(dt.datetime(2026, 11, 30, 10, 0, 2, 500000), "10.0.0.12", 49823, "203.0.113.50", 443, "tcp",
                         "powershell.exe", 1),
                        (dt.datetime(2026, 11, 30, 10, 0, 2, 500000), "198.51.100.7", 49823, "10.0.0.12", 3389,
                         "tcp", "powershell.exe", 2)]
        assert store.scalar("SELECT count(*) FROM dns_queries") == 1
