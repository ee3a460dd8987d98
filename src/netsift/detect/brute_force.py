"""brute_force — many failed logons from one source against one host.

Per (client, host): failed logons (sshd Failed lines, PAM failures, Windows 4625/4771/4776 failures,
MSSQL 18456; PAM lines only when sshd logged none for that pair), the most of them within any
``window_minutes`` (fail2ban's default jail bans at 5 failures in 10 minutes; DeepBlueCLI flags a source
with 5 or more failed logons). The peak window is scored against ``min_failures`` and ``high_failures``,
with the total and the span over which the source kept trying; the finding names the account when one
takes most of the attempts. Failures spread over ``spray_accounts`` or more accounts with at most
``spray_tries`` each (median) are a spray, left to ``password_spray``.
"""

from __future__ import annotations

from netsift.config import Setting, Settings
from netsift.detect.logons import failures, has_logons, peak_window, top, where
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_failures", 5, "Failed logons within the window where a brute force starts (fail2ban: 5).", 2, 1e6),
    Setting("window_minutes", 10, "Width of the sliding window, minutes (fail2ban's findtime: 10).", 1, 10080),
    Setting("high_failures", 100, "Failed logons within the window for a full volume sub-score.", 3, 1e7),
    Setting("spray_accounts", 10, "Failures spread over at least this many accounts, at most spray_tries each, are "
            "left to password_spray.", 2, 1e6),
    Setting("spray_tries", 3, "Median failures per account at or below which a spread is a spray.", 1, 1000),
    Setting("account_share", 0.8, "Share of the attempts one account needs to be named on the finding.", 0.5, 1),
    MIN_SCORE,
)


def score_brute_force(peak: int, total: int, s: Settings) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of a source with ``peak`` failures in its worst window and ``total`` in all."""
    if peak < s.min_failures:
        return 0.0, {}
    subs = {"volume": log_ramp(peak, s.min_failures / 2, s.high_failures),
            "persistence": log_ramp(total, s.min_failures, 20 * s.high_failures)}
    # at most 0.9: the success that may follow (login_after_failures) ranks above the attempts
    return 0.35 + 0.45 * subs["volume"] + 0.1 * subs["persistence"], subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not has_logons(store):
        return []
    rows = failures(store)
    found = []
    for (client, host), g in rows.group_by(["client", "host"], maintain_order=True):
        if g.height < s.min_failures:
            continue
        peak, start = peak_window(g["ts"], s.window_minutes * 60)
        score, subs = score_brute_force(peak, g.height, s)
        if score < s.min_score:
            continue
        accounts = [a for a in g["account"].to_list() if a]
        per_account = sorted(accounts.count(a) for a in set(accounts))
        if len(per_account) >= s.spray_accounts and per_account[len(per_account) // 2] <= s.spray_tries:
            continue  # a spray: password_spray reports it
        top_account = max(set(accounts), key=accounts.count) if accounts else None
        account = top_account if accounts and accounts.count(top_account) >= s.account_share * g.height else None
        services = sorted({v for v in g["service"].to_list() if v})
        first, last = g["ts"][0], g["ts"][-1]
        reasons = [
            f"{peak} failed logons from {client}{where(host)} within {s.window_minutes:g} minutes (from "
            f"{g['ts'][start]:%Y-%m-%d %H:%M} UTC; fail2ban bans at {s.min_failures:g} in {s.window_minutes:g} min).",
            f"{plural(g.height, 'failed logon')} in all over {_span(last - first)} ({', '.join(services)}), "
            f"accounts tried: {top(accounts) if accounts else 'not logged'}.",
        ]
        found.append(Finding(kind="brute_force", client=str(client), host=host, account=account, score=score,
                             reasons=reasons, sub_scores=subs, first_seen=first, last_seen=last,
                             evidence_count=g.height))
    return found


def _span(delta) -> str:
    seconds = delta.total_seconds()
    return (f"{seconds / 86400:.1f} days" if seconds >= 172800 else f"{seconds / 3600:.1f} h" if seconds >= 7200
            else f"{seconds / 60:.0f} min")
