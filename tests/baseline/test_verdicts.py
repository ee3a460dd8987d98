"""Verdict entities and notes are bounded and plain: the CLI and the dashboard's verdict POST both go
through add_verdict, which refuses a 1 MB entity, control characters and over-long notes."""

from __future__ import annotations

import pytest

from netsift.baseline.verdicts import add_verdict, latest_verdicts
from netsift.errors import UsageError
from netsift.store import open_store


@pytest.mark.parametrize("entity, says", [
    ("a" * 1_000_000, "at most 253"),
    ("x" * 254, "at most 253"),
    ("   ", "needs an entity"),
    ("evil\x1b]0;title\x07.example", "control characters"),
    ("abc\u202egro.example", "control characters"),
])
def test_bad_entities_are_refused(entity, says):
    store = open_store(":memory:")
    with pytest.raises(UsageError, match=says):
        add_verdict(store, entity, "benign")
    assert latest_verdicts(store) == []


def test_notes_are_bounded_and_plain():
    store = open_store(":memory:")
    with pytest.raises(UsageError, match="at most 2,000"):
        add_verdict(store, "example.org", "benign", "n" * 2_001)
    with pytest.raises(UsageError, match="control characters"):
        add_verdict(store, "example.org", "benign", "a\x1b[2Jb")
    add_verdict(store, "Example.ORG.", "benign", "  our CDN\r\nsecond line\t(ok)  ")
    add_verdict(store, "10.0.0.5", "malicious", "   ")
    add_verdict(store, "fe80::1", "needs_review")
    add_verdict(store, "d" * 253, "benign")
    got = {row[0]: row[2] for row in latest_verdicts(store)}
    assert got == {"example.org": "our CDN\r\nsecond line\t(ok)", "10.0.0.5": None, "fe80::1": None, "d" * 253: None}
