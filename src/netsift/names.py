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
import importlib.util
import math
import re
from collections import Counter
from pathlib import Path

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


# A plain name: lower-case ASCII labels that tldextract takes as they are (no URL parts to cut, no IDNA to
# decode, not an IPv4 address). Such names are split by the same walk over the same PSL snapshot without
# importing tldextract, which imports requests (~0.3 s of every `netsift ingest`); the rest go to tldextract.
_PLAIN = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_PRIVATE_SECTION = "// ===BEGIN PRIVATE DOMAINS==="  # tldextract.suffix_list's separator and rule pattern
_RULE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)


class _Node:
    """A node of the suffix trie (labels reversed), as ``tldextract.tldextract.Trie``."""

    __slots__ = ("matches", "end", "is_private")

    def __init__(self) -> None:
        self.matches: dict[str, _Node] = {}
        self.end = False
        self.is_private = False


@functools.cache
def _suffix_trie() -> _Node:
    """tldextract's offline PSL snapshot as the trie its ``_PublicSuffixListTLDExtractor`` builds (private
    domains included), read from the package's data without importing the package."""
    spec = importlib.util.find_spec("tldextract")
    assert spec is not None and spec.submodule_search_locations
    text = (Path(next(iter(spec.submodule_search_locations))) / ".tld_set_snapshot").read_text(encoding="utf-8")
    public, _, private = text.partition(_PRIVATE_SECTION)
    root = _Node()
    for section, is_private in ((public, False), (private, True)):
        for m in _RULE.finditer(section):
            node = root
            for label in reversed(m.group("suffix").split(".")):
                node = node.matches.setdefault(label, _Node())
            node.end, node.is_private = True, is_private
    return root


def suffix_walk(labels: list[str]) -> tuple[int, bool] | None:
    """Where the public suffix of a name's (plain, lower-case) labels starts and whether its rule is a
    private domain's (tldextract's ``suffix_index``: longest rule, wildcards, exceptions), or None when no
    rule matches."""
    node = _suffix_trie()
    suffix_idx = label_idx = len(labels)
    found = None
    for label in reversed(labels):
        child = node.matches.get(label)
        if child is not None:
            label_idx -= 1
            node = child
            if node.end:
                suffix_idx, found = label_idx, node
            continue
        if "*" in node.matches:
            return (label_idx if "!" + label in node.matches else label_idx - 1), node.matches["*"].is_private
        break
    return None if found is None else (suffix_idx, found.is_private)


def _split_suffix(name: str) -> tuple[str, str, str]:
    """(subdomain, domain, suffix) as ``tldextract`` (offline snapshot, private domains) gives them."""
    labels = name.split(".")
    if _PLAIN.fullmatch(name) and not labels[-1].isdigit() and not any(lb.startswith("xn--") for lb in labels):
        hit = suffix_walk(labels)
        if hit is None:
            return ".".join(labels[:-1]), labels[-1], ""
        idx = hit[0]
        subdomain = ".".join(labels[:idx - 1]) if idx >= 2 else ""
        return subdomain, labels[idx - 1] if idx > 0 else "", ".".join(labels[idx:])
    ext = _extractor()(name)
    return ext.subdomain, ext.domain, ext.suffix


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
    subdomain, domain, suffix = _split_suffix(name)
    if not suffix:
        reg = ".".join(labels[-2:])
        sub = name[: -len(reg) - 1] if len(name) > len(reg) else ""
        return reg, last, sub, False
    if not domain:  # the name is itself a public suffix (e.g. "co.uk", "github.io")
        return name, suffix, "", False
    return f"{domain}.{suffix}", suffix, subdomain, False


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


def refresh_domain_names(store: Store, since_file_id: int | None = None) -> int:
    """Derive ``domain_names`` rows for query names that do not have one yet (once per distinct name).
    ``since_file_id``: only names of rows from that file record on (file ids grow, and a store's rows are
    in the order they were written, so an ingest's refresh reads its own rows, not the whole table)."""
    added = 0
    where, params = ("WHERE q.source_file_id >= ?", [since_file_id]) if since_file_id is not None else ("", [])
    while True:
        names = [r[0] for r in store.rows(
            "SELECT DISTINCT q.query_name FROM dns_queries q ANTI JOIN domain_names d USING (query_name) "
            f"{where} LIMIT {NAMES_BATCH}", params)]
        if not names:
            return added
        store.append("domain_names", derive_names(names))
        added += len(names)
