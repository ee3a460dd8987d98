"""A finding: one ranked, self-explaining row. Every detector returns these; the CLI, report and
dashboard only display them.

The machine shape (``analyze --json``) is stable and documented in docs/cli.md::

    {"id": str, "kind": str, "client": str | None, "domain": str | None, "score": float 0..1,
     "severity": "info|low|medium|high|critical", "reasons": [str, ...],
     "sub_scores": {name: float}, "first_seen": iso8601 | None, "last_seen": iso8601 | None,
     "evidence_count": int, "names": [str, ...], "group": str | None,
     "account": str | None, "host": str | None}

``names`` lists the registered domains folded into a finding (a dga client's generated names, an
nxdomain_storm's names), which then raise no ``unexplained_domain`` row of their own; ``group`` is set on
``unexplained_domain`` rows that share a hosting platform suffix or an answer network (``platform:SUFFIX``,
``network:PREFIX``), which the queue and the report show as one group row.

``client`` is always the *acting* address (the asking host, the attacker, the originator of a connection);
findings of other families say, where they know it, which ``account`` was used or targeted and which
``host`` (the target machine: the server logged into) it happened on. Both are null for DNS findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netsift.config import Setting, Settings
from netsift.store.base import Store

SEVERITIES = ("info", "low", "medium", "high", "critical")
STAGES = ("detect", "baseline", "enrich")  # the order an analysis runs the producers in
FOLD_RULES = ("generated_or_nxdomain", "nxdomain_in_span")


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


def finding_id(kind: str, client: str | None, domain: str | None, account: str | None = None,
               host: str | None = None) -> str:
    """Kind, client and domain hashed (and account / host, when given: ids without them are unchanged)."""
    parts = [kind, client or "", domain or ""]
    if account is not None or host is not None:
        parts += [account or "", host or ""]
    raw = "\x1f".join(parts).encode()
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
    account: str | None = None  # the account used or targeted (logons, credentials), where known
    host: str | None = None  # the target machine (the host logged into), where known; client is the actor

    def __post_init__(self) -> None:
        self.score = max(0.0, min(1.0, float(self.score)))
        if not self.severity:
            self.severity = severity_for(self.score)
        if not self.id:
            self.id = finding_id(self.kind, self.client, self.domain, self.account, self.host)

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
            "account": self.account,
            "host": self.host,
        }


@dataclass(frozen=True)
class Producer:
    """Anything that produces findings: a detector, the baseline's leftovers, an enrichment. The registry
    (:data:`netsift.producers.REGISTRY`) lists them all; ``pipeline.analyze`` runs it stage by stage and
    applies the declared properties below, never a kind by name."""

    kind: str  # the kind of finding it produces ("dga", "unexplained_domain", "feed_hit", ...)
    stage: str  # one of STAGES
    description: str  # one line
    settings: tuple[Setting, ...]  # its thresholds (a subset of its config section)
    run: Callable[[Store, Settings], list[Finding]]  # gets the whole config section as Settings
    section: str = ""  # config section of its settings (default: the kind)
    # its findings on a registered domain replace that domain's leftover row (one row per domain, with its
    # strongest explanation)
    supersedes_leftovers: bool = False
    leftover: bool = False  # its rows are what is left unexplained: superseded, folded and grouped
    # client-level findings whose evidence is a set of names: leftovers that belong to one are listed in its
    # ``names`` instead (``generated_or_nxdomain``: the name scores as generated with this producer's
    # settings, or the client only got NXDOMAIN for it; ``nxdomain_in_span``: only NXDOMAIN, within the
    # finding's time span)
    folds_names: str | None = None
    # the recent rows (hours before the latest stamp) its findings need, for an incremental run
    # (``netsift watch``: :mod:`netsift.incremental`): run over only those rows, with the kept baseline
    # (domain history, prevalence, the network's span and hours) for everything older; None: it judges keys
    # against their whole history, so it runs only in full analyses and its findings are carried over
    window_hours: float | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"producer {self.kind}: stage {self.stage!r} is not one of {', '.join(STAGES)}")
        if self.folds_names is not None and self.folds_names not in FOLD_RULES:
            raise ValueError(f"producer {self.kind}: folds_names {self.folds_names!r} is not one of "
                             f"{', '.join(FOLD_RULES)}")
        if not self.section:
            object.__setattr__(self, "section", self.kind)


def merge(findings: list[Finding], new: list[Finding],
          producers: Mapping[str, Producer]) -> tuple[list[Finding], list[Finding], int]:
    """``findings`` plus a stage's ``new`` findings, as the producers (by kind) declare: a leftover row whose
    domain a superseding finding names (old or new) goes, and a new finding whose id is already there is
    not added again. Returns (merged, the new findings added, leftover rows superseded)."""
    def declared(f: Finding, attr: str) -> bool:
        p = producers.get(f.kind)
        return bool(p is not None and getattr(p, attr))

    covered = {f.domain for f in (*findings, *new) if f.domain and declared(f, "supersedes_leftovers")}
    kept = [f for f in findings if not (declared(f, "leftover") and f.domain in covered)]
    fresh = [f for f in new if not (declared(f, "leftover") and f.domain in covered)]
    superseded = len(findings) - len(kept) + len(new) - len(fresh)
    ids = {f.id for f in kept}
    added = []
    for f in fresh:
        if f.id not in ids:
            kept.append(f)
            ids.add(f.id)
            added.append(f)
    return kept, added, superseded
