"""Tests for schedules.calendar: working days, real and calendar time, spans.

Expected values come from the Dutch calendar and the Amsterdam clock changes as
published (Easter dates, weekdays, 29 March and 25 October 2026), not from the module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calendar import (
    AMSTERDAM,
    Span,
    WorkingCalendar,
    add_calendar,
    add_real,
    to_local,
)

NEW_YORK = ZoneInfo("America/New_York")
CET = timedelta(hours=1)
CEST = timedelta(hours=2)

# 2026 clock changes in Amsterdam: 29 March 02:00 CET -> 03:00 CEST,
# 25 October 03:00 CEST -> 02:00 CET.
SPRING_2026 = date(2026, 3, 29)
AUTUMN_2026 = date(2026, 10, 25)

# Western Easter Sundays from published tables.
EASTER_SUNDAY = {
    2024: date(2024, 3, 31),
    2025: date(2025, 4, 20),
    2026: date(2026, 4, 5),
    2027: date(2027, 3, 28),
    2028: date(2028, 4, 16),
    2029: date(2029, 4, 1),
    2030: date(2030, 4, 21),
    2031: date(2031, 4, 13),
    2032: date(2032, 3, 28),
    2033: date(2033, 4, 17),
    2034: date(2034, 4, 9),
    2035: date(2035, 3, 25),
}


def ams(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def local(moment: datetime) -> datetime:
    """Wall-clock view in Amsterdam, normalised through UTC."""
    return moment.astimezone(UTC).astimezone(AMSTERDAM)


def wall(moment: datetime) -> tuple[date, time]:
    view = local(moment)
    return view.date(), view.time().replace(fold=0)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# ----------------------------------------------------------------- holidays and weekends


def test_easter_monday_2027_and_ascension_2026_are_closed(cal: WorkingCalendar) -> None:
    assert date(2027, 3, 29).weekday() == 0
    assert not cal.is_working_day(date(2027, 3, 29))  # Tweede paasdag
    assert date(2026, 5, 14).weekday() == 3
    assert not cal.is_working_day(date(2026, 5, 14))  # Hemelvaartsdag
    assert cal.is_working_day(date(2026, 5, 13))
    assert cal.is_working_day(date(2026, 5, 15))  # the bridge day is not a holiday


@pytest.mark.parametrize("year", sorted(EASTER_SUNDAY))
def test_movable_feasts_close_working_days(year: int, cal: WorkingCalendar) -> None:
    easter = EASTER_SUNDAY[year]
    easter_monday = easter + timedelta(days=1)
    ascension = easter + timedelta(days=39)
    whit_monday = easter + timedelta(days=50)
    assert (easter_monday.weekday(), ascension.weekday(), whit_monday.weekday()) == (0, 3, 0)
    for closed in (easter_monday, ascension, whit_monday):
        assert not cal.is_working_day(closed)
        assert cal.is_holiday(closed)
    # The Tuesday after Easter and after Whitsun are ordinary working days.
    assert cal.is_working_day(easter + timedelta(days=2))
    assert cal.is_working_day(whit_monday + timedelta(days=1))


@pytest.mark.parametrize("year", sorted(EASTER_SUNDAY))
def test_good_friday_is_a_working_day_unless_configured(year: int) -> None:
    good_friday = EASTER_SUNDAY[year] - timedelta(days=2)
    assert WorkingCalendar().is_working_day(good_friday)
    assert not WorkingCalendar(good_friday_closed=True).is_working_day(good_friday)


@pytest.mark.parametrize("year", [2026, 2027, 2028, 2029, 2032, 2033, 2034, 2035])
def test_kingsday_on_a_weekday_is_closed(year: int, cal: WorkingCalendar) -> None:
    kingsday = date(year, 4, 27)
    assert kingsday.weekday() < 5
    assert not cal.is_working_day(kingsday)
    assert cal.is_holiday(kingsday)


@pytest.mark.parametrize("year", [2025, 2031])
def test_kingsday_on_a_sunday_moves_to_saturday_not_monday(
    year: int, cal: WorkingCalendar
) -> None:
    assert date(year, 4, 27).weekday() == 6
    assert cal.is_holiday(date(year, 4, 26))  # celebrated on Saturday the 26th
    assert not cal.is_holiday(date(year, 4, 27))
    assert cal.is_working_day(date(year, 4, 28))  # the Monday stays a working day


@pytest.mark.parametrize(
    "christmas",
    [
        date(2024, 12, 25),  # Wednesday, Boxing Day Thursday
        date(2029, 12, 25),  # Tuesday, Boxing Day Wednesday
        date(2099, 12, 25),  # Friday, far in the future
    ],
)
def test_christmas_days_are_closed(christmas: date, cal: WorkingCalendar) -> None:
    boxing_day = christmas + timedelta(days=1)
    assert christmas.weekday() < 5
    assert not cal.is_working_day(christmas)
    assert not cal.is_working_day(boxing_day)
    assert cal.is_holiday(boxing_day)
    assert cal.is_working_day(christmas - timedelta(days=1))


def test_new_years_day_is_closed(cal: WorkingCalendar) -> None:
    assert date(2027, 1, 1).weekday() == 4
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2026, 12, 31))


def test_liberation_day_closes_only_lustrum_years_by_default(cal: WorkingCalendar) -> None:
    assert date(2025, 5, 5).weekday() == 0
    assert not cal.is_working_day(date(2025, 5, 5))
    assert date(2045, 5, 5).weekday() == 4
    assert not cal.is_working_day(date(2045, 5, 5))
    for year in (2026, 2027, 2028):
        assert date(year, 5, 5).weekday() < 5
        assert cal.is_working_day(date(year, 5, 5))


def test_liberation_day_every_year_when_configured() -> None:
    every_year = WorkingCalendar(liberation_day_every_year=True)
    for year in (2025, 2026, 2027, 2028, 2033, 2034):
        assert not every_year.is_working_day(date(year, 5, 5))


def test_every_package_public_holiday_on_a_weekday_closes_except_the_policy_days(
    cal: WorkingCalendar,
) -> None:
    for year in range(2024, 2036):
        good_friday = EASTER_SUNDAY[year] - timedelta(days=2)
        for day in holidays.country_holidays("NL", years=year):
            if day == good_friday or (day == date(year, 5, 5) and year % 5):
                continue
            assert not cal.is_working_day(day), day


def test_weekends_are_not_working_days(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(date(2026, 3, 8))  # Sunday
    assert cal.is_working_day(date(2026, 3, 9))  # Monday


def test_is_working_day_reads_an_aware_datetime_as_its_local_date(cal: WorkingCalendar) -> None:
    # 23:30 UTC on Friday 6 March 2026 is 00:30 on Saturday in Amsterdam.
    assert not cal.is_working_day(datetime(2026, 3, 6, 23, 30, tzinfo=UTC))
    assert cal.is_working_day(datetime(2026, 3, 6, 22, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.is_working_day(datetime(2026, 3, 6, 12, 0))  # noqa: DTZ001 - refusal under test


def test_deployment_closed_days() -> None:
    bridge_day = date(2026, 5, 15)  # Friday after Ascension
    closed = WorkingCalendar(extra_closed_days=[bridge_day])
    assert not closed.is_working_day(bridge_day)
    assert closed.next_working_day(date(2026, 5, 13)) == date(2026, 5, 18)
    deadline = closed.add_working_days(ams(2026, 5, 13, 16), 1)
    assert wall(deadline) == (date(2026, 5, 18), time(16, 0))
    # A closed day is also skipped as the opening day after a weekend.
    monday_closed = WorkingCalendar(extra_closed_days={date(2026, 3, 9)})
    assert wall(monday_closed.add_working_days(ams(2026, 3, 7, 10), 0)) == (
        date(2026, 3, 10),
        time(9, 0),
    )


def test_extra_closed_days_must_be_dates() -> None:
    with pytest.raises(TypeError, match="dates"):
        WorkingCalendar(extra_closed_days=[ams(2026, 5, 15)])


def test_opening_time_must_be_a_wall_clock_time() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        WorkingCalendar(opens_at=time(9, 0, tzinfo=UTC))


def test_calendars_compare_by_configuration() -> None:
    assert WorkingCalendar(extra_closed_days=[date(2026, 5, 15)]) == WorkingCalendar(
        extra_closed_days=(date(2026, 5, 15),)
    )
    assert WorkingCalendar() != WorkingCalendar(opens_at=time(8, 30))
    assert len({WorkingCalendar(), WorkingCalendar()}) == 1


# ----------------------------------------------------------------- next working day


def test_next_working_day_is_strictly_after(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(date(2026, 3, 9)) == date(2026, 3, 10)  # Mon -> Tue
    assert cal.next_working_day(date(2026, 3, 6)) == date(2026, 3, 9)  # Fri -> Mon
    assert cal.next_working_day(date(2026, 4, 24)) == date(2026, 4, 28)  # over Koningsdag
    assert cal.next_working_day(date(2026, 12, 24)) == date(2026, 12, 28)  # over Christmas
    assert cal.next_working_day(date(2027, 3, 26)) == date(2027, 3, 30)  # over Easter


def test_next_working_day_at(cal: WorkingCalendar) -> None:
    friday_night = ams(2026, 3, 6, 22)
    assert wall(cal.next_working_day_at(friday_night, time(9, 0))) == (
        date(2026, 3, 9),
        time(9, 0),
    )
    monday_early = ams(2026, 3, 9, 8)  # before nine, but the next day is still asked for
    assert wall(cal.next_working_day_at(monday_early, time(9, 0))) == (
        date(2026, 3, 10),
        time(9, 0),
    )
    # Across the spring change: Monday 30 March 09:00 is summer time, 07:00 UTC.
    result = cal.next_working_day_at(ams(2026, 3, 27, 12), time(9, 0))
    assert result == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="wall-clock"):
        cal.next_working_day_at(friday_night, time(9, 0, tzinfo=AMSTERDAM))


# ----------------------------------------------------------------- add_working_days


def test_saturday_start_counts_from_monday_opening(cal: WorkingCalendar) -> None:
    saturday = ams(2026, 3, 7, 10)
    assert wall(cal.add_working_days(saturday, 1)) == (date(2026, 3, 10), time(9, 0))
    assert wall(cal.add_working_days(saturday, 0)) == (date(2026, 3, 9), time(9, 0))
    sunday_late = ams(2026, 3, 8, 23, 59)
    assert wall(cal.add_working_days(sunday_late, 1)) == (date(2026, 3, 10), time(9, 0))
    early = WorkingCalendar(opens_at=time(8, 30))
    assert wall(early.add_working_days(saturday, 1)) == (date(2026, 3, 10), time(8, 30))


def test_working_day_start_keeps_its_wall_clock_time(cal: WorkingCalendar) -> None:
    assert wall(cal.add_working_days(ams(2026, 3, 6, 15), 1)) == (date(2026, 3, 9), time(15))
    assert wall(cal.add_working_days(ams(2026, 3, 10, 3), 1)) == (date(2026, 3, 11), time(3))
    assert wall(cal.add_working_days(ams(2026, 3, 9, 11), 5)) == (date(2026, 3, 16), time(11))
    start = ams(2026, 3, 9, 11)
    assert cal.add_working_days(start, 0) == start


def test_working_days_around_holidays(cal: WorkingCalendar) -> None:
    # Wednesday before Ascension 2026 (Thursday 14 May) -> Friday.
    assert wall(cal.add_working_days(ams(2026, 5, 13, 16), 1)) == (date(2026, 5, 15), time(16))
    # Friday before Koningsdag (Monday 27 April 2026) -> Tuesday.
    assert wall(cal.add_working_days(ams(2026, 4, 24, 10), 1)) == (date(2026, 4, 28), time(10))
    # Christmas 2026 is Friday/Saturday: Thursday 24 December -> Monday 28 December.
    assert wall(cal.add_working_days(ams(2026, 12, 24, 16), 1)) == (date(2026, 12, 28), time(16))
    # Easter 2027: Good Friday 26 March works by default, Easter Monday 29 March does not.
    thursday = ams(2027, 3, 25, 10)
    assert wall(cal.add_working_days(thursday, 1)) == (date(2027, 3, 26), time(10))
    assert wall(cal.add_working_days(thursday, 2)) == (date(2027, 3, 30), time(10))
    statutory = WorkingCalendar(good_friday_closed=True)
    assert wall(statutory.add_working_days(thursday, 1)) == (date(2027, 3, 30), time(10))
    # Started on Easter Monday itself: counting starts Tuesday 09:00.
    assert wall(cal.add_working_days(ams(2027, 3, 29, 14), 1)) == (date(2027, 3, 31), time(9))


def test_working_days_use_the_local_date_of_the_start(cal: WorkingCalendar) -> None:
    saturday_local = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)  # Sat 00:30 in Amsterdam
    assert wall(cal.add_working_days(saturday_local, 1)) == (date(2026, 3, 10), time(9))
    friday_local = datetime(2026, 3, 6, 22, 30, tzinfo=UTC)  # Fri 23:30 in Amsterdam
    assert wall(cal.add_working_days(friday_local, 1)) == (date(2026, 3, 9), time(23, 30))


def test_working_days_across_both_2026_clock_changes(cal: WorkingCalendar) -> None:
    spring_start = ams(2026, 3, 27, 15)  # Friday, winter time
    spring = cal.add_working_days(spring_start, 1)
    assert wall(spring) == (date(2026, 3, 30), time(15))
    assert spring - spring_start == timedelta(hours=71)  # one hour lost on the Sunday
    autumn_start = ams(2026, 10, 23, 15)  # Friday, summer time
    autumn = cal.add_working_days(autumn_start, 1)
    assert wall(autumn) == (date(2026, 10, 26), time(15))
    assert autumn - autumn_start == timedelta(hours=73)  # one hour gained


def test_results_are_utc(cal: WorkingCalendar) -> None:
    start = ams(2026, 3, 27, 15)
    for result in (
        cal.add_working_days(start, 1),
        cal.next_working_day_at(start, time(9)),
        add_real(start, timedelta(hours=4)),
        add_calendar(start, weeks=1),
        Span.parse("1wd").after(start, cal),
    ):
        assert result.tzinfo is UTC


def test_negative_working_days_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        cal.add_working_days(ams(2026, 3, 9, 9), -1)


# ----------------------------------------------------------------- real and calendar time


def test_real_hours_across_the_2026_changes() -> None:
    spring = add_real(ams(2026, 3, 28, 9), timedelta(hours=24))
    assert wall(spring) == (SPRING_2026, time(10))
    autumn = add_real(ams(2026, 10, 24, 9), timedelta(hours=24))
    assert wall(autumn) == (AUTUMN_2026, time(8))


def test_calendar_days_and_weeks_across_the_2026_changes() -> None:
    day_spring_start = ams(2026, 3, 28, 9)
    day_spring = add_calendar(day_spring_start, days=1)
    assert wall(day_spring) == (SPRING_2026, time(9))
    assert day_spring - day_spring_start == timedelta(hours=23)
    day_autumn_start = ams(2026, 10, 24, 9)
    day_autumn = add_calendar(day_autumn_start, days=1)
    assert wall(day_autumn) == (AUTUMN_2026, time(9))
    assert day_autumn - day_autumn_start == timedelta(hours=25)
    week_start = ams(2026, 3, 25, 9)
    week = add_calendar(week_start, weeks=1)
    assert wall(week) == (date(2026, 4, 1), time(9))
    assert week - week_start == timedelta(hours=167)
    assert wall(add_calendar(ams(2026, 10, 21, 9), weeks=1)) == (date(2026, 10, 28), time(9))


def test_calendar_time_in_the_spring_gap_moves_forward() -> None:
    result = add_calendar(ams(2026, 3, 28, 2, 30), days=1)
    assert wall(result) == (SPRING_2026, time(3, 30))
    assert local(result).utcoffset() == CEST
    assert result == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert wall(add_calendar(ams(2026, 3, 22, 2, 0), weeks=1)) == (SPRING_2026, time(3, 0))


def test_calendar_time_in_the_autumn_overlap_takes_the_first_occurrence() -> None:
    result = add_calendar(ams(2026, 10, 24, 2, 30), days=1)
    assert wall(result) == (AUTUMN_2026, time(2, 30))
    assert result == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # still summer time
    assert local(result).utcoffset() == CEST


@pytest.mark.parametrize(
    ("start", "months", "years", "expected"),
    [
        (date(2026, 1, 31), 1, 0, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, 0, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, 0, date(2026, 4, 30)),
        (date(2026, 12, 31), 2, 0, date(2027, 2, 28)),
        (date(2026, 11, 15), 3, 0, date(2027, 2, 15)),
        (date(2028, 2, 29), 0, 1, date(2029, 2, 28)),
        (date(2028, 2, 29), 0, 4, date(2032, 2, 29)),
        (date(2026, 3, 31), -1, 0, date(2026, 2, 28)),
    ],
)
def test_calendar_months_clamp_to_the_month_end(
    start: date, months: int, years: int, expected: date
) -> None:
    begin = datetime.combine(start, time(9, 0), tzinfo=AMSTERDAM)
    assert wall(add_calendar(begin, months=months, years=years)) == (expected, time(9))


def test_calendar_applies_months_before_days() -> None:
    assert wall(add_calendar(ams(2026, 1, 31, 9), months=1, days=1)) == (date(2026, 3, 1), time(9))


def test_calendar_uses_the_local_date_of_the_start_and_the_given_zone() -> None:
    # 23:30 UTC on 28 March is 00:30 on Sunday 29 March in Amsterdam (still winter time).
    result = add_calendar(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), days=1)
    assert wall(result) == (date(2026, 3, 30), time(0, 30))
    assert result == datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
    # US clocks change on 8 March 2026.
    ny_start = datetime(2026, 3, 7, 9, 0, tzinfo=NEW_YORK)
    ny_result = add_calendar(ny_start, days=1, tz=NEW_YORK)
    ny = ny_result.astimezone(NEW_YORK)
    assert (ny.date(), ny.time()) == (date(2026, 3, 8), time(9))
    # Subtract the UTC result: two datetimes sharing a ZoneInfo subtract by wall clock.
    assert ny_result - ny_start == timedelta(hours=23)


def test_to_local_normalises_a_gap_time() -> None:
    assert to_local(ams(2026, 3, 29, 2, 30)).time() == time(3, 30)


def test_a_start_inside_the_gap_is_read_as_the_instant_it_names() -> None:
    # "02:30" on 29 March 2026 does not exist; as an instant it is 03:30 summer time.
    gap_start = ams(2026, 3, 29, 2, 30)
    assert wall(add_calendar(gap_start, weeks=1)) == (date(2026, 4, 5), time(3, 30))
    assert wall(WorkingCalendar().add_working_days(gap_start, 0)) == (date(2026, 3, 30), time(9))


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: add_real(naive, timedelta(hours=1)),
        lambda naive: add_calendar(naive, days=1),
        lambda naive: WorkingCalendar().add_working_days(naive, 1),
        lambda naive: WorkingCalendar().next_working_day_at(naive, time(9)),
        lambda naive: WorkingCalendar().next_working_day(naive),
        lambda naive: Span.parse("4h").after(naive, WorkingCalendar()),
        lambda naive: Span.parse("4h").before(naive, WorkingCalendar()),
        to_local,
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[datetime], object]) -> None:
    naive = datetime(2026, 3, 9, 9, 0)  # noqa: DTZ001 - the refusal is what is under test
    with pytest.raises(ValueError, match="timezone-aware"):
        call(naive)


# ----------------------------------------------------------------- spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48h", Span.real(timedelta(hours=48))),
        ("90m", Span.real(timedelta(minutes=90))),
        ("30s", Span.real(timedelta(seconds=30))),
        ("1.5h", Span.real(timedelta(minutes=90))),
        ("1,5 uur", Span.real(timedelta(minutes=90))),
        ("2d", Span.real(timedelta(hours=48))),
        ("1h30m", Span.real(timedelta(minutes=90))),
        ("1 uur en 30 minuten", Span.real(timedelta(minutes=90))),
        ("PT48H", Span.real(timedelta(hours=48))),
        ("PT1H30M", Span.real(timedelta(minutes=90))),
        ("pt0.5s", Span.real(timedelta(milliseconds=500))),
        ("1wd", Span.working(1)),
        ("1 werkdag", Span.working(1)),
        ("2 werkdagen", Span.working(2)),
        ("1 working day", Span.working(1)),
        ("3 Working Days", Span.working(3)),
        ("4w", Span.calendar(weeks=4)),
        ("4 weken", Span.calendar(weeks=4)),
        ("4 weeks", Span.calendar(weeks=4)),
        ("6w", Span.calendar(weeks=6)),
        ("P4W", Span.calendar(weeks=4)),
        ("3mo", Span.calendar(months=3)),
        ("3 maanden", Span.calendar(months=3)),
        ("3 months", Span.calendar(months=3)),
        ("P3M", Span.calendar(months=3)),
        ("1y", Span.calendar(years=1)),
        ("2 jaar", Span.calendar(years=2)),
        ("2 years", Span.calendar(years=2)),
        ("P1Y", Span.calendar(years=1)),
        ("P10D", Span.calendar(days=10)),
        ("  4  weken ", Span.calendar(weeks=4)),
    ],
)
def test_span_parse(text: str, expected: Span) -> None:
    assert Span.parse(text) == expected


def test_span_kinds() -> None:
    assert Span.parse("2d").kind == "real"
    assert Span.parse("P2D").kind == "calendar"
    assert Span.parse("1wd").kind == "working_days"
    assert Span.parse("4w").kind == "calendar"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("48h", "48h"),
        ("2d", "48h"),
        ("PT48H", "48h"),
        ("90m", "1h30m"),
        ("0.25s", "0.25s"),
        ("0h", "0s"),
        ("1 werkdag", "1wd"),
        ("4 weken", "4w"),
        ("P28D", "4w"),
        ("P10D", "1w3cd"),
        ("3 maanden", "3mo"),
        ("P1Y", "1y"),
        ("18mo", "1y6mo"),
    ],
)
def test_span_str_is_canonical(text: str, canonical: str) -> None:
    assert str(Span.parse(text)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "4",
        "h",
        "-4h",
        "4x",
        "1ma",
        "1wd2h",
        "1w2h",
        "1.5w",
        "1.5wd",
        "0.0000001s",
        "P",
        "PT",
        "P1DT2H",
        "P1.5D",
        "1h,",
        "1 uur en",
        "vier weken",
    ],
)
def test_span_parse_rejects_bad_text_and_names_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read") as caught:
        Span.parse(text)
    message = str(caught.value)
    for form in ("48h", "1wd", "4w", "3mo", "PT48H"):
        assert form in message


def test_spans_are_hashable_and_compare_by_value() -> None:
    same = {Span.parse("4w"), Span.parse("P28D"), Span.parse("4 weken"), Span.parse("28cd")}
    assert len(same) == 1
    assert Span.parse("1y") == Span.parse("12mo")
    assert Span.parse("2d") != Span.parse("P2D")  # real hours are not calendar days
    assert Span.parse("1wd") != Span.parse("1d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Span.parse("4h").duration = timedelta(0)  # type: ignore[misc]


def test_span_constructor_invariants() -> None:
    with pytest.raises(ValueError, match="kind"):
        Span("weekly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only its own fields"):
        Span("real", working_days=1)
    with pytest.raises(ValueError, match="not negative"):
        Span.real(timedelta(hours=-4))
    with pytest.raises(ValueError, match="not negative"):
        Span.working(-1)


def test_span_after(cal: WorkingCalendar) -> None:
    assert wall(Span.parse("48h").after(ams(2026, 3, 27, 12), cal)) == (SPRING_2026, time(13))
    assert wall(Span.parse("1wd").after(ams(2026, 3, 27, 15), cal)) == (
        date(2026, 3, 30),
        time(15),
    )
    assert wall(Span.parse("1wd").after(ams(2026, 3, 7, 10), cal)) == (date(2026, 3, 10), time(9))
    assert wall(Span.parse("1w").after(ams(2026, 3, 25, 9), cal)) == (date(2026, 4, 1), time(9))
    assert wall(Span.parse("1mo").after(ams(2026, 1, 31, 9), cal)) == (date(2026, 2, 28), time(9))
    closed = WorkingCalendar(extra_closed_days=[date(2026, 5, 15)])
    assert wall(Span.parse("1wd").after(ams(2026, 5, 13, 16), closed)) == (
        date(2026, 5, 18),
        time(16),
    )


def test_span_before(cal: WorkingCalendar) -> None:
    # 05:00 summer time on 29 March 2026 minus 4 real hours is 00:00 winter time.
    reminder = Span.parse("4h").before(ams(2026, 3, 29, 5), cal)
    assert wall(reminder) == (SPRING_2026, time(0))
    assert local(reminder).utcoffset() == CET
    assert wall(Span.parse("1w").before(ams(2026, 4, 1, 9), cal)) == (date(2026, 3, 25), time(9))
    with pytest.raises(ValueError, match="working-day span"):
        Span.parse("1wd").before(ams(2026, 3, 30, 9), cal)


# ----------------------------------------------------------------- properties

# Hypothesis takes naive bounds and attaches each drawn zone itself.
_FIRST = datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)
_LAST = datetime(2035, 12, 31, 23, 59, 59, tzinfo=UTC).replace(tzinfo=None)

aware_starts = st.datetimes(
    min_value=_FIRST,
    max_value=_LAST,
    timezones=st.sampled_from(
        [AMSTERDAM, UTC, NEW_YORK, timezone(timedelta(hours=5, minutes=30))]
    ),
)
calendars = st.builds(
    WorkingCalendar,
    extra_closed_days=st.frozensets(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2036, 6, 30)), max_size=40
    ),
    opens_at=st.times(),
    liberation_day_every_year=st.booleans(),
    good_friday_closed=st.booleans(),
)
PROPERTY = settings(max_examples=200, deadline=None)


def _last_sunday(year: int, month: int) -> date:
    end = date(year, month, 31)
    return end - timedelta(days=(end.weekday() + 1) % 7)


@PROPERTY
@given(calendar=calendars, start=aware_starts, n=st.integers(min_value=0, max_value=40))
def test_add_working_days_properties(calendar: WorkingCalendar, start: datetime, n: int) -> None:
    result = calendar.add_working_days(start, n)
    start_day, start_time = wall(start)
    end_day, end_time = wall(result)
    assert result.tzinfo is UTC
    assert calendar.is_working_day(end_day)
    assert result > start if n else result >= start
    starts_on_working_day = calendar.is_working_day(start_day)
    assert end_time == (start_time if starts_on_working_day else calendar.opens_at)
    # Exactly n working days lie after the start day up to the deadline day, plus the
    # opening day when the start was outside working days.
    counted = sum(
        calendar.is_working_day(start_day + timedelta(days=offset))
        for offset in range(1, (end_day - start_day).days + 1)
    )
    assert counted == (n if starts_on_working_day else n + 1)


@PROPERTY
@given(calendar=calendars, start=aware_starts, n=st.integers(min_value=0, max_value=30))
def test_add_working_days_is_monotone_in_n(
    calendar: WorkingCalendar, start: datetime, n: int
) -> None:
    assert calendar.add_working_days(start, n) < calendar.add_working_days(start, n + 1)


@PROPERTY
@given(
    start=aware_starts,
    delta=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)),
)
def test_add_real_is_exact_absolute_time(start: datetime, delta: timedelta) -> None:
    result = add_real(start, delta)
    assert result - start == delta
    assert start - result == -delta


@PROPERTY
@given(start=aware_starts, weeks=st.integers(min_value=-60, max_value=60))
def test_add_calendar_weeks_keeps_wall_clock_time(start: datetime, weeks: int) -> None:
    start_day, start_time = wall(start)
    target = start_day + timedelta(weeks=weeks)
    result = add_calendar(start, weeks=weeks)
    spring_gap = target == _last_sunday(target.year, 3) and start_time.hour == 2
    if spring_gap:
        shifted = datetime.combine(target, start_time) + timedelta(hours=1)
        assert wall(result) == (shifted.date(), shifted.time())
    else:
        assert wall(result) == (target, start_time)
    if target == _last_sunday(target.year, 10) and start_time.hour == 2:
        assert local(result).utcoffset() == CEST  # first of the two 02:xx


@PROPERTY
@given(start=aware_starts, days=st.integers(min_value=0, max_value=800))
def test_add_calendar_days_match_weeks(start: datetime, days: int) -> None:
    weeks, rest = divmod(days, 7)
    assert add_calendar(start, days=days) == add_calendar(start, weeks=weeks, days=rest)


spans = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000)).map(Span.real),
    st.integers(min_value=0, max_value=500).map(Span.working),
    st.builds(
        Span.calendar,
        days=st.integers(min_value=0, max_value=400),
        weeks=st.integers(min_value=0, max_value=60),
        months=st.integers(min_value=0, max_value=40),
        years=st.integers(min_value=0, max_value=10),
    ),
)


@PROPERTY
@given(span=spans)
def test_span_round_trips_through_its_text(span: Span) -> None:
    parsed = Span.parse(str(span))
    assert parsed == span
    assert hash(parsed) == hash(span)
    assert str(parsed) == str(span)


@PROPERTY
@given(span=spans.filter(lambda s: s.kind == "real"), start=aware_starts)
def test_real_span_before_undoes_after(span: Span, start: datetime) -> None:
    cal = WorkingCalendar()
    assert span.before(span.after(start, cal), cal) == start.astimezone(UTC)
