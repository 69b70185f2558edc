"""Every sentence exists in Dutch and English with the same placeholders."""

from __future__ import annotations

import string

import pytest

from bot.domain.model import Role, SignalKind
from bot.i18n import LANGUAGES, MESSAGES
from bot.i18n.catalogue import KIND_NAMES, ROLE_NAMES


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = MESSAGES[key]
    assert set(entry) == set(LANGUAGES), key
    assert _fields(entry["nl"]) == _fields(entry["en"]), key


def test_every_role_and_kind_has_a_name() -> None:
    assert set(ROLE_NAMES) == {r.value for r in Role}
    assert set(KIND_NAMES) == {k.value for k in SignalKind}
    for names in (*ROLE_NAMES.values(), *KIND_NAMES.values()):
        assert set(names) == set(LANGUAGES)
