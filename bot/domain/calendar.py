"""Clock arithmetic for the response windows of the Housing First nuisance guideline.

Pure functions and value types only: no I/O, no database, no scheduler. Everything here
is deterministic given its arguments, so the scheduler, the handlers and the tests can
all share it.

Three kinds of time
-------------------
* **Real time** (``add_real``): absolute elapsed time. 24 hours is 24 hours of physical
  time, also across a daylight-saving change (Saturday 09:00 + 24 h on the night the
  clocks go forward is Sunday 10:00 local).
* **Calendar time** (``add_calendar``): wall-clock arithmetic in a time zone. 09:00 plus
  one week is 09:00 a week later, whatever the clocks did in between; 31 January plus
  one month is the last day of February.
* **Working days** (``WorkingCalendar.add_working_days``): the same local wall-clock time
  *n* working days later, skipping weekends, Dutch public holidays and days a deployment
  closes itself.

Decisions
---------
* **Results are aware datetimes in UTC**, always. Python compares and subtracts two
  datetimes that share a ``tzinfo`` object by their wall-clock fields, ignoring DST, so
  two ``Europe/Amsterdam`` datetimes on either side of a clock change subtract to the
  wrong duration and the two 02:30s of the October night compare as equal. UTC has no
  such traps; a UTC result compares and subtracts correctly with any aware datetime. Use
  ``result.astimezone(AMSTERDAM)`` (or ``to_local``) for display.
* **Local times that do not exist** (the spring gap, 02:00-03:00 on the last Sunday of
  March in Amsterdam) move forward by the length of the gap: 02:30 becomes 03:30.
  **Ambiguous local times** (the repeated hour on the last Sunday of October) take the
  first occurrence (``fold=0``, still summer time). This is PEP 495 behaviour, so ``tz``
  must be a PEP 495 time zone such as ``zoneinfo.ZoneInfo``.
* **Opening time**: a working-day clock started on a day that is not a working day
  starts at ``opens_at`` (default 09:00 local) on the next working day and counts from
  there, so Saturday 10:00 + 1 working day is Tuesday 09:00. A start on a working day
  keeps its own wall-clock time, whatever the hour (Friday 15:00 + 1 = Monday 15:00;
  Tuesday 03:00 + 1 = Wednesday 03:00). There is no closing time.
* **Holidays** come from ``holidays.country_holidays("NL")`` (public category), fetched
  per year on demand, so any year works. Two days are settled here rather than left to
  the package, because the package has changed its mind about them between releases and
  the project accepts ``holidays>=0.50``:

  - *Bevrijdingsdag (5 May)* is closed only in lustrum years (2025, 2030, 2035, ...),
    which is what the package's public category does and what most collective labour
    agreements (cao's) give as a day off. The Algemene termijnenwet counts 5 May every
    year; a deployment that follows it passes ``liberation_day_every_year=True``.
  - *Goede Vrijdag (Good Friday)* is a working day by default: the government describes
    it as an ordinary working day for most employees, and recent ``holidays`` releases
    list it as public only because the Algemene termijnenwet equates it with a holiday
    for statutory deadlines. Pass ``good_friday_closed=True`` for the statutory reading.

  Both defaults err towards the shorter window, i.e. towards the tenant and the
  neighbours waiting for an answer. Koningsdag follows the package: 27 April, or
  Saturday 26 April when the 27th is a Sunday (so it never closes a Monday). Days the
  government equates with holidays for one year only (the Friday after Ascension, for
  instance) are not included; a deployment lists them in ``extra_closed_days``.
* ``Span.before`` is supported for real spans (exact subtraction) and for calendar spans
  (local wall-clock arithmetic backwards, with the same month-end clamping, so it is
  not always the inverse of ``after``). Working-day spans refuse ``before`` with
  ``ValueError``: counting working days backwards from a moment outside working days
  has no rule in the guideline.
* Every function refuses naive datetimes with ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "AMSTERDAM",
    "Span",
    "SpanKind",
    "WorkingCalendar",
    "add_calendar",
    "add_real",
    "to_local",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

SpanKind = Literal["real", "working_days", "calendar"]
_SPAN_KINDS: frozenset[str] = frozenset(get_args(SpanKind))

_WEEKDAYS = 5  # Monday (0) .. Friday (4)
_LIBERATION_DAY = (5, 5)
_LUSTRUM = 5


# --------------------------------------------------------------------------- helpers


def _require_aware(moment: datetime, name: str = "datetime") -> None:
    """Raise ``ValueError`` unless ``moment`` is a timezone-aware datetime."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"{name} must be timezone-aware (got naive {moment.isoformat()}); "
            "attach a zone, e.g. tzinfo=AMSTERDAM or tzinfo=UTC"
        )


def _require_wall_time(value: time, name: str) -> None:
    if value.tzinfo is not None:
        raise ValueError(f"{name} is a local wall-clock time; give it without tzinfo")


def to_local(moment: datetime, tz: tzinfo = AMSTERDAM) -> datetime:
    """``moment`` as a normalised local time in ``tz`` (fold set, no gap times).

    Unlike ``moment.astimezone(tz)`` this also normalises a datetime that already
    carries ``tz`` but names a wall-clock time inside the spring gap.
    """
    _require_aware(moment)
    return moment.astimezone(UTC).astimezone(tz)


def _at_local(day: date, wall: time, tz: tzinfo) -> datetime:
    """The instant (in UTC) at local wall-clock time ``wall`` on ``day`` in ``tz``.

    With ``fold=0`` a PEP 495 zone reads an ambiguous time as its first occurrence and
    a time in the spring gap with the offset from before the gap, which lands the
    instant exactly one gap-length later on the wall clock (02:30 -> 03:30).
    """
    return datetime.combine(day, wall.replace(fold=0), tzinfo=tz).astimezone(UTC)


def _easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def _package_public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year).keys())


@lru_cache(maxsize=512)
def _closed_holidays(
    year: int, *, liberation_day_every_year: bool, good_friday_closed: bool
) -> frozenset[date]:
    """Dutch public holidays of ``year`` that close a working day, per the module policy."""
    closed = set(_package_public_holidays(year))
    good_friday = _easter_sunday(year) - timedelta(days=2)
    if good_friday_closed:
        closed.add(good_friday)
    else:
        closed.discard(good_friday)
    liberation_day = date(year, *_LIBERATION_DAY)
    if liberation_day_every_year or year % _LUSTRUM == 0:
        closed.add(liberation_day)
    else:
        closed.discard(liberation_day)
    return frozenset(closed)


# --------------------------------------------------------------------------- free functions


def add_real(start: datetime, delta: timedelta) -> datetime:
    """``start`` plus ``delta`` of absolute (elapsed) time, as an aware UTC datetime.

    ``add_real(start, d) - start == d`` exactly, across any DST change.
    """
    _require_aware(start, "start")
    return start.astimezone(UTC) + delta


def add_calendar(
    start: datetime,
    *,
    days: int = 0,
    weeks: int = 0,
    months: int = 0,
    years: int = 0,
    tz: tzinfo = AMSTERDAM,
) -> datetime:
    """Local wall-clock arithmetic in ``tz``; returns an aware UTC datetime.

    Years and months are applied first, clamping the day to the end of the target month
    (31 January + 1 month = 28 or 29 February), then days and weeks. The local time of
    day is kept; if it does not exist on the target day (spring gap) it moves forward by
    the gap, and if it exists twice (autumn) the first occurrence is taken. Negative
    amounts count backwards.
    """
    _require_aware(start, "start")
    local = to_local(start, tz)
    month_index = local.year * 12 + (local.month - 1) + years * 12 + months
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    day = date(year, month, min(local.day, last_day)) + timedelta(days=days + 7 * weeks)
    return _at_local(day, local.time(), tz)


# --------------------------------------------------------------------------- working days


class WorkingCalendar:
    """Working days for response windows: Monday-Friday minus holidays and closed days.

    ``extra_closed_days`` are local dates a deployment closes itself (bridge days, a
    regional holiday, a team day). ``opens_at`` is the local time a working-day clock
    starts when it is started outside a working day.
    """

    __slots__ = (
        "_extra_closed_days",
        "_good_friday_closed",
        "_liberation_day_every_year",
        "_opens_at",
        "_tz",
    )

    def __init__(
        self,
        tz: tzinfo = AMSTERDAM,
        extra_closed_days: Iterable[date] = (),
        opens_at: time = time(9, 0),
        *,
        liberation_day_every_year: bool = False,
        good_friday_closed: bool = False,
    ) -> None:
        if not isinstance(tz, tzinfo):
            raise TypeError(f"tz must be a tzinfo, got {type(tz).__name__}")
        closed: set[date] = set()
        for day in extra_closed_days:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"extra_closed_days takes dates, got {day!r}")
            closed.add(day)
        _require_wall_time(opens_at, "opens_at")
        self._tz = tz
        self._extra_closed_days = frozenset(closed)
        self._opens_at = opens_at.replace(fold=0)
        self._liberation_day_every_year = liberation_day_every_year
        self._good_friday_closed = good_friday_closed

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def extra_closed_days(self) -> frozenset[date]:
        return self._extra_closed_days

    @property
    def opens_at(self) -> time:
        return self._opens_at

    @property
    def liberation_day_every_year(self) -> bool:
        return self._liberation_day_every_year

    @property
    def good_friday_closed(self) -> bool:
        return self._good_friday_closed

    def _key(self) -> tuple[object, ...]:
        return (
            self._tz,
            self._extra_closed_days,
            self._opens_at,
            self._liberation_day_every_year,
            self._good_friday_closed,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkingCalendar):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        closed = sorted(self._extra_closed_days)
        return (
            f"WorkingCalendar(tz={self._tz!r}, extra_closed_days={closed!r}, "
            f"opens_at={self._opens_at!r}, "
            f"liberation_day_every_year={self._liberation_day_every_year!r}, "
            f"good_friday_closed={self._good_friday_closed!r})"
        )

    def _local_date(self, day: date) -> date:
        if isinstance(day, datetime):
            _require_aware(day, "day")
            return to_local(day, self._tz).date()
        return day

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a Dutch public holiday that closes working days (policy above)."""
        day = self._local_date(day)
        return day in _closed_holidays(
            day.year,
            liberation_day_every_year=self._liberation_day_every_year,
            good_friday_closed=self._good_friday_closed,
        )

    def is_working_day(self, day: date) -> bool:
        """Monday-Friday, not a Dutch public holiday, not closed by the deployment.

        An aware datetime is read as its local date in ``tz``.
        """
        day = self._local_date(day)
        return (
            day.weekday() < _WEEKDAYS
            and day not in self._extra_closed_days
            and not self.is_holiday(day)
        )

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        candidate = self._local_date(day) + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The deadline ``n`` working days after ``start``, as an aware UTC datetime.

        On a working day the deadline keeps the start's local wall-clock time. Started
        on any other day, counting starts at ``opens_at`` on the next working day (so
        ``n == 0`` gives that opening moment).
        """
        _require_aware(start, "start")
        if n < 0:
            raise ValueError(f"n must be zero or more working days, got {n}")
        local = to_local(start, self._tz)
        day = local.date()
        wall = local.time()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            wall = self._opens_at
        for _ in range(n):
            day = self.next_working_day(day)
        return _at_local(day, wall, self._tz)

    def next_working_day_at(self, start: datetime, at: time) -> datetime:
        """Local time ``at`` on the first working day strictly after ``start``'s local date."""
        _require_aware(start, "start")
        _require_wall_time(at, "at")
        day = self.next_working_day(to_local(start, self._tz).date())
        return _at_local(day, at, self._tz)


# --------------------------------------------------------------------------- spans

_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_HOUR = 60 * _US_PER_MINUTE
_US_PER_DAY = 24 * _US_PER_HOUR

# unit spelling -> (what it counts, size in that quantity)
_Quantity = Literal["real_us", "working_days", "months", "days"]
_UNITS: dict[str, tuple[_Quantity, int]] = {}


def _units(quantity: _Quantity, size: int, *spellings: str) -> None:
    for spelling in spellings:
        _UNITS[spelling] = (quantity, size)


_units("real_us", _US_PER_SECOND, "s", "sec", "secs", "second", "seconds", "seconde", "seconden")
_units("real_us", _US_PER_MINUTE, "m", "min", "mins", "minute", "minutes", "minuut", "minuten")
_units("real_us", _US_PER_HOUR, "h", "hr", "hrs", "hour", "hours", "u", "uur", "uren")
_units("real_us", _US_PER_DAY, "d", "day", "days", "dag", "dagen")
_units(
    "working_days",
    1,
    "wd",
    "werkdag",
    "werkdagen",
    "working day",
    "working days",
    "workday",
    "workdays",
    "business day",
    "business days",
)
_units("days", 1, "cd", "calendar day", "calendar days", "kalenderdag", "kalenderdagen")
_units("days", 7, "w", "wk", "wks", "week", "weeks", "weken")
_units("months", 1, "mo", "month", "months", "maand", "maanden")
_units("months", 12, "y", "yr", "yrs", "year", "years", "jaar", "jaren")

_NUMBER = r"\d+(?:[.,]\d+)?"
_TOKEN = re.compile(
    rf"\s*({_NUMBER})\s*("
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![a-z])\s*(?:(?:,|\ben\b|\band\b|\+)\s*(?=\d))?"
)
_ISO = re.compile(
    r"P(?!$)(?:(?P<Y>\d+)Y)?(?:(?P<Mo>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    rf"(?:T(?=\d)(?:(?P<H>{_NUMBER})H)?(?:(?P<Mi>{_NUMBER})M)?(?:(?P<S>{_NUMBER})S)?)?"
)

_ACCEPTED = (
    "accepted forms: real time such as '48h', '90m', '30s', '1.5h', '2d' (= 48 hours), "
    "'1h30m', '2 uur', 'PT48H'; working days such as '1wd', '1 werkdag', '2 werkdagen', "
    "'1 working day'; calendar time such as '4w', '4 weken', '4 weeks', '3mo', "
    "'3 maanden', '3 months', '1y', '2 jaar', '2 years', '10cd' (calendar days), "
    "'P4W', 'P3M', 'P1Y', 'P10D'. Amounts are not negative; only real time takes "
    "fractions; one span is one kind of time"
)


def _bad(text: str, why: str) -> ValueError:
    return ValueError(f"cannot read {text!r} as a time span ({why}); {_ACCEPTED}")


def _amount(number: str, size: int, text: str, *, fractional: bool) -> int:
    """``number`` (a decimal string, comma or point) times ``size``, as an exact int."""
    try:
        value = Decimal(number.replace(",", ".")) * size
    except InvalidOperation as exc:  # pragma: no cover - the regexes only pass digits
        raise _bad(text, f"{number!r} is not a number") from exc
    if value != value.to_integral_value():
        if fractional:
            raise _bad(text, "real time is counted in whole microseconds")
        raise _bad(text, f"{number!r} must be a whole number")
    return int(value)


@dataclass(frozen=True, slots=True)
class Span:
    """A configured length of time: real time, working days or calendar time.

    Normal form (so equal behaviour means equal spans): real spans keep a ``duration``;
    working-day spans a count ``working_days``; calendar spans ``months`` (years are 12
    months) and ``days`` (weeks are 7 days). Fields of the other kinds are zero.
    ``Span.parse(str(span)) == span`` for every span.
    """

    kind: SpanKind
    duration: timedelta = timedelta(0)
    working_days: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _SPAN_KINDS:
            raise ValueError(f"kind must be one of {sorted(_SPAN_KINDS)}, got {self.kind!r}")
        if not isinstance(self.duration, timedelta):
            raise TypeError("duration must be a timedelta")
        for name in ("working_days", "months", "days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
        if self.duration < timedelta(0) or min(self.working_days, self.months, self.days) < 0:
            raise ValueError("a span is not negative; use before() to count backwards")
        used = {
            "real": self.duration != timedelta(0),
            "working_days": self.working_days != 0,
            "calendar": self.months != 0 or self.days != 0,
        }
        if any(flag for kind, flag in used.items() if kind != self.kind):
            raise ValueError(f"a {self.kind!r} span sets only its own fields: {self!r}")

    # -- constructors

    @classmethod
    def real(cls, duration: timedelta) -> Span:
        """Absolute (elapsed) time."""
        return cls("real", duration=duration)

    @classmethod
    def working(cls, n: int) -> Span:
        """``n`` working days of a ``WorkingCalendar``."""
        return cls("working_days", working_days=n)

    @classmethod
    def calendar(cls, *, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0) -> Span:
        """Local wall-clock calendar time."""
        return cls("calendar", months=months + 12 * years, days=days + 7 * weeks)

    @classmethod
    def parse(cls, text: str) -> Span:
        """Read a span from configuration text; ``ValueError`` names the accepted forms."""
        if not isinstance(text, str):
            raise TypeError(f"Span.parse takes a str, got {type(text).__name__}")
        stripped = text.strip()
        if not stripped:
            raise _bad(text, "it is empty")
        if stripped[0] in "Pp":
            return cls._parse_iso(text, stripped.upper())
        return cls._parse_units(text, " ".join(stripped.lower().split()))

    @classmethod
    def _parse_iso(cls, text: str, upper: str) -> Span:
        match = _ISO.fullmatch(upper)
        if match is None:
            raise _bad(text, "not an ISO 8601 duration of the forms shown")
        parts = match.groupdict()
        has_date = any(parts[k] is not None for k in ("Y", "Mo", "W", "D"))
        has_time = any(parts[k] is not None for k in ("H", "Mi", "S"))
        if has_date and has_time:
            raise _bad(text, "it mixes calendar time (P..) with real time (T..)")
        if has_time:
            micros = sum(
                _amount(parts[key] or "0", size, text, fractional=True)
                for key, size in (
                    ("H", _US_PER_HOUR),
                    ("Mi", _US_PER_MINUTE),
                    ("S", _US_PER_SECOND),
                )
            )
            return cls._real_from_micros(text, micros)
        return cls.calendar(
            years=int(parts["Y"] or 0),
            months=int(parts["Mo"] or 0),
            weeks=int(parts["W"] or 0),
            days=int(parts["D"] or 0),
        )

    @classmethod
    def _parse_units(cls, text: str, normal: str) -> Span:
        totals: dict[_Quantity, int] = {}
        position = 0
        while position < len(normal):
            match = _TOKEN.match(normal, position)
            if match is None or match.end() == position:
                raise _bad(text, f"unexpected {normal[position:]!r}")
            number, unit = match.group(1), match.group(2)
            quantity, size = _UNITS[unit]
            amount = _amount(number, size, text, fractional=quantity == "real_us")
            totals[quantity] = totals.get(quantity, 0) + amount
            position = match.end()
        kinds = {
            "real" if q == "real_us" else "calendar" if q in ("months", "days") else q
            for q in totals
        }
        if len(kinds) != 1:
            raise _bad(text, "it mixes real time, working days and calendar time")
        if "real_us" in totals:
            return cls._real_from_micros(text, totals["real_us"])
        if "working_days" in totals:
            return cls.working(totals["working_days"])
        return cls("calendar", months=totals.get("months", 0), days=totals.get("days", 0))

    @classmethod
    def _real_from_micros(cls, text: str, micros: int) -> Span:
        try:
            return cls.real(timedelta(microseconds=micros))
        except OverflowError as exc:
            raise _bad(text, "it is too long") from exc

    # -- use

    @property
    def is_zero(self) -> bool:
        """No time at all ('0h', '0d'): not an extension, not a length."""
        return (self.duration == timedelta(0) and self.working_days == 0 and self.months == 0
                and self.days == 0)

    def after(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        """The moment this span after ``start`` (aware UTC datetime)."""
        _require_aware(start, "start")
        if self.kind == "real":
            return add_real(start, self.duration)
        if self.kind == "working_days":
            return calendar.add_working_days(start, self.working_days)
        return add_calendar(start, months=self.months, days=self.days, tz=calendar.tz)

    def before(self, moment: datetime, calendar: WorkingCalendar) -> datetime:
        """The moment this span before ``moment`` (aware UTC datetime).

        Real spans subtract exactly. Calendar spans count backwards on the local wall
        clock (month ends clamp, so this is not always the inverse of ``after``).
        Working-day spans raise ``ValueError``.
        """
        _require_aware(moment, "moment")
        if self.kind == "real":
            return add_real(moment, -self.duration)
        if self.kind == "calendar":
            return add_calendar(moment, months=-self.months, days=-self.days, tz=calendar.tz)
        raise ValueError(
            f"a working-day span ({self}) has no 'before'; give reminders in real time "
            "(e.g. '4h') or calendar time"
        )

    def __str__(self) -> str:
        if self.kind == "working_days":
            return f"{self.working_days}wd"
        if self.kind == "calendar":
            years, months = divmod(self.months, 12)
            weeks, days = divmod(self.days, 7)
            pieces = [
                f"{value}{unit}"
                for value, unit in ((years, "y"), (months, "mo"), (weeks, "w"), (days, "cd"))
                if value
            ]
            return "".join(pieces) or "0w"
        micros = (self.duration.days * 86_400 + self.duration.seconds) * _US_PER_SECOND
        micros += self.duration.microseconds
        hours, rest = divmod(micros, _US_PER_HOUR)
        minutes, rest = divmod(rest, _US_PER_MINUTE)
        seconds, fraction = divmod(rest, _US_PER_SECOND)
        pieces = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
        if fraction:
            pieces.append(f"{seconds}.{fraction:06d}".rstrip("0") + "s")
        elif seconds:
            pieces.append(f"{seconds}s")
        return "".join(pieces) or "0s"
