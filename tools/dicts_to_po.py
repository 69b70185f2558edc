"""Convert the hand-written dict catalogues to the gettext catalogues, then delete the dicts.

    python -m tools.dicts_to_po            # convert, compile, delete the dict modules
    python -m tools.dicts_to_po --keep     # convert and compile, keep the dict modules

Reads ``bot/i18n/catalogue.py`` (``MESSAGES``; ``ROLE_NAMES`` become ``role.<role>``,
``KIND_NAMES`` become ``kind.<kind>``) and every ``bot/i18n/messages_*.py`` (``MESSAGES``) by
file, without importing the package. A value is ``{"nl": text, "en": text}``, or for a sentence
with plural forms ``{"nl": (singular, plural), ...}``.

Writes ``bot/i18n/locale/<lang>/LC_MESSAGES/kortelijn.po`` for each language: the messages the
code asks for (``pybabel extract``, configured in pyproject.toml), each with its text from the
dicts; a key the dicts lack keeps the text the ``.po`` already had (and so do plural forms
where a dict has only one text). Then the same
``pybabel update`` and ``pybabel compile`` as ``make messages``, so that the files are exactly
as the workflow leaves them. Re-runnable: after merging branches that still add sentences to
the dicts, run it again and commit the result.

It reports (and keeps, so that nothing is lost) a sentence of the dicts that the code does not
name, and a key the code names that no dict defines; ``tests/unit/test_catalogue.py`` fails on
either until it is resolved (name a composed key in ``bot/i18n/keys.py``; write the sentence).
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message

from tools.catalogues import (
    DOMAIN,
    LANGUAGES,
    ROOT,
    extract_template,
    pybabel,
    read_catalogue,
    write_catalogue,
)

I18N = ROOT / "bot" / "i18n"
Text = str | tuple[str, str]
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English"}
HEADER = """\
# KorteLijn's sentences in {language}.
# Each id is a symbolic key, named in the code: i18n.t(lang, "key", ...).
# The text is what the person reads; its placeholders ({{code}}) are the
# same in every language. Workflow: `make messages` (bot/i18n/README.md)."""


def dict_modules() -> list[Path]:
    return sorted(p for p in [I18N / "catalogue.py", *I18N.glob("messages_*.py")] if p.is_file())


def load_dicts(modules: list[Path]) -> dict[str, dict[str, Text]]:
    """Every sentence of the dict modules; a key defined twice is an error."""
    merged: dict[str, dict[str, Text]] = {}

    def add(key: str, entry: dict[str, Any], where: Path) -> None:
        if key in merged:
            raise SystemExit(f"{where.name}: message key {key!r} is defined twice")
        merged[key] = {lang: tuple(text) if isinstance(text, list | tuple) else str(text)
                       for lang, text in entry.items()}

    for path in modules:
        found = runpy.run_path(str(path))
        for key, entry in found.get("MESSAGES", {}).items():
            add(key, entry, path)
        for prefix, table in (("role", "ROLE_NAMES"), ("kind", "KIND_NAMES")):
            for name, entry in found.get(table, {}).items():
                add(f"{prefix}.{name}", entry, path)
    return merged


def _text_of(message: Message | None) -> Text | None:
    if message is None or not message.string:
        return None
    forms = message.string
    if isinstance(forms, str):
        return forms
    return (forms[0], forms[-1]) if all(forms) else None


def build(lang: str, template: Catalog, dicts: dict[str, dict[str, Text]],
          previous: Catalog | None) -> tuple[Catalog, list[str]]:
    """The catalogue of ``lang``; also the keys the code names but nothing translates."""
    catalog = Catalog(locale=lang, domain=DOMAIN, project="KorteLijn", fuzzy=False,
                      header_comment=HEADER.format(language=LANGUAGE_NAMES[lang]))
    untranslated: list[str] = []
    keys = [m.id for m in template if m.id]
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    extra = sorted(set(dicts) - known)
    for msgid in [*keys, *extra]:
        key = msgid if isinstance(msgid, str) else msgid[0]
        given: Text | None = dicts.get(key, {}).get(lang)
        kept = _text_of(previous.get(key)) if previous is not None else None
        if isinstance(msgid, tuple) and isinstance(given, str) and isinstance(kept, tuple):
            # the code asks for plural forms, the dict (an older copy) has one text, the .po
            # has the forms already: keep them
            print(f"warning: {key!r} ({lang}): the dict has one text, the .po keeps its "
                  "plural forms", file=sys.stderr)
            given = None
        text = given if given is not None else kept
        if text is None:
            untranslated.append(key)
            text = ("", "") if isinstance(msgid, tuple) else ""
        origin = template.get(key)
        locations = origin.locations if origin is not None else []
        plural = isinstance(msgid, tuple) or isinstance(text, tuple)
        catalog.add((key, key) if plural else key,
                    string=text if not plural or isinstance(text, tuple) else (text, text),
                    locations=locations)
    return catalog, untranslated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the dict modules")
    options = parser.parse_args(argv)
    modules = dict_modules()
    if not modules:
        print("no dict modules under bot/i18n: nothing to convert", file=sys.stderr)
        return 0
    dicts = load_dicts(modules)
    template = extract_template()
    named = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for key in sorted(set(dicts) - named):
        print(f"warning: {key!r} is in the dicts but the code does not name it "
              "(composed at run time? list it in bot/i18n/keys.py)", file=sys.stderr)
    for lang in LANGUAGES:
        catalog, untranslated = build(lang, template, dicts, read_catalogue(lang))
        path = write_catalogue(lang, catalog)
        for key in untranslated:
            print(f"warning: {key!r} has no {lang} text", file=sys.stderr)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages")
    # the workflow's own passes, so that `make messages` afterwards changes nothing
    pybabel("extract")
    pybabel("update", "--ignore-pot-creation-date")
    pybabel("compile")
    if not options.keep:
        for path in modules:
            path.unlink()
            print(f"deleted {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
