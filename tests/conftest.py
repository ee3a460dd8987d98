"""Shared fixtures. The network is blocked for every test: a test that needs HTTP starts a server on
127.0.0.1 (see tests/http_server.py).

Stores: ``any_store`` runs a test once per kind of store, on an empty store: DuckDB (a file in tmp_path) and
chdb (ClickHouse in-process; one engine for the whole run, its tables emptied before each test; skipped
with the reason when the ``clickhouse`` extra is not installed). ``chdb_store`` is that one store itself."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from netsift.store import Store, open_store

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Refuse connections to anything but loopback."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX
        ):
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


STORE_KINDS = ("duckdb", "chdb")
HAVE_CHDB = importlib.util.find_spec("chdb") is not None and importlib.util.find_spec("sqlglot") is not None


@pytest.fixture(scope="session")
def chdb_store(tmp_path_factory) -> Iterator[Store]:
    """One chdb store for the run (chdb runs one engine per process and starts in ~0.5 s)."""
    if not HAVE_CHDB:
        pytest.skip("chdb is not installed (pip install 'netsift[clickhouse]')")
    store = open_store(f"chdb:{tmp_path_factory.mktemp('chdb')}")
    yield store
    store.close()


def empty_store(store: Store) -> None:
    """Drop every table and create the declared ones again (a fresh store, without a new engine)."""
    for (name,) in store.rows("SELECT name FROM system.tables WHERE database = currentDatabase()"):
        store.execute(f"DROP TABLE IF EXISTS {name}")
    store.ensure_schema()


@pytest.fixture(params=STORE_KINDS)
def any_store(request, tmp_path) -> Iterator[Store]:
    """An empty store of each kind (see the module docstring)."""
    if request.param == "duckdb":
        with open_store(tmp_path / "s.duckdb") as store:
            yield store
        return
    store = request.getfixturevalue("chdb_store")
    empty_store(store)
    yield store


@pytest.fixture
def empty_chdb(chdb_store) -> Store:
    """The chdb store, emptied."""
    empty_store(chdb_store)
    return chdb_store
