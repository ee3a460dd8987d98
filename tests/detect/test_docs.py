"""docs/detectors.md documents every detector and every setting with its default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsift.detect import DETECTORS, settings_sections

DOC = (Path(__file__).resolve().parents[2] / "docs" / "detectors.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [d.name for d in DETECTORS])
def test_every_detector_has_a_section_with_blind_spots(name):
    section = DOC.split(f"\n## {name}\n", 1)
    assert len(section) == 2, f"no '## {name}' heading"
    assert "**Blind spots.**" in section[1].split("\n## ", 1)[0]


def _section(name: str) -> str:
    heading = "\n## Modifiers" if name == "modifiers" else f"\n## {name}\n"
    return DOC.split(heading, 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize(
    ("section", "setting"),
    [(sec, s) for sec, sets in settings_sections().items() for s in sets],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_every_setting_is_documented_with_its_default(section, setting):
    row = next((ln for ln in _section(section).splitlines() if ln.startswith(f"| `{setting.name}` |")), None)
    assert row, f"[{section}] {setting.name} is not documented"
    assert f"| {_default(setting.default)} |" in row


def _default(value) -> str:
    """A setting's default as the docs write it: 0.5, 20000, true/false, []."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return f"{value:g}"
