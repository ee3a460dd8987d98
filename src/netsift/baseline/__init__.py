"""Baseline: find normal. Top-sites lists, the network's own history (counts, prevalence, first seen),
the analyst's allowlist and verdicts. ``build_baseline`` writes ``domain_stats`` with a ``normal_reason``
for every domain it explains."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from netsift.baseline.allowlist import read_allowlist
from netsift.baseline.history import build_domain_stats
from netsift.baseline.toplists import ensure_top_lists
from netsift.config import Setting, Settings
from netsift.store import Store

SETTINGS = (
    Setting("top_rank_max", 100_000, "A domain ranked at or above this in a top-sites list is normal.", 1, 1_000_000),
    Setting("prevalence_share", 0.5, "Share of clients that makes a domain normal by prevalence.", 0.05, 1.0),
    Setting("prevalence_min_clients", 5, "Fewest clients for the prevalence rule to apply at all.", 2, 100_000),
)


@dataclass
class BaselineOptions:
    top_lists: list[str | Path] = field(default_factory=list)
    installed_lists: list[tuple[str, Path]] = field(default_factory=list)
    allowlist: str | Path | None = None


@dataclass
class BaselineSummary:
    lists: list[str]
    domains: int
    normal: int
    stats: pl.DataFrame | None = field(default=None, repr=False)  # what domain_stats now holds


def build_baseline(store: Store, opts: BaselineOptions, settings: Settings | None = None,
                   history: tuple[pl.DataFrame, int, pl.DataFrame] | None = None,
                   previous: pl.DataFrame | None = None) -> BaselineSummary:
    """Top lists, allowlist, verdicts and the network's history into ``domain_stats``; ``history``: the
    history kept by an incremental run (:mod:`netsift.baseline.kept`) instead of a scan of every row."""
    settings = settings or Settings(SETTINGS)
    lists = ensure_top_lists(store, opts.top_lists, opts.installed_lists)
    patterns = read_allowlist(opts.allowlist) if opts.allowlist else []
    stats = build_domain_stats(store, settings, patterns, history, previous)
    normal = stats.filter(stats["normal_reason"].is_not_null()).height
    return BaselineSummary(lists=lists, domains=stats.height, normal=normal, stats=stats)
