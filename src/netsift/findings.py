"""A finding: one ranked, self-explaining row. Every detector returns these; the CLI, report and
dashboard only display them.

The machine shape (``analyze --json``) is stable and documented in docs/cli.md::

    {"id": str, "kind": str, "client": str | None, "domain": str | None, "score": float 0..1,
     "severity": "info|low|medium|high|critical", "reasons": [str, ...],
     "sub_scores": {name: float}, "first_seen": iso8601 | None, "last_seen": iso8601 | None,
     "evidence_count": int, "names": [str, ...], "group": str | None}

``names`` lists the registered domains folded into a finding (a dga client's generated names, an
nxdomain_storm's names), which then raise no ``unexplained_domain`` row of their own; ``group`` is set on
``unexplained_domain`` rows that share a hosting platform suffix or an answer network (``platform:SUFFIX``,
``network:PREFIX``), which the queue and the report show as one group row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_for(score: float) -> str:
    """The severity bucket of a 0..1 score."""
    if score >= 0.9:
        return "critical"
    if score >= 0.75:
        return "high"
    if score >= 0.5:
        return "medium"
    if score >= 0.25:
        return "low"
    return "info"


def finding_id(kind: str, client: str | None, domain: str | None) -> str:
    raw = f"{kind}\x1f{client or ''}\x1f{domain or ''}".encode()
    return hashlib.sha256(raw).hexdigest()[:12]


@dataclass
class Finding:
    kind: str
    score: float
    reasons: list[str]
    client: str | None = None
    domain: str | None = None
    sub_scores: dict[str, float] = field(default_factory=dict)
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    evidence_count: int = 0
    severity: str = ""
    id: str = ""
    names: list[str] = field(default_factory=list)  # registered domains folded into this finding
    group: str | None = None  # unexplained_domain rows sharing a platform / network

    def __post_init__(self) -> None:
        self.score = max(0.0, min(1.0, float(self.score)))
        if not self.severity:
            self.severity = severity_for(self.score)
        if not self.id:
            self.id = finding_id(self.kind, self.client, self.domain)

    def apply_change(self, name: str, change: float, reason: str | None) -> Finding:
        """Move the score by ``change`` (clipped to 0..1), record it in ``sub_scores`` as ``modifier_<name>``,
        recompute the severity and add ``reason`` (if any); a change of 0 does nothing. Returns the finding."""
        if not change:
            return self
        self.score = max(0.0, min(1.0, self.score + change))
        self.severity = severity_for(self.score)
        self.sub_scores[f"modifier_{name}"] = round(change, 4)
        if reason:
            self.reasons.append(reason)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "client": self.client,
            "domain": self.domain,
            "score": round(self.score, 4),
            "severity": self.severity,
            "reasons": list(self.reasons),
            "sub_scores": {k: round(float(v), 4) for k, v in self.sub_scores.items()},
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "evidence_count": int(self.evidence_count),
            "names": list(self.names),
            "group": self.group,
        }
