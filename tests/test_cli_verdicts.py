"""netsift verdict ENTITY... VERDICT (several entities, --from-file), --undo, and netsift verdicts."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from netsift.cli import main


def run(tmp_path, *args, ok=True):
    result = CliRunner().invoke(main, [*args, "--db", str(tmp_path / "v.duckdb")], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def listed(tmp_path, *extra):
    return json.loads(run(tmp_path, "verdicts", "--json", *extra).stdout)


def test_several_entities_and_a_file_in_one_command(tmp_path):
    run(tmp_path, "verdict", "A.example.", "b.example", "benign", "--note", "our CDN")
    names = tmp_path / "names.txt"
    names.write_text("# from the ticket\nc.example\n\n  d.example  \n10.0.0.9\n")
    run(tmp_path, "verdict", "--from-file", str(names), "malicious")
    rows = listed(tmp_path)
    assert {r["entity"]: r["verdict"] for r in rows} == {
        "a.example": "benign", "b.example": "benign", "c.example": "malicious", "d.example": "malicious",
        "10.0.0.9": "malicious"}
    assert set(rows[0]) == {"entity", "verdict", "note", "who", "ts"}
    assert next(r for r in rows if r["entity"] == "a.example")["note"] == "our CDN"
    out = run(tmp_path, "verdicts", "--csv").stdout
    assert len(list(csv.DictReader(io.StringIO(out)))) == 5
    assert "a.example" in run(tmp_path, "verdicts").stdout  # the table


def test_one_bad_entity_writes_nothing(tmp_path):
    run(tmp_path, "verdict", "first.example", "benign")
    result = run(tmp_path, "verdict", "good.example", "bad\x1bname", "benign", ok=False)
    assert result.exit_code == 2 and "control characters" in result.output
    assert [v["entity"] for v in listed(tmp_path)] == ["first.example"]
    for args in (["verdict", "x.example", "sideways"], ["verdict", "benign"], ["verdict"]):
        assert run(tmp_path, *args, ok=False).exit_code == 2


def test_undo_restores_the_earlier_verdict_and_keeps_the_history(tmp_path):
    run(tmp_path, "verdict", "a.example", "needs_review")
    run(tmp_path, "verdict", "a.example", "b.example", "benign")
    result = run(tmp_path, "verdict", "--undo", "a.example", "b.example", "never.example")
    assert "a.example: benign undone" in result.stderr and "never.example: no verdict to undo" in result.stderr
    assert {r["entity"]: r["verdict"] for r in listed(tmp_path)} == {"a.example": "needs_review"}
    history = listed(tmp_path, "--history")
    assert sorted((r["entity"], r["verdict"], r["state"]) for r in history) == [
        ("a.example", "benign", "undone"), ("a.example", "needs_review", "in force"),
        ("b.example", "benign", "undone")]
    assert all(r["undone_by"] for r in history if r["state"] == "undone")
    assert run(tmp_path, "verdict", "--undo", "b.example", ok=False).exit_code == 1  # nothing left to undo
