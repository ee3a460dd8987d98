"""Text from a log reaches the terminal inert: control characters (C0, DEL, C1, bidi controls) are shown as
visible escapes and rich markup prints literally, in every human-readable output; machine outputs keep the
exact value."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from netsift.cli import main
from netsift.report.console import printable

DATA = Path(__file__).parent / "data"
RAW = ("\x1b", "\x07", "\x08", "\r", "\x9b", "\u202e", "\x7f")
HOSTILE_LINES = [
    "Jan  1 00:00:01 dnsmasq[812]: query[A] evil\x1b]0;pwned\x07.example.org from 10.0.0.5",
    "Jan  1 00:00:02 dnsmasq[812]: query[A] x\x1b[2J.example.org from 10.0.0.5",
    "Jan  1 00:00:03 dnsmasq[812]: query[A] hide\x08\x08\x7f.example.org from 10.0.0.6",
    "Jan  1 00:00:04 dnsmasq[812]: query[A] abc\u202egro.elpmaxe from 10.0.0.\x9b2J",
    "Jan  1 00:00:05 dnsmasq[812]: query[A] [bold red]x[/] \x1b]0;title\x07 from 10.0.0.5",
]


def _assert_inert(text: str) -> None:
    for ch in RAW:
        assert ch not in text, f"raw {ch!r} reached the terminal: {text!r}"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NETSIFT_DB", raising=False)
    monkeypatch.setenv("NETSIFT_DATA_DIR", str(tmp_path / "data-dir"))
    log = tmp_path / "name\x1b[2J.log"
    log.write_bytes(("\n".join(HOSTILE_LINES) + "\n").encode())
    return log


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_printable_shows_escapes_visibly():
    assert printable("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert printable("x\r\n\t\x00\x7f\x9b") == "x\\x0d\\x0a\\x09\\x00\\x7f\\x9b"
    assert printable("abc\u202egro.\u2066x\u2069") == "abc\\u202egro.\\u2066x\\u2069"
    assert printable("käse.例え.jp [red]") == "käse.例え.jp [red]"
    assert printable(None) == ""


def test_ingest_summary_and_rejected_are_inert(store):
    result = run("ingest", "--year", "2025", str(store))
    _assert_inert(result.stderr)
    assert "name\\x1b[2J.log" in result.stderr  # a hostile file name too
    assert "\\x1b]0;title\\x07" in result.stderr  # the first rejections
    assert "[bold red]x[/]" in result.stderr  # rich markup printed literally
    table = run("rejected").stdout
    _assert_inert(table)
    assert "\\x1b]0;title\\x07" in table.replace("│\n│", "")
    assert "[bold" in table
    files = run("files").stdout
    _assert_inert(files)
    assert "\\x1b" in files  # the file name, escaped (the column may fold it)


def _hostile_store(tmp_path) -> None:
    """A store whose rows hold control characters (a format or an older netsift that let them through)."""
    from netsift.store import open_store

    run("ingest", "--year", "2025", str(DATA / "pihole" / "valid.log"))
    with open_store(str(tmp_path / "netsift.duckdb")) as store:
        store.con.execute("UPDATE dns_queries SET query_name = ?, client = ? WHERE query_name = 'nosuch.example.org'",
                          [NAME, CLIENT])


NAME = "evil\x1b]0;pwned\x07\u202e.example.org"
CLIENT = "10.0.0.\x9b2J"


def test_analyze_explain_and_listings_are_inert(store, tmp_path):
    _hostile_store(tmp_path)
    analyzed = run("analyze", "--limit", "0")
    _assert_inert(analyzed.stdout + analyzed.stderr)
    explained = run("explain", "example.org").stdout
    _assert_inert(explained)
    assert "evil\\x1b]0;pwned" in explained, explained
    client = run("explain", CLIENT)
    _assert_inert(client.stdout + client.stderr)
    assert "10.0.0.\\x9b2J" in client.stdout
    missing = CliRunner().invoke(main, ["explain", "nothing\x1b[2J.invalid"])
    assert missing.exit_code == 1
    _assert_inert(missing.stderr)
    assert "nothing\\x1b[2J.invalid" in missing.stderr


def test_machine_outputs_keep_exact_values(store, tmp_path):
    run("ingest", "--year", "2025", str(store))
    rows = json.loads(run("rejected", "--json").stdout)
    assert any(r["text"] == HOSTILE_LINES[-1] for r in rows)
    cells = list(csv.DictReader(io.StringIO(run("rejected", "--csv").stdout)))
    assert any(r["text"] == HOSTILE_LINES[-1] for r in cells)  # CSV keeps the value as it is
    _hostile_store(tmp_path)
    run("analyze", "--json")
    nd = run("explain", "example.org", "--ndjson").stdout
    _assert_inert(nd)  # JSON escapes every control character, also DEL, C1 and bidi
    assert NAME in {r["query_name"] for r in json.loads(nd)["evidence"]}
