"""Cisco ASA syslog: teardowns into connections (who opened it from the Built message, remembered across
chunks, else by port), denies, logons to the firewall and its VPN; stamps (the ASA's own with its year, an
envelope's, ISO); the accounting in one piece and in chunks; bad lines; sniffing; a VPN brute force found."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.config import Settings
from netsift.detect import brute_force
from netsift.ingest.base import ParseContext
from netsift.ingest.formats import cisco_asa, detect_format
from netsift.ingest.run import ingest
from netsift.store import open_store
from tests.formats.parsing import check_accounting, parse_lines, sample_heads


def asa(second: int, msgid: str, text: str, level: int = 6) -> str:
    return f"Dec 03 2026 10:{second // 60:02d}:{second % 60:02d}: %ASA-{level}-{msgid}: {text}"


BUILT = asa(1, "302013", "Built inbound TCP connection 77 for outside:203.0.113.9/443 (203.0.113.9/443) to "
                         "dmz:10.0.1.80/8443 (198.51.100.80/8443)")
TEARDOWN = asa(31, "302014", "Teardown TCP connection 77 for outside:203.0.113.9/443 to dmz:10.0.1.80/8443 "
                             "duration 0:00:30 bytes 9228 TCP FINs")
LOGIN_DENIED = asa(40, "605004", 'Login denied from 203.0.113.7/51515 to outside:198.51.100.1/ssh for user "admin"')


def parsed(lines: list[str], chunk: int | None = None, **ctx):
    result = parse_lines(cisco_asa.parse, lines, ParseContext(**ctx), chunk)
    check_accounting(result, len(lines))
    return result


def connections(result) -> list[tuple]:
    parts = result if isinstance(result, list) else [result]
    return [(r["ts"], r["client"], r["client_port"], r["server"], r["server_port"], r["protocol"], r["duration"],
             r["state"]) for p in parts for r in p.records.iter_rows(named=True)]


def test_the_built_message_says_who_opened_the_connection():
    # an inbound connection to a server on a high port: without its Built message the lower port would win
    assert connections(parsed([BUILT, TEARDOWN])) == [
        (dt.datetime(2026, 12, 3, 10, 0, 1), "203.0.113.9", 443, "10.0.1.80", 8443, "tcp", 30.0, "tcp fins")]
    assert connections(parsed([TEARDOWN]))[0][1] == "10.0.1.80"  # the port heuristic, alone


@pytest.mark.parametrize("chunk", [1, 2])
def test_the_built_message_is_remembered_across_chunks(chunk):
    lines = [BUILT, asa(5, "111008", "User 'enable_15' executed the 'write memory' command."), TEARDOWN]
    assert connections(parsed(lines, chunk)) == connections(parsed(lines))


@pytest.mark.parametrize("line, expected", [
    (asa(2, "106023", 'Deny tcp src outside:203.0.113.7/4444 dst inside:10.0.0.22/22 by access-group "out" [0x0, 0x0]'),
     ("203.0.113.7", 4444, "10.0.0.22", 22, "tcp", "deny")),
    (asa(2, "106001", "Inbound TCP connection denied from 198.51.100.4/5555 to 10.0.0.23/3389 flags SYN  on "
                      "interface outside"), ("198.51.100.4", 5555, "10.0.0.23", 3389, "tcp", "deny")),
    (asa(2, "106100", "access-list out permitted udp outside/203.0.113.8(1234) -> inside/10.0.0.24(53) hit-cnt 1 "
                      "first hit [0x1, 0x0]"), ("203.0.113.8", 1234, "10.0.0.24", 53, "udp", "permit")),
    (asa(2, "302016", "Teardown UDP connection 9 for outside:2001:db8::53/53 to inside:fd00::5/40000 duration "
                      "0:00:00 bytes 120"), ("fd00::5", 40000, "2001:db8::53", 53, "udp", None)),
])
def test_denies_and_teardowns(line, expected):
    assert connections(parsed([line]))[0][1:6] + connections(parsed([line]))[0][7:] == expected


@pytest.mark.parametrize("prefix, expected", [
    ("", dt.datetime(2026, 12, 3, 10, 0, 40)),
    ("Dec  3 11:00:40 fw01 : ", dt.datetime(2026, 12, 3, 10, 0, 40)),  # the ASA's own stamp wins
    ("<166>2026-12-03T11:00:40+01:00 fw01 ", dt.datetime(2026, 12, 3, 10, 0, 40)),
])
def test_stamps(prefix, expected):
    result = parsed([prefix + LOGIN_DENIED])
    assert result.tables["logon_events"]["ts"].to_list() == [expected]


def test_a_year_less_stamp_takes_the_syslog_year():
    line = "Dec  3 10:00:40 fw01 %ASA-6-605004: " + LOGIN_DENIED.split(": ", 2)[2]
    assert parsed([line], year=2025).tables["logon_events"]["ts"].to_list() == [dt.datetime(2025, 12, 3, 10, 0, 40)]


def test_logons():
    lines = [LOGIN_DENIED,
             asa(41, "605005", 'Login permitted from 10.0.0.2/51516 to inside:10.0.0.1/https for user "netops"'),
             asa(42, "113005", "AAA user authentication Rejected : reason = AAA failure : server = 10.0.0.10 : "
                               "user = bob : user IP = 203.0.113.70"),
             asa(43, "113004", "AAA user authentication Successful : server =  10.0.0.10 : user = alice"),
             asa(44, "611102", "User authentication failed: IP address: 10.0.0.9, Uname: root"),
             asa(45, "716039", "Group <DfltGrpPolicy> User <eve> IP <203.0.113.71> Authentication: rejected, "
                               "Session Type: WebVPN."),
             asa(46, "113039", "Group <VPN> User <alice> IP <198.51.100.77> AnyConnect parent session started.")]
    result = parsed(lines)
    assert result.tables["logon_events"].select("client", "account", "service", "event", "method").rows() == [
        ("203.0.113.7", "admin", "asa-admin", "failure", "ssh"), ("10.0.0.2", "netops", "asa-admin", "success", "https"),
        ("203.0.113.70", "bob", "asa-vpn", "failure", None), (None, "alice", "asa-vpn", "success", None),
        ("10.0.0.9", "root", "asa-admin", "failure", None), ("203.0.113.71", "eve", "asa-vpn", "failure", None),
        ("198.51.100.77", "alice", "asa-vpn", "success", None)]
    assert result.skipped_by == {"logon message (stored in logon_events)": 7}


def test_bad_lines_are_rejected_with_reasons():
    lines = ["not an asa line", "", asa(1, "302014", "Teardown something odd"),
             "%ASA-6-605004: " + LOGIN_DENIED.split(": ", 2)[2], asa(2, "111008", "User executed a command.")]
    result = parsed(lines)
    assert dict(zip(result.rejected["source_line"], result.rejected["reason"])) == {
        1: "not a Cisco ASA message (expected %ASA-n-nnnnnn: ...)",
        3: "an ASA message of a handled id without its usual shape",
        4: "no readable stamp before the message"}
    assert result.skipped_by == {"blank": 1, "ASA 111008 message": 1}


_LINES = st.sampled_from([BUILT, TEARDOWN, LOGIN_DENIED, "", "junk", asa(9, "305011", "Built dynamic TCP translation")])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    assert connections(parsed(lines, chunk)) == connections(parsed(lines))


def test_sniffed():
    assert detect_format(b"", [BUILT, TEARDOWN, LOGIN_DENIED])[0].name == "cisco_asa"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert cisco_asa.sniff(lines) == 0.0, path


def test_a_vpn_brute_force_is_found(tmp_path):
    path = tmp_path / "asa.log"
    path.write_text("\n".join(asa(i, "113005", f"AAA user authentication Rejected : reason = AAA failure : server "
                                               f"= 10.0.0.10 : user = user{i % 3} : user IP = 203.0.113.70")
                              for i in range(30)) + "\n")
    with open_store(str(tmp_path / "s.duckdb")) as store:
        ingest(store, [str(path)])
        found = brute_force.run(store, Settings(brute_force.SETTINGS))
    assert [(f.client, f.evidence_count) for f in found] == [("203.0.113.70", 30)]
