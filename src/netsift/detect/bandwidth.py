"""bandwidth — a client sending far more than it usually does, against its own history.

Per client, bytes sent (``connections.bytes_out``: Zeek conn.log's ``orig_bytes``, a capture's payload
bytes) per hour it was active. The client's worst hour is compared with its own other active hours by
robust statistics — their median and median absolute deviation (MAD, scaled by 1.4826 to a standard
deviation) — so a few busy hours in its history do not hide a surge, and one surge does not raise its own
baseline. A finding needs the hour to reach ``min_bytes``, ``min_hours`` of history, a robust z-score of
``min_z`` and ``min_ratio`` times the median. ``host`` is the server that received most of that hour's
bytes (exfiltration goes somewhere). Clients without connections rows (DNS-only stores) are never judged.
"""

from __future__ import annotations

import statistics

import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.scoring import MIN_SCORE, log_ramp, plural
from netsift.findings import Finding
from netsift.store.base import Store

SETTINGS = (
    Setting("min_bytes", 50_000_000, "Bytes sent in one hour below which no surge is reported.", 1, 1e15),
    Setting("high_bytes", 2_000_000_000, "Bytes sent in one hour for a full volume sub-score.", 1, 1e16),
    Setting("min_hours", 6, "Active hours of the client's own history needed to judge it.", 2, 10_000),
    Setting("min_z", 6, "Robust z-score (vs median and MAD of its other hours) where a surge starts.", 1, 1000),
    Setting("min_ratio", 5, "Peak hour over the median of its other hours where a surge starts.", 1, 1e6),
    MIN_SCORE,
)

HOURLY = """
    SELECT client, date_trunc('hour', ts) AS hour, sum(coalesce(bytes_out, 0)) AS bytes_out, count(*) AS conns
    FROM connections WHERE client IS NOT NULL
    GROUP BY client, date_trunc('hour', ts)
"""
TOP_SERVER = """
    SELECT server, sum(coalesce(bytes_out, 0)) AS sent FROM connections
    WHERE client = ? AND ts >= ? AND ts < ? + INTERVAL 1 HOUR
    GROUP BY server ORDER BY sent DESC, server LIMIT 1
"""


def human_bytes(n: float | None) -> str:
    """1,234 B, 12.3 MB, 4.0 GB (decimal units)."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} PB"


def robust_baseline(history: list[int]) -> tuple[float, float]:
    """(median, MAD scaled to a standard deviation) of the client's other active hours."""
    if not history:
        return 0.0, 0.0
    median = float(statistics.median(history))
    return median, float(statistics.median(abs(x - median) for x in history)) * 1.4826


def score_surge(peak: int, history: list[int], s: Settings) -> tuple[float, dict[str, float]] | None:
    """(score, sub_scores) of a client's worst hour ``peak`` against its other hours, or None."""
    if peak < s.min_bytes or len(history) < s.min_hours:
        return None
    median, mad = robust_baseline(history)
    # a floor on the spread: a client sending exactly the same every hour has MAD 0
    spread = max(mad, 0.05 * median, 1.0)
    z = (peak - median) / spread
    ratio = peak / max(median, 1.0)
    if z < s.min_z or ratio < s.min_ratio:
        return None
    subs = {"volume": log_ramp(peak, s.min_bytes / 2, s.high_bytes), "z": log_ramp(z, s.min_z / 2, 10 * s.min_z),
            "ratio": log_ramp(ratio, s.min_ratio / 2, 10 * s.min_ratio), "robust_z": round(z, 2),
            "median_bytes": median, "mad_bytes": round(mad, 1)}
    score = 0.3 + 0.7 * (0.5 * subs["volume"] + 0.25 * subs["z"] + 0.25 * subs["ratio"])
    return score, subs


def run(store: Store, s: Settings) -> list[Finding]:
    if not store.has_table("connections") or not store.scalar("SELECT count(*) FROM connections"):
        return []
    hourly = store.frame(HOURLY)
    findings = []
    for (client,), rows in hourly.sort("client", "hour").group_by("client", maintain_order=True):
        if rows.height <= s.min_hours:
            continue
        peak_row = rows.sort("bytes_out", "hour", descending=[True, False]).row(0, named=True)
        peak = int(peak_row["bytes_out"])
        history = rows.filter(pl.col("hour") != peak_row["hour"])["bytes_out"].cast(pl.Int64).to_list()
        scored = score_surge(peak, history, s)
        if scored is None:
            continue
        score, subs = scored
        if score < s.min_score:
            continue
        hour = peak_row["hour"]
        top = store.rows(TOP_SERVER, [client, hour, hour])
        server, sent = top[0] if top else (None, 0)
        reasons = [
            f"Sent {human_bytes(peak)} in one hour ({hour:%Y-%m-%d %H:00} UTC) over "
            f"{plural(peak_row['conns'], 'connection')}: {peak / max(subs['median_bytes'], 1):,.0f}× its typical "
            f"active hour (median {human_bytes(subs['median_bytes'])}, robust z {subs['robust_z']:g} over "
            f"{plural(len(history), 'other active hour')}).",
        ]
        if server is not None and peak:
            reasons.append(f"{sent / peak:.0%} of it went to {server}.")
        findings.append(Finding(kind="bandwidth", score=score, reasons=reasons, client=str(client),
                                sub_scores=subs, first_seen=hour, last_seen=hour, evidence_count=int(peak_row["conns"]),
                                host=server))
    return findings
