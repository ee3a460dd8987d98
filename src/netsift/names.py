"""Public suffix list: registered domain, suffix and shape of each *distinct* query name.

Offline: tldextract is built with ``suffix_list_urls=()`` and no cache directory, so it uses the PSL
snapshot shipped inside the package and never touches the network. Private PSL domains are included
(``github.io``, ``cloudfront.net``... are suffixes, so ``x.github.io`` is its own registered domain).

Names the PSL cannot place are grouped so they do not explode into thousands of "domains":
reverse lookups under ``in-addr.arpa`` / ``ip6.arpa``, mDNS ``.local``, names under the special-use
and de-facto private TLDs (RFC 6762 appendix G: ``lan``, ``home``, ``corp``, ``internal``...) and
single-label names are *infrastructure*; their registered domain is the last two labels (or the name).
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import polars as pl

from netsift.schema import DOMAIN_NAMES, polars_schema
from netsift.store.base import Store

NAMES_BATCH = 200_000
PRIVATE_TLDS = frozenset(
    {"local", "lan", "home", "corp", "internal", "intranet", "private", "localdomain", "localhost",
     "domain", "workgroup", "invalid", "test", "example", "onion", "alt", "arpa"}
)


@functools.cache
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def split_name(name: str) -> tuple[str, str, str, bool]:
    """(registered_domain, suffix, subdomain, is_infrastructure) of one lower-case name."""
    labels = name.split(".")
    last = labels[-1]
    if name.endswith(".in-addr.arpa") or name.endswith(".ip6.arpa"):
        reg = ".".join(labels[-2:])
        return reg, "arpa", name[: -len(reg) - 1], True
    if len(labels) == 1 or last in PRIVATE_TLDS:
        reg = ".".join(labels[-2:])
        sub = name[: -len(reg) - 1] if len(name) > len(reg) else ""
        return reg, last, sub, True
    ext = _extractor()(name)
    if not ext.suffix:
        reg = ".".join(labels[-2:])
        sub = name[: -len(reg) - 1] if len(name) > len(reg) else ""
        return reg, last, sub, False
    if not ext.domain:  # the name is itself a public suffix (e.g. "co.uk", "github.io")
        return name, ext.suffix, "", False
    return f"{ext.domain}.{ext.suffix}", ext.suffix, ext.subdomain, False


def derive_names(names: list[str]) -> pl.DataFrame:
    """The ``domain_names`` rows for these distinct names (PSL split in Python once per name, the
    shape measures vectorised)."""
    parts = [split_name(n) for n in names]
    df = pl.DataFrame(
        {
            "query_name": names,
            "registered_domain": [p[0] for p in parts],
            "tld": [p[1] for p in parts],
            "subdomain": [p[2] for p in parts],
            "is_infrastructure": [p[3] for p in parts],
            "subdomain_entropy": [entropy(p[2].replace(".", "")) for p in parts],
        },
        schema_overrides={"query_name": pl.String},
    )
    labels = pl.col("query_name").str.split(".")
    df = df.with_columns(
        label_count=labels.list.len().cast(pl.Int64),
        longest_label=labels.list.eval(pl.element().str.len_chars()).list.max().cast(pl.Int64),
    )
    return df.select(list(polars_schema(DOMAIN_NAMES)))


def refresh_domain_names(store: Store) -> int:
    """Derive ``domain_names`` rows for query names that do not have one yet (once per distinct name)."""
    added = 0
    while True:
        names = [r[0] for r in store.rows(
            "SELECT DISTINCT q.query_name FROM dns_queries q ANTI JOIN domain_names d USING (query_name) "
            f"LIMIT {NAMES_BATCH}")]
        if not names:
            return added
        store.append("domain_names", derive_names(names))
        added += len(names)
