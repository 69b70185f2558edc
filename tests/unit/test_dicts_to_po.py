"""The conversion from the old dict modules to the .po files, which the integrator re-runs after
merging branches that still add sentences to the dicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from tools.dicts_to_po import build, load_dicts

CORE = '''
MESSAGES = {
    "a.one": {"nl": "een {x}", "en": "one {x}"},
    "a.count": {"nl": ("{n} ding", "{n} dingen"), "en": ("{n} thing", "{n} things")},
}
ROLE_NAMES = {"coach": {"nl": "begeleider", "en": "coach"}}
KIND_NAMES = {"noise": {"nl": "geluidsoverlast", "en": "noise"}}
'''
AREA = 'MESSAGES = {"b.new": {"nl": "nieuw", "en": "new"}}\n'


def _modules(tmp_path: Path, *texts: str) -> list[Path]:
    paths = []
    for index, text in enumerate(texts):
        path = tmp_path / f"messages_{index}.py"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _template(*ids: str | tuple[str, str]) -> Catalog:
    template = Catalog()
    for msgid in ids:
        template.add(msgid, locations=[("bot/x.py", None)])
    return template


def test_the_dicts_are_read_from_their_files(tmp_path: Path) -> None:
    dicts = load_dicts(_modules(tmp_path, CORE, AREA))
    assert dicts["a.one"] == {"nl": "een {x}", "en": "one {x}"}
    assert dicts["a.count"]["en"] == ("{n} thing", "{n} things")
    assert dicts["role.coach"]["nl"] == "begeleider"
    assert dicts["kind.noise"]["en"] == "noise"
    assert dicts["b.new"]["nl"] == "nieuw"


def test_a_key_defined_twice_stops_the_conversion(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="defined twice"):
        load_dicts(_modules(tmp_path, AREA, AREA))


def test_the_dicts_win_and_the_po_keeps_what_they_lack(tmp_path: Path) -> None:
    dicts = load_dicts(_modules(tmp_path, CORE, AREA))
    previous = Catalog(locale="en")
    previous.add("a.one", "old text")
    previous.add("c.only_in_po", "kept")
    previous.add(("a.count", "a.count"), ("{n} item", "{n} items"))
    template = _template("a.one", ("a.count", "a.count"), "b.new", "c.only_in_po", "d.new")
    catalog, untranslated = build("en", template, dicts, previous)
    assert catalog.get("a.one").string == "one {x}"
    assert catalog.get("c.only_in_po").string == "kept"
    assert catalog.get("a.count").string == ("{n} thing", "{n} things")
    assert untranslated == ["d.new"]
    # a sentence of the dicts that the code does not name is kept (and reported)
    assert catalog.get("role.coach").string == "coach"


def test_plural_forms_in_the_po_outlive_an_older_dict_with_one_text(tmp_path: Path) -> None:
    dicts = load_dicts(_modules(tmp_path, 'MESSAGES = {"a.count": {"en": "{n} thing(s)"}}\n'))
    previous = Catalog(locale="en")
    previous.add(("a.count", "a.count"), ("{n} thing", "{n} things"))
    catalog, _ = build("en", _template(("a.count", "a.count")), dicts, previous)
    assert catalog.get("a.count").string == ("{n} thing", "{n} things")
