"""Shared scoring pieces: ramps that turn a measurement into a 0..1 sub-score, the weighted combination,
and the modifiers every detector's findings go through (RITA's, with its published defaults).

Modifiers (section ``[modifiers]`` of the config), applied by :func:`netsift.detect.run_detectors` after a
detector has scored, to findings that name a domain:

- prevalence: the share of the network's clients that asked for the domain. ``<= 2 %`` raises the score
  by 0.15, ``>= 50 %`` lowers it by 0.15. A single client counts as rare once the network has at least
  ``prevalence_min_clients`` clients; below that, prevalence says nothing and is not applied.
- first seen: a domain first seen ``<= 7`` days before the end of the data raises by 0.15 — but only when
  the network had been watched for at least a day before it appeared (otherwise every domain of a short
  capture would be "new"); first seen ``>= 30`` days before the end lowers by 0.15.
- feed hits are applied later, by the enrichment step (``netsift.enrich.step``), with the same
  :meth:`netsift.findings.Finding.apply_change`; nothing here knows about feeds.

Every modifier applied is recorded in the finding's ``sub_scores`` as ``modifier_<name>`` (the signed
change) and explained in a reason, so ``netsift explain`` can show exactly why a score moved.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from netsift.config import Setting, Settings

MODIFIER_SETTINGS = (
    Setting(
        "prevalence_increase_threshold", 0.02, "Share of clients at or below which a domain is rare.", 0, 1
    ),
    Setting("prevalence_score_increase", 0.15, "Added to the score of a rare domain's finding.", 0, 1),
    Setting(
        "prevalence_decrease_threshold", 0.5, "Share of clients at or above which a domain is common.", 0, 1
    ),
    Setting("prevalence_score_decrease", 0.15, "Taken from the score of a common domain's finding.", 0, 1),
    Setting(
        "prevalence_min_clients", 10, "Clients the network needs before prevalence is used at all.", 1, 1e6
    ),
    Setting(
        "first_seen_increase_days", 7, "A domain first seen this many days before the end is new.", 0, 365
    ),
    Setting("first_seen_score_increase", 0.15, "Added to the score of a new domain's finding.", 0, 1),
    Setting(
        "first_seen_decrease_days", 30, "A domain first seen this many days before the end is old.", 1, 3650
    ),
    Setting("first_seen_score_decrease", 0.15, "Taken from the score of an old domain's finding.", 0, 1),
)

MIN_SCORE = Setting("min_score", 0.25, "Findings scoring below this are not reported.", 0, 1)


def ramp(value: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear in between (``low > high`` inverts it)."""
    if high == low:
        return 1.0 if value >= high else 0.0
    return max(0.0, min(1.0, (value - low) / (high - low)))


def log_ramp(value: float, low: float, high: float) -> float:
    """Like :func:`ramp` on a logarithmic scale (counts: 100 -> 0, 1000 -> 1 for RITA's subdomains)."""
    if value <= 0 or value <= low:
        return 0.0
    return ramp(math.log(value), math.log(low), math.log(high))


def weighted(sub_scores: dict[str, float], weights: dict[str, float]) -> float:
    """Weighted mean of the named sub-scores (weights need not sum to 1)."""
    total = sum(weights.values())
    return sum(sub_scores[k] * w for k, w in weights.items()) / total if total else 0.0


def noisy_or(values: Iterable[float]) -> float:
    """1 - prod(1 - v): independent pieces of evidence, each able to carry the score on its own."""
    out = 1.0
    for v in values:
        out *= 1.0 - max(0.0, min(1.0, v))
    return 1.0 - out


def plural(n: float, word: str, many: str | None = None) -> str:
    """``3 names``, ``1 name``."""
    return f"{n:g} {word if n == 1 else (many or word + 's')}"


def sample(items: Iterable[str], limit: int = 5, total: int | None = None, width: int = 80) -> str:
    """``a, b, c (+12 more)``: the first ``limit`` items, each cut to ``width`` characters; ``total`` is
    the full count when ``items`` is already a sample of a longer list."""
    items = [i if len(i) <= width else i[: width - 1] + "…" for i in (str(x) for x in items)]
    total = len(items) if total is None else total
    shown = ", ".join(items[:limit])
    return shown + (f" (+{total - min(limit, len(items))} more)" if total > min(limit, len(items)) else "")


# --- modifiers --------------------------------------------------------------------------------------


def prevalence_change(clients: int | None, total_clients: int, s: Settings) -> tuple[float, str | None]:
    """(signed score change, reason) for a domain asked by ``clients`` of ``total_clients``."""
    if not clients or total_clients < s.prevalence_min_clients:
        return 0.0, None
    share = clients / total_clients
    if share <= s.prevalence_increase_threshold or clients == 1:
        return s.prevalence_score_increase, (
            f"Rare on this network: {plural(clients, 'client')} of {total_clients} asked for it "
            f"({share:.1%}; rare is <= {s.prevalence_increase_threshold:.0%} or a single client)."
        )
    if share >= s.prevalence_decrease_threshold:
        return -s.prevalence_score_decrease, (
            f"Common on this network: {clients} of {total_clients} clients asked for it ({share:.0%}), "
            "which lowers the score."
        )
    return 0.0, None


def first_seen_change(
    first_seen: dt.datetime | None, data_start: dt.datetime, data_end: dt.datetime, s: Settings,
    history_hours: int | None = None,
) -> tuple[float, str | None]:
    """(signed score change, reason) for a domain first seen at ``first_seen`` in data spanning
    ``data_start``..``data_end``; ``history_hours``: the hours with data before it appeared (the watched
    time; without it, the wall-clock time since ``data_start``)."""
    if first_seen is None:
        return 0.0, None
    age_days = (data_end - first_seen).total_seconds() / 86400
    if history_hours is None:
        watched_before_days = (first_seen - data_start).total_seconds() / 86400
        watched = f"{watched_before_days:.1f} days of traffic"
    else:
        watched_before_days = history_hours / 24
        watched = f"{history_hours:,} hours with traffic"
    if age_days <= s.first_seen_increase_days and watched_before_days >= 1:
        return s.first_seen_score_increase, (
            f"New to this network: first seen {age_days:.1f} days before the end of the data, after "
            f"{watched} without it."
        )
    if age_days >= s.first_seen_decrease_days:
        return -s.first_seen_score_decrease, (
            f"Long known to this network: first seen {age_days:.0f} days before the end of the data."
        )
    return 0.0, None

