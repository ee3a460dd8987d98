"""Route 53 VPC Resolver query logs: the documented entry, DNS Firewall actions, CloudWatch exports, the
accounting, sniffing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import detect_format, route53_json
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

ENTRY = {"srcaddr": "4.5.64.102", "vpc_id": "vpc-7example",
         "answers": [{"Rdata": "203.0.113.9", "Type": "PTR", "Class": "IN"}],
         "firewall_rule_group_id": "rslvr-frg-01234567890abcdef", "firewall_rule_action": "BLOCK",
         "query_name": "15.3.4.32.in-addr.arpa.", "firewall_domain_list_id": "rslvr-fdl-01234567890abcdef",
         "query_class": "IN", "srcids": {"instance": "i-0d15cd0d3example"}, "rcode": "NOERROR", "query_type": "PTR",
         "transport": "UDP", "version": "1.100000", "account_id": "111122223333", "srcport": "56067",
         "query_timestamp": "2021-02-04T17:51:55Z", "region": "us-east-1"}


def one(entry: dict, prefix: str = "") -> dict:
    result = route53_json.parse(lines_frame([prefix + json.dumps(entry)]), ParseContext())
    check_accounting(result, 1)
    return result.records.row(0, named=True)


@pytest.mark.parametrize("changes, expected", [
    ({}, ("15.3.4.32.in-addr.arpa", "PTR", "NOERROR", ["203.0.113.9"], "blocked:firewall")),
    ({"firewall_rule_action": "ALERT", "answers": []}, ("15.3.4.32.in-addr.arpa", "PTR", "NOERROR", None,
                                                        "alert:firewall")),
    ({"firewall_rule_action": None, "rcode": "NXDOMAIN", "query_name": "nx.example.com.", "query_type": "AAAA",
      "answers": []}, ("nx.example.com", "AAAA", "NXDOMAIN", None, None)),
])
def test_entries(changes, expected):
    row = one({k: v for k, v in {**ENTRY, **changes}.items() if v is not None})
    assert (row["ts"], row["client"]) == (dt.datetime(2021, 2, 4, 17, 51, 55), "4.5.64.102")
    assert (row["query_name"], row["query_type"], row["response_code"], row["answers"], row["resolver_action"]) \
        == expected


def test_a_cloudwatch_export_line_is_read():
    assert one(ENTRY, "2021-02-04T17:51:55.000Z ")["query_name"] == "15.3.4.32.in-addr.arpa"


def test_bad_lines_are_rejected_with_reasons():
    lines = [json.dumps({**ENTRY, "query_timestamp": "soon"}), json.dumps(ENTRY)[:40], "",
             json.dumps({"version": "1.1", "account_id": "1"}), json.dumps({**ENTRY, "answers": "x"})]
    result = route53_json.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons[1] == "missing or unreadable query_timestamp"
    assert reasons[2].startswith("not a complete JSON object")
    assert reasons[5].startswith("not a Route 53 Resolver query log entry")
    assert result.skipped_by == {"blank": 1, "entry without a query name": 1}


_LINES = st.sampled_from([json.dumps({**ENTRY, "query_name": f"h{i}.example."}) for i in range(4)]
                         + ["", "{}", "junk", json.dumps({**ENTRY, "query_timestamp": None})])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(route53_json.parse, lines, ParseContext(), chunk), len(lines))


def test_sniffed():
    assert detect_format(b"", [json.dumps(ENTRY)] * 3)[0].name == "route53_json"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert route53_json.sniff(lines) == 0.0, path
