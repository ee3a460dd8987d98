"""The baseline kept between analyses, for incremental runs (``netsift watch``, :mod:`netsift.incremental`).

A full analysis computes the network's history from every row (``domain_stats``: queries, clients =
prevalence, names, NXDOMAIN, first and last seen per registered domain; how many clients the network has;
its span and the hours that hold data). An incremental run keeps that history in tables of its session and
folds into it only the rows stored since the last run, found by file record: the rows of a file past the
last line already folded (``source_file_id = ? AND source_line > ?``: the store's rows are in the order they
were written, so each such read touches only the new row groups). Then ``domain_stats`` is written from the
kept history (one row per registered domain, never a scan of the questions) with the same normal reasons a
full analysis gives (top lists, allowlist, verdicts and prevalence are applied afresh, so a verdict or a
new top list counts at once).

The kept tables (temporary tables of the analysis session, :data:`TABLES`):

- ``kept_domain_client``: per (registered domain, client): questions, answered ones, NXDOMAIN answers,
  first and last seen (so ``clients`` and ``first_seen`` of a domain, and the folding of leftovers into a
  client's finding, need no scan);
- ``kept_names``: the distinct query names of the questions (``names`` of a domain, infrastructure);
- ``kept_clients``: the distinct clients (the network's size, for prevalence);
- ``kept_hours``: the distinct hours holding questions (how long the network was watched before a domain
  appeared: new_domain, the first-seen modifier);
- ``kept_span``: one row: data_start, data_end, clients, rows.

A file forgotten, or rows removed by retention, make the kept history stale: :meth:`KeptBaseline.update`
says so, and the caller runs a full analysis (which rebuilds it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from netsift.config import Setting
from netsift.names import derive_names
from netsift.store.base import Store
from netsift.store.window import row_tables

# the ``[watch]`` section: incremental runs (netsift.incremental) and their kept history
WATCH_SETTINGS = (
    Setting("window_hours", 0, "Least hours of recent rows each producer reads in an incremental run of netsift "
            "watch (each declares what it needs: brute_force 1, dga 6, beacon 24, ...; 0: as declared).", 0, 8760),
    Setting("full_every", 900, "Seconds between full analyses of the whole store in netsift watch (they run the "
            "producers that need whole histories, rebuild the kept baseline and close findings); 0: every "
            "analysis is a full one.", 0, 604800),
)

TABLES = ("kept_domain_client", "kept_names", "kept_clients", "kept_hours", "kept_span", "kept_ranks")

# the best top-sites rank of the registered domains given (a list of a million entries is read only for the
# domains the store has, and in recent runs only for the domains new to it)
_RANKS = """
    SELECT domain AS registered_domain, min(rank) AS top_rank, arg_min(list_name, rank) AS top_list
    FROM top_sites WHERE domain IN ({domains}) GROUP BY domain
"""

_PAIRS = """
    SELECT n.registered_domain, q.client, count(*) AS queries,
           count(q.response_code) AS answered,
           count(*) FILTER (WHERE q.response_code = 'NXDOMAIN') AS nxdomain,
           min(q.ts) AS first_seen, max(q.ts) AS last_seen
    FROM {rows} q JOIN domain_names n USING (query_name)
    GROUP BY n.registered_domain, q.client
"""

# domain_stats' history columns from the kept tables: the same values as baseline.history.STATS_SQL over
# every row
STATS_FROM_KEPT = """
    WITH per AS (
        SELECT registered_domain, sum(queries)::BIGINT AS queries, count(client) AS clients,
               sum(nxdomain)::BIGINT AS nxdomain, min(first_seen) AS first_seen, max(last_seen) AS last_seen
        FROM kept_domain_client GROUP BY registered_domain),
    nm AS (
        SELECT n.registered_domain, count(*) AS names, bool_and(n.is_infrastructure) AS infrastructure
        FROM kept_names k JOIN domain_names n USING (query_name) GROUP BY n.registered_domain)
    SELECT per.registered_domain, per.queries, per.clients, nm.names, per.nxdomain, per.first_seen,
           per.last_seen, nm.infrastructure
    FROM per JOIN nm USING (registered_domain)
"""


@dataclass
class KeptBaseline:
    """The history of one analysis session, folded in from new rows only (see the module's doc)."""

    store: Store  # the analysis session (the kept tables are its temporary tables)
    marks: dict[int, int] = field(default_factory=dict)  # file id -> last source_line folded in
    seen: dict[int, int] = field(default_factory=dict)  # file id -> its record's last_line at the last look
    ends: dict[str, dt.datetime] = field(default_factory=dict)  # row table -> its latest stamp
    built: bool = False
    rows_read: int = 0  # rows of dns_queries read by the last build or update (tests, health)

    def rebuild(self) -> None:
        """Build the kept history from every row (a full analysis does this)."""
        s = self.store
        self.marks = {int(f): int(m) for f, m in s.rows(
            "SELECT source_file_id, max(source_line) FROM dns_queries GROUP BY source_file_id")}
        self.seen = {int(f): int(n or 0) for f, n in s.rows("SELECT file_id, last_line FROM ingested_files")}
        for name in TABLES:
            s.execute(f"DROP TABLE IF EXISTS temp.{name}")
        s.execute(f"CREATE TEMP TABLE kept_domain_client AS {_PAIRS.format(rows='dns_queries')}")
        s.execute("CREATE TEMP TABLE kept_names AS SELECT DISTINCT query_name FROM dns_queries")
        s.execute("CREATE TEMP TABLE kept_clients AS SELECT DISTINCT client FROM dns_queries WHERE client IS NOT NULL")
        s.execute("CREATE TEMP TABLE kept_hours AS SELECT DISTINCT date_trunc('hour', ts) AS h FROM dns_queries "
                  "WHERE ts IS NOT NULL")
        s.execute("CREATE TEMP TABLE kept_span AS SELECT min(ts) AS data_start, max(ts) AS data_end, "
                  "count(DISTINCT client) AS clients, count(*) AS rows FROM dns_queries")
        s.execute(f"CREATE TEMP TABLE kept_ranks AS {_RANKS.format(domains='SELECT registered_domain FROM kept_domain_client')}")
        self.rows_read = int(s.scalar("SELECT rows FROM kept_span") or 0)
        self.ends = {}
        for table in row_tables():
            if s.has_table(table):
                end = s.scalar(f"SELECT max(ts) FROM {table}")
                if end is not None:
                    self.ends[table] = end
        self.built = True

    def update(self) -> bool:
        """Fold in the rows stored since the last build or update; False when the kept history is stale (a
        file's rows were removed) and a full analysis must rebuild it."""
        s = self.store
        files = {int(f): int(n or 0) for f, n in s.rows("SELECT file_id, last_line FROM ingested_files")}
        if any(f not in files for f in self.marks):
            return False  # a file forgotten (or retention removed it): its rows are in the kept history
        # the files whose record moved since the last look (new lines), each read past its mark
        moved = [f for f, last in files.items() if self.seen.get(f) != last]
        before, self.seen = self.seen, files
        self.rows_read = 0
        if not moved:
            return True
        for table in row_tables():  # each row table's latest stamp, from its new rows
            if table == "dns_queries" or not s.has_table(table):
                continue
            end = s.scalar(" UNION ALL ".join(
                [f"SELECT max(ts) AS m FROM {table} WHERE source_file_id = ? AND source_line > ?"] * len(moved))
                .join(("SELECT max(m) FROM (", ") t")), [v for f in moved for v in (f, before.get(f, 0))])
            if end is not None and (table not in self.ends or end > self.ends[table]):
                self.ends[table] = end
        parts, params = [], []
        for file_id in moved:
            parts.append("SELECT * FROM dns_queries WHERE source_file_id = ? AND source_line > ?")
            params += [file_id, self.marks.get(file_id, 0)]
        new = s.frame(" UNION ALL ".join(parts), params)
        self.rows_read = new.height
        if not new.height:
            return True
        for f, m in new.group_by("source_file_id").agg(pl.col("source_line").max()).iter_rows():
            self.marks[int(f)] = max(self.marks.get(int(f), 0), int(m))
        with s.temp_table("kept_new", new):
            names = [r[0] for r in s.rows("SELECT DISTINCT k.query_name FROM kept_new k "
                                          "ANTI JOIN domain_names d USING (query_name) WHERE k.query_name IS NOT NULL")]
            if names:
                s.append("domain_names", derive_names(names))
            s.execute("DROP TABLE IF EXISTS temp.kept_delta")
            s.execute(f"CREATE TEMP TABLE kept_delta AS {_PAIRS.format(rows='kept_new')}")
            merged = """
                SELECT d.registered_domain, d.client, d.queries + coalesce(k.queries, 0) AS queries,
                       d.answered + coalesce(k.answered, 0) AS answered,
                       d.nxdomain + coalesce(k.nxdomain, 0) AS nxdomain,
                       least(d.first_seen, coalesce(k.first_seen, d.first_seen)) AS first_seen,
                       greatest(d.last_seen, coalesce(k.last_seen, d.last_seen)) AS last_seen
                FROM kept_delta d LEFT JOIN kept_domain_client k
                  ON k.registered_domain = d.registered_domain AND k.client IS NOT DISTINCT FROM d.client"""
            s.execute("INSERT INTO kept_ranks " + _RANKS.format(  # the ranks of the domains new to the store
                domains="SELECT registered_domain FROM kept_delta EXCEPT SELECT registered_domain FROM kept_domain_client"))
            s.execute("DROP TABLE IF EXISTS temp.kept_merged")
            s.execute(f"CREATE TEMP TABLE kept_merged AS {merged}")
            s.execute("DELETE FROM kept_domain_client k WHERE EXISTS (SELECT 1 FROM kept_delta d WHERE "
                      "k.registered_domain = d.registered_domain AND k.client IS NOT DISTINCT FROM d.client)")
            s.execute("INSERT INTO kept_domain_client SELECT * FROM kept_merged")
            s.execute("INSERT INTO kept_names SELECT DISTINCT query_name FROM kept_new "
                      "EXCEPT SELECT query_name FROM kept_names")
            s.execute("INSERT INTO kept_clients SELECT DISTINCT client FROM kept_new WHERE client IS NOT NULL "
                      "EXCEPT SELECT client FROM kept_clients")
            s.execute("INSERT INTO kept_hours SELECT DISTINCT date_trunc('hour', ts) FROM kept_new "
                      "WHERE ts IS NOT NULL EXCEPT SELECT h FROM kept_hours")
            s.execute("""
                CREATE OR REPLACE TEMP TABLE kept_span AS
                SELECT least(k.data_start, n.lo) AS data_start, greatest(k.data_end, n.hi) AS data_end,
                       (SELECT count(*) FROM kept_clients) AS clients, k.rows + n.rows AS rows
                FROM kept_span k, (SELECT min(ts) AS lo, max(ts) AS hi, count(*) AS rows FROM kept_new) n""")
            end = s.scalar("SELECT data_end FROM kept_span")
            if end is not None:
                self.ends["dns_queries"] = end
            for name in ("kept_delta", "kept_merged"):
                s.execute(f"DROP TABLE temp.{name}")
        return True

    def domain_history(self) -> pl.DataFrame:
        """domain_stats' history columns (as :data:`netsift.baseline.history.STATS_SQL` gives them)."""
        return self.store.frame(STATS_FROM_KEPT)

    def ranks(self) -> pl.DataFrame:
        """The top-sites ranks of the kept domains (as build_domain_stats reads them from top_sites)."""
        return self.store.frame("SELECT * FROM kept_ranks")

    def total_clients(self) -> int:
        return int(self.store.scalar("SELECT clients FROM kept_span") or 0)
