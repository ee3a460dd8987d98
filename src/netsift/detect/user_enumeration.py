"""user_enumeration — one source trying account names that do not exist.

Per client: distinct account names the logs call unknown (``logon_events.unknown_account``: sshd's
``Invalid user``/``for invalid user``, Windows 4625 sub-status 0xC0000064, Kerberos 4768/4771 status 0x6
"client not found in the Kerberos database", 4776 0xC0000064). Reported from ``min_unknown`` distinct
unknown names; a source guessing a wordlist of user names (admin, test, oracle, postgres, ...) is finding
out which accounts exist before it tries passwords.
"""

from __future__ import annotations

from netsift.config import Setting, Settings
from netsift.detect.logons import has_logons, one_per_event, top, where
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_unknown", 5, "Distinct unknown account names from one source where enumeration starts.", 1, 1e6),
    Setting("high_unknown", 100, "Distinct unknown account names for a full breadth sub-score.", 2, 1e7),
    MIN_SCORE,
)

SQL = """
SELECT client, host, account, ts, service, repeats FROM logon_events
WHERE unknown_account AND client IS NOT NULL AND account IS NOT NULL
ORDER BY client, ts
"""


def score_enumeration(unknown: int, s: Settings) -> tuple[float, dict[str, float]]:
    if unknown < s.min_unknown:
        return 0.0, {}
    subs = {"breadth": log_ramp(unknown, s.min_unknown / 2, s.high_unknown)}
    return 0.3 + 0.55 * subs["breadth"], subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not has_logons(store):
        return []
    rows = one_per_event(store.frame(SQL))
    found = []
    for (client,), g in rows.group_by(["client"], maintain_order=True):
        names = g["account"].str.to_lowercase()
        unknown = names.n_unique()
        score, subs = score_enumeration(unknown, s)
        if score < s.min_score:
            continue
        hosts = [h for h in g["host"].unique().to_list() if h]
        host = hosts[0] if len(hosts) == 1 else None
        services = sorted(set(g["service"].drop_nulls().to_list()))
        reasons = [
            f"{client} tried {plural(unknown, 'account name')} that do not exist{where(host)} "
            f"({plural(g.height, 'attempt')}, {', '.join(services)}; threshold {s.min_unknown:g}).",
            f"Names: {top(names.to_list(), 10)}.",
        ]
        found.append(Finding(kind="user_enumeration", client=str(client), host=host, score=score, reasons=reasons,
                             sub_scores=subs, first_seen=g["ts"].min(), last_seen=g["ts"].max(),  # type: ignore[arg-type]
                             evidence_count=g.height))
    return found

