"""Reading the compiled catalogues.

A wheel carries ``kortelijn.mo`` per language, compiled from the ``.po`` when it is built
(``setup.py``), and no ``.po``. A checkout (``pip install -e .``, the Makefile's way) has the
``.po`` files, which people edit: when a ``.mo`` is missing or older than its ``.po``, the
``.po`` is compiled on the spot and the result written beside it for the next start (atomically;
skipped where the directory is read-only). So an edited catalogue is never read stale, and a
wheel installed on a read-only system (``ProtectSystem=strict``) needs no compiler and no
writable cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kortelijn"


def po_path(lang: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_po(po: Path, lang: str) -> bytes:
    """The ``.mo`` image of a ``.po`` file (fuzzy and untranslated entries left out)."""
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    out = BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def load(lang: str, locale_dir: Path = LOCALE_DIR) -> Translations:
    """The catalogue of ``lang``, compiled first if its ``.mo`` is missing or stale."""
    po = po_path(lang, locale_dir)
    mo = po.with_suffix(".mo")
    fresh = mo.is_file() and (not po.is_file()
                              or mo.stat().st_mtime_ns >= po.stat().st_mtime_ns)
    if fresh:
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    if not po.is_file():
        raise FileNotFoundError(f"no message catalogue for {lang!r} under {locale_dir}")
    image = compile_po(po, lang)
    _store(mo, image)
    return Translations(BytesIO(image), domain=DOMAIN)


def _store(mo: Path, image: bytes) -> None:
    """Write the compiled catalogue for the next start; another process may do the same at
    the same time, so write a temporary file and rename it."""
    try:
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".kortelijn-", suffix=".mo")
    except OSError:
        log.debug("catalogue directory is read-only; compiled in memory only")
        return
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(image)
        os.chmod(tmp, 0o644)
        os.replace(tmp, mo)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        log.debug("could not store the compiled catalogue")
