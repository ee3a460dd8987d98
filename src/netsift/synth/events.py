"""The synthetic network's events: benign questions resolved, the Pi-hole's gravity list and cache applied,
the planted threats merged (:func:`generate`), and the TTL a name's answers carry (:func:`answer_ttl`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl

from netsift.synth import domains, traffic
from netsift.synth.threats import EVENT_SCHEMA, TTLS, plant_all

NEGATIVE_TTL = 300
PIHOLE = traffic.RESOLVERS["home"]


def _resolved(rows: traffic.Rows) -> pl.DataFrame:
    """Benign rows with their response code and answers (one resolve() per distinct name and type)."""
    df = pl.DataFrame({
        "ts": pl.Series(rows.ts, dtype=pl.Int64).cast(pl.Datetime("us")),
        "client": rows.client, "query_name": rows.name, "query_type": rows.qtype, "server": rows.server,
    }, schema={"ts": pl.Datetime("us"), "client": pl.String, "query_name": pl.String, "query_type": pl.String,
               "server": pl.String})
    keys = df.select("query_name", "query_type").unique(maintain_order=True)
    codes, answers = [], []
    for name, qtype in keys.iter_rows():
        if name.endswith(".local"):  # mDNS: a multicast question, nobody's reply logged
            code, ans = None, None
        else:
            code, ans = domains.resolve(name, qtype)
        codes.append(code)
        answers.append(ans)
    keys = keys.with_columns(pl.Series("response_code", codes, dtype=pl.String),
                             pl.Series("answers", answers, dtype=pl.List(pl.String)))
    return df.join(keys, on=["query_name", "query_type"], how="left", maintain_order="left").with_columns(
        pl.lit(None, dtype=pl.String).alias("resolver_action"), pl.lit("benign").alias("label"))


def answer_ttl(name: str, code: str | None) -> int:
    """Seconds a resolver may cache this answer (the negative TTL for NXDOMAIN / NODATA)."""
    if code != "NOERROR":
        return NEGATIVE_TTL
    for dom, ttl in TTLS.items():
        if name == dom or name.endswith("." + dom):
            return ttl
    return domains.ttl_for(name)


def _pihole(df: pl.DataFrame) -> pl.DataFrame:
    """What the Pi-hole did with each of its questions: gravity-blocked ad hosts answered 0.0.0.0 / ::,
    repeats within the TTL answered from cache, the rest forwarded upstream."""
    blocked = (pl.col("server") == PIHOLE) & pl.col("query_name").is_in(sorted(domains.GRAVITY_BLOCKED))
    df = df.with_columns(
        pl.when(blocked).then(pl.lit("NOERROR")).otherwise(pl.col("response_code")).alias("response_code"),
        pl.when(blocked).then(
            pl.when(pl.col("query_type") == "A").then(pl.lit(["0.0.0.0"]))
            .when(pl.col("query_type") == "AAAA").then(pl.lit(["::"]))
            .otherwise(pl.lit(None, dtype=pl.List(pl.String)))
        ).otherwise(pl.col("answers")).alias("answers"),
        pl.when(blocked).then(pl.lit("blocked:gravity")).otherwise(pl.col("resolver_action")).alias("resolver_action"),
    )
    served = df.with_row_index("_i").filter((pl.col("server") == PIHOLE) & pl.col("resolver_action").is_null())
    served = served.sort("query_name", "query_type", "ts", "_i")
    names, types, codes = served["query_name"].to_list(), served["query_type"].to_list(), served["response_code"].to_list()
    stamps = served["ts"].dt.epoch("us").to_list()
    ttls: dict[tuple[str, str | None], int] = {}
    actions, key, expires = [], None, 0
    for name, qtype, code, ts in zip(names, types, codes, stamps):
        if (name, qtype) != key:
            key, expires = (name, qtype), 0
        if ts < expires:
            actions.append("cached")
        else:
            actions.append("forwarded")
            ttl = ttls.get((name, code))
            if ttl is None:
                ttl = ttls[(name, code)] = answer_ttl(name, code)
            expires = ts + ttl * 1_000_000
    update = pl.DataFrame({"_i": served["_i"], "_action": pl.Series(actions, dtype=pl.String)})
    return (df.with_row_index("_i").join(update, on="_i", how="left", maintain_order="left")
            .with_columns(pl.coalesce("resolver_action", "_action").alias("resolver_action"))
            .drop("_i", "_action"))


def generate(seed: int = 7, days: int = 3, clients: int = 40,
             start: datetime = datetime(2026, 11, 20, tzinfo=UTC), scale: float = 1.0) -> pl.DataFrame:
    """Canonical DNS events of a ``clients``-host network over ``days`` days from ``start`` (UTC; a naive
    datetime is read as UTC), with every threat of :data:`PLANTED` planted. ``scale`` multiplies the
    benign rate (1.0 is about 67 k rows for the default 40 clients and 3 days; 3.2 about 200 k). At least
    11 hosts are kept whatever ``clients`` says: the servers, the threat hosts, the IPv6 host, two phones.

    Columns: those of ``dns_queries`` without source_file_id / source_line, plus ``label`` ("benign" or
    the threat's name) and ``server`` (the resolver asked, or the mDNS multicast group). Sorted by time.
    """
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    hours = days * 24
    population = traffic.population(clients)
    rows = traffic.benign(random.Random(seed), population, start, hours, scale)
    frames = [_resolved(rows).select(list(EVENT_SCHEMA)), *plant_all(seed, start, days)]
    lo, hi = start.replace(tzinfo=None), (start + timedelta(hours=hours)).replace(tzinfo=None)
    df = pl.concat([f.cast(EVENT_SCHEMA) for f in frames]).filter(pl.col("ts").is_between(lo, hi, closed="left"))
    return _pihole(df).sort("ts", "client", "query_name", "query_type", maintain_order=True).select(list(EVENT_SCHEMA))
