"""The gettext catalogues: complete, consistent between languages, current with the code, and
free of the other language's words; the compiled catalogue follows its .po."""

from __future__ import annotations

import os
import re
import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message

from bot import i18n
from bot.domain import errors
from bot.domain.events import Event
from bot.domain.model import Norm, Role, SignalKind, WindowStatus
from bot.i18n.loading import load, po_path
from handlers.dispatch import COMMANDS, format_args, parse_command
from tools.catalogues import LANGUAGES, extract_template, read_catalogue

DUTCH, ENGLISH = "nl", "en"


@cache
def _catalogue(lang: str) -> Catalog:
    found = read_catalogue(lang)
    assert found is not None, f"no catalogue for {lang}"
    return found


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _forms(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def _entries(lang: str) -> dict[str, Message]:
    return {_key(m): m for m in _catalogue(lang) if m.id}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.fixture(scope="module")
def template() -> dict[str, Message]:
    return {_key(m): m for m in extract_template() if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sentence_is_translated(lang: str) -> None:
    missing = sorted(key for key, m in _entries(lang).items()
                     if m.fuzzy or not all(form.strip() for form in _forms(m)))
    assert not missing, f"{lang}: no (or only a fuzzy) translation for {missing}"


def test_every_language_has_the_same_sentences() -> None:
    keys = {lang: set(_entries(lang)) for lang in LANGUAGES}
    assert keys[DUTCH] == keys[ENGLISH], keys[DUTCH] ^ keys[ENGLISH]
    english = _entries(ENGLISH)
    for key, message in _entries(DUTCH).items():
        assert message.pluralizable == english[key].pluralizable, key


def test_placeholders_are_the_same_in_every_language_and_form() -> None:
    english = _entries(ENGLISH)
    wrong = []
    for key, dutch in _entries(DUTCH).items():
        expected = _fields(_forms(dutch)[-1])
        for lang, message in ((DUTCH, dutch), (ENGLISH, english[key])):
            wrong += [f"{lang} {key}: {sorted(_fields(form))} ≠ {sorted(expected)}"
                      for form in _forms(message) if _fields(form) != expected]
    assert not wrong, "\n".join(wrong)


def test_the_catalogue_is_current_with_the_code(template: dict[str, Message]) -> None:
    """A key the code names must have a sentence (else the person gets an error); a sentence
    no code names would be dropped by `pybabel update` (if its key is composed at run time,
    list it in bot/i18n/keys.py)."""
    for lang in LANGUAGES:
        have = _entries(lang)
        assert not sorted(set(template) - set(have)), \
            f"{lang}: the code names keys the catalogue lacks (run `make messages`, translate)"
        assert not sorted(set(have) - set(template)), \
            f"{lang}: sentences no code names (list composed keys in bot/i18n/keys.py)"
        assert not _catalogue(lang).obsolete, f"{lang}: obsolete entries left in the .po"
        plural = sorted(k for k, m in template.items() if m.pluralizable != have[k].pluralizable)
        assert not plural, f"{lang}: t() vs tn() disagrees with the catalogue for {plural}"


def test_each_family_of_composed_keys_is_complete() -> None:
    families = {"role": Role, "kind": SignalKind, "norm": Norm, "window.state": WindowStatus,
                "timeline": Event}
    have = set(_entries(DUTCH))
    missing = sorted(f"{prefix}.{member.value}" for prefix, members in families.items()
                     for member in members if f"{prefix}.{member.value}" not in have)
    assert not missing


def test_a_key_no_catalogue_has_is_an_error_not_a_sentence() -> None:
    with pytest.raises(KeyError):
        i18n.t(ENGLISH, "no.such.key")
    assert "no.such.key" not in i18n.MESSAGES
    assert "error.unknown_case" in i18n.MESSAGES
    assert i18n.MESSAGES["error.unknown_case"][ENGLISH].startswith("You have no case")


def test_plural_forms_follow_the_count() -> None:
    assert i18n.tn(DUTCH, "cases.line", 1, code="Z", roles="r", open=1).endswith(
        "1 open termijn")
    assert i18n.tn(DUTCH, "cases.line", 2, code="Z", roles="r", open=2).endswith(
        "2 open termijnen")
    assert i18n.tn(ENGLISH, "cases.line", 1, code="Z", roles="r", open=1).endswith(
        "1 open window")
    assert i18n.tn(ENGLISH, "cases.line", 0, code="Z", roles="r", open=0).endswith(
        "0 open windows")


# --- no word of the other language ------------------------------------------------------------

#: words that are Dutch and not English (checked against every English sentence) ...
DUTCH_WORDS = {
    "afgehandeld", "afwezig", "annuleer", "bekijk", "begeleider", "bevestig", "bevestigd",
    "bewerkt", "coördinator", "deelnemer", "een", "geen", "gedaan", "het", "hervat", "jij",
    "jouw", "koppel", "melden", "met", "niet", "nieuwezaak", "ontkoppel", "overleg",
    "overzicht", "pauzeer", "samenvatting", "signaal", "signalen", "sluitzaak", "stil", "taal",
    "termijn", "termijnen", "terug", "toegangslog", "toelichting", "uitnodigen", "vergeetmij",
    "verleng", "verstuur", "verwijderd", "vrijgeven", "wordt", "zaak", "zaken", "zorgteam",
    "mijngegevens", "melden_soort", "melden_verstuur", "van", "voor", "gemeente", "wijkagent",
}
#: ... and words that are English and not Dutch (checked against every Dutch sentence)
ENGLISH_WORDS = {
    "acknowledge", "acknowledged", "and", "cancel", "case", "cases", "coach", "confirm",
    "deleted", "done", "edited", "erased", "from", "landlord", "note", "please", "send",
    "signal", "signals", "tenant", "the", "window", "windows", "with", "you", "your",
}
#: sentences that quote the other language on purpose
QUOTES = {
    # "/taal nl of /taal en": the choice itself names the language codes
}

_WORD = re.compile(r"[^\W\d_]+(?:_[^\W\d_]+)*", re.UNICODE)


def foreign_words(text: str, words: set[str]) -> list[str]:
    return sorted({w for w in _WORD.findall(text.lower()) if w in words})


def _rendered(lang: str) -> dict[str, str]:
    """Every sentence of ``lang``, every plural form, its placeholders filled with a marker."""
    out = {}
    for key, message in _entries(lang).items():
        for index, form in enumerate(_forms(message)):
            out[f"{key}[{index}]"] = form.format(**dict.fromkeys(_fields(form), "…"))
    return out


@pytest.mark.parametrize(("lang", "words"), [(ENGLISH, DUTCH_WORDS), (DUTCH, ENGLISH_WORDS)])
def test_no_sentence_has_a_word_of_the_other_language(lang: str, words: set[str]) -> None:
    leaks = {key: found for key, text in _rendered(lang).items()
             if key.split("[")[0] not in QUOTES and (found := foreign_words(text, words))}
    assert not leaks, leaks


def test_the_word_check_finds_a_leak() -> None:
    assert foreign_words("Signal #3 (bewerkt): send /ok 3", DUTCH_WORDS) == ["bewerkt"]
    assert foreign_words("Signaal #3: stuur /gedaan T4 of /ack", DUTCH_WORDS) == [
        "gedaan", "signaal"]
    assert foreign_words("Zaak Z-1 (edited)", ENGLISH_WORDS) == ["edited"]


# --- the compiled catalogue --------------------------------------------------------------------

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "greeting"
msgstr "{text}"
"""


def _write_po(locale_dir: Path, text: str) -> Path:
    po = po_path("nl", locale_dir)
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_text(PO.replace("{text}", text), encoding="utf-8")
    return po


def test_a_missing_or_stale_compiled_catalogue_is_compiled_from_its_po(tmp_path: Path) -> None:
    po = _write_po(tmp_path, "hallo")
    mo = po.with_suffix(".mo")
    assert not mo.exists()
    assert load("nl", tmp_path).gettext("greeting") == "hallo"
    assert mo.is_file()  # stored for the next start

    _write_po(tmp_path, "dag")
    stamp = mo.stat().st_mtime_ns
    os.utime(po, ns=(stamp + 10**9, stamp + 10**9))  # the .po edited after the compile
    assert load("nl", tmp_path).gettext("greeting") == "dag"

    po.unlink()  # an installed wheel: only the compiled catalogue
    assert load("nl", tmp_path).gettext("greeting") == "dag"


def test_no_catalogue_at_all_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load("nl", tmp_path)


def test_each_button_command_is_the_same_command_in_every_language() -> None:
    keys = [key for key in i18n.MESSAGES if key.startswith("command.")]
    assert len(keys) > 10
    for key in keys:
        handlers = set()
        for lang in LANGUAGES:
            text = i18n.MESSAGES[key][lang]
            parsed = parse_command(text.format(**dict.fromkeys(_fields(text), "1")))
            assert parsed is not None, (key, lang)
            assert parsed[0] in COMMANDS, (key, lang, parsed[0])
            handlers.add(COMMANDS[parsed[0]])
        assert len(handlers) == 1, key


def test_an_error_argument_that_is_a_sentence_is_rendered_in_the_readers_language() -> None:
    usage = errors.MessageKey("usage.pause")
    assert format_args(ENGLISH, {"usage": usage})["usage"] == i18n.t(ENGLISH, "usage.pause")
    assert format_args(DUTCH, {"usage": usage})["usage"] == i18n.t(DUTCH, "usage.pause")
