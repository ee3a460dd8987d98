"""behaviour_change — a client departing from its own history: busy at hours it is normally silent, or a
sudden surge of unexplained questions.

Each client's hourly activity before the analysis window (the last ``window_hours`` of the data) is its
history, profiled by hour of day — or by hour of week once there are ``week_profile_days`` of history.
In the window, an hour is a departure when

- the client asked at least ``min_unexplained`` unexplained questions in an hour bin in which it was active
  on at most ``silent_share`` of the history's days (weeks), or
- its unexplained questions in one hour exceed ``spike_factor`` x its usual busy hour (95th percentile of
  its history hours) and at least ``spike_min``.

Only *unexplained* questions (see :mod:`netsift.detect.context`) count for departures (a laptop fetching
updates from popular vendors at night is not a behaviour change worth an analyst's time), while any
question counts as activity in the history.
Clients with less than ``min_history_days`` of history are not judged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_NAMES
from netsift.detect.scoring import log_ramp, noisy_or, plural, ramp, sample
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("window_hours", 24, "The last hours of the data judged against the client's history.", 1, 8760),
    Setting("min_history_days", 3, "Days of history a client needs before it is judged.", 1, 365),
    Setting("week_profile_days", 14, "History days from which hour-of-week replaces hour-of-day.", 7, 3650),
    Setting(
        "silent_share", 0.1, "An hour bin active on at most this share of history days is 'silent'.", 0, 1
    ),
    Setting("min_unexplained", 10, "Unexplained questions that make a silent hour a departure.", 1, 1e6),
    Setting("spike_factor", 5, "Times the client's usual busy hour that makes a spike.", 1, 1000),
    Setting("spike_min", 50, "Unexplained questions an hour needs to be a spike.", 1, 1e7),
    Setting("min_score", 0.25, "Findings scoring below this are not reported.", 0, 1),
)

Hour = tuple[dt.datetime, int, int]  # (hour, all questions, unexplained questions)


HOUR = dt.timedelta(hours=1)


def _bin(hour: dt.datetime, weekly: bool) -> int:
    return hour.weekday() * 24 + hour.hour if weekly else hour.hour


def observed_bins(history_start: dt.datetime, history_end: dt.datetime, weekly: bool) -> dict[int, int]:
    """How many times each hour bin (hour of day, or hour of week) occurs among the whole hours from
    ``history_start`` (floored to the hour) up to ``history_end``. Worked out from the number of hours,
    not by walking them: the cost does not follow the span (a stamp in year 9999 is one more hour count)."""
    first = history_start.replace(minute=0, second=0, microsecond=0)
    if history_end <= first:
        return {}
    hours = -((first - history_end) // HOUR)  # hours t = first + k h with t < history_end
    period = 168 if weekly else 24
    b0 = _bin(first, weekly)
    full, extra = divmod(hours, period)
    return {b: full + ((b - b0) % period < extra) for b in range(period) if full or (b - b0) % period < extra}


def _percentile(values: list[int], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def departures(
    history: list[Hour], window: list[Hour], history_start: dt.datetime, history_end: dt.datetime, s: Settings,
    observed: dict[int, int] | None = None,
) -> tuple[float, dict[str, float], list[dict]]:
    """(score, sub_scores, departures) for one client. ``history`` / ``window``: its active hours;
    ``history_start``..``history_end``: the hours the history covers (for silent hours, hours the client
    was not active in count too); ``observed``: :func:`observed_bins` of them, when already known (it is
    the same for every client). The work follows the client's active hours, never the span."""
    days = (history_end - history_start).total_seconds() / 86400
    if days < s.min_history_days:
        return 0.0, {}, []
    weekly = days >= s.week_profile_days
    if observed is None:
        observed = observed_bins(history_start, history_end, weekly)
    active: dict[int, int] = defaultdict(int)
    for hour, queries, _ in history:
        if queries > 0:
            active[_bin(hour, weekly)] += 1
    busy = _percentile([u for _, _, u in history], 0.95)
    found = []
    for hour, _queries, unexplained in window:
        b = _bin(hour, weekly)
        seen = observed.get(b, 0)
        share = active[b] / seen if seen else 1.0
        if share <= s.silent_share and unexplained >= s.min_unexplained and seen >= 2:
            found.append(
                {
                    "kind": "silent_hour",
                    "hour": hour,
                    "unexplained": unexplained,
                    "active": active[b],
                    "observed": seen,
                    "weekly": weekly,
                }
            )
        elif unexplained >= max(s.spike_min, s.spike_factor * busy):
            found.append({"kind": "spike", "hour": hour, "unexplained": unexplained, "busy": busy})
    silent = [d for d in found if d["kind"] == "silent_hour"]
    spikes = [d for d in found if d["kind"] == "spike"]
    subs = {
        "silent_hours": ramp(len(silent), 0, 3),
        "silent_volume": log_ramp(
            sum(d["unexplained"] for d in silent), s.min_unexplained, 20 * s.min_unexplained
        ),
        "spike": log_ramp(
            max((d["unexplained"] / max(d["busy"], 1) for d in spikes), default=0),
            s.spike_factor,
            10 * s.spike_factor,
        )
        if spikes
        else 0.0,
    }
    if spikes and subs["spike"] == 0.0:
        subs["spike"] = (
            0.2  # above the floor but not a multiple of its busy hour (a quiet client's first burst)
        )
    score = noisy_or([0.6 * subs["silent_hours"] * (0.5 + 0.5 * subs["silent_volume"]), 0.6 * subs["spike"]])
    return score, subs, found


def gather(store: Store, s: Settings):
    """Per (client, hour): all questions, unexplained questions, and (in the window) the unexplained
    registered domains. Aggregated per name first, so the join with the name table is small."""
    return store.frame(f"""
        WITH b AS (SELECT max(ts) - to_seconds(CAST(? AS DOUBLE) * 3600) AS window_start FROM dns_queries),
        per_name AS (
            SELECT client, date_trunc('hour', ts) AS hour, query_name, count(*) AS n,
                   max(ts) >= any_value(b.window_start) AS in_window
            FROM dns_queries, b WHERE client IS NOT NULL
            GROUP BY client, hour, query_name
        )
        SELECT p.client, p.hour, sum(p.n)::BIGINT AS queries,
               coalesce(sum(p.n) FILTER (WHERE u.query_name IS NOT NULL), 0)::BIGINT AS unexplained,
               list(DISTINCT u.registered_domain ORDER BY u.registered_domain) FILTER (
                   WHERE u.query_name IS NOT NULL AND p.in_window) AS domains,
               any_value(b.window_start) AS window_start
        FROM per_name p LEFT JOIN ({UNEXPLAINED_NAMES}) u ON u.query_name = p.query_name, b
        GROUP BY p.client, p.hour
        ORDER BY p.client, p.hour
        """,
        [s.window_hours],
    )


def run(store: Store, s: Settings) -> list[Finding]:
    hourly = gather(store, s)
    if hourly.height == 0:
        return []
    start = store.rows("SELECT min(ts) FROM dns_queries")[0][0]
    window_start = hourly["window_start"][0]
    window_hour = window_start.replace(minute=0, second=0, microsecond=0)
    days = (window_hour - start).total_seconds() / 86400
    if days < s.min_history_days:
        return []
    observed = observed_bins(start, window_hour, days >= s.week_profile_days)
    # only clients active in the window can depart; the others' history is never needed
    judged = hourly.filter(pl.col("client").is_in(
        hourly.filter(pl.col("hour") >= window_hour)["client"].unique().implode()))
    by_client: dict[str, tuple[list, list, dict]] = {}
    for client, hour, queries, unexplained, domains in judged.select(
            "client", "hour", "queries", "unexplained", "domains").iter_rows():
        hist, win, doms = by_client.setdefault(client, ([], [], {}))
        if hour >= window_hour:
            win.append((hour, queries, unexplained))
            doms[hour] = domains or []
        else:
            hist.append((hour, queries, unexplained))
    findings = []
    for client, (hist, win, doms) in sorted(by_client.items()):
        score, subs, found = departures(hist, win, start, window_hour, s, observed)
        if score < s.min_score:
            continue
        reasons = []
        for d in sorted(found, key=lambda d: -d["unexplained"])[:4]:
            domains = sample(doms.get(d["hour"], []), 3)
            if d["kind"] == "silent_hour":
                unit = "weeks" if d["weekly"] else "days"
                when = f"{d['hour']:%A %H}:00" if d["weekly"] else f"{d['hour']:%H}:00"
                reasons.append(
                    f"Active at {d['hour']:%Y-%m-%d %H}:00 UTC with {d['unexplained']} unexplained questions, "
                    f"though it was active at {when} on only {d['active']} of {d['observed']} {unit} before "
                    f"({domains})."
                )
            else:
                reasons.append(
                    f"{d['unexplained']} unexplained questions at {d['hour']:%Y-%m-%d %H}:00 UTC, "
                    f"{d['unexplained'] / max(d['busy'], 1):.0f}x its usual busy hour ({d['busy']:.0f}) ({domains})."
                )
        if len(found) > 4:
            reasons.append(f"{plural(len(found) - 4, 'more departing hour')} in the window.")
        hours = [d["hour"] for d in found]
        findings.append(
            Finding(
                kind="behaviour_change",
                client=client,
                score=score,
                reasons=reasons,
                sub_scores=subs,
                first_seen=min(hours),
                last_seen=max(hours) + (HOUR - dt.timedelta(microseconds=1)),  # no overflow in 9999
                evidence_count=sum(d["unexplained"] for d in found),
            )
        )
    return findings
