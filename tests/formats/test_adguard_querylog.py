"""AdGuard Home's querylog.json: the question, the response read from the logged DNS message, the
filtering result as the resolver action, the accounting, bad lines and sniffing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import adguard_querylog, detect_format
from tests.formats.parsing import check_accounting, dropping, parse_lines, sample_heads


def wire(name: str, rcode: int = dpkt.dns.DNS_RCODE_NOERR, addresses: tuple[str, ...] = (),
         cname: str | None = None) -> str:
    """A DNS response as AdGuard Home logs it: the message, base64."""
    msg = dpkt.dns.DNS(id=7, qr=dpkt.dns.DNS_R, rcode=rcode, rd=1, ra=1)
    msg.qd = [dpkt.dns.DNS.Q(name=name, type=dpkt.dns.DNS_A)]
    owner = name
    if cname:
        msg.an.append(dpkt.dns.DNS.RR(name=name, type=dpkt.dns.DNS_CNAME, ttl=60, cname=cname))
        owner = cname
    for address in addresses:
        msg.an.append(dpkt.dns.DNS.RR(name=owner, type=dpkt.dns.DNS_A, ttl=60, ip=socket.inet_aton(address)))
    return base64.b64encode(bytes(msg)).decode()


ENTRY = {"IP": "192.168.1.10", "T": "2026-11-30T11:00:01.519796123+01:00", "QH": "www.example.com", "QT": "A",
         "QC": "IN", "CP": "", "Answer": wire("www.example.com", addresses=("93.184.216.34",)),
         "Result": {}, "Upstream": "https://dns10.quad9.net:443/dns-query", "Elapsed": 837429}


def one(**changes) -> dict:
    entry = {k: v for k, v in {**ENTRY, **changes}.items() if v is not None}
    result = adguard_querylog.parse(lines_frame([json.dumps(entry)]), ParseContext())
    check_accounting(result, 1)
    return result.records.row(0, named=True)


def test_a_forwarded_question_with_its_answer():
    row = one()
    assert (row["ts"], row["client"], row["query_name"], row["query_type"]) == (
        dt.datetime(2026, 11, 30, 10, 0, 1, 519796), "192.168.1.10", "www.example.com", "A")
    assert (row["response_code"], row["answers"], row["resolver_action"]) == (
        "NOERROR", ["93.184.216.34"], "forwarded:https://dns10.quad9.net:443/dns-query")


@pytest.mark.parametrize("changes, expected", [
    ({"Result": {"IsFiltered": True, "Reason": 3, "Rules": [{"FilterListID": 1, "Text": "||ads.example^"}]},
      "Answer": wire("ads.example", addresses=("0.0.0.0",)), "Upstream": None}, ("NOERROR", ["0.0.0.0"], "blocked:blocklist")),
    ({"Result": {"IsFiltered": True, "Reason": 4}, "Answer": wire("bad.example", rcode=dpkt.dns.DNS_RCODE_NXDOMAIN)},
     ("NXDOMAIN", None, "blocked:safebrowsing")),
    ({"Result": {"IsFiltered": True, "Reason": 8, "ServiceName": "tiktok"}}, ("NOERROR", ["93.184.216.34"], "blocked:service")),
    ({"Result": {"Reason": 10}, "Upstream": None}, ("NOERROR", ["93.184.216.34"], "local")),
    ({"Cached": True, "Answer": wire("www.example.com", addresses=("192.0.2.1",), cname="edge.example.net")},
     ("NOERROR", ["edge.example.net", "192.0.2.1"], "cached")),
    ({"Answer": "not base64!", "Upstream": None}, (None, None, None)),
    ({"Answer": None}, (None, None, "forwarded:https://dns10.quad9.net:443/dns-query")),
])
def test_the_response_and_the_filtering_result(changes, expected):
    row = one(**changes)
    assert (row["response_code"], row["answers"], row["resolver_action"]) == expected


def test_bad_lines_are_rejected_with_reasons():
    lines = [json.dumps({**ENTRY, "T": "12/09/1998T15:00:00"}), json.dumps(ENTRY)[:40], "",
             json.dumps({**ENTRY, "QH": None}), json.dumps({**ENTRY, "Cached": {"x": 1}}), json.dumps(ENTRY)]
    result = adguard_querylog.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons[1] == "missing or unreadable T"
    assert reasons[2].startswith("not a complete JSON object")
    assert reasons[5].startswith("not an AdGuard Home query log entry")
    assert result.skipped_by == {"blank": 1, "entry without a question (QH)": 1}
    assert result.records["source_line"].to_list() == [6]


_LINES = st.sampled_from([json.dumps({**ENTRY, "QH": f"h{i}.example.com", "QT": "AAAA" if i % 2 else "A"})
                          for i in range(4)] + ["", "{}", "junk", json.dumps({**ENTRY, "T": None})])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(adguard_querylog.parse, lines, ParseContext(), chunk), len(lines))


def test_the_accounting_catches_a_dropped_record():
    lines = [json.dumps({**ENTRY, "QT": "AAAA"}), json.dumps(ENTRY)]
    with pytest.raises(AssertionError):
        check_accounting(parse_lines(dropping(adguard_querylog.parse), lines, ParseContext()), len(lines))


def test_sniffed():
    assert detect_format(b"", [json.dumps(ENTRY)] * 3)[0].name == "adguard_querylog"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert adguard_querylog.sniff(lines) == 0.0, path
