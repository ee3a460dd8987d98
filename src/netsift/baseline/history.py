"""The network's own history per registered domain (queries, clients = prevalence, names, NXDOMAIN,
first/last seen) and the explanation of what is normal, written to ``domain_stats``.

A registered domain is *normal* when at least one of these holds (all that hold are recorded):
a benign verdict, an allowlist pattern, a top-sites rank within ``top_rank_max``, infrastructure
(reverse lookups, mDNS, private TLDs), or prevalence (asked by at least ``prevalence_share`` of the
clients, and by at least ``prevalence_min_clients``). Nothing is deleted: the reason is stored beside
the domain, so ``netsift normal`` can show why it was hidden.
"""

from __future__ import annotations

import polars as pl

from netsift.baseline.allowlist import allowed_names
from netsift.baseline.verdicts import LATEST_VERDICTS_SQL
from netsift.config import Settings
from netsift.store import Store
from netsift.store.base import replace_changed

STATS_SQL = """
SELECT n.registered_domain,
       count(*) AS queries,
       count(DISTINCT q.client) AS clients,
       count(DISTINCT q.query_name) AS names,
       count(*) FILTER (WHERE q.response_code = 'NXDOMAIN') AS nxdomain,
       min(q.ts) AS first_seen,
       max(q.ts) AS last_seen,
       bool_and(n.is_infrastructure) AS infrastructure
FROM dns_queries q JOIN domain_names n USING (query_name)
GROUP BY n.registered_domain
"""


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def build_domain_stats(store: Store, settings: Settings, allowlist: list[str],
                       history: tuple[pl.DataFrame, int, pl.DataFrame] | None = None,
                       previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """Write ``domain_stats``: the history per registered domain (:data:`STATS_SQL` over every row, or
    ``history``: the same frame, the network's client count and the domains' top-sites ranks, kept by an
    incremental run: :mod:`netsift.baseline.kept`) with the normal reasons of the lists, allowlist, verdicts and prevalence.
    ``previous``: the frame the table holds (an incremental run's last): only the rows that changed are
    written."""
    if history is None:
        stats = store.frame(STATS_SQL)
        total_clients = int(store.scalar("SELECT count(DISTINCT client) FROM dns_queries") or 0)
        ranks = store.frame(
            "SELECT domain AS registered_domain, min(rank) AS top_rank, arg_min(list_name, rank) AS top_list "
            "FROM top_sites GROUP BY domain"
        )
    else:
        stats, total_clients, ranks = history
    verdicts = store.frame(
        f"SELECT entity AS registered_domain, verdict, who, ts AS verdict_ts FROM ({LATEST_VERDICTS_SQL})"
    )
    stats = (
        stats.join(ranks, on="registered_domain", how="left")
        .join(verdicts, on="registered_domain", how="left")
        .with_columns(allow=allowed_names(stats["registered_domain"], allowlist))
    )
    need = max(int(settings.prevalence_min_clients), int(settings.prevalence_share * total_clients + 0.999))
    prevalent = (total_clients >= settings.prevalence_min_clients) & (pl.col("clients") >= need)
    reasons = pl.concat_list(
        pl.when(pl.col("verdict") == "benign").then(
            pl.format("verdict: benign by {} on {}", pl.col("who"), pl.col("verdict_ts").dt.strftime("%Y-%m-%d"))),
        pl.when(pl.col("allow").is_not_null()).then(pl.format("allowlist: {}", pl.col("allow"))),
        pl.when(pl.col("top_rank") <= settings.top_rank_max).then(
            pl.format("top sites: rank {} in {}", pl.col("top_rank"), pl.col("top_list"))),
        pl.when(pl.col("infrastructure")).then(pl.lit("infrastructure: reverse lookup, mDNS or private name")),
        pl.when(prevalent).then(pl.format("prevalent: asked by {} of {} clients", pl.col("clients"),
                                          pl.lit(total_clients))),
    ).list.drop_nulls()
    stats = stats.with_columns(
        normal_reason=pl.when(pl.col("verdict") == "malicious").then(None)
        .otherwise(pl.when(reasons.list.len() > 0).then(reasons.list.join("; ")))
    )
    out = stats.select("registered_domain", "queries", "clients", "names", "nxdomain", "first_seen",
                       "last_seen", "top_rank", "normal_reason")
    replace_changed(store, "domain_stats", "registered_domain", out, previous)
    return out
