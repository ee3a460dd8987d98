"""Threat feeds: load a list of bad (or notable) domains, and find which query names it covers.

A feed is any of:

``hosts``    hosts-file lines ``0.0.0.0 name`` (URLhaus host file), ``#`` comments;
``domains``  one domain per line with ``#`` comments (Maltrail trails, user lists);
``csv``      a CSV with a header; the domain column is found by name (domain, host, hostname...) or is the
             first, the family column by name (malware, family...) or ``family_column`` (blackbook:
             ``Domain,Malware,Date added,Source``).

Each feed has a name, a kind (malicious / suspicious / informational) and, per entry, an optional malware
family. Entries are normalised (lower case, no scheme, path, port, ``*.`` or trailing dot; IDN to
punycode); IP addresses, CIDR blocks and junk are counted and left out, since feeds match names.

Matching covers a name *and its parents*: an entry ``duckdns.org`` covers ``x.duckdns.org``. It is
vectorised: every distinct name is expanded into its suffixes (``a.b.c.d`` -> ``a.b.c.d``, ``b.c.d``,
``c.d``, one Polars step per label level) and joined once against all feed entries; per (name, feed)
the most specific entry wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from netsift.lists import catalog, download

FEED_KINDS = ("malicious", "suspicious", "informational")
FORMATS = ("hosts", "domains", "csv")
_DOMAIN_COLUMNS = ("domain", "domains", "host", "hostname", "fqdn", "name", "dns_name", "indicator")
_FAMILY_COLUMNS = ("malware", "family", "malware_family", "threat", "malware_printable")
_HOSTS_LINE = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)\s+\S")
_VALID_DOMAIN = r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,62})?\.)+[a-z0-9-]*[a-z][a-z0-9-]*$"
_IP_LIKE = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)$"


@dataclass(frozen=True)
class Feed:
    """A loaded feed: ``entries`` has one row per (domain, family)."""

    name: str
    kind: str
    entries: pl.DataFrame  # domain: str, family: str | null
    ip_entries: int = 0  # IP addresses and CIDR blocks left out
    rejected: int = 0  # lines that were not a domain
    source: str = ""

    @property
    def domains(self) -> int:
        return self.entries["domain"].n_unique()


def read_lines(path: str | Path) -> pl.Series:
    """The lines of a text file (undecodable bytes replaced)."""
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    return pl.Series("line", text.splitlines(), dtype=pl.String)


def read_csv_text(path: Path, *, has_header: bool = True) -> pl.DataFrame:
    """A CSV list with every column as text, ragged lines cut, ``#`` comments skipped, bad UTF-8 replaced."""
    return pl.read_csv(path, has_header=has_header, infer_schema=False, truncate_ragged_lines=True,
                       comment_prefix="#", encoding="utf8-lossy")


def sniff_format(lines: pl.Series) -> str:
    """hosts, csv or domains, from the first non-comment lines."""
    sample = [s for s in lines.head(400).to_list() if s.strip() and not s.lstrip().startswith("#")][:50]
    if not sample:
        return "domains"
    if sum(bool(_HOSTS_LINE.match(s.strip())) for s in sample) > len(sample) / 2:
        return "hosts"
    if sum("," in s for s in sample) > len(sample) / 2:
        return "csv"
    return "domains"


def normalise(expr: pl.Expr) -> pl.Expr:
    """A list entry as a bare lower-case name: no scheme, path, port, wildcard or surrounding dots."""
    return (
        expr.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.-]*://", "")
        .str.replace(r"[/?#\s].*$", "")
        .str.replace(r"^([^:]+):\d+$", "${1}")
        .str.replace(r"^\*\.", "")
        .str.strip_chars(".")
    )


def clean_entries(frame: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """Normalise the ``domain`` column; (valid rows, IP/CIDR entries, rejected entries)."""
    frame = frame.with_columns(domain=normalise(pl.col("domain"))).filter(pl.col("domain") != "")
    non_ascii = frame["domain"].str.contains(r"[^\x00-\x7f]")
    if non_ascii.any():
        frame = frame.with_columns(domain=pl.when(non_ascii).then(
            pl.col("domain").map_elements(_to_punycode, return_dtype=pl.String)).otherwise(pl.col("domain")))
    is_ip = frame["domain"].str.contains(_IP_LIKE)
    valid = frame["domain"].str.contains(_VALID_DOMAIN) & ~is_ip
    return frame.filter(valid), int(is_ip.sum()), int((~valid & ~is_ip).sum())


def _to_punycode(name: str) -> str:
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def load_feed(path: str | Path, *, name: str | None = None, kind: str = "malicious", format: str | None = None,
              family_column: str | None = None, domain_column: str | None = None) -> Feed:
    """Read a feed file. ``format`` is sniffed when not given; ``name`` defaults to the file stem."""
    if kind not in FEED_KINDS:
        raise ValueError(f"feed kind {kind!r} is not one of {', '.join(FEED_KINDS)}")
    path = Path(path)
    lines = read_lines(path)
    fmt = format or sniff_format(lines)
    if fmt not in FORMATS:
        raise ValueError(f"feed format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "csv":
        raw = _csv_entries(path, family_column, domain_column)
    else:
        body = lines.str.replace(r"#.*$", "").str.strip_chars()
        body = body.filter(body != "")
        if fmt == "hosts":
            tokens = body.str.replace_all(r"\s+", " ").str.split(" ").list.slice(1)
            domains = tokens.explode()
        else:
            domains = body.str.replace(r"\s.*$", "")
        raw = pl.DataFrame({"domain": domains, "family": pl.Series([None] * len(domains), dtype=pl.String)})
    entries, ips, rejected = clean_entries(raw)
    entries = entries.with_columns(family=pl.col("family").str.strip_chars().str.to_lowercase().replace("", None))
    entries = entries.unique(["domain", "family"], maintain_order=True)
    return Feed(name or path.stem, kind, entries, ip_entries=ips, rejected=rejected, source=str(path))


def _csv_entries(path: Path, family_column: str | None, domain_column: str | None) -> pl.DataFrame:
    frame = read_csv_text(path)
    lower = {c.strip().lower(): c for c in frame.columns}
    known = _pick(lower, None, _DOMAIN_COLUMNS)
    if domain_column is None and known is None and "." in frame.columns[0]:
        # no header: the first line is already an entry
        frame = read_csv_text(path, has_header=False)
        dcol, fcol = frame.columns[0], None
    else:
        dcol = _pick(lower, domain_column, _DOMAIN_COLUMNS) or frame.columns[0]
        fcol = _pick(lower, family_column, _FAMILY_COLUMNS)
    family = frame[fcol] if fcol else pl.Series([None] * frame.height, dtype=pl.String)
    return pl.DataFrame({"domain": frame[dcol], "family": family}, schema={"domain": pl.String, "family": pl.String})


def _pick(lower: dict[str, str], wanted: str | None, candidates: Sequence[str]) -> str | None:
    if wanted is not None:
        if wanted.strip().lower() not in lower:
            raise ValueError(f"no column {wanted!r} in the CSV (columns: {', '.join(lower.values())})")
        return lower[wanted.strip().lower()]
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def suffixes(names: Iterable[str] | pl.Series) -> pl.DataFrame:
    """Every distinct name with each of its suffixes of two labels or more:
    (name, suffix, depth) where depth 0 is the name itself, 1 its parent, ... One vectorised step per
    label level (a handful), each on the names that still have a parent."""
    series = names if isinstance(names, pl.Series) else pl.Series(list(names), dtype=pl.String)
    level = pl.DataFrame({"name": series.drop_nulls().unique()}, schema={"name": pl.String}).with_columns(
        suffix=pl.col("name"), depth=pl.lit(0, pl.Int32))
    out = [level]
    depth = 0
    while True:
        depth += 1
        level = level.filter(pl.col("suffix").str.count_matches(".", literal=True) >= 2).with_columns(
            suffix=pl.col("suffix").str.splitn(".", 2).struct.field("field_1"), depth=pl.lit(depth, pl.Int32))
        if level.is_empty():
            break
        out.append(level)
    return pl.concat(out)


def match_suffixes(names: Iterable[str] | pl.Series, entries: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Join names (and their parents) against ``entries`` (a ``domain`` column plus ``keys`` and any
    payload). Per (name, *keys) only the most specific matching entry is kept; ``matched`` names it."""
    if entries.is_empty():
        return entries.select(pl.lit(None, pl.String).alias("name"), pl.all(),
                              pl.lit(None, pl.String).alias("matched")).clear()
    expanded = suffixes(names)
    hits = expanded.join(entries, left_on="suffix", right_on="domain", how="inner")
    best = hits.group_by(["name", *keys]).agg(pl.col("depth").min().alias("best"))
    hits = hits.join(best, on=["name", *keys]).filter(pl.col("depth") == pl.col("best"))
    payload = [c for c in entries.columns if c != "domain"]
    return hits.select("name", *payload, pl.col("suffix").alias("matched")).unique(maintain_order=False)


def match_names(names: Iterable[str] | pl.Series, feeds: Sequence[Feed]) -> pl.DataFrame:
    """Feed hits for these names: (name, feed, kind, family, matched), sorted by name and feed."""
    frames = [f.entries.with_columns(feed=pl.lit(f.name), kind=pl.lit(f.kind)) for f in feeds]
    schema = pl.Schema({"domain": pl.String, "family": pl.String, "feed": pl.String, "kind": pl.String})
    entries = pl.concat([f.select(list(schema)).cast(schema) for f in frames]) if frames else pl.DataFrame(schema=schema)
    hits = match_suffixes(names, entries, keys=("feed",))
    return hits.select("name", "feed", "kind", "family", "matched").sort(["name", "feed", "family"],
                                                                          nulls_last=True)


def installed_feeds(data_dir: str | Path | None = None) -> list[Feed]:
    """The feeds ``lists update`` has downloaded, loaded with their catalog name, kind and family column."""
    out = []
    for item in download.installed(data_dir):
        spec = catalog.CATALOG.get(item.name)
        if spec is None or spec.kind != "feed":
            continue
        out.append(load_feed(item.path, name=spec.name, kind=spec.feed_kind or "malicious", format=spec.format,
                             family_column=spec.family_column))
    return out
