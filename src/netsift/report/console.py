"""Terminal tables (rich). Every value that came from a log is printed as plain, inert text through
:func:`escape` (or :func:`printable` where rich is not involved): control characters (C0, DEL, C1) and
Unicode bidi controls are shown as visible escapes (``ESC`` as the four characters ``\\x1b``), so a hostile
log cannot set the window title, clear the screen or hide a line of its own; and rich markup in a query name
(``[red]``) is escaped, never interpreted. Machine outputs (``netsift.report.machine``) keep exact values."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.table import Table

from netsift.findings import Finding

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}

# DEL, C1; the bidi marks, embeddings, overrides and isolates; the Unicode line and paragraph separators
# (JSON allows them raw: netsift.report.machine escapes them too)
BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# ... and C0, tab and newline included
UNSAFE_CHARS = re.compile(f"[\x00-\x1f{BEYOND_C0}]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` safe to write to a terminal: every control character as a visible escape (``\\x1b``,
    ``\\r``-as-``\\x0d``, ``\\u202e``), everything else unchanged. ``None`` is the empty string."""
    return UNSAFE_CHARS.sub(_visible, "" if text is None else str(text))


def decimals(value: object, places: int = 3) -> object:
    """A float with at most ``places`` decimals and no trailing zeros (0.9393939393939394 -> 0.939,
    1.0 -> 1); anything else unchanged. How sub-scores and other ratios are shown to a person."""
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        text = f"{value:.{places}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return value


def escape(text: object) -> str:
    """``text`` for rich's ``print``: :func:`printable`, then rich markup escaped (printed literally)."""
    return _markup_escape(printable(text))


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # piped output is not cut to 80 columns; `:smile:` in a name stays text
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width, emoji=False)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    t = Table(title=escape(title) if title else None, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(escape(c), overflow="fold")
    for row in rows:
        t.add_row(*(escape(decimals(v)) for v in row))
    return t


def findings_table(findings: Sequence[Finding], title: str = "Findings") -> Table:
    t = Table(title=escape(title), show_lines=True, header_style="bold")
    for c in ("#", "score", "severity", "kind", "client", "domain", "why"):
        t.add_column(c, overflow="fold")
    for i, f in enumerate(findings, 1):
        style = _SEVERITY_STYLE.get(f.severity, "")
        t.add_row(str(i), f"{f.score:.2f}", f"[{style}]{escape(f.severity)}[/]", escape(f.kind),
                  escape(_actor(f)), escape(f.domain or "-"), "\n".join(f"- {escape(r)}" for r in f.reasons))
    return t


def _actor(f: Finding) -> str:
    """The client cell: the acting address, then the account and target host where the finding names them."""
    return " · ".join([f.client or "-", *([f"account {f.account}"] if f.account else []),
                       *([f"on {f.host}"] if f.host else [])])


QUEUE_FLOOR = ("medium", "high", "critical")  # the terminal table, like the dashboard's queue, shows these


def queue_table(findings: Sequence[Finding], limit: int = 0, floor: bool = True) -> tuple[Table, str | None]:
    """The findings table of ``analyze``: medium and worse (the first ``limit``; 0: all), and a line saying
    how many below medium (info, low) were left out, or None when none were. ``floor=False`` shows every
    finding (e.g. when a kind was asked for)."""
    ranked = [f for f in findings if f.severity in QUEUE_FLOOR] if floor else list(findings)
    below = len(findings) - len(ranked)
    shown = ranked[:limit] if limit else ranked
    what = "medium-or-worse " if floor else ""
    title = f"Top {len(shown)} of {len(ranked)} {what}findings" + (f" ({len(findings)} in all)" if below else "")
    note = None
    if below:
        note = (f"+ {below:,} info/low finding{'s' if below != 1 else ''} left out: `--kind KIND` shows a kind "
                "whatever its severity; `--json` and `netsift serve` list them all")
    return findings_table(shown, title=title), note
