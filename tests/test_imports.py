"""Imports follow the data: no import cycles between netsift's modules, no netsift imports inside
functions except the documented deferred ones, and a command imports what it runs: `netsift ingest` does not
load the analysis, report, dashboard, enrichment or synthetic-traffic modules (commands other than the
store's own are named in ``netsift.cli.COMMANDS`` and imported when run)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import click

from netsift.cli import COMMANDS, main

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "netsift"
# (module, imported module): deferred on purpose, each with a comment at the import saying why
DEFERRED = {
    ("netsift.web.cli", "netsift.web.app"),  # the FastAPI stack: ~0.3 s of every command's start-up
    ("netsift.watch.cli", "netsift.watch.live"),  # the same stack, for `watch --serve`
    ("netsift.store.duckdb", "netsift.ingest"),  # ingest.bookkeeping imports netsift.store
    ("netsift.store.clickhouse", "netsift.ingest"),  # the same, for the ClickHouse store
    ("netsift.store", "netsift.store.clickhouse"),  # an optional extra (sqlglot, chdb, clickhouse-connect)
    ("netsift.ingest.formats.pcap", "netsift.ingest.capture.packets"),  # dpkt etc.: ~0.1 s of every sniff
}



def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("netsift")]
    if not node.module or not node.module.startswith("netsift") or node.level:
        return []
    # `from pkg import sub` imports the submodule pkg.sub; `from mod import name` imports mod
    return [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names]


def _imports(path: Path) -> tuple[set[str], list[tuple[int, str]]]:
    """(netsift modules imported at module level, (line, module) imported inside functions or classes)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def walk(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child):
                    (inner.append((child.lineno, target)) if nested else top.add(target))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                walk(child, True)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                walk(child, True)
            else:
                walk(child, nested)

    walk(tree, False)
    return top, inner


def test_no_import_cycles():
    graph = {name: {t for t in _imports(path)[0] if t in MODULES and t != name} for name, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert cycles == []


def test_no_netsift_imports_inside_functions():
    found = []
    for name, path in MODULES.items():
        for line, target in _imports(path)[1]:
            if not any(name == m and target.startswith(t) for m, t in DEFERRED):
                found.append(f"{path.relative_to(SRC)}:{line}: {target}")
    assert found == []


# what `netsift ingest` must not load: the stages after ingest and the shells over them (~0.3 s of start-up)
NOT_FOR_INGEST = ("netsift.pipeline", "netsift.baseline", "netsift.detect", "netsift.enrich", "netsift.report.html",
                  "netsift.report.charts", "netsift.web", "netsift.synth", "netsift.lists", "netsift.cli_commands",
                  "netsift.cli_analysis", "netsift.explain", "plotly", "jinja2", "fastapi", "httpx", "geoip2fast")
LOADED = """
import json, sys
from netsift.cli import main
main.get_command(None, "ingest")
print(json.dumps(sorted(sys.modules)))
"""


def test_ingest_command_loads_only_the_ingest_path():
    loaded = json.loads(subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True,
                                       check=True, cwd=SRC).stdout)
    assert [m for m in loaded if m.startswith(NOT_FOR_INGEST)] == []


def test_every_named_command_loads():
    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name, name
    assert set(COMMANDS) <= set(main.list_commands(ctx))
