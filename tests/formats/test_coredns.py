"""CoreDNS query logs (the log plugin) from a pod log file or kubectl logs --timestamps: query lines, the
other output skipped, lines without a stamp rejected, accounting in chunks, sniffing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext, lines_frame
from netsift.ingest.formats import coredns, detect_format
from tests.formats.parsing import check_accounting, parse_lines, sample_heads

Q = '[INFO] 10.244.0.7:53392 - 4418 "A IN example.com. udp 29 false 512" NOERROR qr,rd,ra 71 0.000123s'


@pytest.mark.parametrize("line, expected", [
    (f"2026-11-30T10:00:01.123456789Z stdout F {Q}",
     (dt.datetime(2026, 11, 30, 10, 0, 1, 123456), "10.244.0.7", "example.com", "A", "NOERROR")),
    ('2026-11-30T10:00:02.5Z [INFO] [fd00::7]:41000 - 17 "aaaa IN api.internal. tcp 41 false 65535" NXDOMAIN '
     "qr,aa,rd 123 0.0002s", (dt.datetime(2026, 11, 30, 10, 0, 2, 500000), "fd00::7", "api.internal", "AAAA", "NXDOMAIN")),
])
def test_query_lines(line, expected):
    result = coredns.parse(lines_frame([line]), ParseContext())
    check_accounting(result, 1)
    row = result.records.row(0, named=True)
    assert (row["ts"], row["client"], row["query_name"], row["query_type"], row["response_code"]) == expected


def test_other_output_is_skipped_and_bad_lines_rejected_with_reasons():
    lines = ["2026-11-30T10:00:01Z stdout F .:53", "2026-11-30T10:00:01Z stdout F CoreDNS-1.11.1",
             "2026-11-30T10:00:01Z stdout F [INFO] plugin/reload: Running configuration SHA512 = abc",
             "2026-11-30T10:00:01Z stderr F [WARNING] No files matching import glob pattern", "",
             Q, '2026-11-30T10:00:01Z [INFO] 10.0.0.1:1 - 2 "A IN', "garbage"]
    result = coredns.parse(lines_frame(lines), ParseContext())
    check_accounting(result, len(lines))
    assert result.skipped_by == {"blank": 1, "other CoreDNS message": 4}
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"]))
    assert reasons[6].startswith("CoreDNS query line without a time stamp")
    assert reasons[7].startswith("CoreDNS query line whose fields do not read")
    assert reasons[8] == "not a CoreDNS log line"


_LINES = st.sampled_from([f"2026-11-30T10:00:0{i}Z stdout F {Q}" for i in range(5)]
                         + ["", "junk", Q, "2026-11-30T10:00:01Z stdout F [ERROR] plugin/errors: 2 x. A: timeout"])


@settings(max_examples=50, deadline=None)
@given(st.lists(_LINES, max_size=25), st.integers(1, 6))
def test_accounts_for_every_line_in_any_chunking(lines, chunk):
    check_accounting(parse_lines(coredns.parse, lines, ParseContext(), chunk), len(lines))


def test_sniffed():
    head = ["2026-11-30T10:00:01Z stdout F .:53", "2026-11-30T10:00:01Z stdout F CoreDNS-1.11.1",
            f"2026-11-30T10:00:01Z stdout F {Q}"]
    assert detect_format(b"", head)[0].name == "coredns"


def test_sniff_refuses_every_other_sample(shared_data):
    for path, lines in sample_heads(shared_data):
        assert coredns.sniff(lines) == 0.0, path
