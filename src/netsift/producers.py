"""The registry of everything that produces findings, in the order an analysis runs it.

Each :class:`~netsift.findings.Producer` has a kind, a stage (``detect``, ``baseline``, ``enrich``), its
settings (every threshold a ``Setting`` of its config section, so ``netsift config`` lists it and
``config validate`` checks it), a run function, and the properties ``pipeline.analyze`` applies when it
merges a stage's findings (``supersedes_leftovers``, ``leftover``, ``folds_names``). They are declared next
to their code:

- ``detect``: one per detector (:data:`netsift.detect.DETECTORS`, one module each in ``detect/``);
- ``baseline``: ``unexplained_domain``, what is left (:data:`netsift.baseline.leftovers.PRODUCER`);
- ``enrich``: ``feed_hit`` and ``shared_infrastructure`` (:data:`netsift.enrich.annotate.PRODUCERS`).
"""

from __future__ import annotations

from netsift.baseline import leftovers
from netsift.detect import PRODUCERS as DETECTORS
from netsift.enrich.annotate import PRODUCERS as ENRICHERS
from netsift.findings import STAGES, Producer

REGISTRY: tuple[Producer, ...] = (*DETECTORS, leftovers.PRODUCER, *ENRICHERS)
BY_KIND = {p.kind: p for p in REGISTRY}


def of_stage(stage: str, only: list[str] | None = None) -> list[Producer]:
    """The producers of one stage, in registry order (all, or those whose kind is in ``only``)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r} (known: {', '.join(STAGES)})")
    return [p for p in REGISTRY if p.stage == stage and (only is None or p.kind in only)]


def leftover_kinds() -> set[str]:
    return {p.kind for p in REGISTRY if p.leftover}


def fold_rules(settings: dict[str, dict]) -> dict[str, tuple[str, dict | None]]:
    """kind -> (fold rule, the producer's settings overrides) for the producers that fold names."""
    return {p.kind: (p.folds_names, settings.get(p.section)) for p in REGISTRY if p.folds_names}
