"""Shared scoring pieces: ramps, combinations and the RITA-style modifiers."""

from __future__ import annotations

import datetime as dt

import pytest

from netsift.config import Settings
from netsift.detect.scoring import (
    MODIFIER_SETTINGS,
    first_seen_change,
    log_ramp,
    noisy_or,
    prevalence_change,
    ramp,
    sample,
    weighted,
)
from netsift.findings import Finding

MODS = Settings(MODIFIER_SETTINGS)
END = dt.datetime(2026, 3, 31)


@pytest.mark.parametrize(
    ("value", "low", "high", "expected"),
    [
        (0, 1, 3, 0.0),
        (1, 1, 3, 0.0),
        (2, 1, 3, 0.5),
        (3, 1, 3, 1.0),
        (9, 1, 3, 1.0),
        (0.05, 0.35, 0.05, 1.0),
        (0.2, 0.35, 0.05, 0.5),  # inverted ramp
        (5, 5, 5, 1.0),
        (4, 5, 5, 0.0),
    ],
)
def test_ramp(value, low, high, expected):
    assert ramp(value, low, high) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0.0), (50, 0.0), (100, 0.0), (316.2278, 0.5), (1000, 1.0), (5000, 1.0)]
)
def test_log_ramp_is_ritas_subdomain_scale(value, expected):
    assert log_ramp(value, 100, 1000) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("values", "expected"), [([], 0.0), ([0.5], 0.5), ([0.5, 0.5], 0.75), ([1, 0.2], 1.0), ([-1, 2], 1.0)]
)
def test_noisy_or(values, expected):
    assert noisy_or(values) == pytest.approx(expected)


def test_weighted():
    assert weighted({"a": 1.0, "b": 0.0}, {"a": 3, "b": 1}) == pytest.approx(0.75)
    assert weighted({"a": 1.0}, {}) == 0.0


@pytest.mark.parametrize(
    ("items", "limit", "total", "expected"),
    [
        (["a", "b"], 5, None, "a, b"),
        (["a", "b", "c"], 2, None, "a, b (+1 more)"),
        (["a", "b"], 2, 10, "a, b (+8 more)"),
        (["x" * 100], 1, None, "x" * 79 + "…"),
    ],
)
def test_sample(items, limit, total, expected):
    assert sample(items, limit, total) == expected


@pytest.mark.parametrize(
    ("clients", "total", "change"),
    [
        (1, 40, 0.15),  # a single client is rare once the network is big enough
        (1, 100, 0.15),
        (2, 100, 0.15),
        (3, 100, 0.0),  # <= 2 %
        (20, 40, -0.15),
        (39, 40, -0.15),  # >= 50 %
        (10, 40, 0.0),
        (1, 5, 0.0),
        (5, 5, 0.0),  # too few clients: prevalence says nothing
        (None, 40, 0.0),
        (0, 40, 0.0),
    ],
)
def test_prevalence_change(clients, total, change):
    got, reason = prevalence_change(clients, total, MODS)
    assert got == pytest.approx(change)
    assert (reason is None) == (change == 0)


@pytest.mark.parametrize(
    ("first_days_before_end", "span_days", "change"),
    [
        (2, 30, 0.15),  # new after four weeks of traffic
        (7, 30, 0.15),
        (10, 30, 0.0),
        (30, 60, -0.15),
        (45, 60, -0.15),
        (2, 2.5, 0.0),  # appeared half a day into the data: not enough history to call it new
        (2, 3, 0.15),
        (1, 1, 0.0),  # present from the start of a one-day capture
    ],
)
def test_first_seen_change(first_days_before_end, span_days, change):
    start = END - dt.timedelta(days=span_days)
    first = END - dt.timedelta(days=first_days_before_end)
    got, reason = first_seen_change(first, start, END, MODS)
    assert got == pytest.approx(change)
    assert (reason is None) == (change == 0)


def test_first_seen_change_counts_hours_with_data():
    """Two years of span but ten hours of data before the domain appeared: not enough history to call it
    new; with 30 such hours it is new, and the reason counts those hours, not the wall clock."""
    start, first = END - dt.timedelta(days=730), END - dt.timedelta(days=2)
    assert first_seen_change(first, start, END, MODS, history_hours=10) == (0.0, None)
    change, reason = first_seen_change(first, start, END, MODS, history_hours=30)
    assert change == pytest.approx(0.15) and "after 30 hours with traffic without it" in reason


def test_apply_change_clips_records_and_recomputes_severity():
    f = Finding(kind="beacon", score=0.7, reasons=["r"], domain="x.com")
    assert f.severity == "medium"
    f.apply_change("prevalence", 0.15, "Rare.")
    assert f.score == pytest.approx(0.85) and f.severity == "high"
    assert f.sub_scores["modifier_prevalence"] == pytest.approx(0.15)
    assert f.reasons == ["r", "Rare."]
    f.apply_change("first_seen", 0.5, None)
    assert f.score == 1.0 and f.severity == "critical"
    f.apply_change("noop", 0.0, "never shown")
    assert "modifier_noop" not in f.sub_scores and "never shown" not in f.reasons
