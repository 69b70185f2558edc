"""The message catalogues as Babel sees them: the template extracted from the code, and the
``.po`` file of each language. Used by the conversion from the old dict modules
(``tools.dicts_to_po``) and by the catalogue tests; ``make messages`` runs the same ``pybabel``
commands with the options in pyproject.toml."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from bot.i18n import LANGUAGES
from bot.i18n.loading import DOMAIN, LOCALE_DIR, po_path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "ROOT", "extract_template", "pybabel",
           "read_catalogue", "write_catalogue"]


def pybabel(*args: str) -> None:
    """Run a ``pybabel`` command from the repository root (where pyproject.toml configures
    it), quietly."""
    (ROOT / "build").mkdir(exist_ok=True)
    with contextlib.chdir(ROOT):
        CommandLineInterface().run(["pybabel", "--quiet", *args])  # type: ignore[no-untyped-call]


def extract_template() -> Catalog:
    """What the code asks for now: ``pybabel extract`` into a temporary template."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / f"{DOMAIN}.pot"
        pybabel("extract", "--output-file", str(pot))
        with pot.open("rb") as source:
            return read_po(source)


def read_catalogue(lang: str) -> Catalog | None:
    path = po_path(lang)
    if not path.is_file():
        return None
    with path.open("rb") as source:
        return read_po(source, locale=lang, domain=DOMAIN)


def write_catalogue(lang: str, catalog: Catalog) -> Path:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=76)
    return path
