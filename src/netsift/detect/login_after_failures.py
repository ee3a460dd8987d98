"""login_after_failures — a successful logon from a source right after its failures: a guess that worked.

Per success (client, host, account): the failed logons from the same client against the same host in the
``window_minutes`` before it. From ``min_failures`` of them the success is reported, high: after a brute
force or a spray, the one success is the account to reset and the host to look at. Failures on the same
account weigh more than failures spread over others.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.logons import failures, has_logons, successes, top, where
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_failures", 5, "Failed logons from the source before the success for a finding.", 1, 1e6),
    Setting("window_minutes", 60, "How far before the success its failures count, minutes.", 1, 10080),
    Setting("high_failures", 50, "Failures before the success for a full sub-score.", 2, 1e7),
    MIN_SCORE,
)


def score_success(before: int, same_account: int, s: Settings) -> tuple[float, dict[str, float]]:
    if before < s.min_failures:
        return 0.0, {}
    subs = {"failures_before": log_ramp(before, s.min_failures / 2, s.high_failures),
            "same_account": same_account / before}
    return 0.85 + 0.1 * subs["failures_before"] + 0.05 * subs["same_account"], subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not has_logons(store):
        return []
    ok = successes(store)
    if not ok.height:
        return []
    bad = failures(store)
    window = dt.timedelta(minutes=s.window_minutes)
    best: dict[tuple, Finding] = {}
    pairs = ok.select("client", "host").unique()
    bad = bad.join(pairs, on=["client", "host"], how="semi", nulls_equal=True)
    for r in ok.iter_rows(named=True):
        prior = bad.filter((pl.col("client") == r["client"]) & _same(pl.col("host"), r["host"])
                           & (pl.col("ts") <= r["ts"]) & (pl.col("ts") >= r["ts"] - window))
        if prior.height < s.min_failures:
            continue
        accounts = [a for a in prior["account"].to_list() if a]
        same = sum(1 for a in accounts if r["account"] and a.lower() == r["account"].lower())
        score, subs = score_success(prior.height, same, s)
        if score < s.min_score:
            continue
        key = (r["client"], r["host"], r["account"])
        if key in best and best[key].score >= score:
            continue
        reasons = [
            f"{r['client']} logged on as {r['account'] or '?'}{where(r['host'])} at {r['ts']:%Y-%m-%d %H:%M:%S} UTC "
            f"({r['service']}, {r['method'] or 'method not logged'}) after {plural(prior.height, 'failed logon')} "
            f"in the {s.window_minutes:g} minutes before: a guessed or stolen password that worked.",
            f"{same} of the failures were on {r['account'] or 'the same account'}; accounts tried: {top(accounts)}.",
        ]
        best[key] = Finding(kind="login_after_failures", client=str(r["client"]), host=r["host"],
                            account=r["account"], score=score, reasons=reasons, sub_scores=subs,
                            first_seen=prior["ts"].min(), last_seen=r["ts"],  # type: ignore[arg-type]
                            evidence_count=prior.height + 1)
    return list(best.values())


def _same(column: pl.Expr, value: str | None) -> pl.Expr:
    return column.is_null() if value is None else column == value
