"""A question joined to lines logged near it (a reply, a forward, a cached line, a response, a rewrite) gives
the same record however the file is cut into chunks: query in chunk N and its reply in chunk N+1 or N+2,
for every line format that pairs lines (Pi-hole, BIND, tcpdump, Windows DNS), in the parsers and through
the ingest driver's reader (``parse_results`` with small chunks)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.ingest.base import ParseContext
from netsift.ingest.formats import bind, pihole, tcpdump, windows_dns
from netsift.ingest.reader import text_shape
from netsift.ingest.run import parse_results
from netsift.synth.writers import write_lines_fast
from tests.formats.parsing import check_accounting, parse_lines, read_lines

DATA = Path(__file__).parent.parent / "data"
MTIME = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)


def _stamp(i: int) -> str:
    return f"May  9 02:36:{i:02d} dnsmasq[7]: "


def q(name: str, client: str = "10.0.0.5", qtype: str = "A") -> str:
    return f"query[{qtype}] {name} from {client}"


def dnsmasq(*bodies: str) -> list[str]:
    return [_stamp(i % 60) + body for i, body in enumerate(bodies)]


def records(results) -> list[dict]:
    parts = results if isinstance(results, list) else [results]
    rows = [r for p in parts for r in p.records.to_dicts()]
    return sorted(rows, key=lambda r: r["source_line"])


def joined(results) -> dict[int, tuple]:
    return {r["source_line"]: (r["response_code"], r["answers"], r["resolver_action"]) for r in records(results)}


FWD = "forwarded:9.9.9.9"
# (case, lines, HOLD_BACK (the join window), {query line: (rcode, answers, resolver_action)})
PIHOLE_CASES = [
    ("reply in the next chunk",
     dnsmasq(q("a.example"), "forwarded a.example to 9.9.9.9", "reply a.example is 192.0.2.1"), 3,
     {1: ("NOERROR", ["192.0.2.1"], FWD)}),
    ("cached line in the next chunk",
     dnsmasq(q("b.example"), q("c.example"), "cached b.example is 192.0.2.2", "cached c.example is 192.0.2.3"), 3,
     {1: ("NOERROR", ["192.0.2.2"], "cached"), 2: ("NOERROR", ["192.0.2.3"], "cached")}),
    ("reply two chunks later",
     dnsmasq(q("a.example"), q("x.example"), "forwarded x.example to 9.9.9.9", "forwarded a.example to 9.9.9.9",
             "reply x.example is 192.0.2.9", "reply a.example is 192.0.2.1"), 6,
     {1: ("NOERROR", ["192.0.2.1"], FWD), 2: ("NOERROR", ["192.0.2.9"], FWD)}),
    ("a CNAME target asked before belongs to the chain's query",
     dnsmasq(q("example.org"), "reply example.org is 192.0.2.7", q("www.example.org", "10.0.0.6"),
             "forwarded www.example.org to 9.9.9.9", "reply www.example.org is <CNAME>",
             "reply example.org is 192.0.2.8", "reply example.org is 192.0.2.9"), 8,
     {1: ("NOERROR", ["192.0.2.7"], None), 3: ("NOERROR", ["192.0.2.8", "192.0.2.9"], FWD)}),
    ("a reply as far as the window or farther joins nothing",
     dnsmasq(q("far.example"), "validation result is INSECURE", "validation result is INSECURE",
             "reply far.example is 192.0.2.1"), 3,
     {1: (None, None, None)}),
    ("a line whose query is beyond the window joins no other query",
     dnsmasq(q("bad.regex.test", "10.0.0.8"), *[q("www.example.com")] * 4, "regex denied bad.regex.test is 0.0.0.0"), 2,
     {1: (None, None, None), 2: (None, None, None), 3: (None, None, None), 4: (None, None, None),
      5: (None, None, None)}),
    ("log-queries=extra: the id joins, two chunks later",
     dnsmasq("17 10.0.0.5/5 " + q("same.example"), "18 10.0.0.6/6 " + q("same.example", "10.0.0.6"),
             "18 10.0.0.6/6 cached same.example is 192.0.2.7", "17 10.0.0.5/5 forwarded same.example to 1.1.1.1",
             "17 10.0.0.5/5 reply same.example is 192.0.2.8"), 5,
     {1: ("NOERROR", ["192.0.2.8"], "forwarded:1.1.1.1"), 2: ("NOERROR", ["192.0.2.7"], "cached")}),
]


@pytest.mark.parametrize("case, lines, hold_back, expected", PIHOLE_CASES, ids=[c[0] for c in PIHOLE_CASES])
@pytest.mark.parametrize("chunk", [None, 1, 2, 3])
def test_pihole_joins_across_chunks(case, lines, hold_back, expected, chunk, monkeypatch):
    monkeypatch.setattr(pihole, "HOLD_BACK", hold_back)
    result = parse_lines(pihole.parse, lines, ParseContext(year=2025), chunk)
    assert joined(result) == expected
    check_accounting(result, len(lines))


# every pairing format: its fixtures' lines, how its parse is called, the context it needs
FORMATS = {
    "pihole": (pihole, read_lines(DATA / "pihole" / "valid.log") + read_lines(DATA / "pihole" / "extra.log")
               + read_lines(DATA / "pihole" / "truncated.log"), {"year": 2025}),
    "bind": (bind, read_lines(DATA / "bind" / "valid.log") + read_lines(DATA / "bind" / "truncated.log"),
             {"year": 2024, "mtime": MTIME}),
    "tcpdump": (tcpdump, read_lines(DATA / "tcpdump" / "valid_tttt.out") + read_lines(DATA / "tcpdump" / "valid_verbose.out")
                + read_lines(DATA / "tcpdump" / "truncated.out"), {"mtime": MTIME}),
    "windows_dns": (windows_dns, read_lines(DATA / "windows_dns" / "valid.log"), {}),
}


def _whole_and_chunked(fmt: str, lines: list[str], hold_back: int, chunk: int, monkeypatch):
    module, _, ctx_args = FORMATS[fmt]
    monkeypatch.setattr(module, "HOLD_BACK", hold_back)
    whole = parse_lines(module.parse, lines, ParseContext(**ctx_args))
    parts = parse_lines(module.parse, lines, ParseContext(**ctx_args), chunk)
    return whole, parts


def _same(whole, parts, lines: list[str]) -> None:
    assert records(parts) == records(whole)
    rejected = pl.concat([p.rejected for p in parts]).sort("source_line")
    assert rejected.to_dicts() == whole.rejected.sort("source_line").to_dicts()
    assert sum(p.skipped for p in parts) == whole.skipped
    check_accounting(parts, len(lines))


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("hold_back", [2, 3, 4, 6, 10, 5000])
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_fixtures_give_the_same_records_however_cut(fmt, hold_back, chunk, monkeypatch):
    lines = FORMATS[fmt][1]
    _same(*_whole_and_chunked(fmt, lines, hold_back, chunk, monkeypatch), lines)


@pytest.mark.parametrize("fmt", list(FORMATS))
@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_mixtures_give_the_same_records_however_cut(fmt, data):
    lines = data.draw(st.lists(st.sampled_from(FORMATS[fmt][1]), min_size=1, max_size=50))
    hold_back = data.draw(st.integers(min_value=2, max_value=12))
    chunk = data.draw(st.integers(min_value=1, max_value=9))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(*_whole_and_chunked(fmt, lines, hold_back, chunk, monkeypatch), lines)


def test_driver_chunks_give_the_same_records_as_one_chunk(tmp_path):
    """The ingest driver's path (reader, prepare, parse) on a generated Pi-hole log, with the parser's real
    window, in chunks of 100 KiB (fewer lines than the window) and 256 KiB against one chunk."""
    path = tmp_path / "pihole.log"
    write_lines_fast("pihole", path, 30_000, seed=3)
    data = path.read_bytes()

    def run(chunk_bytes: int) -> pl.DataFrame:
        ctx = ParseContext(path=str(path), year=2026)
        parts = parse_results(pihole.PARSER, io.BytesIO(data), text_shape(data[:65536]), ctx, 1, [], chunk_bytes)
        results = [result for result, _ in parts]
        check_accounting(results, 30_000)
        return pl.concat([r.records for r in results]).sort("source_line")

    one = run(1 << 30)
    assert one["response_code"].null_count() < one.height // 20  # nearly every query has its reply
    for chunk_bytes in (100 * 1024, 256 * 1024):
        assert run(chunk_bytes).to_dicts() == one.to_dicts()
