"""Fixtures for enrichment tests: a local HTTP server and a fake clock that never sleeps."""

from __future__ import annotations

import pytest

from tests.lists.http_server import LocalServer


class FakeClock:
    """``clock()`` returns wall seconds; ``sleep(s)`` records s and moves the clock forward."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv
