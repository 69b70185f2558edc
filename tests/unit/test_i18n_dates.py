"""A date leaves out the year only when it is this year (in local time), by the clock's now."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import i18n

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_this_year_leaves_the_year_out() -> None:
    moment = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert i18n.when("nl", moment, now=NOW) == "di 24 nov 14:00"
    assert i18n.when("en", moment, now=NOW) == "Tue 24 Nov 14:00"


def test_another_year_is_written() -> None:
    assert i18n.when("en", datetime(2027, 1, 4, 8, 0, tzinfo=UTC), now=NOW) == \
        "Mon 4 Jan 2027 09:00"
    assert "2025" in i18n.when("nl", datetime(2025, 12, 1, 9, 0, tzinfo=UTC), now=NOW)


def test_the_year_is_the_local_one() -> None:
    # 23:30 UTC on New Year's Eve is already 2027 in Amsterdam; 22:00 UTC is still 2026
    eve = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
    assert "2027" in i18n.when("nl", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), now=eve)
    assert "2026" not in i18n.when("nl", datetime(2026, 12, 31, 22, 30, tzinfo=UTC), now=eve)


def test_the_moment_of_rendering_comes_from_as_of() -> None:
    moment = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    with i18n.as_of(NOW):
        assert "2026" not in i18n.when("en", moment)
        with i18n.as_of(datetime(2027, 3, 1, tzinfo=UTC)):
            assert "2026" in i18n.when("en", moment)
        assert "2026" not in i18n.when("en", moment)
    # with no moment to compare with, the year is always written: never ambiguous
    assert "2026" in i18n.when("en", moment)
