"""cleartext_credential — a password sent in clear text, seen in a capture.

Every row of ``credentials`` (HTTP Basic and form posts, FTP, POP3, IMAP, SMTP AUTH, LDAP simple bind,
SOCKS5, Telnet) is a password anyone on the path could read. One finding per (client, server, protocol,
account): ``client`` is the host that sent it, ``host`` the server it was sent to (the HTTP Host where
known), ``account`` the user name. The score starts at ``base_score``; an administrative account name
(root, admin, administrator, sa, ...) and repeated sending (a script or a mail client polling with the same
password) raise it. The secret itself never appears in the finding (the table holds it masked).
"""

from __future__ import annotations

from netsift.config import Setting, Settings
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding
from netsift.store.base import Store

PRIVILEGED = frozenset(("root", "admin", "administrator", "sa", "postgres", "oracle", "system", "supervisor",
                        "enable", "cisco", "manager", "domain admin"))

SETTINGS = (
    Setting("base_score", 0.55, "Score of one password seen in clear text.", 0, 1),
    Setting("privileged_bonus", 0.2, "Added when the account is an administrative one (root, admin, sa ...).", 0, 1),
    Setting("repeat_bonus", 0.1, "Added at most for the same credential sent many times (log scale, 1 to 50).",
            0, 1),
    MIN_SCORE,
)

GATHER = """
    SELECT client, server, server_port, protocol, account, any_value(host) AS host, count(*) AS times,
           min(ts) AS first_seen, max(ts) AS last_seen, any_value(detail) AS detail
    FROM credentials
    GROUP BY client, server, server_port, protocol, account
    ORDER BY client, server, protocol, account
"""


def score_credential(account: str | None, times: int, s: Settings) -> tuple[float, dict[str, float]]:
    privileged = 1.0 if account and account.strip().lower().split("\\")[-1].split("@")[0] in PRIVILEGED else 0.0
    repeated = log_ramp(times, 1, 50)
    subs = {"cleartext": 1.0, "privileged": privileged, "repeated": repeated}
    return s.base_score + s.privileged_bonus * privileged + s.repeat_bonus * repeated, subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not store.has_table("credentials") or not store.scalar("SELECT count(*) FROM credentials"):
        return []
    findings = []
    for r in store.frame(GATHER).iter_rows(named=True):
        score, subs = score_credential(r["account"], r["times"], s)
        if score < s.min_score:
            continue
        who = f"account {r['account']!r}" if r["account"] else "a password without a user name"
        target = r["host"] if r["host"] and r["host"] != r["server"] else r["server"]
        reasons = [
            f"{r['client']} sent {who} and its password in clear text over {r['protocol']} to {target} "
            f"({r['server']}:{r['server_port']}), {plural(r['times'], 'time')}"
            + (f" ({r['detail']})." if r["detail"] else "."),
            "Anyone on the path can read it: change the password and move the service to an encrypted protocol "
            "(HTTPS, FTPS/SFTP, IMAPS/POP3S, SMTP with STARTTLS, LDAPS).",
        ]
        if subs["privileged"]:
            reasons.append(f"{r['account']!r} is an administrative account.")
        findings.append(Finding(kind="cleartext_credential", score=score, reasons=reasons, client=r["client"],
                                sub_scores=subs, first_seen=r["first_seen"], last_seen=r["last_seen"],
                                evidence_count=r["times"], account=r["account"], host=target))
    return findings
