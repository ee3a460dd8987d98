"""Incremental analysis: what ``netsift watch`` runs on its cadence instead of re-reading the whole store.

An :class:`Incremental` holds one analysis session and alternates two kinds of run:

- **full** (:func:`netsift.pipeline.analyze`, exactly what ``netsift analyze`` does): at the first run, every
  ``[watch] full_every`` seconds, and whenever the kept history went stale (a file forgotten). It rebuilds
  the kept history (:mod:`netsift.baseline.kept`) and its findings become the *carried* findings;
- **recent**: the kept history takes in only the rows stored since the last run (by file record, never a
  scan of the store), ``domain_stats`` is written from it (same values and normal reasons as a full
  analysis), then every producer that declares a window (:attr:`netsift.findings.Producer.window_hours`)
  runs over only the rows of its window (``ts`` within that many hours of the latest stamp, at least
  ``[watch] window_hours``) through a windowed session (:mod:`netsift.store.window`): the detectors' own
  queries, unchanged, read only the window, while the network's span, hours, clients and per-domain history
  come from the kept tables. Producers that judge a key against its whole history (``window_hours`` None:
  rare_domain, behaviour_change, bandwidth, new_logon_source, off_hours_logon) run only in full runs.

A recent run's findings are combined with the carried ones: a finding of the same id keeps the stronger
version (a window may hold only part of a key's evidence), the others are carried over unchanged, and the
result (ranked, leftovers superseded and folded as in a full analysis) is stored and carried. So a finding
whose evidence lies within its producer's window is the same finding a full analysis of the same store
raises (``tests/test_incremental.py``), and the work per run follows the window's rows, not the store's.
A finding only a full run can close (its key quiet, or explained since) stays until the next full run.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import dataclass, field

import polars as pl

from netsift import baseline, inputs, pipeline, producers
from netsift.baseline.kept import WATCH_SETTINGS, KeptBaseline
from netsift.baseline.leftovers import fold_into_findings
from netsift.config import Settings
from netsift.findings import Finding, Producer, merge
from netsift.store.base import Store
from netsift.store.window import Windowed


@dataclass
class RunInfo:
    full: bool
    seconds: float
    rows_read: int  # new rows folded into the kept history (recent runs), or every row (full runs)
    windows: dict[str, float] = field(default_factory=dict)  # producer kind -> hours of rows it read


class Incremental:
    """Full and recent analyses on one session (see the module's doc)."""

    def __init__(self, session: Store, opts: pipeline.AnalysisOptions | None = None):
        self.session = session
        self.opts = opts if opts is not None else pipeline.AnalysisOptions()
        self.kept = KeptBaseline(session)
        self.carried: list[Finding] = []
        self.full_at: float | None = None
        self.last: RunInfo | None = None
        self.settings = Settings(WATCH_SETTINGS, self.opts.settings.get("watch"))
        self._stats: pl.DataFrame | None = None  # what domain_stats holds (after a full run)
        self._findings: pl.DataFrame | None = None  # what findings holds

    def supported(self) -> bool:
        """Windowed sessions use temporary views: DuckDB stores (others run full analyses every time)."""
        return self.session.sql.name == "duckdb"

    def due_full(self) -> bool:
        return (self.full_at is None or not self.kept.built or not self.supported()
                or time.monotonic() - self.full_at >= self.settings.full_every)

    def run(self, *, full: bool | None = None) -> list[Finding]:
        """One analysis (``full``: force one kind; None: a full one when due); returns the findings stored."""
        started = time.monotonic()
        opts = copy.deepcopy(self.opts)
        if opts.remember_inputs:  # a settings file the store remembers counts too ([watch] among it)
            inputs.apply(self.session, opts, pipeline.settings_sections)
        self.settings = Settings(WATCH_SETTINGS, opts.settings.get("watch"))
        full = self.due_full() if full is None else (full or not self.kept.built or not self.supported())
        if not full and not self.kept.update():
            full = True  # the kept history is stale
        if full:
            analysis = pipeline.analyze(self.session, self.opts)
            findings = analysis.findings
            # what the tables hold now: recent runs write only the rows that change
            self._stats = analysis.baseline.stats
            self._findings = self.session.frame("SELECT * FROM findings") if self.supported() else None
            if self.supported():
                self.kept.rebuild()
            self.carried = list(findings)
            self.full_at = time.monotonic()
            self.last = RunInfo(True, time.monotonic() - started, self.kept.rows_read)
            return findings
        windows: dict[str, float] = {}
        findings = self._recent(opts, windows)
        self.last = RunInfo(False, time.monotonic() - started, self.kept.rows_read, windows)
        return findings

    def _recent(self, opts: pipeline.AnalysisOptions, windows: dict[str, float]) -> list[Finding]:
        base_settings = pipeline.section(opts.settings, "baseline", pipeline.settings_sections()["baseline"])
        self._stats = baseline.build_baseline(self.session, opts.baseline, base_settings,
                                              (self.kept.domain_history(), self.kept.total_clients(),
                                               self.kept.ranks()),
                                              self._stats).stats
        w = Windowed(self.session, self.kept.ends)
        store = w.as_store()
        least = float(self.settings.window_hours)

        def hours(p: Producer) -> float | None:
            return None if p.window_hours is None else max(float(p.window_hours), least)

        widest = max((h for p in producers.REGISTRY if (h := hours(p)) is not None), default=least)

        def before(p: Producer) -> bool:
            h = hours(p)
            if h is None:
                return False  # judged against whole histories: full runs only
            w.scope(h)
            windows[p.kind] = h
            return True

        def after_stage(_stage: str) -> None:  # finishing, folding, enrichment: the widest window
            w.scope(widest)

        try:
            found, _ = pipeline.produce(store, opts, before, after_stage)
            combined = combine(store, self.carried, found, opts, w.start)
            self._findings = pipeline.conclude(store, combined, base_settings, rollups=False, previous=self._findings)
        finally:
            w.close()
        self.carried = list(combined)
        return combined


def combine(store: Store, carried: list[Finding], recent: list[Finding], opts: pipeline.AnalysisOptions,
            since: dt.datetime | None = None) -> list[Finding]:
    """The carried findings updated by a recent run's: the stronger of two with one id (a window may hold
    only part of a key's evidence), the rest kept; then leftovers superseded, and the leftovers seen since
    ``since`` folded into the client findings they belong to, as a full analysis does."""
    fresh = {f.id: f for f in recent}
    kept = []
    for f in carried:
        g = fresh.get(f.id)
        if g is not None and g.score < f.score:
            fresh[f.id] = f
        elif g is None:
            kept.append(f)
    merged, _, _ = merge(kept, list(fresh.values()), producers.BY_KIND)
    rules = producers.fold_rules(opts.settings)
    left = producers.leftover_kinds()
    rows = [f for f in merged if f.kind in left and (since is None or f.last_seen is None or f.last_seen >= since)]
    stay = {id(f) for f in fold_into_findings(store, merged, rows, rules)}
    folded = {id(f) for f in rows} - stay
    return [f for f in merged if id(f) not in folded]
