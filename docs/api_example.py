"""netsift from Python, notebook-style: each block below is a notebook cell (tests/test_api.py runs this
file). Run it as ``python docs/api_example.py [DIR] [STORE]``: DIR gets the demo logs (default: a temporary
directory), STORE is any --db value (default: DuckDB in memory; try ``chdb:/tmp/netsift-chdb``)."""

import sys
import tempfile
from pathlib import Path

import polars as pl

from netsift import api
from netsift.synth import write_demo

work = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="netsift-api-"))
target = sys.argv[2] if len(sys.argv) > 2 else ":memory:"

# %% 1. Open a store and read logs into it (here: the demo network: four DNS logs, a conn.log and a capture)
store = api.open_store(target)
logs = write_demo(work / "logs")
summary = api.ingest(store, logs)
print(f"{sum(f.rows for f in summary.files):,} rows from {len(summary.files)} files, "
      f"{api.query(store, 'SELECT count(*) AS n FROM dns_queries')['n'][0]:,} of them DNS questions")

# %% 2. Analyze: baseline, every detector, enrichment; the findings go to the store
analysis = api.analyze(store)
print(f"{len(analysis.findings)} findings")

# %% 3. Findings as a Polars frame (highest score first)
top = api.findings(store, min_severity="high")
print(top.select("kind", "client", "domain", "score", "severity"))

# %% 4. Any SQL (DuckDB's dialect on every store), with ? parameters
busiest = api.query(store, "SELECT client, count(*) AS questions FROM dns_queries "
                           "GROUP BY ALL ORDER BY questions DESC, client LIMIT ?", [5])
print(busiest)

# %% 5. A domain's and a client's history, per hour
beacon = top.filter(pl.col("kind") == "beacon").row(0, named=True)
domain = api.domain_history(store, beacon["domain"])
client = api.client_history(store, beacon["client"])
print(f"{beacon['domain']}: {domain['queries'].sum()} questions in {domain.height} hours; "
      f"{beacon['client']}: {client['queries'].sum()} questions")

# %% 6. Parquet for pandas / Polars / Spark, partitioned by day
for part in api.export_parquet(store, work / "parquet"):
    print(f"{part.table}: {part.rows:,} rows in {part.files} file(s)")
questions = pl.scan_parquet(work / "parquet" / "dns_queries" / "**" / "*.parquet", hive_partitioning=True)
print(questions.group_by("day").len().sort("day").collect())
store.close()
