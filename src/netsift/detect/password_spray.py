"""password_spray — one source trying many accounts, a few passwords each.

Per client: the accounts it failed to log on to within any ``window_minutes`` (a spray tries one or two
passwords on each of many accounts, to stay under lockout thresholds). Reported when at least
``min_accounts`` distinct accounts fail in the window and the median attempts per account is at most
``max_tries_per_account``; Kerberos pre-authentication failures (4771, status 0x18) and NTLM (4776) from
one address across a domain's accounts are the classic Active Directory spray.
"""

from __future__ import annotations

import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.logons import failures, has_logons, top
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_accounts", 10, "Distinct accounts failed within the window where a spray starts.", 2, 1e6),
    Setting("high_accounts", 200, "Distinct accounts within the window for a full breadth sub-score.", 3, 1e7),
    Setting("window_minutes", 60, "Width of the window, minutes.", 1, 10080),
    Setting("max_tries_per_account", 3, "Median failed attempts per account above which it is brute force, not "
            "a spray.", 1, 1000),
    MIN_SCORE,
)


def score_spray(accounts: int, median_tries: float, s: Settings) -> tuple[float, dict[str, float]]:
    if accounts < s.min_accounts or median_tries > s.max_tries_per_account:
        return 0.0, {}
    subs = {"breadth": log_ramp(accounts, s.min_accounts / 2, s.high_accounts),
            "low_and_slow": 1.0 if median_tries <= 1.5 else 0.5}
    return 0.45 + 0.4 * subs["breadth"] + 0.1 * subs["low_and_slow"], subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not has_logons(store):
        return []
    rows = failures(store).filter(pl.col("account").is_not_null())
    found = []
    window = f"{int(s.window_minutes * 60)}s"
    for (client,), g in rows.group_by(["client"], maintain_order=True):
        if g["account"].n_unique() < s.min_accounts:
            continue
        g = g.sort("ts").with_columns(acct=pl.col("account").str.to_lowercase())
        # per window: distinct accounts, the window with most
        windows = g.group_by_dynamic("ts", every=window, period=window, offset="0s").agg(
            accounts=pl.col("acct").n_unique(), tries=pl.len(), names=pl.col("acct"),
            first=pl.col("ts").min(), last=pl.col("ts").max(), hosts=pl.col("host").unique())
        best = windows.sort("accounts", descending=True).row(0, named=True)
        per_account = pl.Series(best["names"]).value_counts()["count"]
        median = float(per_account.cast(pl.Float64).median() or 0.0)  # type: ignore[arg-type]
        score, subs = score_spray(best["accounts"], median, s)
        if score < s.min_score:
            continue
        hosts = [h for h in best["hosts"] if h]
        methods = sorted({m for m in g["method"].to_list() if m})
        reasons = [
            f"{client} failed to log on to {plural(best['accounts'], 'distinct account')} within "
            f"{s.window_minutes:g} minutes ({best['first']:%Y-%m-%d %H:%M} to {best['last']:%H:%M} UTC), "
            f"a median of {median:g} attempts each: a password spray (spray threshold {s.min_accounts:g} accounts).",
            f"Accounts: {top(list(best['names']), 8)}; method {', '.join(methods) or 'not logged'}"
            + (f"; against {', '.join(hosts[:3])}" if hosts else "") + ".",
        ]
        found.append(Finding(kind="password_spray", client=str(client), host=hosts[0] if len(hosts) == 1 else None,
                             score=score, reasons=reasons, sub_scores=subs, first_seen=g["ts"][0],
                             last_seen=g["ts"][-1], evidence_count=int(best["tries"])))
    return found
