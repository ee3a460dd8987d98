"""The data behind every chart of the HTML report and the dashboard: small aggregate queries over the
rollups (:mod:`netsift.store.rollups`), ``domain_stats``, ``findings`` and the enrichment tables.

Each function returns plain JSON-able values (lists of dicts, numbers, ISO strings); the dashboard's JSON
twins return exactly these, and :mod:`netsift.report.charts` turns them into figures. Nothing here
recomputes a baseline or a score. Enrichment tables may be absent or empty: functions then return empty
lists, and the views show an explicit empty state. All SQL is parameterised.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


# First reason's label: "top sites: rank 7 in tranco; prevalent: ..." -> "top sites"
EXPLANATION_SQL = "coalesce(split_part(split_part(normal_reason, '; ', 1), ':', 1), 'not normal')"
ANSWER_IS_IP = r"regexp_matches(answer, '^[0-9.]+$|^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$')"


def dicts(store, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in store.dicts(sql, params)]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def has_rows(store, table: str) -> bool:
    return store.has_table(table) and bool(store.rows(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0])


# --- totals --------------------------------------------------------------------------------------------


def summary(store) -> dict[str, Any]:
    """Rows, clients, time span, formats, rejected lines, domains explained and findings."""
    rows, clients, start, end = store.rows(
        "SELECT coalesce(sum(queries), 0), count(DISTINCT client), min(hour), max(hour) FROM rollup_client_hour")[0]
    formats = dicts(store, "SELECT coalesce(format, '?') AS format, count(*) AS files, coalesce(sum(rows), 0) AS rows, "
                           "coalesce(sum(rejected), 0) AS rejected FROM ingested_files GROUP BY ALL ORDER BY rows DESC")
    domains, normal = store.rows(
        "SELECT count(*), count(normal_reason) FROM domain_stats")[0]
    findings = store.rows("SELECT count(*) FROM findings")[0][0]
    drawn = drawn_range(store)
    outside = 0
    if drawn is not None and (drawn[0] > start or drawn[1] < end):
        outside = int(store.rows("SELECT coalesce(sum(queries), 0) FROM rollup_client_hour WHERE hour < ? OR hour > ?",
                                 list(drawn))[0][0])
    return {
        "rows": int(rows), "clients": int(clients),
        "start": _plain(start), "end": _plain(end_of_hour(end)) if end else None,
        # charts draw the bulk of the data; questions stamped far from it (a misread year, a broken clock)
        # are counted here instead of stretching every time axis over centuries
        "drawn_start": _plain(drawn[0]) if drawn else None,
        "drawn_end": _plain(end_of_hour(drawn[1])) if drawn else None, "outside_drawn": outside,
        "files": sum(f["files"] for f in formats), "formats": formats,
        "rejected": int(sum(f["rejected"] for f in formats)),
        "domains": int(domains), "normal_domains": int(normal), "findings": int(findings),
    }


def end_of_hour(hour: dt.datetime) -> dt.datetime:
    """The end of the hour that starts at ``hour`` (the last representable instant in 9999-12-31 23:00)."""
    return hour + dt.timedelta(hours=1) if hour < dt.datetime.max - dt.timedelta(hours=1) else dt.datetime.max


# Time buckets: (name, seconds, DuckDB interval). Hour and longer read the per-hour rollups; shorter ones
# read dns_queries, only for spans under MIN_POINTS hours.
BUCKETS = (("minute", 60, "1 minute"), ("5 min", 300, "5 minutes"), ("15 min", 900, "15 minutes"),
           ("hour", 3600, "1 hour"), ("6 h", 6 * 3600, "6 hours"), ("day", 86400, "1 day"),
           ("week", 7 * 86400, "7 days"))
BUCKET_SECONDS = {name: secs for name, secs, _ in BUCKETS}
_INTERVAL = {name: interval for name, _, interval in BUCKETS}
MIN_POINTS, MAX_POINTS = 50, 500  # aim: this many buckets across the span shown
MAX_BUCKETS = 1000  # never more zero-filled buckets than this; beyond, zeros only beside the data
OUTLIER_SHARE = 0.01  # stray stamps: at most this share of the questions, at an end of the data ...
OUTLIER_MIN_GAP = dt.timedelta(days=30)  # ... apart from the rest by more than this and than the rest's span


def drawn_range(store, client: str | None = None, domain: str | None = None) -> tuple[dt.datetime, dt.datetime] | None:
    """(first hour, last hour) a time chart shows: every hour with data, unless stray stamps lie far from
    the rest (a year misread, a clock set to 2286): hours at either end holding at most OUTLIER_SHARE of
    the questions, separated from the rest by a gap longer than OUTLIER_MIN_GAP and than the rest's own
    span, are left out, so one stray stamp cannot stretch the axis (and the bucket size) over centuries."""
    table, cond, _raw, params = _where(client, domain)
    rows = store.rows(f"SELECT hour, sum(queries) FROM {table} WHERE {cond} GROUP BY hour ORDER BY hour", params)
    if not rows:
        return None
    hours = [h for h, _ in rows]
    counts = [int(q) for _, q in rows]
    total = sum(counts) or 1
    lo, hi = 0, len(hours) - 1
    # the largest tail (then head) that is small, and far from what remains
    tail = 0
    for k in range(hi, lo, -1):
        tail += counts[k]
        if tail > OUTLIER_SHARE * total:
            break
        gap = hours[k] - hours[k - 1]
        if gap > OUTLIER_MIN_GAP and gap > hours[k - 1] - hours[lo]:
            hi = k - 1
    head = 0
    for k in range(lo, hi):
        head += counts[k]
        if head > OUTLIER_SHARE * total:
            break
        gap = hours[k + 1] - hours[k]
        if gap > OUTLIER_MIN_GAP and gap > hours[hi] - hours[k + 1]:
            lo = k + 1
    return hours[lo], hours[hi]


def choose_bucket(span: dt.timedelta) -> str:
    """The smallest bucket that cuts ``span`` into at most MAX_POINTS; sub-hour buckets only when hours
    would give fewer than MIN_POINTS; week for anything longer (see :func:`fill_zeros`)."""
    seconds = span.total_seconds()
    hourly = seconds >= MIN_POINTS * 3600
    for name, secs, _ in BUCKETS:
        if (secs >= 3600) == hourly and seconds / secs <= MAX_POINTS:
            return name
    return "week"


def _where(client: str | None, domain: str | None) -> tuple[str, str, str, list]:
    """(rollup table, rollup condition, dns_queries condition, params) for a series' scope."""
    if domain is not None:
        return ("rollup_domain_hour", "registered_domain = ?",
                "query_name IN (SELECT query_name FROM domain_names WHERE registered_domain = ?)", [domain])
    if client is not None:
        return "rollup_client_hour", "client = ?", "client = ?", [client]
    return "rollup_client_hour", "true", "true", []


def bucket_for(store, client: str | None = None, domain: str | None = None) -> str:
    """The bucket that suits the time span of the store's questions (or one client's, or one domain's)."""
    table, cond, raw_cond, params = _where(client, domain)
    drawn = drawn_range(store, client, domain)
    if drawn is None:
        return "hour"
    start, end = drawn
    if (end - start).total_seconds() < (MIN_POINTS - 1) * 3600:  # exact stamps: sub-hour buckets may fit
        start, end = store.rows(f"SELECT min(ts), max(ts) FROM dns_queries WHERE ts >= ? AND ts <= ? AND "
                                f"{raw_cond}", [start, end_of_hour(end), *params])[0]
    return choose_bucket(end - start)


def timeline(store, client: str | None = None, bucket: str | None = None, domain: str | None = None,
             within: tuple[dt.datetime, dt.datetime] | None = None) -> list[dict]:
    """Questions (and NXDOMAIN answers) per time bucket, overall or for one client or registered domain,
    with empty buckets as zeros (see :func:`fill_zeros`). ``bucket`` defaults to :func:`bucket_for`'s;
    ``within`` (first hour, last hour) to :func:`drawn_range`'s."""
    bucket = bucket or bucket_for(store, client, domain)
    within = within or drawn_range(store, client, domain)
    if within is None:
        return []
    table, cond, raw_cond, params = _where(client, domain)
    interval = _bucket(bucket)
    lo, hi = within[0], end_of_hour(within[1])
    if BUCKET_SECONDS[bucket] >= 3600:
        sql = (f"SELECT time_bucket(INTERVAL '{interval}', hour) AS t, sum(queries), sum(nxdomain) FROM {table} "
               f"WHERE {cond} AND hour >= ? AND hour < ? GROUP BY ALL ORDER BY t")
    else:
        sql = (f"SELECT time_bucket(INTERVAL '{interval}', ts) AS t, count(*), "
               f"count(*) FILTER (WHERE response_code = 'NXDOMAIN') FROM dns_queries WHERE {raw_cond} "
               "AND ts >= ? AND ts < ? GROUP BY ALL ORDER BY t")
    rows = {t: (int(q), int(nx)) for t, q, nx in store.rows(sql, [*params, lo, hi])}
    return [{"t": t.isoformat(), "queries": q, "nxdomain": nx}
            for t, (q, nx) in fill_zeros(rows, bucket, (0, 0)).items()]


def zoomed_timeline(store, start: dt.datetime, end: dt.datetime, client: str | None = None,
                    domain: str | None = None) -> tuple[str, list[dict]]:
    """(bucket, series) for a chart zoomed to ``start``..``end``: the bucket chosen for that span, as for a
    whole chart (minutes when it spans under MIN_POINTS hours), so zooming in shows finer steps."""
    if end <= start:
        raise ValueError("the end of a zoomed range must come after its start")
    hours = (start.replace(minute=0, second=0, microsecond=0), end.replace(minute=0, second=0, microsecond=0))
    bucket = choose_bucket(end - start)
    return bucket, timeline(store, client, bucket, domain, within=hours)


def fill_zeros(rows: dict[dt.datetime, Any], bucket: str, zero: Any) -> dict[dt.datetime, Any]:
    """``rows`` (bucket start -> value) with every empty bucket between the first and the last as ``zero``,
    and one empty bucket either side (so a single bucket draws as a step); when that would exceed
    MAX_BUCKETS (a stamp centuries away), only the empty buckets beside the data, so the output is at most
    three times the data and the line still drops to zero between far-apart points."""
    if not rows:
        return {}
    step = dt.timedelta(seconds=BUCKET_SECONDS[bucket])
    starts = sorted(rows)
    dense = (starts[-1] - starts[0]) / step < MAX_BUCKETS
    wanted: set[dt.datetime] = set(starts)
    for t in starts:
        wanted.update(_neighbours(t, step))
    if dense:
        t = starts[0]
        while t < starts[-1]:
            t += step
            wanted.add(t)
    return {t: rows.get(t, zero) for t in sorted(wanted)}


def _neighbours(t: dt.datetime, step: dt.timedelta) -> list[dt.datetime]:
    out = []
    for sign in (-1, 1):
        try:
            out.append(t + sign * step)
        except OverflowError:  # year 1 or 9999
            pass
    return out


def _bucket(bucket: str) -> str:
    if bucket not in _INTERVAL:
        raise ValueError(f"bucket must be one of {', '.join(_INTERVAL)}, not {bucket!r}")
    return _INTERVAL[bucket]


def busiest_clients(store, limit: int = 6) -> list[dict]:
    return dicts(store, "SELECT client, sum(queries) AS queries FROM rollup_client_hour GROUP BY client "
                        "ORDER BY queries DESC, client LIMIT ?", [limit])


def client_timelines(store, limit: int = 6, bucket: str | None = None) -> list[dict]:
    """Small multiples: one timeline per busiest client, all in the same bucket (the whole store's)."""
    bucket = bucket or bucket_for(store)
    within = drawn_range(store)
    return [{"client": c["client"], "queries": c["queries"], "series": timeline(store, c["client"], bucket,
                                                                                 within=within)}
            for c in busiest_clients(store, limit)]


def heatmap(store, client: str, by: str = "day") -> dict[str, Any]:
    """Questions by hour of day (columns 0..23) and day (``by='day'``: each date) or weekday (0=Monday)."""
    row_expr = "CAST(hour AS DATE)" if by == "day" else "isodow(hour) - 1"
    cells = store.rows(f"SELECT {row_expr} AS r, hour(hour) AS h, sum(queries) FROM rollup_client_hour "
                       "WHERE client = ? GROUP BY ALL ORDER BY r, h", [client])
    rows = sorted({r for r, _, _ in cells})
    index = {r: i for i, r in enumerate(rows)}
    z = [[0] * 24 for _ in rows]
    for r, h, n in cells:
        z[index[r]][h] = int(n)
    labels = [_plain(r) for r in rows] if by == "day" else [
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[r] for r in rows]
    return {"client": client, "by": by, "rows": labels, "z": z}


# --- baseline ------------------------------------------------------------------------------------------


def normal_breakdown(store) -> list[dict]:
    """Registered domains and questions per explanation (top sites, prevalent, verdict, ...) and not normal."""
    return dicts(store, f"SELECT {EXPLANATION_SQL} AS explanation, normal_reason IS NOT NULL AS normal, "
                        "count(*) AS domains, coalesce(sum(queries), 0) AS queries FROM domain_stats "
                        "GROUP BY ALL ORDER BY normal DESC, queries DESC")


def top_domains(store, in_top_list: bool, limit: int = 15) -> list[dict]:
    """Busiest registered domains that are in (or not in) the loaded top-sites lists."""
    cond = "top_rank IS NOT NULL" if in_top_list else "top_rank IS NULL"
    return dicts(store, f"SELECT registered_domain AS domain, queries, clients, top_rank, normal_reason "
                        f"FROM domain_stats WHERE {cond} ORDER BY queries DESC, domain LIMIT ?", [limit])


# --- findings ------------------------------------------------------------------------------------------


def findings_by_kind(store) -> list[dict]:
    return dicts(store, "SELECT kind, severity, count(*) AS findings FROM findings GROUP BY ALL ORDER BY kind, severity")


def top_findings(store, limit: int = 25) -> list[dict]:
    return [finding_row(r) for r in dicts(
        store, "SELECT * FROM findings ORDER BY score DESC, kind, domain, client LIMIT ?", [limit])]


def finding_row(row: dict) -> dict:
    """A findings row with its sub-scores decoded (the JSON shape of ``analyze --json``)."""
    row = dict(row)
    row["id"] = row.pop("finding_id")
    row["sub_scores"] = json.loads(row.get("sub_scores") or "{}")
    row["reasons"] = list(row.get("reasons") or [])
    row.pop("created_at", None)
    row["client_scope"] = finding_scope(row)
    return row


def finding_scope(row: dict) -> str | None:
    """``external`` when the analysis marked the finding's client as outside the local networks (the
    ``external_client`` sub-score, :mod:`netsift.detect.scope`), ``local`` for any other client, None
    without a client."""
    if not row.get("client"):
        return None
    return "external" if (row.get("sub_scores") or {}).get("external_client") else "local"


# --- enrichment: map and infrastructure graph ---------------------------------------------------------

FLAGGED_DOMAINS_SQL = """
    SELECT domain AS registered_domain FROM findings WHERE domain IS NOT NULL AND score >= 0.5
    {feeds}
"""


def _flagged_sql(store) -> str:
    feeds = ("UNION SELECT registered_domain FROM feed_hits WHERE registered_domain IS NOT NULL"
             if store.has_table("feed_hits") else "")
    return FLAGGED_DOMAINS_SQL.format(feeds=feeds)


def countries(store) -> list[dict]:
    """Per country where answers point: addresses, questions, and flagged questions (answers for a
    domain with a medium-or-worse finding or a threat-feed hit). Empty before enrichment."""
    if not has_rows(store, "ip_info"):
        return []
    return dicts(store, f"""
        WITH flagged AS ({_flagged_sql(store)})
        SELECT i.country, any_value(i.country_name) AS country_name, count(DISTINCT a.answer) AS ips,
               sum(a.queries) AS queries,
               coalesce(sum(a.queries) FILTER (WHERE f.registered_domain IS NOT NULL), 0) AS flagged_queries,
               count(DISTINCT a.registered_domain) FILTER (WHERE f.registered_domain IS NOT NULL) AS flagged_domains
        FROM rollup_domain_answer a JOIN ip_info i ON i.ip = a.answer
        LEFT JOIN flagged f ON f.registered_domain = a.registered_domain
        WHERE i.country IS NOT NULL AND NOT coalesce(i.is_private, false)
        GROUP BY i.country ORDER BY queries DESC""")


def infrastructure(store, limit: int = 40, per_domain: int = 8) -> dict[str, list]:
    """Edges domain -> IP -> AS for the top findings' domains (with the AS from ip_info when known)."""
    domains = [r[0] for r in store.rows(
        "SELECT domain FROM findings WHERE domain IS NOT NULL GROUP BY domain ORDER BY max(score) DESC, domain "
        "LIMIT ?", [limit])]
    if not domains:
        return {"domains": [], "edges": []}
    has_ip_info = store.has_table("ip_info")
    asn_cols = ("i.as_org, i.asn, i.country" if has_ip_info else "NULL AS as_org, NULL AS asn, NULL AS country")
    asn_join = "LEFT JOIN ip_info i ON i.ip = a.answer" if has_ip_info else ""
    edges = dicts(store, f"""
        SELECT a.registered_domain AS domain, a.answer AS ip, a.queries, {asn_cols}
        FROM (SELECT *, row_number() OVER (PARTITION BY registered_domain ORDER BY queries DESC, answer) AS n
              FROM rollup_domain_answer WHERE registered_domain IN (SELECT unnest(?)) AND {ANSWER_IS_IP}) a
        {asn_join} WHERE a.n <= ? ORDER BY a.registered_domain, a.queries DESC""", [domains, per_domain])
    scores = dict(store.rows("SELECT domain, max(score) FROM findings WHERE domain IN (SELECT unnest(?)) "
                             "GROUP BY domain", [domains]))
    return {"domains": [{"domain": d, "score": round(float(scores.get(d, 0)), 4)} for d in domains],
            "edges": edges}


def categories(store) -> list[dict]:
    """Category kind -> category -> registered domain, with questions. Empty before enrichment."""
    if not has_rows(store, "domain_categories"):
        return []
    return dicts(store, """
        SELECT c.kind, c.category, c.registered_domain AS domain, coalesce(max(s.queries), 0) AS queries
        FROM domain_categories c LEFT JOIN domain_stats s ON s.registered_domain = c.registered_domain
        WHERE c.registered_domain IS NOT NULL GROUP BY ALL ORDER BY queries DESC LIMIT 2000""")


def category_timeline(store, client: str, bucket: str | None = None) -> list[dict]:
    """Questions per category per time bucket for one client (empty before enrichment)."""
    if not has_rows(store, "domain_categories"):
        return []
    bucket = bucket or bucket_for(store, client)
    return dicts(store, f"""
        SELECT time_bucket(INTERVAL '{_bucket(bucket)}', q.ts) AS t, c.category, count(*) AS queries
        FROM dns_queries q JOIN (SELECT DISTINCT name, category FROM domain_categories) c ON c.name = q.query_name
        WHERE q.client = ? GROUP BY ALL ORDER BY t, c.category""", [client])
