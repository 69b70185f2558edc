"""Typed arguments of commands, read in one place (pure: no I/O).

Every command (its handler, or the service its command object goes to) reads its numbers,
lengths of time, dates, clock times and free text through these functions, so that each
malformed, out-of-range or foreign-script argument gets the same clear answer in the person's
language (a :class:`~bot.domain.errors.DomainError` whose sentence says what is accepted) and
never reaches the database or the calendar unchecked:

- digits: every Unicode *decimal* digit is read as its ASCII digit, deliberately (a phone set
  to Arabic types '١٢', a Japanese input method '１２'); other number-like characters
  ('²', '½', '𝟙' is a decimal digit and is read as 1) are no digits;
- record numbers (signals, windows) lie between 1 and :data:`DB_INT_MAX`, the largest number
  an ``INTEGER`` column holds on PostgreSQL (and a number SQLite compares without overflow);
- lengths of time are read by the one span parser (:meth:`Span.parse`) and lie between zero
  and :data:`MAX_SPAN_DAYS` days (working days: :data:`MAX_WORKING_DAYS`);
- moments lie after now and at most :data:`MAX_SPAN_DAYS` days ahead;
- free text is cut to a column's size only where the person is told (see :func:`text`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from bot.domain import errors
from bot.domain.calendar import Span, WorkingCalendar
from bot.domain.quiet import parse_hours

#: the largest value of an INTEGER column on PostgreSQL (int4), and of our record numbers
DB_INT_MAX = 2**31 - 1
#: the longest pause, extension or absence a person may give, in days
MAX_SPAN_DAYS = 366
#: the same, counted in working days (a year of them, roughly)
MAX_WORKING_DAYS = 260


class NotANumber(errors.DomainError):
    """Not a signal number at all. Arguments: ``given``, ``usage``."""

    key = "error.not_a_number"


class NumberOutOfRange(errors.DomainError):
    """Digits, but no number a record can have. Arguments: ``given``, ``largest``."""

    key = "error.number_out_of_range"


class BadSpan(errors.DomainError):
    """Not a length of time. Arguments: ``given``."""

    key = "error.bad_span"


class SpanOutOfRange(errors.DomainError):
    """A length of time of zero or longer than allowed. Arguments: ``given``, ``days``."""

    key = "error.span_out_of_range"


class BadMoment(errors.DomainError):
    """Not a date or length of time after now. Arguments: ``given``, ``iso`` and ``short``
    (tomorrow, as examples that work), ``examples``."""

    key = "error.bad_moment"


class MomentOutOfRange(errors.DomainError):
    """A date not after today, or too far ahead. Arguments: ``given``, ``days``,
    ``examples``."""

    key = "error.moment_out_of_range"


class TooLong(errors.DomainError):
    """Free text longer than can be kept. Arguments: ``limit``."""

    key = "error.too_long"


def ascii_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit replaced by its ASCII digit."""
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and
                   unicodedata.decimal(c, None) is not None else c for c in text)


def clean(text: str) -> str:
    """Digits made ASCII, control and format characters (a zero-width space, a direction
    mark, a NUL) dropped, spaces trimmed: what a person meant to type as an argument."""
    kept = (c for c in ascii_digits(text)
            if unicodedata.category(c) not in ("Cc", "Cf") or c in " \t")
    return "".join(kept).strip()


_NUMBER = re.compile(r"[0-9]+")


def record_number(given: str, usage: str, *, prefixes: str = "#") -> int:
    """A record's number as typed ('12', '#12', '١٢'; for windows also 'T12'); a
    :class:`NotANumber` or :class:`NumberOutOfRange` names what is accepted."""
    cleaned = clean(given)
    if cleaned[:1] and cleaned[0] in prefixes:
        cleaned = cleaned[1:]
    if not _NUMBER.fullmatch(cleaned):
        raise NotANumber(given=given, usage=usage)
    if len(cleaned) > len(str(DB_INT_MAX)) or not 1 <= int(cleaned) <= DB_INT_MAX:
        raise NumberOutOfRange(given=given, largest=DB_INT_MAX)
    return int(cleaned)


def signal_number(given: str, usage: str) -> int:
    """A signal's number: '12', '#12'."""
    return record_number(given, usage, prefixes="#")


def window_number(given: str, usage: str) -> int:
    """A window's number: 'T12', 't12', '#12', '12'."""
    return record_number(given, usage, prefixes="Tt#")


def span(given: str) -> Span:
    """A length of time of more than zero and at most :data:`MAX_SPAN_DAYS` days: '2d',
    '1wd', '1w', '3mo', 'PT48H' (the forms of :meth:`Span.parse`)."""
    cleaned = clean(given)
    try:
        parsed = Span.parse(cleaned)
    except (ValueError, TypeError, OverflowError):
        raise BadSpan(given=given) from None
    if not _within(parsed):
        raise SpanOutOfRange(given=given, days=MAX_SPAN_DAYS)
    return parsed


def _within(parsed: Span) -> bool:
    if parsed.kind == "real":
        return timedelta(0) < parsed.duration <= timedelta(days=MAX_SPAN_DAYS)
    if parsed.kind == "working_days":
        return 0 < parsed.working_days <= MAX_WORKING_DAYS
    # calendar time: a month counts as its longest
    return 0 < parsed.months * 31 + parsed.days <= MAX_SPAN_DAYS


_DAY = re.compile(r"(\d{1,2})-(\d{1,2})(?:-(\d{4}))?")


def until(given: str, now: datetime, calendar: WorkingCalendar) -> datetime:
    """The moment an absence ends: a date ('2026-12-01', '1-12', '1-12-2026', '01/12'; from
    that day on, local time) or a length of time from now ('3d', '1w'), after now and at most
    :data:`MAX_SPAN_DAYS` days ahead."""
    tz = calendar.tz
    cleaned = clean(given).replace("/", "-")
    latest = now + timedelta(days=MAX_SPAN_DAYS)
    local_today = now.astimezone(tz).date()
    tomorrow = local_today + timedelta(days=1)
    # examples that work today (a fixed date in an example goes stale)
    examples = f"{tomorrow.day}-{tomorrow.month}, {tomorrow.isoformat()}, 3d"
    bad = {"given": given, "iso": tomorrow.isoformat(), "short": f"{tomorrow.day}-"
           f"{tomorrow.month}", "examples": examples}
    far = {"given": given, "days": MAX_SPAN_DAYS, "examples": examples}
    day: date | None = None
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        match = _DAY.fullmatch(cleaned)
        if match:
            year = int(match.group(3) or local_today.year)
            try:
                day = date(year, int(match.group(2)), int(match.group(1)))
                if match.group(3) is None and day < local_today:
                    day = day.replace(year=year + 1)
            except (ValueError, OverflowError):
                raise BadMoment(**bad) from None
    if day is not None:
        if day <= local_today:
            raise BadMoment(**bad)  # today is no moment to be back
        if day > latest.date():
            raise MomentOutOfRange(**far)
        moment = datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
    else:
        try:
            moment = span(given).after(now, calendar)
        except SpanOutOfRange:
            raise MomentOutOfRange(**far) from None
        except BadSpan:
            raise BadMoment(**bad) from None
    if moment <= now:
        raise BadMoment(**bad)
    if moment > latest + timedelta(days=1):
        raise MomentOutOfRange(**far)
    return moment


def hours(given: str) -> tuple[time, time] | None:
    """Quiet hours '22:00-07:30' (digits of any script), or ``None``."""
    return parse_hours(clean(given))


def clock_time(given: str) -> time | None:
    """A time of day '07:45' (digits of any script), or ``None``."""
    found = parse_hours(f"{clean(given)}-{clean(given)}")
    return None if found is None else found[0]


def text(given: str, limit: int) -> str:
    """Free text of at most ``limit`` characters (a :class:`TooLong` says the limit)."""
    if len(given) > limit:
        raise TooLong(limit=limit)
    return given
