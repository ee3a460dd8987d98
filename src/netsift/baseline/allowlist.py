"""The analyst's allowlist: one pattern per line, ``#`` comments.

``example.com`` allows that registered domain; ``*.example.com`` allows every name under it *and*
``example.com`` itself (the parent is included, as analysts expect). A pattern for a name below a
registered domain (``updates.vendor.com``) allows that name and what is under it; at the registered-domain
level it explains the domain only when every name seen under it is allowed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from netsift.errors import InputError


def read_allowlist(path: str | Path) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise InputError("allowlist not found", str(p))
    patterns = []
    for raw in p.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip().lower().rstrip(".")
        if line:
            patterns.append(line)
    return patterns


def pattern_base(pattern: str) -> str:
    return pattern[2:] if pattern.startswith("*.") else pattern


def allowed_names(names: pl.Series, patterns: list[str]) -> pl.Series:
    """For each query name: the pattern that allows it, or null. Vectorised: the name and all its parent
    suffixes are joined against the pattern bases."""
    if not patterns or names.len() == 0:
        return pl.Series(names.name, [None] * names.len(), dtype=pl.String)
    bases = pl.DataFrame({"suffix": [pattern_base(p) for p in patterns], "pattern": patterns}).unique("suffix")
    frame = pl.DataFrame({"name": names}).with_row_index("i")
    labels = pl.col("name").str.split(".")
    suffixes = frame.with_columns(
        suffix=pl.int_ranges(0, labels.list.len()).list.eval(pl.element()),
        parts=labels,
    ).explode("suffix").with_columns(
        suffix=pl.col("parts").list.slice(pl.col("suffix")).list.join(".")
    ).select("i", "suffix")
    hits = suffixes.join(bases, on="suffix").group_by("i").agg(pl.col("pattern").first())
    return frame.join(hits, on="i", how="left").sort("i")["pattern"].alias(names.name)
