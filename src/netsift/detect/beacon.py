"""beacon — a client asking for the same service on a clock (malware checking in with its C2).

Per (client, registered domain) — CDN host names of one service are grouped under their registered domain,
so a service is one finding — the question times (unique seconds, events closer than ``merge_seconds``
merged) are turned into intervals and scored by :func:`analyse`, built to beat RITA's skew/MAD scoring on
what real implants do:

- **jitter** (Cobalt Strike's ``sleep 60 20%``): an interval counts as *on the beat* when it is within
  ``tolerance`` of a whole number of periods, so ±20 % jitter keeps nearly every interval on the beat,
  and the jitter itself is measured (median relative deviation) rather than punished outright;
- **missed beats** (a lost packet, a cached answer): an interval of 2, 3 ... ``max_missed + 1`` periods is
  still on the beat; the beats it skipped are counted;
- **sleep gaps** (a laptop closed overnight): intervals longer than that are gaps; they neither count
  against the rhythm nor hide it, and are reported;
- **period**: the median interval, or half of it when that fits clearly better (every other beat missed).

Sub-scores: ``regularity`` (share of intervals on the beat), ``jitter``, ``beats`` (how many on-beat
intervals back it: the connection count), and — RITA's duration idea — ``hours_seen`` (distinct clock
hours with questions) and ``coverage`` (share of the data span from first to last question), whose product
``persistence`` scales the score between 0.35 and all of it: a periodic pattern seen for minutes (a scanner
retrying on a 30 s beat for 20 minutes) or over a small fraction of the data span cannot be high.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES, data_span
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural, ramp, sample
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_events", 6, "Distinct question times a (client, domain) pair needs (RITA: 4).", 4, 1e6),
    Setting("merge_seconds", 2, "Questions closer than this are one event (A+AAAA, retries).", 0, 60),
    Setting("min_period_seconds", 10, "Shorter periods are bursts or tunnels, not beacons.", 1, 86400),
    Setting(
        "tolerance",
        0.25,
        "How far from a whole number of periods an interval may be (share of the "
        "period); covers ±20 % jitter.",
        0.05,
        0.45,
    ),
    Setting("max_missed", 4, "Beats an interval may skip and still be on the beat.", 0, 50),
    Setting(
        "regularity_low",
        0.45,
        "Share of on-beat intervals where the regularity sub-score starts (random traffic lands near 0.3).",
        0,
        1,
    ),
    Setting("regularity_high", 0.9, "Share of on-beat intervals for a full regularity sub-score.", 0, 1),
    Setting("beats_high", 48, "On-beat intervals for a full 'beats' sub-score.", 2, 1e6),
    Setting(
        "hours_high",
        4,
        "Distinct clock hours with questions for a full 'hours_seen' sub-score (one hour scores 0).",
        2,
        1e5,
    ),
    Setting(
        "coverage_low", 0.02, "Share of the data span covered where the 'coverage' sub-score starts.", 0, 1
    ),
    Setting("coverage_high", 0.25, "Share of the data span covered for a full 'coverage' sub-score.", 0, 1),
    Setting(
        "max_events", 20000, "Most recent events kept per pair (bounds the work on chatty pairs).", 100, 1e7
    ),
    MIN_SCORE,
)


@dataclass(frozen=True)
class Rhythm:
    period: float = 0.0  # seconds
    intervals: int = 0
    on_beat: int = 0
    missed_beats: int = 0
    gaps: int = 0
    longest_gap: float = 0.0  # seconds
    jitter: float = 0.0  # median |interval/k - period| / period over on-beat intervals

    @property
    def on_beat_share(self) -> float:
        counted = self.intervals - self.gaps
        return self.on_beat / counted if counted else 0.0


def merge_events(times: list[float], merge_seconds: float) -> list[float]:
    """Sorted unique times with events closer than ``merge_seconds`` to the previous kept one dropped."""
    out: list[float] = []
    for t in sorted(set(times)):
        if not out or t - out[-1] >= merge_seconds:
            out.append(t)
    return out


def _fit(intervals: list[float], period: float, s: Settings) -> Rhythm:
    on = missed = gaps = 0
    longest_gap = 0.0
    deviations = []
    tolerance, gap_beats = s.tolerance, s.max_missed + 1 + s.tolerance
    for d in intervals:
        beats = d / period
        if beats > gap_beats:
            gaps += 1
            longest_gap = max(longest_gap, d)
            continue
        k = round(beats)
        if k >= 1 and abs(beats - k) <= tolerance:
            on += 1
            missed += k - 1
            deviations.append(abs(beats / k - 1.0))
    jitter = statistics.median(deviations) if deviations else 0.0
    return Rhythm(period, len(intervals), on, missed, gaps, longest_gap, jitter)


def rhythm(times: list[float], s: Settings, merged: bool = False) -> Rhythm:
    """The best-fitting beat of a series of event times (seconds); ``merged``: already passed through
    :func:`merge_events`."""
    events = times if merged else merge_events(times, s.merge_seconds)
    intervals = [b - a for a, b in itertools.pairwise(events)]
    if not intervals:
        return Rhythm()
    median = statistics.median(intervals)
    best = _fit(intervals, median, s)
    if best.on_beat_share < 0.85:  # every other beat missing? try half the median
        half = _fit(intervals, median / 2, s)
        if half.on_beat_share > best.on_beat_share + 0.15:
            best = half
    return best


def analyse(
    times: list[float], data_span_seconds: float, s: Settings
) -> tuple[float, dict[str, float], Rhythm]:
    """(score, sub_scores, rhythm) of one (client, domain) series of question times in seconds."""
    events = merge_events(times, s.merge_seconds)
    if len(events) < s.min_events:
        return 0.0, {}, Rhythm()
    r = rhythm(events, s, merged=True)
    if r.period < s.min_period_seconds:
        return 0.0, {}, r
    span = events[-1] - events[0]
    hours = len({int(t // 3600) for t in events})
    subs = {
        "regularity": ramp(r.on_beat_share, s.regularity_low, s.regularity_high),
        "jitter": 1.0 - ramp(r.jitter, 0.05, 0.35),
        "beats": log_ramp(r.on_beat, max(s.min_events - 1, 2), s.beats_high),
        "hours_seen": ramp(hours, 1, s.hours_high),
        "coverage": ramp(min(1.0, span / data_span_seconds), s.coverage_low, s.coverage_high)
        if data_span_seconds > 0
        else 0.0,
    }
    subs["persistence"] = subs["hours_seen"] * subs["coverage"]
    # a handful of intervals can line up by chance: the number of on-beat intervals is a confidence factor;
    # a rhythm seen for minutes, or over a sliver of the data, keeps at most 0.35 (RITA's duration): even
    # with both modifiers raising it (+0.3) it cannot be high
    score = (
        subs["regularity"]
        * (0.25 + 0.75 * subs["beats"])
        * (0.85 + 0.15 * subs["jitter"])
        * (0.35 + 0.65 * subs["persistence"])
    )
    return score, subs, r


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def gather(store: Store, s: Settings):
    return store.frame(f"""
        WITH u AS ({UNEXPLAINED_QUERIES})
        SELECT client, registered_domain, count(*) AS queries,
               list(DISTINCT epoch_ms(ts) // 1000 ORDER BY epoch_ms(ts) // 1000 DESC)[1:?] AS times,
               list(DISTINCT query_name ORDER BY query_name)[1:6] AS names,
               count(DISTINCT query_name) AS name_count, min(ts) AS first_seen, max(ts) AS last_seen
        FROM u WHERE client IS NOT NULL
        GROUP BY client, registered_domain
        HAVING count(DISTINCT epoch_ms(ts) // 1000) >= ?
        ORDER BY client, registered_domain
        """,
        [int(s.max_events), int(s.min_events)],
    )


def run(store: Store, s: Settings) -> list[Finding]:
    span = data_span(store)
    span_seconds = span.hours * 3600
    findings = []
    for row in gather(store, s).iter_rows(named=True):
        score, subs, r = analyse([float(t) for t in row["times"]], span_seconds, s)
        if score < s.min_score:
            continue
        dom, client = row["registered_domain"], row["client"]
        active = (row["last_seen"] - row["first_seen"]).total_seconds()
        hours = len({int(t) // 3600 for t in row["times"]})
        reasons = [
            (
                f"{client} asked for {dom} on a {_duration(r.period)} beat: {r.on_beat} of "
                f"{r.intervals - r.gaps} intervals fall on it (±{s.tolerance:.0%} of a whole number of periods), "
                f"median jitter {r.jitter:.0%}."
            ),
            f"{row['queries']} questions over {_duration(active)} ({active / span_seconds:.1%} of the data "
            f"span), in {plural(hours, 'distinct clock hour')}."
            if span_seconds
            else f"{row['queries']} questions.",
        ]
        if subs["persistence"] < 1.0:
            reasons.append(
                f"Seen for {_duration(active)} in {plural(hours, 'hour')}: "
                f"a rhythm needs {s.hours_high:g}+ hours and {s.coverage_high:.0%} of the data span for its "
                f"full score (persistence {subs['persistence']:.2f}; a short periodic burst — a scanner, a "
                "retry loop — cannot be high)."
            )
        if r.missed_beats or r.gaps:
            reasons.append(
                f"The rhythm survives {plural(r.missed_beats, 'missed beat')} and "
                f"{plural(r.gaps, 'sleep gap')}"
                + (f" (longest {_duration(r.longest_gap)})." if r.gaps else ".")
            )
        if row["name_count"] > 1:
            reasons.append(
                f"{row['name_count']} host names grouped as one service under {dom}: "
                f"{sample(row['names'], 3)}."
            )
        findings.append(
            Finding(
                kind="beacon",
                client=client,
                domain=dom,
                score=score,
                reasons=reasons,
                sub_scores=subs,
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
                evidence_count=int(row["queries"]),
            )
        )
    return findings
