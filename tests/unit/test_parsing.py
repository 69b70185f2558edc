"""Typed input: durations in the config, commands, case and invitation codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import load_settings, parse_duration
from bot.domain.calendar import Span
from bot.services.cases import (
    hash_code,
    join_spaced_codes,
    normalise_case_code,
    normalise_invite_code,
)
from handlers.dispatch import parse_command


@pytest.mark.parametrize(("text", "seconds"), [
    ("48h", 172800), ("4h", 14400), ("90m", 5400), ("1h30m", 5400), ("10s", 10),
    ("3d", 259200), ("2w", 1209600), (" 1 h ", 3600), (30, 30),
])
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "48", "48x", "h", "soon", "4h and"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_environment_wins_over_the_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "k.toml"
    config.write_text('[norms]\nsignal_follow_up = "10s"\nsignal_follow_up_reminder = "2s"\n')
    monkeypatch.setenv("KORTELIJN_NORMS__SIGNAL_FOLLOW_UP", "20s")
    settings = load_settings(config)
    assert settings.norms.signal_follow_up == Span.real(timedelta(seconds=20))
    assert settings.norms.signal_follow_up_reminder == timedelta(seconds=2)


def test_a_zero_window_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "k.toml"
    config.write_text('[norms]\nsignal_follow_up = "0s"\n')
    with pytest.raises(ValueError, match="longer than zero"):
        load_settings(config)


@pytest.mark.parametrize(("text", "parsed"), [
    ("/signaal Z-7K3M huur  Huur  niet betaald", ("signaal", "Z-7K3M huur  Huur  niet betaald")),
    ("/OK 3", ("ok", "3")),
    ("/start@KorteLijnBot ABCD", ("start", "ABCD")),
    ("  /help  ", ("help", "")),
    ("hallo", None),
    ("/", None),
])
def test_commands(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse_command(text) == parsed


@pytest.mark.parametrize(("text", "code"), [
    ("Z-7K3M", "Z-7K3M"), ("z-7k3m", "Z-7K3M"), ("Z7K3M", "Z-7K3M"), ("Z-7K3", None),
    ("Z-7K3O", None), ("huur", None),
])
def test_case_codes(text: str, code: str | None) -> None:
    assert normalise_case_code(text) == code


def test_invitation_codes_hash_alike_however_typed() -> None:
    assert normalise_invite_code("ab2c-dE3f-gh4j") == "AB2CDE3FGH4J"
    assert hash_code("AB2C-DE3F-GH4J") == hash_code("ab2cde3fgh4j")
    assert hash_code("AB2C-DE3F-GH4J") != hash_code("AB2C-DE3F-GH4K")


def test_one_duration_parser_for_configuration_and_commands() -> None:
    """A configured duration and a typed span agree: '2w' is fourteen days in both."""
    for text in ("2w", "3d", "1h30m", "2 weken", "90 minuten"):
        span = Span.parse(text)
        days = timedelta(days=span.days) if span.kind == "calendar" else span.duration
        assert parse_duration(text) == days
    for text in ("1mo", "1wd", "1y"):
        with pytest.raises(ValueError, match="no fixed length"):
            parse_duration(text)


@pytest.mark.parametrize(("typed", "meant"), [
    ("z 7k3m huur", "Z-7K3M huur"), ("Z - 7K3M", "Z-7K3M"), ("Z-7K3M", "Z-7K3M"),
    ("zaak 7k3m", "zaak 7k3m"), ("z 7k3mx", "z 7k3mx"), ("huur z 22", "huur z 22"),
])
def test_a_case_code_typed_in_two_parts_is_one(typed: str, meant: str) -> None:
    assert join_spaced_codes(typed) == meant
