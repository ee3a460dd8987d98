"""Bad option values are usage errors: one `Error:` line saying what is wrong and how to fix it, exit 2, never
a traceback, and nothing done before the check."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from netsift.cli import main
from netsift.store import open_store

DATA = Path(__file__).parent / "data"
LOG = str(DATA / "pihole" / "valid.log")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NETSIFT_DB", raising=False)
    monkeypatch.delenv("NETSIFT_CONFIG", raising=False)
    monkeypatch.setenv("NETSIFT_DATA_DIR", str(tmp_path / "data-dir"))
    (tmp_path / "binary.dat").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip archive")


def usage_error(*args: str) -> str:
    """The one `Error:` line of a command that must end in a usage error."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_time_zone():
    line = usage_error("ingest", "--tz", "Mars/Olympus", LOG)
    assert "'Mars/Olympus' is not a time zone" in line and "Europe/Berlin" in line
    assert not Path("netsift.duckdb").exists()  # checked before anything is done


@pytest.mark.parametrize("year", ["0", "-5", "99999", "1969", "2101"])
def test_year(year):
    assert "--year" in usage_error("ingest", "--year", year, LOG)


@pytest.mark.parametrize("content, says", [
    (b"[baseline]\ntop_rank_max = = 3\n", "not valid TOML"),
    (b"[baseline]\nnope = 1\n", "unknown setting 'nope'"),
    (b"[baseline]\ntop_rank_max = \"many\"\n", "expected a number"),
    (b"[baseline]\ntop_rank_max = nan\n", "expected a finite number"),
    (b"[nosuch]\nx = 1\n", "unknown section [nosuch]"),
    (bytes(range(128, 256)) * 4, "not a UTF-8 text file"),
], ids=["syntax", "unknown-key", "wrong-type", "nan", "unknown-section", "binary"])
def test_settings_file(content, says):
    Path("bad.toml").write_bytes(content)
    line = usage_error("analyze", "--config", "bad.toml")
    assert "--config" in line and "bad.toml" in line and says in line


def test_settings_file_from_the_environment(monkeypatch):
    Path("bad.toml").write_bytes(b"[baseline]\ntop_rank_max = -1\n")
    monkeypatch.setenv("NETSIFT_CONFIG", "bad.toml")
    assert "below the minimum" in usage_error("analyze")


def test_config_validate_reports_a_syntax_error_in_one_line():
    Path("bad.toml").write_bytes(b"[baseline\n")
    result = CliRunner().invoke(main, ["config", "validate", "bad.toml"])
    assert result.exit_code == 1 and "bad.toml: not valid TOML" in result.stderr and result.exception.code == 1


@pytest.mark.parametrize("option", ["--top-list", "--allowlist", "--categories", "--feed"])
def test_list_files_binary_or_missing(option):
    line = usage_error("analyze", option, "binary.dat")
    assert option in line and "binary data" in line and "expected a" in line
    missing = usage_error("analyze", option, "no-such-file.txt")
    assert option in missing and "no-such-file.txt" in missing


def test_broken_archive_as_top_list():
    assert "broken zip archive" in usage_error("analyze", "--top-list", "broken.zip")


def test_text_lists_still_pass(tmp_path):
    Path("top.csv").write_text("1,example.org\n")
    Path("allow.txt").write_text("*.tracker.test\n")
    Path("feed.txt").write_text("bad.regex.test\n")
    result = CliRunner().invoke(main, ["analyze", "--json", "--year", "2025", "--top-list", "top.csv", "--allowlist",
                                       "allow.txt", "--feed", "mine:suspicious=feed.txt", LOG])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args", [("rejected", "--limit", "-1"), ("normal", "--limit", "-1"),
                                  ("analyze", "--limit", "-3"), ("explain", "x.example", "--rows", "-1")])
def test_negative_counts(args):
    assert "is not in the range x>=0" in usage_error(*args)


def test_rejected_limit_zero_shows_all():
    CliRunner().invoke(main, ["ingest", "--year", "2025", str(DATA / "pihole" / "truncated.log")])
    result = CliRunner().invoke(main, ["rejected", "--limit", "0", "--json"])
    assert result.exit_code == 0 and result.stdout.count('"line"') == 3


@pytest.mark.parametrize("port", ["0", "99999", "-1"])
def test_serve_port_out_of_range(port):
    assert "--port" in usage_error("serve", "--port", port)


def test_serve_port_in_use(tmp_path):
    open_store(str(tmp_path / "x.duckdb")).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2, result.output
    assert f"port {port} on 127.0.0.1 is in use; choose another with --port" in result.stderr
    assert "dashboard on" not in result.stderr and "Traceback" not in result.output


def test_verdict_entity_and_note_are_bounded():
    assert "at most 253" in usage_error("verdict", "a" * 1_000_000, "benign")
    assert "control characters" in usage_error("verdict", "evil\x1b]0;x\x07.example", "benign")
    assert "at most 2,000" in usage_error("verdict", "example.org", "benign", "--note", "n" * 2_001)
    assert "control characters" in usage_error("verdict", "example.org", "benign", "--note", "a\x1b[2Jb")
    assert not Path("netsift.duckdb").exists()
    ok = CliRunner().invoke(main, ["verdict", "Example.ORG.", "benign", "--note", "our CDN\nsecond line"])
    assert ok.exit_code == 0 and "example.org: benign" in ok.stderr
