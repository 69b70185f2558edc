"""Build step beside pyproject.toml: compile the message catalogues into the wheel.

A wheel carries ``bot/i18n/locale/<lang>/LC_MESSAGES/kortelijn.mo`` (and not the ``.po``: see
``bot/i18n/loading.py``), so an installed bot needs neither a compiler nor a writable package
directory. An editable install (``pip install -e .``) compiles them beside the ``.po`` files;
the bot also recompiles there whenever a ``.po`` is newer than its ``.mo``.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LOCALE = Path("bot", "i18n", "locale")


class build_py_with_catalogues(build_py):  # noqa: N801 (setuptools' command naming)
    def run(self) -> None:
        super().run()
        target = HERE if self.editable_mode else Path(self.build_lib)
        for po in sorted((HERE / LOCALE).glob("*/LC_MESSAGES/*.po")):
            lang = po.parent.parent.name
            with po.open("rb") as source:
                catalog = read_po(source, locale=lang, domain=po.stem)
            mo = target / po.relative_to(HERE).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": build_py_with_catalogues})
