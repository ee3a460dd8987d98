"""What every detector starts from: the span of the data, how many clients the network has, and the SQL
that selects the questions the baseline left unexplained.

"Unexplained" means: the name is not infrastructure (reverse lookups, mDNS/.local, private TLDs and
search-suffix junk such as ``www.google.com.corp.lan``, single labels — ``domain_names.is_infrastructure``)
and its registered domain has no normal reason in ``domain_stats`` (not a top site, not allow-listed, no
benign verdict, not explained by prevalence), and it is not a customer name under a popular hosting
platform's suffix (see PLATFORM_MAX_RANK). Detectors only ever look at these rows, so the noise that
the baseline explains can never raise a finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


from netsift.store.base import Store
from netsift.store.window import kept_history

# A name under a public suffix that is itself a popular site (``d1x2y3.cloudfront.net``,
# ``abc.azurewebsites.net``, ``x.elb.amazonaws.com``: private PSL suffixes of hosting platforms) is the
# platform's customer, not a domain of its own; machine-made labels and clockwork polling are normal there.
# Such names count as explained when the suffix ranks within PLATFORM_MAX_RANK (a constant rather than a
# setting: it decides what the detectors may see at all). Less popular platforms (dynamic-DNS zones rank
# lower) stay visible.
PLATFORM_MAX_RANK = 2000

# The distinct query names the baseline left unexplained (small: one row per name), with their shape.
UNEXPLAINED_NAMES = f"""
    SELECT dn.query_name, dn.registered_domain, dn.tld, dn.subdomain, dn.label_count, dn.longest_label,
           dn.subdomain_entropy
    FROM domain_names dn
    LEFT JOIN domain_stats ds ON ds.registered_domain = dn.registered_domain
    WHERE NOT coalesce(dn.is_infrastructure, false) AND ds.normal_reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM top_sites t WHERE t.domain = dn.tld AND t.rank <= {PLATFORM_MAX_RANK})
"""

# Rows of dns_queries for those names, joined to the name's shape.
UNEXPLAINED_QUERIES = f"""
    SELECT q.ts, q.client, q.query_name, q.query_type, q.response_code,
           n.registered_domain, n.tld, n.subdomain, n.label_count, n.longest_label, n.subdomain_entropy
    FROM dns_queries q
    JOIN ({UNEXPLAINED_NAMES}) n ON n.query_name = q.query_name
"""


@dataclass(frozen=True)
class DataSpan:
    start: dt.datetime | None
    end: dt.datetime | None
    clients: int
    rows: int

    @property
    def hours(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return (self.end - self.start).total_seconds() / 3600


def data_span(store: Store) -> DataSpan:
    """The whole network's span, clients and rows (from the kept history in an incremental run)."""
    start, end, clients, count = store.rows(f"SELECT data_start, data_end, clients, rows FROM ({span_sql(store)}) s")[0]
    return DataSpan(start, end, int(clients or 0), int(count or 0))


# The network's history as SQL relations. An incremental run (``store`` a windowed session beside the kept
# history, :mod:`netsift.store.window`) reads them from the kept tables (:mod:`netsift.baseline.kept`), as
# its rows show only a window; otherwise from every row. The values are the same.

def span_sql(store: Store) -> str:
    """One row: data_start, data_end, clients (distinct), rows of dns_queries."""
    if kept_history(store):
        return "SELECT data_start, data_end, clients, rows FROM kept_span"
    return ("SELECT min(ts) AS data_start, max(ts) AS data_end, count(DISTINCT client) AS clients, "
            "count(*) AS rows FROM dns_queries")


def hours_sql(store: Store) -> str:
    """The distinct hours (column ``h``) that hold questions."""
    if kept_history(store):
        return "SELECT h FROM kept_hours"
    return "SELECT DISTINCT date_trunc('hour', ts) AS h FROM dns_queries WHERE ts IS NOT NULL"


def pairs_sql(store: Store) -> str:
    """Per (client, registered_domain): only_nx (every answered question NXDOMAIN), first_seen, last_seen."""
    if kept_history(store):
        return ("SELECT client, registered_domain, answered > 0 AND nxdomain = answered AS only_nx, first_seen, "
                "last_seen FROM kept_domain_client")
    return ("SELECT q.client, d.registered_domain, bool_and(q.response_code = 'NXDOMAIN') AS only_nx, "
            "min(q.ts) AS first_seen, max(q.ts) AS last_seen "
            "FROM dns_queries q JOIN domain_names d USING (query_name) GROUP BY ALL")
