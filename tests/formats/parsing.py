"""Helpers shared by the parser tests: read a fixture the way the ingest driver hands lines over, and
parse it whole or in chunks (``ctx.final`` set on the last one, as the driver does)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from netsift.ingest.base import ParseContext, ParseResult, lines_frame


def read_lines(path: Path) -> list[str]:
    """Split on LF only (a CR stays for the parser), undecodable bytes replaced."""
    lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_lines(parse: Callable[[object, ParseContext], ParseResult], lines: list[str], ctx: ParseContext,
                chunk: int | None = None) -> ParseResult | list[ParseResult]:
    """One result for the whole list, or (with ``chunk``) one per chunk of that many lines."""
    if chunk is None:
        return parse(lines_frame(lines), ctx)
    parts = []
    for start in range(0, len(lines), chunk):
        ctx.final = start + chunk >= len(lines)
        parts.append(parse(lines_frame(lines[start:start + chunk], start + 1), ctx))
    return parts


def check_accounting(results: ParseResult | list[ParseResult], lines: int) -> None:
    """Every line accounted for: ``records + skipped + rejected == lines``, with ``skipped`` as the parser
    counted it, class by class (``ParseResult.skipped_by``), never as the remainder of the other two — so a
    record lost on the way leaves a gap and fails here."""
    parts = results if isinstance(results, list) else [results]
    for part in parts:
        assert part.skipped == sum(part.skipped_by.values()), (
            f"{part.skipped} lines skipped without a reason ({part.skipped_by})")
    counted = {"records": sum(p.records.height for p in parts), "skipped": sum(p.skipped for p in parts),
               "rejected": sum(p.rejected.height for p in parts)}
    assert sum(counted.values()) == lines, f"{lines} lines, but {counted}"


def dropping(parse: Callable[[object, ParseContext], ParseResult], qtype: str = "AAAA"):
    """A parser that loses every record of ``qtype`` and says nothing: what the accounting must catch."""
    def lossy(lines: object, ctx: ParseContext) -> ParseResult:
        result = parse(lines, ctx)
        kept = result.records.filter(result.records["query_type"] != qtype)
        return ParseResult(kept, result.rejected, result.skipped, result.unescaped, result.skipped_by)
    return lossy


def sample_heads(shared_data: Path) -> Iterator[tuple[Path, list[str]]]:
    """(path, its first 50 lines as text) for every text sample of the shared data (captures and EVTX
    files left out): what a sniffer sees of each."""
    for path in sorted(p for p in shared_data.rglob("*") if p.is_file() and p.suffix not in (".pcap", ".evtx")):
        yield path, path.read_bytes()[:65536].decode("utf-8", errors="replace").splitlines()[:50]
