"""off_hours_logon — an account logging on at an hour of the day it never uses, against its own history.

Per account: the hours of the day (UTC) of its successful logons. A success within the last
``recent_days`` at an hour holding at most ``max_share`` of the account's earlier successes (none, by
default: an hour it never used), once it has at least ``min_history`` of them, is reported. Hours within
``neighbour_hours`` of a usual hour count as usual (someone starting an hour early is not news).
"""

from __future__ import annotations

import datetime as dt

from netsift.config import Setting, Settings
from netsift.detect.logons import account_successes, where
from netsift.detect.scoring import MIN_SCORE, plural
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_history", 10, "Earlier successful logons an account needs to have usual hours.", 2, 1e6),
    Setting("max_share", 0.0, "Share of the earlier logons at an hour (and its neighbours) below which it is "
            "unusual.", 0, 0.5),
    Setting("neighbour_hours", 1, "Hours either side of a usual hour that count as usual.", 0, 6),
    Setting("recent_days", 7, "Only logons within this many days of the end of the data are reported.", 0.01, 3650),
    MIN_SCORE,
)


def score_off_hours(history: int, s: Settings) -> tuple[float, dict[str, float]]:
    subs = {"history": min(1.0, history / (10 * s.min_history))}
    return 0.3 + 0.2 * subs["history"], subs


def run(store: Store, s: Settings) -> list[Finding]:
    ok = account_successes(store)
    if not ok.height:
        return []
    recent = ok["ts"].max() - dt.timedelta(days=s.recent_days)  # type: ignore[operator]
    found = []
    for (acct,), g in ok.group_by(["acct"], maintain_order=True):
        hours = g["hour"].to_list()
        stamps = g["ts"].to_list()
        reported: set[int] = set()
        for i in range(s.min_history, len(hours)):
            if stamps[i] < recent or hours[i] in reported:
                continue
            near = {(hours[i] + d) % 24 for d in range(-int(s.neighbour_hours), int(s.neighbour_hours) + 1)}
            share = sum(1 for h in hours[:i] if h in near) / i
            if share > s.max_share:
                continue
            score, subs = score_off_hours(i, s)
            if score < s.min_score:
                continue
            reported.add(hours[i])
            r = g.row(i, named=True)
            usual = sorted(set(hours[:i]))
            found.append(Finding(
                kind="off_hours_logon", client=r["client"], account=r["account"], host=r["host"], score=score,
                sub_scores={**subs, "share": share}, first_seen=r["ts"], last_seen=r["ts"], evidence_count=1,
                reasons=[f"{r['account']} logged on{where(r['host'])} from {r['client']} at {r['ts']:%Y-%m-%d %H:%M} "
                         f"UTC, an hour it has not used in {plural(i, 'earlier logon')} (usual hours UTC: "
                         f"{', '.join(f'{h:02d}' for h in usual)})."]))
    return found
