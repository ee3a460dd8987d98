"""Linux auth logs (syslog: RFC 3164, ISO stamps, RFC 5424) and journalctl -o json exports: one row per
message form, the accounting, chunking, sniffing, the real sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from netsift.ingest.base import ParseContext, ParseResult, lines_frame, screened
from netsift.ingest.formats import detect_format, journald_json, linux_auth
from tests.formats.parsing import check_accounting, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data" / "auth"
STAMP = "Mar  3 14:02:11 web1 "


def one(line: str, **ctx) -> dict:
    result = linux_auth.parse(lines_frame([line]), ParseContext(year=2026, **ctx))
    check_accounting(result, 1)
    assert result.records.height == 1, (result.rejected.rows(), result.skipped_by)
    return result.records.row(0, named=True)


@pytest.mark.parametrize("message, expected", [
    ("sshd[1]: Failed password for root from 203.0.113.9 port 50112 ssh2",
     dict(client="203.0.113.9", account="root", event="failure", method="password", port=50112, unknown_account=False)),
    ("sshd[1]: Failed password for invalid user admin from 203.0.113.9 port 50113 ssh2",
     dict(account="admin", event="failure", unknown_account=True)),
    ("sshd[1]: Failed publickey for bob from 10.0.0.5 port 52144 ssh2: RSA SHA256:AbC",
     dict(account="bob", event="failure", method="publickey")),
    ("sshd[1]: Failed none for invalid user  from 10.0.0.5 port 1 ssh2",
     dict(event="failure", method="none", unknown_account=True)),
    ("sshd[1]: Failed keyboard-interactive/pam for carol from 10.0.0.5 port 2 ssh2",
     dict(account="carol", method="keyboard-interactive/pam")),
    ("sshd[1]: Accepted publickey for alice from 2001:db8::5 port 40022 ssh2: ED25519 SHA256:xyz",
     dict(client="2001:db8::5", account="alice", event="success", method="publickey", host="web1", service="sshd")),
    ("sshd[1]: Invalid user test from 203.0.113.9 port 50114",
     dict(account="test", event="invalid_user", unknown_account=True, port=50114)),
    ("sshd[1]: Invalid user test from 203.0.113.9", dict(account="test", event="invalid_user", port=None)),
    ("sshd[1]: error: maximum authentication attempts exceeded for root from 203.0.113.9 port 5 ssh2 [preauth]",
     dict(account="root", event="max_attempts")),
    ("sshd[1]: Disconnecting invalid user x 203.0.113.9 port 5: Too many authentication failures [preauth]",
     dict(account="x", event="max_attempts", unknown_account=True)),
    ("sshd[1]: Disconnected from invalid user admin 203.0.113.9 port 50113 [preauth]",
     dict(account="admin", event="disconnect")),
    ("sshd[1]: Disconnected from authenticating user root 203.0.113.9 port 7 [preauth]",
     dict(account="root", event="disconnect")),
    ("sshd[1]: Connection closed by 203.0.113.9 port 50116 [preauth]", dict(account=None, event="disconnect")),
    ("sshd[1]: Received disconnect from 203.0.113.9 port 50117:11: Bye Bye [preauth]",
     dict(event="disconnect", detail="11: Bye Bye")),
    ("sshd[1]: Disconnected from user bob 10.0.0.5 port 52145", dict(account="bob", event="logoff")),
    ("sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
     "rhost=203.0.113.9  user=root", dict(client="203.0.113.9", account="root", event="failure", method="pam")),
    ("sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
     dict(client="218.188.2.4", account=None, service="sshd", method="pam")),
    ("sshd-session[9]: Accepted password for bob from 10.0.0.5 port 1 ssh2", dict(service="sshd", event="success")),
    ("sudo:      bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id",
     dict(client=None, account="bob", service="sudo", event="privileged", detail="USER=root COMMAND=/usr/bin/id")),
    ("sudo:      eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/eve ; USER=root ; COMMAND=/bin/bash",
     dict(account="eve", event="failure", method="password")),
    ("sudo:      eve : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/eve ; USER=root ; COMMAND=/bin/bash",
     dict(account="eve", event="failure")),
    ("sudo: pam_unix(sudo:auth): authentication failure; logname=eve uid=1001 euid=0 tty=/dev/pts/1 ruser=eve "
     "rhost=  user=eve", dict(client=None, account="eve", service="sudo", event="failure", method="pam")),
    ("su[900]: Successful su for root by bob", dict(account="root", service="su", event="privileged", detail="by bob")),
    ("su[901]: FAILED su for root by eve", dict(account="root", event="failure", detail="by eve")),
    ("su[902]: + pts/0 bob:root", dict(account="root", event="privileged", detail="by bob pts/0")),
    ("su[902]: - pts/0 eve:root", dict(account="root", event="failure")),
    ("su[902]: pam_unix(su:session): session opened for user root(uid=0) by bob(uid=1000)",
     dict(account="root", event="privileged", detail="by bob")),
    ("su(pam_unix)[21416]: session opened for user cyrus by (uid=0)",
     dict(account="cyrus", event="privileged", detail="by (uid=0)")),
    ("login[960]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure",
     dict(account="root", service="login", event="failure")),
    ("gdm(pam_unix)[2803]: authentication failure; logname= uid=0 euid=0 tty=:0 ruser= rhost=  user=bob",
     dict(account="bob", service="gdm", event="failure", method="pam", client=None)),
])
def test_each_message_form(message, expected):
    row = one(STAMP + message)
    assert {k: row[k] for k in expected} == expected
    assert row["ts"] == dt.datetime(2026, 3, 3, 14, 2, 11)


@pytest.mark.parametrize("line, ts, host", [
    ("2026-03-03T14:02:11.123456+01:00 web2 sshd[811]: Failed password for root from 192.0.2.1 port 1 ssh2",
     dt.datetime(2026, 3, 3, 13, 2, 11, 123456), "web2"),
    ("2026-03-03T14:02:12.5Z web2 sshd[811]: Accepted password for root from 192.0.2.1 port 2 ssh2",
     dt.datetime(2026, 3, 3, 14, 2, 12, 500000), "web2"),
    ("<38>1 2026-03-03T14:02:13.003Z web3 sshd 811 - - Invalid user test from 192.0.2.2 port 50113",
     dt.datetime(2026, 3, 3, 14, 2, 13, 3000), "web3"),
    ('<38>1 2026-03-03T14:02:14Z web3 sshd 811 ID47 [ex@32473 iut="3"] Failed password for t from 192.0.2.2 port 5 ssh2',
     dt.datetime(2026, 3, 3, 14, 2, 14), "web3"),
    ("<86>Mar  3 14:02:11 web4 sshd[1]: Failed password for root from 192.0.2.3 port 1 ssh2",
     dt.datetime(2026, 3, 3, 14, 2, 11), "web4"),
])
def test_each_envelope(line, ts, host):
    row = one(line)
    assert (row["ts"], row["host"]) == (ts, host)


def test_naive_stamps_are_read_in_tz_and_year_less_ones_take_year():
    assert one("2026-03-03T14:02:11 h sshd[1]: Invalid user x from 1.2.3.4", tz="Europe/Paris")["ts"] == \
        dt.datetime(2026, 3, 3, 13, 2, 11)
    row = linux_auth.parse(lines_frame([STAMP + "sshd[1]: Invalid user x from 1.2.3.4"]), ParseContext(year=2019))
    assert row.records["ts"][0].year == 2019


def fixture_result(chunk: int | None = None) -> ParseResult | list[ParseResult]:
    lines = read_lines(DATA / "auth.log")
    return parse_lines(linux_auth.parse, lines, ParseContext(year=2026), chunk)


def test_the_fixture_is_accounted_for_line_by_line():
    lines = read_lines(DATA / "auth.log")
    result = fixture_result()
    check_accounting(result, len(lines))
    assert isinstance(result, ParseResult)
    assert result.rejected["source_line"].to_list() == [23, 24, 35]
    assert "unrecognised" in result.rejected["reason"][0] and "not a syslog line" in result.rejected["reason"][1]
    assert result.skipped_by == {"other program": 2, "other sshd message": 2, "blank": 1}
    # in chunks: the same rows
    parts = fixture_result(chunk=4)
    assert isinstance(parts, list)
    check_accounting(parts, len(lines))
    assert pl.concat([p.records for p in parts]).equals(result.records)


def test_a_parser_that_drops_records_fails_the_accounting():
    lines = read_lines(DATA / "auth.log")
    result = fixture_result()
    assert isinstance(result, ParseResult)
    lossy = ParseResult(result.records.filter(pl.col("event") != "success"), result.rejected,
                        skipped_by=result.skipped_by)
    with pytest.raises(AssertionError):
        check_accounting(lossy, len(lines))


def test_journal_export():
    lines = read_lines(DATA / "journal.json")
    result = journald_json.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))
    kept = screened(result, lines=lambda: lines_frame(lines), table="logon_events")
    check_accounting(kept, len(lines))
    rows = {r["source_line"]: r for r in kept.records.to_dicts()}
    assert rows[1]["ts"] == dt.datetime(2026, 3, 3, 14, 2, 11) and rows[1]["host"] == "db1"
    assert (rows[1]["account"], rows[1]["event"], rows[1]["unknown_account"]) == ("admin", "failure", True)
    assert (rows[2]["service"], rows[2]["event"], rows[2]["method"]) == ("sshd", "success", "publickey")
    assert rows[3]["service"] == "sudo" and rows[3]["event"] == "privileged"
    assert (rows[5]["client"], rows[5]["account"]) == ("1.2.3.4", "root")  # MESSAGE as an array of bytes
    assert kept.skipped_by == {"other program": 1, "no MESSAGE": 1, "blank": 1, "other sshd message": 1}
    assert {r[0]: r[1] for r in kept.rejected.rows()} == {
        7: "no readable timestamp", 8: "control character in the account", 9: "not a journal JSON entry"}


def test_sniffing_picks_these_formats():
    head = [ln for ln in read_lines(DATA / "auth.log") if ln][:50]
    assert detect_format(b"", head)[0] is linux_auth.PARSER
    assert detect_format(b"", read_lines(DATA / "journal.json"))[0] is journald_json.PARSER
    # a syslog file of other programs only is not an auth log
    assert linux_auth.sniff(["Mar  3 14:02:11 h kernel: eth0 up", "Mar  3 14:02:12 h cron[1]: job"]) == 0.0


def test_shared_sample(shared_data):
    path = shared_data / "auth_logs" / "loghub_Linux_2k.log"
    if not path.exists():
        pytest.skip("sample absent")
    lines = read_lines(path)
    assert detect_format(b"", [ln for ln in lines if ln.strip()][:50])[0] is linux_auth.PARSER
    result = linux_auth.parse(lines_frame(lines), ParseContext(year=2005))
    check_accounting(result, len(lines))
    events = result.records.group_by("service", "event").len().rows()
    assert ("sshd", "failure", 489) in events and ("su", "privileged", 86) in events
    # the syslogd restart lines (a program name with a space) are another program's, not rejected
    assert result.rejected.height <= 3


def test_rsyslog_repeated_messages_stand_for_their_count():
    """rsyslog's repeated-message reduction (on by default on Debian and Ubuntu) folds identical messages."""
    lines = [STAMP + "sshd[811]: Failed password for root from 203.0.113.9 port 50112 ssh2",
             STAMP + "sshd[811]: message repeated 5 times: [ Failed password for root from 203.0.113.9 port 50112 ssh2]",
             STAMP + "CRON[9]: message repeated 2 times: [ pam_unix(cron:session): session closed for user root]",
             STAMP + "sshd[811]: message repeated 3 times: [ Failed password for root from 203.0.113.9"]
    result = linux_auth.parse(lines_frame(lines), ParseContext(year=2026))
    check_accounting(result, 4)
    rows = result.records.sort("source_line")
    assert rows.select("source_line", "event", "account", "repeats").rows() == [
        (1, "failure", "root", None), (2, "failure", "root", 5)]
    assert result.skipped_by["other program"] == 1
    assert result.rejected["source_line"].to_list() == [4]  # the fold cut short: not a readable message
