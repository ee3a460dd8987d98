"""The rate limiter, driven by a fake clock: no sleeping, no timed assertions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsift.enrich.ratelimit import RateLimiter
from tests.enrich.conftest import FakeClock


@pytest.mark.parametrize(
    ("limits", "gaps", "expected_waits"),
    [
        # 4 per minute: four go at once, the fifth waits for the first token to come back
        (((4, 60),), [0, 0, 0, 0, 0], [0, 0, 0, 0, 60]),
        (((4, 60),), [0, 10, 10, 10, 10], [0, 0, 0, 0, 20]),
        (((4, 60),), [0, 0, 0, 0, 61], [0, 0, 0, 0, 0]),
        # the longest window decides: 2 per day
        (((4, 60), (2, 86400)), [0, 0, 0], [0, 0, 86400]),
        (((1, 1),), [0, 0.5], [0, 0.5]),
    ],
)
def test_wait_times(limits, gaps, expected_waits):
    clock = FakeClock()
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    waits = []
    for gap in gaps:
        clock.now += gap
        waits.append(limiter.try_acquire())
    assert waits == pytest.approx(expected_waits)


def test_acquire_sleeps_the_exact_wait():
    clock = FakeClock()
    limiter = RateLimiter([(4, 60)], clock=clock, sleep=clock.sleep)
    for _ in range(6):
        assert limiter.acquire()
    assert clock.sleeps == [60.0]


def test_acquire_refuses_a_wait_beyond_max_wait_without_sleeping():
    clock = FakeClock()
    limiter = RateLimiter([(1, 86400)], clock=clock, sleep=clock.sleep)
    assert limiter.acquire(max_wait=120)
    assert not limiter.acquire(max_wait=120)
    assert clock.sleeps == []
    assert limiter.wait_time() == pytest.approx(86400)


def test_block_for_delays_everything():
    clock = FakeClock()
    limiter = RateLimiter([(100, 1)], clock=clock, sleep=clock.sleep)
    limiter.block_for(30)
    assert limiter.try_acquire() == pytest.approx(30)
    clock.now += 30
    assert limiter.try_acquire() == 0


def test_seeded_usage_counts():
    clock = FakeClock()
    limiter = RateLimiter([(3, 3600)], clock=clock, sleep=clock.sleep)
    for ago in (100, 3000, 50):  # out of order on purpose
        limiter.record(clock.now - ago)
    assert limiter.try_acquire() == pytest.approx(3600 - 3000)


def test_rejects_non_positive_limits():
    with pytest.raises(ValueError):
        RateLimiter([(0, 60)])


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 6),
    window=st.sampled_from([1.0, 60.0, 3600.0]),
    gaps=st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=40),
)
def test_no_window_ever_holds_more_than_the_limit(limit, window, gaps):
    clock = FakeClock()
    limiter = RateLimiter([(limit, window)], clock=clock, sleep=clock.sleep)
    sent = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        sent.append(clock.now)
    for i, start in enumerate(sent):
        in_window = [t for t in sent[i:] if t < start + window]
        assert len(in_window) <= limit
