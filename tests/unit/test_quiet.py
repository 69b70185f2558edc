"""Quiet hours: when a nudge that falls inside them may go out."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.quiet import parse_hours, quiet_length, quiet_until
from tests.support.harness import local

NIGHT = (time(22, 0), time(7, 30))


@pytest.mark.parametrize(("now", "until"), [
    (local(2026, 11, 23, 21, 59), None),
    (local(2026, 11, 23, 22, 0), local(2026, 11, 24, 7, 30)),
    (local(2026, 11, 24, 3, 0), local(2026, 11, 24, 7, 30)),
    (local(2026, 11, 24, 7, 30), None),
    # the night the clocks go back still ends at 07:30 local
    (local(2026, 10, 24, 23, 0), local(2026, 10, 25, 7, 30)),
    # and the night they go forward
    (local(2026, 3, 29, 1, 30), local(2026, 3, 29, 7, 30)),
])
def test_quiet_until(now, until) -> None:  # type: ignore[no-untyped-def]
    assert quiet_until(now, *NIGHT) == until


def test_daytime_quiet_hours_and_none() -> None:
    assert quiet_until(local(2026, 11, 23, 13, 0), time(12, 0), time(14, 0)) == local(
        2026, 11, 23, 14, 0)
    assert quiet_until(local(2026, 11, 23, 13, 0), time(0, 0), time(0, 0)) is None


def test_lengths_and_parsing() -> None:
    assert quiet_length(*NIGHT) == timedelta(hours=9, minutes=30)
    assert quiet_length(time(8), time(8)) == timedelta(0)
    assert parse_hours("22:00-07:30") == NIGHT
    assert parse_hours("22.00 – 7:30") == NIGHT
    assert parse_hours("tonight") is None
    assert parse_hours("25:00-07:00") is None


@given(st.integers(min_value=0, max_value=60 * 24 * 365))
def test_a_nudge_never_waits_longer_than_the_quiet_hours(minutes: int) -> None:
    now = local(2026, 1, 1, 0, 0) + timedelta(minutes=minutes)
    until = quiet_until(now, *NIGHT)
    if until is not None:
        assert now < until <= now + quiet_length(*NIGHT) + timedelta(hours=1)  # DST night
