"""The nuisance file end to end in the console: evidence recorded by the roles that supply it,
an attachment, a release for the judge, and the three copies exported as PDF (read back with
pypdf) and Markdown, checked for what each copy must and must not hold.

A test provider places a marker of every information class in every kind of entry, so the
check covers every (kind, class) pair the complaints and trajectories providers could list:
each marker is in a copy exactly when the policy lets that copy show its class.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, text

from bot.domain.clock import ManualClock
from bot.domain.dossier import PROVIDERS, DossierEntry, EntryKind
from bot.domain.model import CARE_TEAM, Role
from bot.persistence import orm
from bot.privacy import DEFAULT, Info, Visibility
from bot.services import retention
from tests.support.harness import ConsoleHarness

PEOPLE = (("Lotte", "verhuurder"), ("Bram", "begeleider"), ("Tara", "teamleider"),
          ("Wout", "wijkagent"), ("Gert", "gemeente"), ("Dirk", "deelnemer"))
LIMIT = 60_000


def marker(kind: EntryKind, info: Info) -> str:
    return f"MK{kind.value.replace('_', '')}X{info.value.replace('_', '')}"


@pytest.fixture
def every_kind_and_class(clock: ManualClock) -> Iterator[None]:
    """A provider with one entry per (kind, class), its text a marker naming both."""
    start = clock.now() - timedelta(days=30)

    async def provide(uow: object, case_id: int) -> list[DossierEntry]:
        return [DossierEntry(kind=kind, at=start + timedelta(minutes=i * len(Info) + j),
                             info=info, supplied_by=Role.LANDLORD, title="",
                             text=f"{marker(kind, info)} tekst", ref=f"test:{kind}-{info}")
                for i, kind in enumerate(EntryKind) for j, info in enumerate(Info)]

    PROVIDERS["test"] = provide
    try:
        yield
    finally:
        PROVIDERS.pop("test", None)


@pytest.fixture
async def bot(database_url: str, clock: ManualClock, tmp_path: Path
              ) -> AsyncIterator[ConsoleHarness]:
    harness = ConsoleHarness(database_url, clock, sections={
        "dossier": {"console_dir": str(tmp_path / "exports"), "attachment_limit": LIMIT}})
    await harness.start()
    yield harness
    await harness.stop()


async def everyone(bot: ConsoleHarness) -> str:
    case = await bot.new_case()
    for name, role in PEOPLE:
        await bot.join(name, case, role)
    return case


async def as_(bot: ConsoleHarness, name: str, line: str) -> str:
    await bot.type(f"/als {name}")
    return "\n".join(bot.to(name, await bot.type(line)))


def written(reply: str) -> Path:
    found = re.search(r"\(document opgeslagen in (.+)\)", reply)
    assert found, reply
    return Path(found.group(1))


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def jpeg(size: int, fill: bytes = b"PHOTOCONTENT") -> bytes:
    body = (fill * (size // len(fill) + 1))[:max(0, size - 4)]
    return b"\xff\xd8\xff\xe0" + body


async def test_the_three_copies_hold_what_the_policy_lets_them(
        bot: ConsoleHarness, tmp_path: Path, every_kind_and_class: None) -> None:
    case = await everyone(bot)
    await as_(bot, "Bram", f"/signaal {case} zorgsignaal Slaapt slecht")
    said = await as_(bot, "Lotte",
                     f"/bewijs {case} verklaring 28-11 Harde muziek STATEMENTTEXT "
                     "bron: SOURCENAME")
    assert "evidence:1" in said
    said = await as_(bot, "Lotte", f"/bewijs {case} verklaring Geschreeuw ANONTEXT anoniem")
    assert "anoniem" in said
    assert "evidence:2" in said
    await as_(bot, "Lotte", f"/bewijs {case} telefoon Belde met buurman PHONETEXT")
    await as_(bot, "Wout", f"/bewijs {case} sfeerrapportage Onrustige avond POLICETEXT")
    await as_(bot, "Gert", f"/bewijs {case} gedragsaanwijzing Geen bezoek DIRECTIVETEXT")
    photo = tmp_path / "deur.jpg"
    photo.write_bytes(jpeg(2000))
    said = await as_(bot, "Lotte", f"/bijlage {case} bewijs:1 < {photo}")
    assert "evidence:1" in said
    assert "versleuteld" in said

    # the landlord's copy: no care details, the complainant's name, a police report only named
    reply = await as_(bot, "Lotte", f"/overlastdossier {case} verhuurder pdf")
    landlord = pdf_text(written(reply))
    assert f"Overlastdossier zaak {case}" in landlord
    assert "Pagina 1 van" in landlord
    for found in ("STATEMENTTEXT", "SOURCENAME", "ANONTEXT", "PHONETEXT", "DIRECTIVETEXT",
                  "deur.jpg"):
        assert found in landlord, found
    assert "POLICETEXT" not in landlord
    assert "zorgsignaal" not in landlord  # the care signal's existence is care
    for kind in EntryKind:
        for info in Info:
            shown = DEFAULT.sees(Role.LANDLORD, info) is Visibility.SHOWN
            assert (marker(kind, info) in landlord) is shown, (kind, info)

    # the care file: everything (the complainant's name stays with the landlord)
    reply = await as_(bot, "Bram", f"/overlastdossier {case} zorg pdf")
    care = pdf_text(written(reply))
    for found in ("STATEMENTTEXT", "POLICETEXT", "PHONETEXT", "DIRECTIVETEXT", "zorgsignaal"):
        assert found in care, found
    assert "SOURCENAME" not in care
    assert "bekend bij de verhuurder" in care  # withheld, not anonymous
    for kind in EntryKind:
        for info in Info:
            shown = DEFAULT.best(CARE_TEAM, info) is Visibility.SHOWN
            assert (marker(kind, info) in care) is shown, (kind, info)

    # the judge's copy: the landlord's, plus what the care team released
    released = f"test:{EntryKind.ASSESSMENT}-{Info.CARE}"
    said = await as_(bot, "Bram", f"/vrijgevenrechter {case} {released}")
    assert "vrijgegeven" in said
    said = await as_(bot, "Lotte", f"/vrijgevenrechter {case} {released}")
    assert "zorgteam" in said  # only the care team releases
    reply = await as_(bot, "Lotte", f"/overlastdossier {case} rechter md")
    judge = written(reply).read_text()
    assert f"test:{EntryKind.ASSESSMENT}-{Info.CARE}" in judge
    assert marker(EntryKind.ASSESSMENT, Info.CARE) in judge
    assert marker(EntryKind.LETTER, Info.CARE) not in judge
    assert "POLICETEXT" not in judge
    assert "SOURCENAME" in judge
    for kind in EntryKind:
        for info in Info:
            shown = DEFAULT.sees(Role.LANDLORD, info) is Visibility.SHOWN or (
                kind is EntryKind.ASSESSMENT and info is Info.CARE)
            assert (marker(kind, info) in judge) is shown, (kind, info)

    # the Markdown of the landlord's copy holds what its PDF does
    reply = await as_(bot, "Lotte", f"/overlastdossier {case} md")
    markdown = written(reply).read_text()
    assert markdown.startswith(f"# Overlastdossier zaak {case}")
    assert "STATEMENTTEXT" in markdown
    assert "POLICETEXT" not in markdown
    assert "zorgsignaal" not in markdown
    for kind in EntryKind:
        for info in Info:
            shown = DEFAULT.sees(Role.LANDLORD, info) is Visibility.SHOWN
            assert (marker(kind, info) in markdown) is shown, (kind, info)

    # who may not export: the police, the municipality, the tenant; the landlord not the
    # care file
    for name, line in (("Wout", "verhuurder"), ("Gert", ""), ("Dirk", ""),
                       ("Lotte", "zorg")):
        said = await as_(bot, name, f"/overlastdossier {case} {line}")
        assert "niet exporteren" in said, (name, said)

    # every export is logged, with refs and counts, never content
    app = bot.app
    assert app is not None
    async with app.new_uow() as uow:
        exports = (await uow.session.execute(select(orm.DossierExport)
                                             .order_by(orm.DossierExport.id))).scalars().all()
        assert [e.copy for e in exports] == ["verhuurder", "zorg", "rechter", "verhuurder"]
        refs = json.loads(exports[0].refs)
        assert "evidence:1" in refs["shown"]
        assert exports[0].shown == len(refs["shown"])
        assert "MK" not in exports[0].refs
        assert "TEXT" not in exports[0].refs
        logged = (await uow.session.execute(select(func.count(orm.AccessLogRow.id)).where(
            orm.AccessLogRow.what == "dossier_export"))).scalar_one()
        assert logged == 4
        # the documents were purged from the outbox once delivered
        waiting = (await uow.session.execute(select(func.count(orm.OutboxDocument.id))))
        assert waiting.scalar_one() == 0


async def test_attachments_are_checked_and_encrypted_at_rest(bot: ConsoleHarness,
                                                             tmp_path: Path) -> None:
    case = await everyone(bot)
    await as_(bot, "Lotte", f"/bewijs {case} foto Kapotte deur")
    big = tmp_path / "groot.jpg"
    big.write_bytes(jpeg(LIMIT + 1))
    said = await as_(bot, "Lotte", f"/bijlage {case} evidence:1 < {big}")
    assert "te groot (60.1 kB): hooguit 60.0 kB" in said
    note = tmp_path / "notitie.txt"
    note.write_bytes(b"gewoon tekst")
    said = await as_(bot, "Lotte", f"/bijlage {case} evidence:1 < {note}")
    assert "neemt het dossier niet aan" in said
    assert "PDF" in said
    said = await as_(bot, "Lotte", f"/bijlage {case} evidence:1")
    assert "Stuur het bestand mee" in said
    said = await as_(bot, "Lotte", f"/bijlage {case} evidence:99 < {tmp_path / 'x.jpg'}")
    assert "Stuur het bestand mee" in said  # an unreadable file arrives empty
    photo = tmp_path / "deur.jpg"
    photo.write_bytes(jpeg(3000, b"SECRETPIXELS"))
    said = await as_(bot, "Lotte", f"/bijlage {case} evidence:99 < {photo}")
    assert "evidence:99" in said
    assert "Geen stuk" in said
    # the municipality may not read the photo's class (complaint): it cannot attach to it
    said = await as_(bot, "Gert", f"/bijlage {case} evidence:1 < {photo}")
    assert "Geen stuk" in said
    said = await as_(bot, "Lotte", f"/bijlage {case} evidence:1 < {photo}")
    assert "versleuteld" in said
    app = bot.app
    assert app is not None
    async with app.engine.connect() as conn:
        raw = (await conn.execute(text("SELECT content, filename FROM attachments"))).all()
    assert len(raw) == 1
    content, filename = raw[0]
    assert b"SECRETPIXELS" not in bytes(content)
    assert "deur" not in filename
    async with app.new_uow() as uow:
        row = (await uow.session.execute(select(orm.AttachmentRow))).scalar_one()
        assert b"SECRETPIXELS" in row.content
        assert row.mime == "image/jpeg"

    said = await as_(bot, "Lotte", "/mijngegevens")  # what she recorded, in her own export
    assert f"- evidence:1 in {case}: foto" in said
    # the closed case's purge takes the file with it
    await as_(bot, "Lotte", f"/overlastdossier {case}")
    async with app.new_uow() as uow:
        found = await uow.cases.by_code(case)
        assert found is not None
        found.closed_at = bot.clock.now()
        await uow.flush()
        assert await retention.purge_case(uow, found.id, bot.clock.now()) == case
        await uow.commit()
    async with app.new_uow() as uow:
        for table in (orm.EvidenceRow, orm.AttachmentRow, orm.JudgeRelease, orm.DossierExport,
                      orm.OutboxDocument):
            left = await uow.session.execute(select(func.count()).select_from(table))
            assert left.scalar_one() == 0, table


async def test_evidence_is_supplied_by_its_roles(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    said = await as_(bot, "Bram", f"/bewijs {case} verklaring Iets")
    assert "niet vast in jouw rol" in said
    assert "verhuurder" in said
    said = await as_(bot, "Lotte", f"/bewijs {case} sfeerrapportage Iets")
    assert "wijkagent" in said
    said = await as_(bot, "Lotte", f"/bewijs {case} schilderij Iets")
    assert "Onbekend soort bewijs" in said
    assert "verklaring" in said
    said = await as_(bot, "Lotte", f"/bewijs {case} verklaring 31-12-2999 Iets")
    assert "geen datum" in said
    said = await as_(bot, "Lotte", f"/bewijs {case} verklaring")
    assert "Schrijf erbij" in said
    said = await as_(bot, "Lotte", "/mijngegevens")
    assert "Bewijs dat je in een overlastdossier vastlegde:\n- geen" in said
    app = bot.app
    assert app is not None
    async with app.new_uow() as uow:
        assert (await uow.session.execute(select(func.count(orm.EvidenceRow.id)))
                ).scalar_one() == 0
