"""Terminal tables (rich). Every value that came from a log is printed as plain text: rich markup in a
query name (``[red]``) is escaped, never interpreted."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netsift.findings import Finding

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # piped output is not cut to 80 columns
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    t = Table(title=escape(title) if title else None, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in row))
    return t


def findings_table(findings: Sequence[Finding], title: str = "Findings") -> Table:
    t = Table(title=title, show_lines=True, header_style="bold")
    for c in ("#", "score", "severity", "kind", "client", "domain", "why"):
        t.add_column(c, overflow="fold")
    for i, f in enumerate(findings, 1):
        style = _SEVERITY_STYLE.get(f.severity, "")
        t.add_row(str(i), f"{f.score:.2f}", f"[{style}]{f.severity}[/]", escape(f.kind), escape(f.client or "-"),
                  escape(f.domain or "-"), escape("\n".join(f"- {r}" for r in f.reasons)))
    return t
