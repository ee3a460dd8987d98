"""Docs that are generated from code stay in sync with it; the README names every command."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from netsift import schema
from netsift.cli import main
from netsift.ingest.formats import formats_markdown, parsers
from netsift.pipeline import register_all_tables

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = main.list_commands(click.Context(main))  # the lazy ones too (netsift.cli.COMMANDS)


def test_schema_doc_is_generated_from_schema_py():
    register_all_tables()
    assert (ROOT / "docs" / "schema.md").read_text().strip() == schema.markdown().strip(), \
        "run: netsift schema --markdown > docs/schema.md"


def test_formats_doc_is_generated_from_the_parsers():
    assert (ROOT / "docs" / "formats.md").read_text().strip() == formats_markdown().strip(), \
        "run: netsift formats --markdown > docs/formats.md"


def test_readme_lists_every_format_and_command():
    readme = (ROOT / "README.md").read_text()
    for name in parsers():
        assert f"`{name}`" in readme, f"format {name} missing from README"
    for command in COMMANDS:
        assert re.search(rf"netsift {command}\b", readme), f"command {command} missing from README"


def test_readme_quick_start_is_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [ln for ln in block.strip().splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands == ["pip install . && netsift demo", "scripts/test"]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_has_help_and_a_range():
    from netsift.pipeline import settings_sections

    for section, settings in settings_sections().items():
        for s in settings:
            assert s.help.strip(), f"[{section}] {s.name} has no help"
            if isinstance(s.default, (int, float)) and not isinstance(s.default, bool):
                assert s.min is not None and s.max is not None, f"[{section}] {s.name} has no range"
                assert s.min <= s.default <= s.max


def test_cli_help_works_for_every_command():
    runner = CliRunner()
    for command in COMMANDS:
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_cli_doc_covers_every_command_and_the_finding_keys():
    from netsift.findings import Finding

    doc = (ROOT / "docs" / "cli.md").read_text()
    for command in COMMANDS:
        assert f"netsift {command}" in doc, f"command {command} missing from docs/cli.md"
    for key in Finding(kind="k", score=0.5, reasons=["r"]).to_dict():
        assert f"`{key}`" in doc, f"finding key {key} missing from docs/cli.md"
