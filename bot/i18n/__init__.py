"""Sentences and formats in the person's own language (Dutch by default, English)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta

from bot.i18n.catalogue import KIND_NAMES, ROLE_NAMES, all_messages

MESSAGES = all_messages()
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCAL = ZoneInfo("Europe/Amsterdam")


def language_of(hint: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A supported language from a hint such as ``en-GB``; the default otherwise."""
    if hint:
        short = hint.split("-")[0].split("_")[0].lower()
        if short in LANGUAGES:
            return short
    return default


def t(lang: str, key: str, **args: Any) -> str:
    """The sentence ``key`` in ``lang`` (Dutch where English is missing), filled in."""
    entry = MESSAGES[key]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return template.format(**args)


def role_name(lang: str, role: str) -> str:
    names = ROLE_NAMES[str(role)]
    return names.get(lang, names[DEFAULT_LANGUAGE])


def role_list(lang: str, roles: Iterable[str]) -> str:
    return ", ".join(role_name(lang, r) for r in roles)


def kind_name(lang: str, kind: str) -> str:
    names = KIND_NAMES[str(kind)]
    return names.get(lang, names[DEFAULT_LANGUAGE])


def use_timezone(name: str) -> None:
    """The deployment's local time (``[bot] timezone``), for every moment shown; set once at
    start-up, as the keyring is."""
    global LOCAL  # noqa: PLW0603 - one process-wide setting, like crypto.install
    LOCAL = ZoneInfo(name)


def when(lang: str, moment: datetime, tz: ZoneInfo | None = None) -> str:
    """A moment in local time, as people write it: 'di 24 nov. 14:00'."""
    return str(format_datetime(moment, "EEE d MMM HH:mm", tzinfo=tz or LOCAL, locale=lang))


def time_left(lang: str, moment: datetime, now: datetime) -> str:
    """'over 4 uur', 'in 2 days', '3 uur geleden'."""
    return str(format_timedelta(moment - now, add_direction=True, locale=lang,
                                threshold=1.5, granularity="second"))


def duration(lang: str, span: timedelta) -> str:
    return str(format_timedelta(span, locale=lang, threshold=1.5))
