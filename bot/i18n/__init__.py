"""Sentences and formats in the person's own language (Dutch by default, English).

Every sentence is a gettext message with a symbolic id (``ack.done``); the words are in one
catalogue per language, ``bot/i18n/locale/<lang>/LC_MESSAGES/kortelijn.po``, compiled to
``kortelijn.mo`` (see :mod:`bot.i18n.loading`) and read with :class:`babel.support.Translations`.
Nothing is installed globally: each call names the language of the person it is for. The
workflow (extract, update, compile) is in ``bot/i18n/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta
from babel.support import Translations

from bot.i18n.keys import N_
from bot.i18n.loading import load

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LOCAL", "MESSAGES", "N_", "as_of", "duration",
           "kind_name", "language_of", "role_list", "role_name", "t", "time_left", "tn",
           "use_timezone", "when"]

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCAL = ZoneInfo("Europe/Amsterdam")

#: the moment a rendering is made for, so that a date can leave out "this" year (set with
#: :func:`as_of` where a message is composed: the dispatcher, ``bot.notify``)
_NOW: ContextVar[datetime | None] = ContextVar("kortelijn_i18n_now", default=None)


@cache
def catalogue(lang: str) -> Translations:
    """The compiled catalogue of ``lang``; a sentence it lacks comes from the Dutch one."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    found = load(lang)
    if lang != DEFAULT_LANGUAGE:
        found.add_fallback(catalogue(DEFAULT_LANGUAGE))
    return found


def language_of(hint: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A supported language from a hint such as ``en-GB``; the default otherwise."""
    if hint:
        short = hint.split("-")[0].split("_")[0].lower()
        if short in LANGUAGES:
            return short
    return default


def template(lang: str, key: str) -> str:
    """The unfilled sentence ``key`` in ``lang``; a key no catalogue has is an error."""
    text = str(catalogue(lang).gettext(key))
    if text == key:
        raise KeyError(f"no message {key!r} in the catalogues")
    return text


def t(lang: str, key: str, **args: Any) -> str:
    """The sentence ``key`` in ``lang`` (Dutch where English is missing), filled in."""
    return template(lang, key).format(**args)


def tn(lang: str, key: str, n: int, **args: Any) -> str:
    """The sentence ``key`` in the plural form for ``n`` (``één open termijn``, ``3 open
    termijnen``), filled in; ``n`` is not a placeholder by itself: pass it by name too."""
    text = str(catalogue(lang).ngettext(key, key, n))
    if text == key:
        raise KeyError(f"no message {key!r} in the catalogues")
    return text.format(**args)


class _Messages(Mapping[str, Mapping[str, str]]):
    """Read-only view ``MESSAGES[key][lang]`` of the singular sentences, for code that asks
    whether a key exists (``key in MESSAGES``) or needs a raw template."""

    def __getitem__(self, key: str) -> Mapping[str, str]:
        if key not in self:
            raise KeyError(key)
        return {lang: template(lang, key) for lang in LANGUAGES}

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in _keys()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(_keys()))

    def __len__(self) -> int:
        return len(_keys())


@cache
def _keys() -> frozenset[str]:
    # gettext keeps a catalogue's messages in ``_catalog``: msgid → text, (msgid, i) → form
    return frozenset(key for key in catalogue(DEFAULT_LANGUAGE)._catalog
                     if isinstance(key, str) and key)


MESSAGES: Mapping[str, Mapping[str, str]] = _Messages()


def role_name(lang: str, role: str) -> str:
    return t(lang, f"role.{role}")


def role_list(lang: str, roles: Iterable[str]) -> str:
    return ", ".join(role_name(lang, r) for r in roles)


def kind_name(lang: str, kind: str) -> str:
    return t(lang, f"kind.{kind}")


def use_timezone(name: str) -> None:
    """The deployment's local time (``[bot] timezone``), for every moment shown; set once at
    start-up, as the keyring is."""
    global LOCAL  # noqa: PLW0603 - one process-wide setting, like crypto.install
    LOCAL = ZoneInfo(name)


@contextmanager
def as_of(now: datetime) -> Iterator[None]:
    """Render what is composed inside for the moment ``now`` (the clock's): dates in that
    year leave the year out."""
    token = _NOW.set(now)
    try:
        yield
    finally:
        _NOW.reset(token)


def when(lang: str, moment: datetime, tz: ZoneInfo | None = None, *,
         now: datetime | None = None) -> str:
    """A moment in local time, as people write it: 'di 24 nov 14:00', with the year when it
    is not this year ('za 2 jan 2027 09:00'). "This year" is that of ``now``, or else of the
    moment set with :func:`as_of`; without either the year is always written."""
    tz = tz or LOCAL
    reference = now if now is not None else _NOW.get()
    this_year = reference is not None and reference.astimezone(tz).year == \
        moment.astimezone(tz).year
    pattern = "EEE d MMM HH:mm" if this_year else "EEE d MMM y HH:mm"
    return str(format_datetime(moment, pattern, tzinfo=tz, locale=lang))


def time_left(lang: str, moment: datetime, now: datetime) -> str:
    """'over 4 uur', 'in 2 days', '3 uur geleden'."""
    return str(format_timedelta(moment - now, add_direction=True, locale=lang,
                                threshold=1.5, granularity="second"))


def duration(lang: str, span: timedelta) -> str:
    return str(format_timedelta(span, locale=lang, threshold=1.5))
