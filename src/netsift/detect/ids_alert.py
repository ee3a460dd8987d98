"""ids_alert — a rule of an intrusion detection or prevention system fired (``ids_alerts``: Suricata's alerts,
FortiGate IPS and PAN-OS threat logs).

The sensor already judged the traffic; what netsift adds is grouping and ranking beside its own findings. One
finding per (local end, rule): the local end of the alerts is the source when it is in a private range, else
the destination when that is, else the source. As for every finding, ``client`` is the actor and ``host``
the target: when the local end sent most of the alerts, it is the client and the one peer (if only one) the
host; when it received them from one peer, that peer is the client and the local end the host; from many
peers (a scan), the local end is the client and the peers are named in the reasons. The score starts from the
rule's severity (``severity_1`` for priority 1 ... ``severity_other`` for 4 and above), rises with how often it
fired (log scale, 1 to 100) and for an alert the sensor let through, and falls when every one was blocked
(an IPS dropped it: worth a look, not an incident). The signature text comes from the rule set, never from
the traffic.
"""

from __future__ import annotations

import ipaddress

import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.scope import PRIVATE_NETWORKS
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding, finding_id
from netsift.store.base import Store

SETTINGS = (
    Setting("severity_1", 0.8, "Score of an alert of priority 1 (the most severe).", 0, 1),
    Setting("severity_2", 0.6, "Score of an alert of priority 2.", 0, 1),
    Setting("severity_3", 0.4, "Score of an alert of priority 3.", 0, 1),
    Setting("severity_other", 0.3, "Score of an alert of priority 4 or more, or none.", 0, 1),
    Setting("repeat_bonus", 0.1, "Added at most when the rule fired many times for the host (log scale, 1 to "
            "100).", 0, 1),
    Setting("blocked_discount", 0.15, "Taken off when the sensor blocked every one of them (an IPS drop).", 0, 1),
    MIN_SCORE,
)

PEERS_SHOWN = 5

GATHER = """
    SELECT src, dest, signature_id, any_value(signature) AS signature, any_value(category) AS category,
           min(severity) AS severity, count(*) AS times, min(ts) AS first_seen, max(ts) AS last_seen,
           sum(CASE WHEN action = 'blocked' THEN 1 ELSE 0 END) AS blocked, any_value(app_proto) AS app_proto
    FROM ids_alerts
    GROUP BY src, dest, signature_id
"""


def is_local(address: str | None) -> bool:
    """Whether an address is in a private range (the ranges the client scope calls local)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in PRIVATE_NETWORKS)


def by_host(pairs: pl.DataFrame) -> pl.DataFrame:
    """Alerts grouped by (src, dest, rule) -> by (host, rule): the local end is the host, the other the peer."""
    local = {a: is_local(a) for a in set(pairs["src"].drop_nulls()) | set(pairs["dest"].drop_nulls())}
    src_local = pairs["src"].replace_strict(local, default=False, return_dtype=pl.Boolean)
    dest_local = pairs["dest"].replace_strict(local, default=False, return_dtype=pl.Boolean)
    src_side = src_local | ~dest_local
    return (pairs.with_columns(host=pl.when(src_side).then(pl.col("src")).otherwise(pl.col("dest")),
                               peer=pl.when(src_side).then(pl.col("dest")).otherwise(pl.col("src")))
            .filter(pl.col("host").is_not_null())
            .group_by("host", "signature_id")
            .agg(pl.col("signature").drop_nulls().first(), pl.col("category").drop_nulls().first(),
                 pl.col("severity").min(), pl.col("times").sum(), pl.col("first_seen").min(),
                 pl.col("last_seen").max(), pl.col("blocked").sum(), pl.col("app_proto").drop_nulls().first(),
                 peers=pl.col("peer").drop_nulls().n_unique(),
                 as_source=pl.col("times").filter(pl.col("host") == pl.col("src")).sum(),
                 some_peers=pl.col("peer").drop_nulls().unique().sort().head(PEERS_SHOWN))
            .sort("host", "signature_id"))


def score_alerts(severity: int | None, times: int, blocked: int, s: Settings) -> tuple[float, dict[str, float]]:
    base = {1: s.severity_1, 2: s.severity_2, 3: s.severity_3}.get(severity or 0, s.severity_other)
    repeated = log_ramp(times, 1, 100)
    all_blocked = 1.0 if times and blocked == times else 0.0
    subs = {"severity": base, "repeated": repeated, "blocked": all_blocked}
    return base + s.repeat_bonus * repeated - s.blocked_discount * all_blocked, subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not store.has_table("ids_alerts") or not store.scalar("SELECT count(*) FROM ids_alerts"):
        return []
    findings = []
    for r in by_host(store.frame(GATHER)).iter_rows(named=True):
        score, subs = score_alerts(r["severity"], r["times"], r["blocked"], s)
        if score < s.min_score:
            continue
        peers = [p for p in (r["some_peers"] or []) if p]
        with_whom = (f" with {peers[0]}" if r["peers"] == 1 and peers else
                     f" with {r['peers']:,} peers ({', '.join(peers)}{', ...' if r['peers'] > len(peers) else ''})"
                     if peers else "")
        sid = r["signature_id"]
        outbound = 2 * (r["as_source"] or 0) >= r["times"]
        reasons = [
            f"The IDS rule {r['signature'] or 'without a message'!r} (sid {sid}"
            + (f", {r['category']}" if r["category"] else "")
            + (f", priority {r['severity']}" if r["severity"] is not None else "")
            + f") fired {plural(r['times'], 'time')} for {r['host']}{with_whom}"
            + (f" over {r['app_proto']}" if r["app_proto"] else "") + ".",
        ]
        if subs["blocked"]:
            reasons.append("The sensor blocked every one of them (IPS mode).")
        elif r["blocked"]:
            reasons.append(f"The sensor blocked {r['blocked']:,} of them; the others went through.")
        findings.append(Finding(
            kind="ids_alert", score=score, reasons=reasons, sub_scores=subs,
            first_seen=r["first_seen"], last_seen=r["last_seen"], evidence_count=r["times"],
            # client the actor, host the target: the local end when it sent most of them, else the one peer
            # that attacked it (an inbound attack from many peers stays under the local end)
            client=r["host"] if outbound or r["peers"] != 1 or not peers else peers[0],
            host=(peers[0] if r["peers"] == 1 and peers else None) if outbound else
            (r["host"] if r["peers"] == 1 and peers else None),
            # one finding per (host, rule): the rule's id is part of the finding's identity
            id=finding_id("ids_alert", r["host"], f"sid:{sid}"),
        ))
    return findings
