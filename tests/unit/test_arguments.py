"""Typed arguments (handlers/arguments.py): digits of any script, numbers the database holds,
lengths of time and dates within range, each refusal a DomainError with its sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n
from bot.config import Settings
from bot.domain import arguments
from bot.domain.arguments import DB_INT_MAX
from bot.domain.calendar import Span
from bot.services.policies import build_policies
from handlers.dispatch import format_args

CALENDAR = build_policies(Settings()).calendar
#: Tuesday 1 December 2026, 10:00 in Amsterdam
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("given", "number"), [
    ("12", 12), ("#12", 12), ("١٢", 12), ("１２", 12), ("٣", 3), (" 7 ", 7), ("\u200b7", 7),
    (str(DB_INT_MAX), DB_INT_MAX),
])
def test_signal_numbers(given: str, number: int) -> None:
    assert arguments.signal_number(given, "/ok <nr>") == number


@pytest.mark.parametrize("given", ["T12", "²", "½", "12a", "", "-1", "+3", "1.5", "#", "1 2"])
def test_what_is_no_signal_number(given: str) -> None:
    with pytest.raises(arguments.NotANumber):
        arguments.signal_number(given, "/ok <nr>")


@pytest.mark.parametrize("given", ["0", str(DB_INT_MAX + 1), str(2**63), "9" * 400, "00000"])
def test_numbers_the_database_cannot_hold(given: str) -> None:
    with pytest.raises(arguments.NumberOutOfRange):
        arguments.signal_number(given, "/ok <nr>")


@pytest.mark.parametrize(("given", "number"), [("T12", 12), ("t１２", 12), ("#3", 3), ("4", 4)])
def test_window_numbers(given: str, number: int) -> None:
    assert arguments.window_number(given, "/gedaan T<nr>") == number


@pytest.mark.parametrize(("given", "span"), [
    ("2d", Span.real(timedelta(days=2))), ("１wd", Span.working(1)),
    ("2w", Span.calendar(weeks=2)), ("3mo", Span.calendar(months=3)),
    ("PT48H", Span.real(timedelta(hours=48))),
    ("366d", Span.real(timedelta(days=366))), ("260wd", Span.working(260)),
])
def test_spans(given: str, span: Span) -> None:
    assert arguments.span(given) == span


@pytest.mark.parametrize("given", ["99999999999w", "99999999999wd", "P99999999999Y",
                                   "999999999mo", "367d", "261wd", "13mo", "0s", "P0D",
                                   "9999999999d", "99999999999h"])
def test_spans_out_of_range(given: str) -> None:
    with pytest.raises((arguments.SpanOutOfRange, arguments.BadSpan)):
        arguments.span(given)


@pytest.mark.parametrize("given", ["", "soon", "-3d", "2x", "²d", "\x00"])
def test_what_is_no_span(given: str) -> None:
    with pytest.raises(arguments.BadSpan):
        arguments.span(given)


@pytest.mark.parametrize(("given", "local_day"), [
    ("2-12", "2026-12-02"), ("2026-12-02", "2026-12-02"), ("02/12", "2026-12-02"),
    ("٢-١٢", "2026-12-02"), ("2-12-2026", "2026-12-02"), ("30-11", "2027-11-30"),
    ("3d", "2026-12-04"),
])
def test_until(given: str, local_day: str) -> None:
    moment = arguments.until(given, NOW, CALENDAR)
    assert moment.astimezone(CALENDAR.tz).date().isoformat() == local_day


@pytest.mark.parametrize("given", ["31-12-9999", "9999-12-31", "1-12-2028", "99999999999w",
                                   "99999999999wd", "400d"])
def test_until_out_of_range(given: str) -> None:
    with pytest.raises(arguments.MomentOutOfRange):
        arguments.until(given, NOW, CALENDAR)


@pytest.mark.parametrize("given", ["1-13", "32-1", "29-02-2027", "1-12-99999", "10000-01-01",
                                   "soon", "", "1-12", "2026-12-01", "0001-01-01",
                                   "2026-11-30"])
def test_what_is_no_moment(given: str) -> None:
    with pytest.raises(arguments.BadMoment):
        arguments.until(given, NOW, CALENDAR)


def test_the_examples_of_a_refused_moment_work_that_day() -> None:
    """'/afwezig 1-12' on 1 December is refused; the examples the answer gives are accepted."""
    with pytest.raises(arguments.BadMoment) as refused:
        arguments.until("1-12", NOW, CALENDAR)
    examples = refused.value.args_for_message["examples"]
    for example in examples.split(", "):
        assert arguments.until(example, NOW, CALENDAR) > NOW
    for lang in i18n.LANGUAGES:
        sentence = i18n.t(lang, "error.bad_moment",
                          **format_args(lang, refused.value.args_for_message))
        assert "2-12" in sentence


@pytest.mark.parametrize(("given", "hours"), [
    ("22:00-07:30", ("22:00", "07:30")), ("٢٢:٠٠-٠٧:٠٠", ("22:00", "07:00")),
    ("２２:００-０７:３０", ("22:00", "07:30"))])
def test_quiet_hours_in_any_digits(given: str, hours: tuple[str, str]) -> None:
    found = arguments.hours(given)
    assert found is not None
    assert tuple(h.strftime("%H:%M") for h in found) == hours


@pytest.mark.parametrize("given", ["24:00-25:00", "99:99", "²²:00-07:00", "x"])
def test_no_quiet_hours(given: str) -> None:
    assert arguments.hours(given) is None


def test_an_error_repeats_a_short_printable_part_of_what_was_typed() -> None:
    args = format_args("nl", {"given": "a\x00b" + "x" * 5000})
    assert args["given"].startswith("a b")
    assert len(args["given"]) <= 41


def test_every_new_sentence_is_in_both_languages() -> None:
    for key in ("error.not_a_number", "error.number_out_of_range", "error.span_out_of_range",
                "error.moment_out_of_range", "error.too_long", "error.bad_moment"):
        assert set(i18n.MESSAGES[key]) >= {"nl", "en"}


def test_what_the_bot_made_is_shown_whole_but_printable() -> None:
    """A list of choices may hold people's names from their chat profiles: shown whole (not
    cut like typed input), but without control or direction characters."""
    names = "Anna\u202eannA, Bob\x00by, " + ", ".join(f"Persoon {i}" for i in range(20))
    shown_choices = format_args("nl", {"choices": names})["choices"]
    assert "\u202e" not in shown_choices
    assert "\x00" not in shown_choices
    assert shown_choices.endswith("Persoon 19")  # whole: longer than typed input may be
    assert len(shown_choices) > 40
