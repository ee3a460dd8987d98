"""The parser contract: every format declares its kind, and the hooks it gives match it."""

from __future__ import annotations

import pytest

from netsift.ingest.base import Parser
from netsift.ingest.formats import parsers


def test_every_format_declares_a_kind_matching_its_hooks():
    kinds = {name: p.kind for name, p in parsers().items()}
    assert kinds["pcap"] == "binary" and kinds["pihole_json"] == "document"
    assert kinds["windows_evtx"] == kinds["pihole_db"] == "binary"
    assert kinds["windows_xml"] == kinds["windows_csv"] == "document"
    others = ("pcap", "pihole_json", "pihole_db", "windows_evtx", "windows_xml", "windows_csv")
    assert {k for n, k in kinds.items() if n not in others} == {"lines"}


def test_a_hook_of_another_kind_or_a_missing_one_is_refused():
    with pytest.raises(ValueError, match="belong to another kind"):
        Parser("x", "x", "lines", sniff=lambda lines: 0.0, parse=lambda lines, ctx: None,  # type: ignore[arg-type,return-value]
               parse_stream=lambda stream, ctx: iter(()))
    with pytest.raises(ValueError, match="missing parse_document"):
        Parser("x", "x", "document", sniff=lambda lines: 0.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        Parser("x", "x", "stream")  # type: ignore[arg-type]


def test_the_other_tables_a_format_writes_are_declared_and_checked():
    from netsift.ingest.base import ParseResult, empty_records, empty_rejected, screened
    assert parsers()["fortigate"].also_writes == ("connections", "http_requests", "ids_alerts", "logon_events")
    assert parsers()["pcap"].also_writes == ("connections", "http_requests", "credentials")
    with pytest.raises(KeyError, match="not a record table"):
        Parser("x", "x", "lines", sniff=lambda lines: 0.0, parse=lambda lines, ctx: None,  # type: ignore[arg-type,return-value]
               also_writes=("domain_names",))
    result = ParseResult(empty_records(), empty_rejected(), tables={"connections": empty_records("connections")})
    assert screened(result, also_writes=("connections",)) is not None
    with pytest.raises(ValueError, match="connections.*not declared"):
        screened(result, also_writes=())
