"""Windows events whose fields are only in the rendered message (Event Viewer's "Save as CSV",
``Get-WinEvent | Export-Csv``, SIEM exports): each event id's English message read back into its EventData
fields (fixtures ``tests/data/auth/message_<id>.txt``, CRLF and tabs as Windows writes them), the same
text flattened to one line, and whole CSV exports detected and ingested."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from netsift.ingest.base import ParseContext
from netsift.ingest.formats import detect_format, windows_csv
from netsift.ingest.windows_message import message_fields

DATA = Path(__file__).parent.parent / "data" / "auth"


def message(eid: int) -> str:
    return (DATA / f"message_{eid}.txt").read_bytes().decode()  # CRLF kept, as Windows writes it


CASES = [  # event id, the fields the message must give (others may be given too)
    (4624, {"TargetUserName": "bob", "TargetDomainName": "CORP", "SubjectUserName": "-", "IpAddress": "10.0.0.42",
            "IpPort": "0", "WorkstationName": "WS042", "LogonType": "10", "AuthenticationPackageName": "Negotiate"}),
    (4625, {"TargetUserName": "administrator", "TargetDomainName": "CORP", "SubjectUserName": "DC01$",
            "IpAddress": "198.51.100.7", "IpPort": "50123", "WorkstationName": "KALI", "LogonType": "3",
            "Status": "0xC000006D", "SubStatus": "0xC0000064", "FailureReason": "unknown user name or bad password",
            "AuthenticationPackageName": "NTLM"}),
    (4634, {"TargetUserName": "bob", "TargetDomainName": "CORP", "LogonType": "10"}),
    (4648, {"TargetUserName": "svc_backup", "SubjectUserName": "bob", "TargetServerName": "fs01.corp.example",
            "IpAddress": "10.0.0.42", "IpPort": "445"}),
    (4672, {"SubjectUserName": "admin", "SubjectDomainName": "CORP",
            "PrivilegeList": "SeSecurityPrivilege SeBackupPrivilege SeDebugPrivilege"}),
    (4768, {"TargetUserName": "carol", "TargetDomainName": "CORP.EXAMPLE", "ServiceName": "krbtgt",
            "IpAddress": "::ffff:10.0.0.51", "IpPort": "51234", "Status": "0x6"}),
    (4769, {"TargetUserName": "dave@CORP.EXAMPLE", "TargetDomainName": "CORP.EXAMPLE", "ServiceName": "sql01$",
            "IpAddress": "::ffff:10.0.0.52", "Status": "0x0"}),
    (4771, {"TargetUserName": "erin", "ServiceName": "krbtgt/CORP.EXAMPLE", "IpAddress": "::ffff:10.0.0.53",
            "Status": "0x18"}),
    (4776, {"TargetUserName": "frank", "Workstation": "WS077", "Status": "0xC000006A"}),
    (18456, {"TargetUserName": "sa", "IpAddress": "203.0.113.40"}),
]


@pytest.mark.parametrize("eid,expected", CASES, ids=[str(c[0]) for c in CASES])
def test_message_fields(eid, expected):
    got = message_fields(eid, message(eid))
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("eid,expected", CASES, ids=[str(c[0]) for c in CASES])
def test_a_flattened_message_reads_the_same(eid, expected):
    """SIEMs and some exporters join the lines: the labels still cut the text."""
    flat = " ".join(message(eid).split())
    got = message_fields(eid, flat)
    assert {k: got.get(k) for k in expected} == expected


def test_no_fields_from_what_is_not_an_english_security_message():
    assert message_fields(4625, "Fehler beim Anmelden eines Kontos. Antragsteller: Kontoname: bob") == {}
    assert message_fields(4625, None) == {}
    assert message_fields(18456, "Login succeeded for user 'sa'.") == {}
    # a label's word inside a value does not cut it: the process path keeps its "C:"
    assert message_fields(4624, message(4624))["TargetUserName"] == "bob"


def event_viewer_csv(events: list[tuple[int, str, str]]) -> str:
    """Event Viewer's "Save as CSV": five named columns, the message as an unnamed sixth field."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["Keywords", "Date and Time", "Source", "Event ID", "Task Category"])
    for eid, when, text in events:
        w.writerow(["Audit Failure" if eid == 4625 else "Audit Success", when,
                    "Microsoft-Windows-Security-Auditing", eid, "Logon", text])
    return out.getvalue()


def test_event_viewer_save_as_csv():
    text = event_viewer_csv([(4625, "3/3/2026 2:02:11 PM", message(4625)),
                             (4624, "3/3/2026 2:05:40 PM", message(4624)),
                             (5379, "3/3/2026 2:06:00 PM", "Credential Manager credentials were read."),
                             (4625, "not a time", message(4625))])
    assert detect_format(b"", text.splitlines()[:50])[0] is windows_csv.PARSER
    result = windows_csv.parse_document(text, ParseContext())
    rows = {r["source_line"]: r for r in result.records.to_dicts()}
    assert set(rows) == {2, 3}
    failed, ok = rows[2], rows[3]
    assert (failed["ts"], failed["client"], failed["account"], failed["event"]) == (
        dt.datetime(2026, 3, 3, 14, 2, 11), "198.51.100.7", "administrator", "failure")
    assert (failed["unknown_account"], failed["logon_type"], failed["port"], failed["method"]) == (True, 3, 50123, "ntlm")
    assert failed["detail"] == "unknown user name or bad password"  # as the EVTX's %%2313 reads
    assert (ok["account"], ok["client"], ok["event"], ok["logon_type"]) == ("bob", "10.0.0.42", "success", 10)
    assert result.skipped_by == {"other event id": 1, "header": 1}
    assert dict(result.rejected.select("source_line", "reason").rows()) == {5: "no readable time"}
    assert result.lines_accounted == 5


def test_powershell_export_csv_with_type_line_and_message_column():
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    out.write("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n")
    w.writerow(["Message", "Id", "ProviderName", "LogName", "MachineName", "TimeCreated", "TargetUserName"])
    w.writerow([message(4771), 4771, "Microsoft-Windows-Security-Auditing", "Security", "dc01.corp.example",
                "2026-03-03T14:10:00Z", ""])
    w.writerow([message(4648), 4648, "Microsoft-Windows-Security-Auditing", "Security", "ws042.corp.example",
                "2026-03-03T14:11:00Z", "from-the-column"])  # a column wins over the message
    text = out.getvalue()
    assert detect_format(b"", text.splitlines()[:50])[0] is windows_csv.PARSER
    result = windows_csv.parse_document(text, ParseContext())
    rows = {r["source_line"]: r for r in result.records.to_dicts()}
    assert set(rows) == {3, 4}  # row 1 the #TYPE line, row 2 the header
    assert (rows[3]["account"], rows[3]["client"], rows[3]["status"], rows[3]["host"]) == (
        "erin", "10.0.0.53", "0x18", "dc01.corp.example")
    assert rows[4]["account"] == "from-the-column" and rows[4]["detail"] == "by bob to fs01.corp.example"
    assert result.skipped_by["header"] == 2 and not result.skipped_by.get("other event id")


def test_a_generic_csv_with_id_and_message_is_not_windows():
    text = "id,time,message\n1,2026-03-03 10:00:00,hello\n"
    assert windows_csv.sniff(text.splitlines()) == 0.0
