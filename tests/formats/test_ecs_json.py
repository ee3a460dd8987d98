"""DNS events in the Elastic Common Schema (JSON lines): nested and dotted fields, _source dumps, the
accounting, sniffing against every other sample."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import detect_format, ecs_json
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

T = dt.datetime(2026, 11, 30, 10, 0, 1, 123000)


@pytest.mark.parametrize("event, expected", [
    # Packetbeat / Elastic Agent network traffic: nested, answers as objects
    ({"@timestamp": "2026-11-30T10:00:01.123Z", "source": {"ip": "10.0.0.5", "port": 5353},
      "dns": {"type": "answer", "question": {"name": "www.example.com", "type": "A", "class": "IN"},
              "response_code": "NOERROR", "answers": [{"data": "93.184.216.34", "type": "A"},
                                                      {"data": "93.184.216.35", "type": "A"}]}},
     (T, "10.0.0.5", "www.example.com", "A", "NOERROR", ["93.184.216.34", "93.184.216.35"])),
    # a flattened export: dotted keys, resolved_ip, a zone offset
    ({"@timestamp": "2026-11-30T11:00:01.123+01:00", "source.ip": "10.0.0.6", "dns.question.name": "a.example.net",
      "dns.question.type": "AAAA", "dns.response_code": "NXDOMAIN", "dns.resolved_ip": []},
     (T, "10.0.0.6", "a.example.net", "AAAA", "NXDOMAIN", None)),
    # an index dump: under _source, epoch milliseconds, numeric type and rcode, client.ip
    ({"_index": "logs-dns", "_id": "x", "_source": {"@timestamp": 1796032801123, "client": {"ip": "10.0.0.7"},
                                                   "dns": {"question": {"name": "b.example.org", "type": "28"},
                                                           "response_code": "3"}}},
     (T, "10.0.0.7", "b.example.org", "AAAA", "NXDOMAIN", None)),
    # Sysmon's DNS event (22) through Winlogbeat: the asking machine is the event's host
    ({"@timestamp": "2026-11-30T10:00:01.123Z", "event": {"code": "22"}, "host": {"name": "ws-12", "ip": ["10.0.0.9"]},
      "dns": {"question": {"name": "d.example"}, "resolved_ip": ["192.0.2.9"]}},
     (T, "10.0.0.9", "d.example", None, None, ["192.0.2.9"])),
    # Kibana's flattened answers
    ({"@timestamp": "2026-11-30T10:00:01.123Z", "source.ip": "10.0.0.8", "dns.question.name": "c.example",
      "dns.answers.data": ["192.0.2.1"]}, (T, "10.0.0.8", "c.example", None, None, ["192.0.2.1"])),
])
def test_events(event, expected):
    result = ecs_json.parse(lines_frame([json.dumps(event)]), ParseContext())
    check_accounting(result, 1)
    row = result.records.to_dicts()[0]
    got = (row["ts"], row["client"], row["query_name"], row["query_type"], row["response_code"], row["answers"])
    assert got == expected


def test_other_events_are_skipped_and_bad_lines_rejected_with_reasons():
    lines = ['{"@timestamp": "2026-11-30T10:00:03Z", "event": {"action": "logon"}, "source": {"ip": "10.0.0.8"}}',
             "",
             '{"@timestamp": "nope", "dns": {"question": {"name": "y.example"}}}',
             '{"@timestamp": "2026-11-30T10:00:05Z", "dns": {"question": {"name": "z.exa',
             '{"@timestamp": "2026-11-30T10:00:05Z", "dns": {"question": {"name": {"a": 1}}}}',
             "not json"]
    result = ecs_json.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))
    assert result.skipped_by == {"blank": 1, "event without a DNS question": 1}
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons[3] == "missing or unreadable @timestamp"
    assert reasons[4].startswith("not a complete JSON object") and reasons[6].startswith("not a complete JSON")
    assert reasons[5].startswith("not an ECS DNS event")


_LINES = st.sampled_from([
    json.dumps({"@timestamp": f"2026-11-30T10:00:{i:02d}Z", "source": {"ip": f"10.0.0.{i}"},
                "dns": {"question": {"name": f"h{i}.example.com", "type": "A"}}}) for i in range(5)
] + ["", "{}", "junk", '{"@timestamp": "x"}', '{"dns": {"question": {"name": "n.example"}}}'])


@settings(max_examples=60, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(ecs_json.parse, lines, ParseContext(), chunk), len(lines))


def test_sniffed_and_not_taken_for_zeek_json():
    ecs = [json.dumps({"@timestamp": "2026-11-30T10:00:01Z", "source": {"ip": "10.0.0.5"},
                       "dns": {"question": {"name": "www.example.com"}}})] * 3
    zeek = ['{"ts": 1764496801.1, "uid": "C1", "id.orig_h": "10.0.0.5", "query": "www.example.com", "qtype": 1}'] * 3
    assert detect_format(b"", ecs)[0].name == "ecs_json"
    assert detect_format(b"", zeek)[0].name == "zeek_json"
    assert ecs_json.sniff(zeek) == 0.0


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert ecs_json.sniff(lines) == 0.0, path
