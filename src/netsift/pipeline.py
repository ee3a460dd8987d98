"""The analyst's loop as named steps: ingest -> names -> baseline -> detect -> enrich -> findings.

Each step is a library call on a store; the CLI, the report, the dashboard and the watcher call these
and nothing else.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from netsift import baseline, detect, inputs, producers
from netsift.baseline.kept import WATCH_SETTINGS
from netsift.baseline.leftovers import fold_into_findings, group_leftovers
from netsift.config import Setting, Settings
from netsift.enrich import step as enrich_step
from netsift.enrich import tables as enrich_tables
from netsift.findings import STAGES, Finding, Producer, merge
from netsift.ingest.run import ingest
from netsift.lists import installed
from netsift.names import refresh_domain_names
from netsift.store import SETTINGS as store_settings
from netsift.store import Store
from netsift.store.base import replace_changed
from netsift.store.rollups import ensure_rollups

__all__ = ["ingest", "refresh_domain_names"]  # re-exported: callers of the analyst's loop find every step here


@dataclass
class AnalysisOptions:
    baseline: baseline.BaselineOptions = field(default_factory=baseline.BaselineOptions)
    settings: dict[str, dict] = field(default_factory=dict)  # section -> overrides (config file)
    detectors: list[str] | None = None  # the kinds to produce (producers.REGISTRY); None: all
    enrich: enrich_step.EnrichOptions = field(default_factory=enrich_step.EnrichOptions)
    config_path: str | None = None  # the settings file ``settings`` came from (remembered by the store)
    remember_inputs: bool = True  # remember the inputs given, and use the remembered ones not given


@dataclass
class Analysis:
    baseline: baseline.BaselineSummary
    findings: list[Finding]
    enrichment: enrich_step.EnrichSummary | None = None  # None when enrichment is turned off
    notes: list[str] = field(default_factory=list)  # e.g. remembered inputs that have gone


def section(settings: dict[str, dict], name: str, declared) -> Settings:
    return Settings(declared, settings.get(name, {}))


def run_stage(store: Store, stage: str, opts: AnalysisOptions,
              before: Callable[[Producer], bool] | None = None) -> tuple[list[Finding], list[str]]:
    """Run one stage's chosen producers, each with its config section; ``before(producer)`` (an incremental
    run's scope, :mod:`netsift.incremental`) is called first and may skip it. Returns (findings, the kinds
    that ran)."""
    sections = settings_sections()
    found: list[Finding] = []
    ran: list[str] = []
    for p in producers.of_stage(stage, opts.detectors):
        if before is not None and not before(p):
            continue
        found.extend(p.run(store, section(opts.settings, p.section, sections[p.section])))
        ran.append(p.kind)
    return found, ran


def add_stage(store: Store, findings: list[Finding], new: list[Finding],
              opts: AnalysisOptions) -> tuple[list[Finding], list[Finding], int]:
    """Merge a stage's findings as their producers declare (leftover rows superseded, no id twice); when the
    stage brought leftovers or findings that fold names, fold the leftovers they explain into them.
    Returns (findings, added, superseded)."""
    merged, added, superseded = merge(findings, new, producers.BY_KIND)
    rules = producers.fold_rules(opts.settings)
    left = producers.leftover_kinds()
    if any(f.kind in left or f.kind in rules for f in added):
        rows = [f for f in merged if f.kind in left]
        kept = {id(f) for f in fold_into_findings(store, merged, rows, rules)}
        merged = [f for f in merged if f.kind not in left or id(f) in kept]
    return merged, added, superseded


def analyze(store: Store, opts: AnalysisOptions | None = None) -> Analysis:
    """Baseline, then the registry stage by stage (:data:`netsift.findings.STAGES`: every detector, the
    baseline's leftovers, enrichment's findings: feeds, shared infrastructure), the enrichment of every
    finding (feed modifier, networks, categories; online services and --resolve only when asked), then store
    and return the ranked findings."""
    opts = copy.deepcopy(opts) if opts is not None else AnalysisOptions()
    notes = inputs.apply(store, opts, settings_sections) if opts.remember_inputs else []
    refresh_domain_names(store)
    base_settings = section(opts.settings, "baseline", settings_sections()["baseline"])
    summary = baseline.build_baseline(store, opts.baseline, base_settings)
    findings, enrichment = produce(store, opts)
    conclude(store, findings, base_settings)
    if enrichment is not None:
        enrichment.notes[:0] = notes
    return Analysis(summary, findings, enrichment, notes)


def produce(store: Store, opts: AnalysisOptions, before: Callable[[Producer], bool] | None = None,
            after_stage: Callable[[str], None] | None = None,
            ) -> tuple[list[Finding], enrich_step.EnrichSummary | None]:
    """The registry stage by stage over a store whose baseline is built, merged as the producers declare,
    then enriched. ``before``: see :func:`run_stage`; ``after_stage(stage)`` is called before a stage's
    findings are finished and merged (an incremental run widens its scope there)."""
    findings: list[Finding] = []
    enrichment = None
    enrich_settings = section(opts.settings, "enrich", enrich_step.all_settings())
    for stage in STAGES:
        if stage == "enrich":
            if not opts.enrich.enabled:
                continue
            enrichment = enrich_step.prepare(store, opts.enrich)
        found, ran = run_stage(store, stage, opts, before)
        if after_stage is not None:
            after_stage(stage)
        if stage == "detect":  # client scope and the shared modifiers, over the detectors that ran
            found = detect.finish(store, found, opts.settings, ran)
        findings, added, superseded = add_stage(store, findings, found, opts)
        if enrichment is not None:
            enrichment.record(added, superseded)
    if enrichment is not None:
        findings = enrich_step.finish(store, findings, opts.enrich, enrich_settings, enrichment)
    return findings, enrichment


def conclude(store: Store, findings: list[Finding], base_settings: Settings, *, rollups: bool = True,
             previous: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """Group what is left, rank, store the findings (and, with ``rollups``, rebuild the dashboard's
    rollups when the rows changed); ``previous``: see :func:`save_findings`. Returns what the table holds."""
    # what is left, by hosting platform / answer network
    group_leftovers(store, findings, producers.leftover_kinds(), base_settings.group_min)
    findings.sort(key=lambda f: (-f.score, f.kind, f.domain or "", f.client or "", f.account or "", f.host or ""))
    # (a batch analysis calls it as it always did: tests and tools may wrap save_findings(store, findings))
    frame = save_findings(store, findings) if previous is None else save_findings(store, findings, previous)
    if rollups:
        ensure_rollups(store)  # the dashboard and report read these: (re)build them now, not on first view
    return frame


def save_findings(store: Store, findings: list[Finding], previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """Replace the findings table in one transaction (readers never see it empty). ``previous``: the frame
    the table holds (an incremental run's last): only the findings that changed are written (their
    ``created_at`` is now, the others' stays). Returns the frame the table now holds."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    frame = _findings_frame(findings, now)
    if previous is not None and frame.height and previous.height:  # unchanged ones keep the time they were written
        frame = frame.drop("created_at").join(previous.select("finding_id", "created_at"), on="finding_id",
                                               how="left", maintain_order="left")
        frame = frame.with_columns(pl.col("created_at").fill_null(now)).select(previous.columns)
    replace_changed(store, "findings", "finding_id", frame, previous, ignore=("created_at",))
    return frame


def _findings_frame(findings: list[Finding], now: dt.datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "finding_id": [f.id for f in findings],
            "kind": [f.kind for f in findings],
            "client": [f.client for f in findings],
            "domain": [f.domain for f in findings],
            "score": [f.score for f in findings],
            "severity": [f.severity for f in findings],
            "reasons": [list(f.reasons) for f in findings],
            "sub_scores": [json.dumps(f.sub_scores, sort_keys=True) for f in findings],
            "first_seen": [f.first_seen for f in findings],
            "last_seen": [f.last_seen for f in findings],
            "evidence_count": [int(f.evidence_count) for f in findings],
            "created_at": [now] * len(findings),
            "names": [list(f.names) for f in findings],
            "group_key": [f.group for f in findings],
            "account": [f.account for f in findings],
            "host": [f.host for f in findings],
        },
        schema_overrides={"first_seen": pl.Datetime("us"), "last_seen": pl.Datetime("us"),
                          "reasons": pl.List(pl.String), "client": pl.String, "domain": pl.String,
                          "names": pl.List(pl.String), "group_key": pl.String,
                          "account": pl.String, "host": pl.String},
    ).unique("finding_id", keep="first", maintain_order=True)


def finding_from_dict(d: dict) -> Finding:
    """The inverse of Finding.to_dict (timestamps as ISO strings)."""
    parse = dt.datetime.fromisoformat
    return Finding(kind=d["kind"], score=d["score"], reasons=list(d["reasons"]), client=d["client"],
                   domain=d["domain"], sub_scores=dict(d.get("sub_scores") or {}),
                   first_seen=parse(d["first_seen"]) if d.get("first_seen") else None,
                   last_seen=parse(d["last_seen"]) if d.get("last_seen") else None,
                   evidence_count=d.get("evidence_count", 0), severity=d["severity"], id=d["id"],
                   names=list(d.get("names") or []), group=d.get("group"), account=d.get("account"),
                   host=d.get("host"))


def load_findings(store: Store, limit: int | None = None) -> list[Finding]:
    sql = ("SELECT finding_id, kind, client, domain, score, severity, reasons, sub_scores, first_seen, "
           "last_seen, evidence_count, names, group_key, account, host FROM findings "
           "ORDER BY score DESC, kind, domain, client, account, host")
    params: list = []
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    out = []
    for (fid, kind, client, domain, score, sev, reasons, sub, first, last, n, names, group, account,
         host) in store.rows(sql, params):
        out.append(Finding(kind=kind, score=score, reasons=list(reasons or []), client=client, domain=domain,
                           sub_scores=json.loads(sub or "{}"), first_seen=first, last_seen=last,
                           evidence_count=n, severity=sev, id=fid, names=list(names or []), group=group,
                           account=account, host=host))
    return out


def settings_sections() -> dict[str, tuple[Setting, ...]]:
    """Every settings section: the baseline's, each detector's, the modifiers', the network's and
    enrichment's, with every registered producer's settings in its section (``netsift config``)."""
    sections: dict[str, tuple[Setting, ...]] = {
        "baseline": baseline.SETTINGS, **detect.settings_sections(), "enrich": enrich_step.all_settings(),
        "store": store_settings, "watch": WATCH_SETTINGS}
    for p in producers.REGISTRY:
        have = {s.name for s in sections.get(p.section, ())}
        sections[p.section] = sections.get(p.section, ()) + tuple(s for s in p.settings if s.name not in have)
    return sections


def installed_top_lists() -> list[tuple[str, Path]]:
    """Top-sites lists installed by ``netsift lists update`` (empty when none)."""
    return [(f"{item.name}@{item.date:%Y-%m-%d}", item.path) for item in installed() if item.kind == "toplist"]


def register_all_tables() -> None:
    """Make sure the modules that declare tables of their own are imported, so schema.all_tables() lists
    them: enrichment's (imported at the top of this module)."""
    assert enrich_tables.TABLES


def overview(store: Store, enrichment: enrich_step.EnrichSummary | None = None) -> dict:
    """The ``summary`` object of ``analyze --json``: rows, rejected, clients, time span, files and
    ``enrichment`` (table counts; the lists used, stale lists and notes when ``enrichment`` is given)."""
    rows, clients, start, end = store.rows(
        "SELECT count(*), count(DISTINCT client), min(ts), max(ts) FROM dns_queries")[0]
    files = store.frame("SELECT path, format, rows, rejected FROM ingested_files ORDER BY file_id").to_dicts()
    return {
        "rows": int(rows),
        "rejected": int(sum(f["rejected"] or 0 for f in files)),
        "clients": int(clients),
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "files": files,
        "enrichment": enrich_step.overview(store, enrichment),
        "inputs": [r.as_dict() for r in inputs.remembered(store)],
    }


def status(store: Store) -> dict:
    """``netsift status``: the overview plus findings by severity, the last analysis and the store's path."""
    doc = overview(store)
    doc["store"] = store.path
    doc["findings"] = dict(store.rows(
        "SELECT severity, count(*) FROM findings GROUP BY severity ORDER BY max(score) DESC"))
    analyzed = store.scalar("SELECT max(created_at) FROM findings")
    doc["analyzed_at"] = analyzed.isoformat() if analyzed else None
    return doc
