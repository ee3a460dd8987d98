"""A stamp no reader can represent (past year 9999) or that is no clock at all (at or before the Unix
epoch) makes its line a rejected line with a reason, in every format; a far but valid stamp is stored."""

from __future__ import annotations

import pytest

from netsift.ingest.run import ingest_paths
from netsift.store import open_store

ZEEK_HEADER = ("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\t"
               "query\tqtype_name\trcode_name\n")
ZEEK_ROW = "{ts}\tC1\t10.0.0.9\t1\t10.0.0.3\t53\tudp\t1\t{name}\tA\tNOERROR\n"
BIND_ROW = "{stamp} client 10.0.0.9#1 ({name}): query: {name} IN A + (10.0.0.3)\n"


@pytest.fixture
def store():
    with open_store(":memory:") as s:
        yield s


def stored_names(store) -> list[str]:
    return [r[0] for r in store.rows("SELECT query_name FROM dns_queries ORDER BY source_line")]


def rejected(store) -> list[tuple[int, str]]:
    return store.rows("SELECT source_line, reason FROM rejected_lines ORDER BY source_line")


def test_zeek_stamps_past_9999_and_at_or_before_the_epoch_are_rejected(store, tmp_path):
    f = tmp_path / "dns.log"
    rows = [("1700000000.5", "ok.example.com"), ("253402300800.0", "y10000.example.com"),
            ("-5.0", "negative.example.com"), ("0.0", "zero.example.com"), ("253402300799.0", "y9999.example.com")]
    f.write_text(ZEEK_HEADER + "".join(ZEEK_ROW.format(ts=ts, name=name) for ts, name in rows))
    report = ingest_paths(store, [str(f)]).files[0]
    assert (report.rows, report.rejected) == (2, 3)
    assert stored_names(store) == ["ok.example.com", "y9999.example.com"]
    bad = rejected(store)
    assert [line for line, _ in bad] == [4, 5, 6]
    assert all("out of range" in reason and "year 10000" in reason for _, reason in bad)
    assert "+10000-01-01" in bad[0][1] and "1969-12-31 23:59:55" in bad[1][1]
    texts = [r[0] for r in store.rows("SELECT text FROM rejected_lines ORDER BY source_line")]
    assert "y10000.example.com" in texts[0]


def test_a_far_but_valid_bind_stamp_is_stored(store, tmp_path):
    f = tmp_path / "q.log"
    f.write_text(BIND_ROW.format(stamp="20-Nov-2024 00:00:00.000", name="a.example.com")
                 + BIND_ROW.format(stamp="20-Nov-9999 00:00:00.000", name="x.example.com"))
    report = ingest_paths(store, [str(f)]).files[0]
    assert (report.rows, report.rejected) == (2, 0)
    assert store.scalar("SELECT year(max(ts)) FROM dns_queries") == 9999
