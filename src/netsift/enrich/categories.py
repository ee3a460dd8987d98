"""Content and security categories of domains, from category lists on disk.

Sources, any number of them:

* a UT1-style folder: ``<category>/domains`` files (as the UT1 tarball and ``lists update`` lay them out,
  found at any depth), or flat ``<category>.domains`` files;
* a single ``<category>.domains`` file;
* a CSV of ``domain,category`` rows (header optional; extra columns ignored).

A domain may carry several categories, and, like feeds, a list entry covers the name and every name under
it (matched with the same vectorised suffix join, the most specific entry per category winning).

Categories are split by *kind*: ``security`` for the ones that say something about risk or evasion
(:data:`SECURITY_CATEGORIES`: malware, phishing, dynamic DNS, DoH resolvers, VPN, remote control,
crypto-jacking, residential proxies, stalkerware, DDoS, hacking), ``content`` for everything else (bank,
webmail, social networks, ads...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from netsift.enrich.feeds import clean_entries, match_suffixes, read_csv_text, read_lines
from netsift.lists import catalog, download

SECURITY_CATEGORIES = frozenset({
    "malware", "phishing", "dynamic-dns", "doh", "vpn", "remote-control", "cryptojacking",
    "residential-proxies", "stalkerware", "ddos", "hacking",
})
# other spellings seen in category lists -> the name above
ALIASES = {
    "dynamic_dns": "dynamic-dns", "dyndns": "dynamic-dns", "ddns": "dynamic-dns", "remote_control": "remote-control",
    "crypto-mining": "cryptojacking", "cryptomining": "cryptojacking", "crypto_mining": "cryptojacking",
    "residential_proxies": "residential-proxies", "dns-over-https": "doh", "malicious": "malware",
}


def kind_of(category: str) -> str:
    """``security`` or ``content``."""
    key = category.strip().lower()
    key = ALIASES.get(key, key)
    return "security" if key in SECURITY_CATEGORIES else "content"


@dataclass(frozen=True)
class CategoryList:
    """Loaded category entries: one row per (domain, category)."""

    source: str
    entries: pl.DataFrame  # domain, category
    ip_entries: int = 0
    rejected: int = 0

    @property
    def categories(self) -> list[str]:
        return sorted(self.entries["category"].unique().to_list())


def load_categories(path: str | Path, *, source: str | None = None) -> CategoryList:
    """Read a category folder, a ``<category>.domains`` file or a ``domain,category`` CSV."""
    path = Path(path)
    if path.is_dir():
        frames = [_domains_file(f, category) for f, category in _category_files(path)]
        if not frames:
            raise ValueError(f"{path}: no <category>/domains or <category>.domains files in this folder")
        raw = pl.concat(frames)
    elif path.suffix == ".domains" or path.name == "domains":
        category = path.parent.name if path.name == "domains" else path.stem
        raw = _domains_file(path, category)
        source = source or category
    else:
        raw = _csv(path)
    entries, ips, rejected = clean_entries(raw)
    entries = entries.with_columns(pl.col("category").str.strip_chars()).filter(pl.col("category") != "")
    entries = entries.unique(["domain", "category"], maintain_order=True)
    return CategoryList(source or path.stem, entries, ip_entries=ips, rejected=rejected)


def _category_files(root: Path) -> list[tuple[Path, str]]:
    found: dict[Path, tuple[Path, str]] = {}
    for f in sorted(root.rglob("domains")):
        if f.is_file():
            found.setdefault(f.resolve(), (f, f.parent.name))
    for f in sorted(root.rglob("*.domains")):
        if f.is_file():
            found.setdefault(f.resolve(), (f, f.stem))
    return list(found.values())


def _domains_file(path: Path, category: str) -> pl.DataFrame:
    lines = read_lines(path).str.replace(r"#.*$", "").str.strip_chars()
    lines = lines.filter(lines != "")
    return pl.DataFrame({"domain": lines, "category": pl.Series([category] * len(lines), dtype=pl.String)})


def _csv(path: Path) -> pl.DataFrame:
    frame = read_csv_text(path, has_header=False)
    if frame.width < 2:
        raise ValueError(f"{path}: expected domain,category rows, found {frame.width} column(s)")
    frame = frame.select(frame.columns[:2]).rename(dict(zip(frame.columns[:2], ["domain", "category"], strict=True)))
    first = frame.head(1).row(0) if frame.height else ("", "")
    if first[0] and "." not in first[0]:  # a header line such as "domain,category"
        frame = frame.slice(1)
    return frame


def match_categories(names: Iterable[str] | pl.Series, lists: Sequence[CategoryList]) -> pl.DataFrame:
    """Categories of these names: (name, category, kind, source, matched), one row per category."""
    schema = pl.Schema({"domain": pl.String, "category": pl.String, "source": pl.String})
    frames = [c.entries.with_columns(source=pl.lit(c.source)).select(list(schema)).cast(schema) for c in lists]
    entries = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    hits = match_suffixes(names, entries, keys=("category", "source"))
    kinds = {c: kind_of(c) for c in hits["category"].unique().to_list()}
    hits = hits.with_columns(kind=pl.col("category").replace_strict(kinds, default="content", return_dtype=pl.String))
    return hits.select("name", "category", "kind", "source", "matched").sort(["name", "category", "source"])


def installed_categories(data_dir: str | Path | None = None) -> list[CategoryList]:
    """The category lists ``lists update`` has downloaded (UT1)."""
    out = []
    for item in download.installed(data_dir):
        spec = catalog.CATALOG.get(item.name)
        if spec is not None and spec.kind == "categories":
            out.append(load_categories(item.path, source=spec.name))
    return out
