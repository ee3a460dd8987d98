"""new_logon_source — an account logging on from a source it has never used, against its own history.

Per account: its successful logons, oldest first. A success from a client the account never logged on
from before, once the account has at least ``min_history`` successes over ``min_history_days`` days
from other sources, and within the last ``recent_days`` of the data, is reported; more when the account
is privileged (root, Administrator, ...) or the source is outside the local networks.
"""

from __future__ import annotations

import datetime as dt

from netsift.config import Setting, Settings
from netsift.detect.logons import account_successes, where
from netsift.detect.scope import EXTERNAL, client_scopes
from netsift.detect.scoring import MIN_SCORE, plural
from netsift.findings import Finding
from netsift.store.base import Store

PRIVILEGED = ("root", "administrator", "admin", "sa", "krbtgt", "domain admins")

SETTINGS = (
    Setting("min_history", 5, "Successful logons an account needs before the new source.", 1, 1e6),
    Setting("min_history_days", 2, "Days of history an account needs before the new source.", 0, 3650),
    Setting("recent_days", 7, "Only new sources within this many days of the end of the data are reported.",
            0.01, 3650),
    MIN_SCORE,
)


def score_new_source(privileged: bool, external: bool) -> tuple[float, dict[str, float]]:
    subs = {"privileged": float(privileged), "external_source": float(external)}
    return 0.35 + 0.2 * subs["privileged"] + 0.2 * subs["external_source"], subs


def run(store: Store, s: Settings) -> list[Finding]:
    ok = account_successes(store)
    if not ok.height:
        return []
    recent = ok["ts"].max() - dt.timedelta(days=s.recent_days)  # type: ignore[operator]
    scopes = client_scopes(ok["client"].unique().to_list())
    found = []
    for (acct,), g in ok.group_by(["acct"], maintain_order=True):
        seen: set[str] = set()
        first_ts = g["ts"][0]
        for i, r in enumerate(g.iter_rows(named=True)):
            if r["client"] not in seen and i >= s.min_history and r["ts"] >= recent \
                    and r["ts"] - first_ts >= dt.timedelta(days=s.min_history_days):
                external = scopes.get(r["client"]) == EXTERNAL
                score, subs = score_new_source(str(acct) in PRIVILEGED, external)
                if score >= s.min_score:
                    found.append(Finding(
                        kind="new_logon_source", client=str(r["client"]), account=r["account"], host=r["host"],
                        score=score, sub_scores=subs, first_seen=r["ts"], last_seen=r["ts"], evidence_count=1,
                        reasons=[f"{r['account']} logged on{where(r['host'])} from {r['client']} at "
                                 f"{r['ts']:%Y-%m-%d %H:%M} UTC, a source it never used in "
                                 f"{plural(i, 'earlier logon')} since {first_ts:%Y-%m-%d} (from "
                                 f"{', '.join(sorted(seen)[:5])})."
                                 + (" The source is outside the local networks." if external else "")
                                 + (" A privileged account." if subs["privileged"] else "")]))
            seen.add(r["client"])
    return found
