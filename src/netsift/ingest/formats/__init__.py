"""The format table: one module per log format, each exposing ``PARSER``.

To add a format: write ``formats/<name>.py`` with a ``PARSER = Parser(name, description, kind, ...)`` (a
declared kind: ``"lines"``, ``"document"`` or ``"binary"``; see ``ingest/base.py`` for the contract), add the module name to ``FORMAT_MODULES`` below, and give it table-driven tests in
``tests/formats/test_<name>.py``. Order matters only to break sniffing ties (earlier wins).
"""

from __future__ import annotations

import functools
import re
import importlib

from netsift.ingest.base import Parser

FORMAT_MODULES: tuple[str, ...] = (
    "pcap",
    "pihole",
    "pihole_json",
    "pihole_db",
    "bind",
    "unbound",
    "coredns",
    "windows_dns",
    "zeek_tsv",
    "zeek_json",
    "ecs_json",
    "route53_json",
    "adguard_querylog",
    "suricata_eve",
    "tcpdump",
    "umbrella_csv",
    "csv_columns",
    "squid",
    "fortigate",
    "paloalto",
    "cisco_asa",
    "access_combined",
    "w3c_extended",
    "windows_firewall",
    "zeek_http_tsv",
    "zeek_http_json",
    "zeek_conn_tsv",
    "zeek_conn_json",
    "zeek_ssh_tsv",
    "zeek_ssh_json",
    "linux_auth",
    "journald_json",
    "windows_evtx",
    "windows_xml",
    "windows_csv",
)


@functools.cache
def parsers() -> dict[str, Parser]:
    """name -> Parser, in FORMAT_MODULES order (loaded on first use)."""
    table: dict[str, Parser] = {}
    for module_name in FORMAT_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        parser: Parser = module.PARSER
        table[parser.name] = parser
    return table


MIN_CONFIDENCE = 0.5


def parser_for_program(program: str) -> Parser | None:
    """The parser that declares this syslog program (``Parser.syslog_programs``; case-insensitive)."""
    wanted = program.lower()
    for parser in parsers().values():
        if wanted in (p.lower() for p in parser.syslog_programs):
            return parser
    return None


def parser_for_line(line: str) -> Parser | None:
    """The parser whose lines arrive without a syslog header and look like ``line`` (``Parser.syslog_line``)."""
    for parser in parsers().values():
        if parser.syslog_line and parser.syslog_programs and re.match(parser.syslog_line, line):
            return parser
    return None


def format_names() -> list[str]:
    return list(parsers())


def detect_format(head: bytes, lines: list[str]) -> tuple[Parser | None, float]:
    """Pick the parser most confident about this input. ``head`` is the first bytes (for binary
    formats), ``lines`` the first non-empty decoded lines. Returns (None, best) when nobody reaches
    MIN_CONFIDENCE."""
    best: Parser | None = None
    best_score = 0.0
    for parser in parsers().values():
        if parser.kind == "binary" and parser.sniff_bytes is not None:
            score = parser.sniff_bytes(head)
        elif parser.sniff is not None and lines:
            score = parser.sniff(lines)
        else:
            score = 0.0
        if score > best_score:
            best, best_score = parser, score
    if best_score < MIN_CONFIDENCE:
        return None, best_score
    return best, best_score


def formats_markdown() -> str:
    """docs/formats.md: each format's module docstring (generated; `netsift formats --markdown`)."""
    out = ["# Formats", "",
           "Generated from the parser modules' docstrings by `netsift formats --markdown`; do not edit by hand.",
           "Detection sniffs the first 50 non-empty lines (pcap: the magic bytes), past any run of leading blank",
           "lines; `--format NAME` overrides.", "",
           "Each format writes one table (`dns_queries`, `logon_events`, ...; see schema.md).",
           "In every format, before and after the parser (`ingest/reader.py`, `base.screened`): a line longer than",
           "1 MiB is a rejected line, never read whole; a line holding a control character (NUL, ESC, DEL, C1;",
           "tab and CR excepted) is rejected, as is a DNS record whose name is longer than 253 characters or has a",
           "label longer than 63 (counted without the trailing dot), whose query type is neither a known",
           "mnemonic nor `TYPEnnn`, or (JSON formats) whose fields decode to a control character. Text with",
           "CR-only line endings is split on CR.", ""]
    for module_name in FORMAT_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        parser: Parser = module.PARSER
        out += [f"## `{parser.name}`", "", f"*{parser.description}* — `src/netsift/ingest/formats/{module_name}.py`, "
                f"rows in `{parser.table}`" + ("".join(f", `{t}`" for t in parser.also_writes)),
                "", (module.__doc__ or "").strip(), ""]
    return "\n".join(out)
