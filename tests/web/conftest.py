"""Fixtures for the dashboard tests: a small store built once per session and copied per test, an app
over the copy, and a synchronous in-process client (httpx over ASGI; no port is opened)."""

from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest

from tests.web.store_builder import build


class Client:
    """Synchronous httpx client over the ASGI app."""

    def __init__(self, app, base_url: str = "http://127.0.0.1"):
        self.app = app
        self.base_url = base_url

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def go():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as http:
                return await http.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture(scope="session")
def base_store(tmp_path_factory):
    return build(tmp_path_factory.mktemp("web") / "base.duckdb")


@pytest.fixture
def store_path(tmp_path, base_store):
    path = tmp_path / "netsift.duckdb"
    shutil.copy(base_store, path)
    return path


def make_app(path, **kwargs):
    from netsift.web.app import create_app

    return create_app(str(path), **kwargs)


@pytest.fixture
def app(store_path):
    app = make_app(store_path)
    yield app
    app.state.netsift.close()


@pytest.fixture
def client(app):
    return Client(app)
