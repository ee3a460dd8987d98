"""Top-sites lists: which registered domains are popular on the internet.

Reads Tranco (``rank,domain``), Cisco Umbrella (``rank,fqdn``), Majestic (header
``GlobalRank,TldRank,Domain,...``) and one-domain-per-line lists (rank = line order, optional header),
plain or .zip/.gz. FQDN lists are reduced to registered domains (best rank kept). When no list is
installed or given, the bundled ``data/well_known_domains.txt`` is the offline fallback.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from importlib import resources
from pathlib import Path

import polars as pl

from netsift.names import split_name
from netsift.errors import InputError
from netsift.store import Store

FALLBACK_NAME = "netsift-well-known"


def _open_text(path: Path) -> io.TextIOBase:
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            member = next((n for n in zf.namelist() if not n.endswith("/")), None)
            if member is None:
                raise InputError("empty zip archive", str(path))
            data = zf.read(member)
    elif data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return io.StringIO(data.decode("utf-8", errors="replace"))


def read_top_list(path: str | Path) -> pl.DataFrame:
    """(domain, rank) rows of a popularity list file, reduced to registered domains."""
    path = Path(path)
    if not path.is_file():
        raise InputError("top-sites list not found", str(path))
    reader = csv.reader(_open_text(path))
    ranks: dict[str, int] = {}
    domain_col, rank_col = None, None
    line_rank = 0
    for row in reader:
        if not row or row[0].startswith("#"):
            continue
        if domain_col is None:
            header = [c.strip().lower() for c in row]
            if "domain" in header:  # Majestic or a headed list
                domain_col = header.index("domain")
                rank_col = next((header.index(c) for c in ("globalrank", "rank") if c in header), None)
                continue
            if len(row) >= 2 and row[0].strip().isascii() and row[0].strip().isdigit():
                domain_col, rank_col = 1, 0
            else:
                domain_col, rank_col = 0, None
        if domain_col >= len(row):
            continue
        line_rank += 1
        name = row[domain_col].strip().lower().rstrip(".")
        if not name or " " in name:
            continue
        rank = line_rank
        if rank_col is not None and rank_col < len(row) and row[rank_col].strip().isascii() and row[rank_col].strip().isdigit():
            rank = int(row[rank_col])
        reg = split_name(name)[0]
        if reg not in ranks or rank < ranks[reg]:
            ranks[reg] = rank
    if not ranks:
        raise InputError("no domains found in top-sites list", str(path))
    return pl.DataFrame({"domain": list(ranks), "rank": list(ranks.values())},
                        schema={"domain": pl.String, "rank": pl.Int64})


def fallback_list() -> pl.DataFrame:
    text = resources.files("netsift").joinpath("data/well_known_domains.txt").read_text()
    ranks: dict[str, int] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            reg = split_name(line.lower())[0]
            ranks.setdefault(reg, len(ranks) + 1)
    return pl.DataFrame({"domain": list(ranks), "rank": list(ranks.values())},
                        schema={"domain": pl.String, "rank": pl.Int64})


def load_top_list(store: Store, frame: pl.DataFrame, list_name: str) -> int:
    """Replace the rows of ``list_name`` in ``top_sites``; returns how many domains were loaded."""
    store.execute("DELETE FROM top_sites WHERE list_name = ?", [list_name])
    store.append("top_sites", frame.with_columns(list_name=pl.lit(list_name)))
    return frame.height


def ensure_top_lists(store: Store, files: list[str | Path] | None = None,
                     installed: list[tuple[str, Path]] | None = None) -> list[str]:
    """Load the given list files, else the installed ones, else the bundled fallback (if the store has
    no list yet). Returns the names of the lists now in use."""
    sources: list[tuple[str, Path]] = [(Path(f).stem, Path(f)) for f in files or []]
    if not sources and installed:
        sources = list(installed)
    loaded = {r[0] for r in store.rows("SELECT DISTINCT list_name FROM top_sites")}
    for name, path in sources:
        if files or name not in loaded:  # an installed list is loaded once per version (name@date)
            base = name.split("@", 1)[0]
            for old in [n for n in loaded if n.split("@", 1)[0] == base and n != name]:
                store.execute("DELETE FROM top_sites WHERE list_name = ?", [old])
            load_top_list(store, read_top_list(path), name)
    present = [r[0] for r in store.rows("SELECT DISTINCT list_name FROM top_sites ORDER BY 1")]
    if not present:
        load_top_list(store, fallback_list(), FALLBACK_NAME)
        present = [FALLBACK_NAME]
    elif sources and FALLBACK_NAME in present:
        store.execute("DELETE FROM top_sites WHERE list_name = ?", [FALLBACK_NAME])
        present.remove(FALLBACK_NAME)
    return present
