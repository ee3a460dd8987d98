"""The registry of everything that produces findings: every producer's settings are in its config section
and documented with their defaults; pipeline.py runs the registry and never names a kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsift import pipeline, producers
from netsift.baseline import leftovers
from netsift.config import Settings
from netsift.findings import STAGES, Finding, Producer, merge
from tests.detect.test_docs import _default

ROOT = Path(__file__).resolve().parents[1]
DOC_OF_STAGE = {"detect": "detectors.md", "baseline": "detectors.md", "enrich": "enrichment.md"}


def test_registry_lists_every_kind_once_in_stage_order():
    kinds = [p.kind for p in producers.REGISTRY]
    assert len(kinds) == len(set(kinds))
    assert {"dga", "unexplained_domain", "feed_hit", "shared_infrastructure"} <= set(kinds)
    order = [STAGES.index(p.stage) for p in producers.REGISTRY]
    assert order == sorted(order)


@pytest.mark.parametrize("producer", producers.REGISTRY, ids=lambda p: p.kind)
def test_every_producer_setting_is_in_its_section_and_documented(producer):
    section = {s.name for s in pipeline.settings_sections()[producer.section]}
    doc = (ROOT / "docs" / DOC_OF_STAGE[producer.stage]).read_text(encoding="utf-8")
    if f"\n## {producer.kind}\n" in doc:  # detectors.md: the producer's own section
        doc = doc.split(f"\n## {producer.kind}\n", 1)[1].split("\n## ", 1)[0]
    for s in producer.settings:
        assert s.name in section, f"{producer.kind}: {s.name} is not in [{producer.section}]"
        row = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{s.name}` |")), None)
        assert row and f"| {_default(s.default)} |" in row, f"{producer.kind}: {s.name} is not documented"


def test_pipeline_never_names_a_kind():
    source = (ROOT / "src" / "netsift" / "pipeline.py").read_text(encoding="utf-8")
    named = [p.kind for p in producers.REGISTRY if f'"{p.kind}"' in source or f"'{p.kind}'" in source]
    assert named == []


def test_merge_supersedes_leftovers_and_keeps_ids_unique():
    known = {"lead": Producer("lead", "baseline", "x", (), lambda st, s: [], leftover=True),
             "hit": Producer("hit", "enrich", "x", (), lambda st, s: [], supersedes_leftovers=True)}
    old = [Finding("lead", 0.2, [], domain="a.example"), Finding("lead", 0.2, [], domain="b.example")]
    new = [Finding("hit", 0.9, [], domain="a.example"), Finding("hit", 0.9, [], domain="a.example")]
    merged, added, superseded = merge(old, new, known)
    assert [(f.kind, f.domain) for f in merged] == [("lead", "b.example"), ("hit", "a.example")]
    assert len(added) == 1 and superseded == 1


def test_a_producer_declares_a_known_stage():
    with pytest.raises(ValueError, match="stage"):
        Producer("x", "later", "x", (), lambda st, s: [])


def test_unexplained_domain_weights_are_settings():
    base, _ = leftovers.unexplained_score(1, 40, True, 0.5)
    s = Settings(leftovers.SETTINGS, {"unexplained_base_score": 0.2, "unexplained_nxdomain_weight": 0.0})
    moved, _ = leftovers.unexplained_score(1, 40, True, 0.5, s)
    assert moved == pytest.approx(base + 0.1 - 0.04)
