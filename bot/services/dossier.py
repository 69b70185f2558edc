"""The nuisance file (overlastdossier) as a document: every provider's entries, filtered
through the one policy for the copy asked for, sorted by date, rendered as PDF or Markdown,
and sent to the person who asked as a document through the outbox.

Copies (docs/PRIVACY.md, "The nuisance file"):

- ``verhuurder`` (the landlord's copy): each entry as the landlord's role may see its class;
  no care details.
- ``zorg`` (the care file): each entry as the care team sees it: everything (the
  complainant's identity stays with the landlord, as everywhere).
- ``rechter`` (the judge's copy): the landlord's copy, plus the entries the care team released
  for it (``/vrijgevenrechter``), those as the care team sees them.

Who may export which copy is asked of the policy: the landlord's copy by a role that sees at
least everything the landlord's role sees, the care file by one that sees at least what a
coach sees, the judge's copy by either (the landlord or the care provider goes to court). A
redacted entry shows that it exists (its kind, date, supplier and ref), never what it says.
Every export is logged: in the access log, and in ``dossier_exports`` with the refs of the
entries shown and redacted and their counts, never content.
"""

from __future__ import annotations

import enum
import functools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from babel.dates import format_datetime
from fpdf import FPDF
from sqlalchemy import select

from bot import assets, i18n
from bot.domain import errors
from bot.domain.choices import MessageKind
from bot.domain.dossier import DossierEntry, EntryKind
from bot.domain.model import CARE_TEAM, Role, normalise_word
from bot.i18n.keys import N_
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.privacy import Info, Policy, Visibility
from bot.services import access
from bot.services.context import ServiceContext
from bot.services.evidence import (
    AttachmentInfo,
    all_entries,
    attachments_of,
    released_refs,
    timeline_text,
)
from bot.services.signals import case_of_member

log = logging.getLogger(__name__)

#: keys composed at run time (``f"dossier.kind.{kind}"``), listed for extraction
DOSSIER_KEYS = (
    N_("dossier.kind.complaint"), N_("dossier.kind.assessment"), N_("dossier.kind.letter"),
    N_("dossier.kind.correspondence"), N_("dossier.kind.action"),
    N_("dossier.kind.intervention"), N_("dossier.kind.neighbour_statement"),
    N_("dossier.kind.phone_note"), N_("dossier.kind.visit_note"), N_("dossier.kind.photo"),
    N_("dossier.kind.video"), N_("dossier.kind.sound"), N_("dossier.kind.measurement"),
    N_("dossier.kind.police_report"), N_("dossier.kind.atmosphere_report"),
    N_("dossier.kind.behaviour_directive"), N_("dossier.kind.trajectory"),
    N_("dossier.kind.evaluation"),
    N_("dossier.copy.verhuurder"), N_("dossier.copy.zorg"), N_("dossier.copy.rechter"),
    N_("dossier.about.verhuurder"), N_("dossier.about.zorg"), N_("dossier.about.rechter"),
    N_("accesslog.what.dossier_export"),
)


class Copy(enum.StrEnum):
    LANDLORD = "verhuurder"
    CARE = "zorg"
    JUDGE = "rechter"


class Format(enum.StrEnum):
    PDF = "pdf"
    MARKDOWN = "md"


_COPY_WORDS = {
    Copy.LANDLORD: ("verhuurder", "landlord", "corporatie"),
    Copy.CARE: ("zorg", "care", "zorgdossier", "team"),
    Copy.JUDGE: ("rechter", "judge", "court", "rechtbank"),
}
_FORMAT_WORDS = {Format.PDF: ("pdf",), Format.MARKDOWN: ("md", "markdown", "tekst", "text")}


def parse_copy(word: str) -> Copy | None:
    folded = normalise_word(word)
    return next((c for c, words in _COPY_WORDS.items() if folded in words), None)


def parse_format(word: str) -> Format | None:
    folded = normalise_word(word)
    return next((f for f, words in _FORMAT_WORDS.items() if folded in words), None)


class ExportNotAllowed(errors.NotAllowed):
    """Arguments: ``copy`` (a catalogue key)."""

    key = "error.export_not_allowed"


# --- assembling and filtering ------------------------------------------------------------

def may_export(policy: Policy, copy: Copy, roles: Iterable[Role]) -> bool:
    """Whether a person with ``roles`` may export ``copy`` (see the module's text)."""
    held = [r for r in roles if r is not Role.TENANT]
    if copy is Copy.LANDLORD:
        return policy.may_stand_in([Role.LANDLORD], held)
    if copy is Copy.CARE:
        return policy.may_stand_in([Role.COACH], held)
    return may_export(policy, Copy.LANDLORD, held) or may_export(policy, Copy.CARE, held)


def default_copy(policy: Policy, roles: Iterable[Role]) -> Copy | None:
    held = list(roles)
    for copy in (Copy.CARE, Copy.LANDLORD):
        if may_export(policy, copy, held):
            return copy
    return None


def visibility(policy: Policy, copy: Copy, entry: DossierEntry, released: set[str]
               ) -> Visibility:
    """How an entry shows in a copy, by its class (the one policy decides)."""
    care = policy.best(CARE_TEAM, entry.info)
    if copy is Copy.CARE:
        return care
    landlord = policy.sees(Role.LANDLORD, entry.info)
    if copy is Copy.JUDGE and (entry.released_for_judge or entry.ref in released):
        return max(landlord, care)
    return landlord


@dataclass(frozen=True)
class Item:
    """One entry as it goes into a copy."""

    entry: DossierEntry
    shown: bool
    #: who made a statement, where the copy (and its reader) may know it
    source: str | None = None
    anonymous: bool = False
    #: a source is recorded, but this copy (or its reader) may not know it
    source_withheld: bool = False
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass
class FileContents:
    case_code: str
    copy: Copy
    exported_at: datetime
    lang: str
    items: list[Item] = field(default_factory=list)

    @property
    def shown(self) -> int:
        return sum(1 for i in self.items if i.shown)

    @property
    def redacted(self) -> int:
        return sum(1 for i in self.items if not i.shown)


def _source_visible(policy: Policy, copy: Copy, reader: Iterable[Role]) -> bool:
    base = [Role.COACH] if copy is Copy.CARE else [Role.LANDLORD]
    return (policy.best(base, Info.COMPLAINANT) is Visibility.SHOWN
            and policy.best(list(reader), Info.COMPLAINANT) is Visibility.SHOWN)


async def contents(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case, copy: Copy,
                   reader: list[Role], lang: str) -> FileContents:
    """The copy's entries, each shown, redacted or left out by the policy."""
    released = await released_refs(uow, case.id)
    files = await attachments_of(uow, case.id)
    sources = _source_visible(ctx.privacy, copy, reader)
    out = FileContents(case_code=case.code, copy=copy, exported_at=ctx.clock.now(), lang=lang)
    for entry in await all_entries(uow, case.id):
        seen = visibility(ctx.privacy, copy, entry, released)
        if seen is Visibility.HIDDEN:
            continue
        shown = seen is Visibility.SHOWN
        source = entry.extra.get("source") or entry.extra.get("complainant")
        out.items.append(Item(
            entry=entry, shown=shown, source=source if shown and sources else None,
            anonymous=shown and "anonymous" in entry.extra,
            source_withheld=shown and source is not None and not sources,
            attachments=tuple(files.get(entry.ref, ())) if shown else ()))
    return out


# --- rendering ------------------------------------------------------------------------------

@functools.cache
def _names(lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The abbreviated day and month names, as Babel's 'EEE' and 'MMM' write them."""
    days = tuple(str(format_datetime(datetime(2024, 1, 1 + d, 12, tzinfo=UTC), "EEE",
                                     tzinfo=UTC, locale=lang)) for d in range(7))
    months = tuple(str(format_datetime(datetime(2024, 1 + m, 1, 12, tzinfo=UTC), "MMM",
                                       tzinfo=UTC, locale=lang)) for m in range(12))
    return days, months


def _day(lang: str, moment: datetime) -> str:
    """A moment with its year always (a file is read long after): 'di 3 dec 2024 10:00', as
    Babel's 'EEE d MMM y HH:mm' (built from its names: thousands of entries per file)."""
    days, months = _names(lang)
    local = moment.astimezone(i18n.LOCAL)
    return (f"{days[local.weekday()]} {local.day} {months[local.month - 1]} {local.year} "
            f"{local.hour:02d}:{local.minute:02d}")


def _kind(lang: str, kind: EntryKind) -> str:
    return i18n.t(lang, f"dossier.kind.{kind.value}")


def _supplier(lang: str, entry: DossierEntry) -> str:
    return i18n.role_name(lang, entry.supplied_by) if entry.supplied_by else "—"


@dataclass(frozen=True)
class Block:
    """An item as lines of text, the same for PDF and Markdown. ``compact``: an event of the
    timeline, which fits one line (a file holds thousands)."""

    heading: str
    meta: str
    body: tuple[str, ...]
    notes: tuple[str, ...]
    compact: bool = False


def _block(lang: str, item: Item) -> Block:
    entry = item.entry
    heading = f"{_day(lang, entry.at)} · {_kind(lang, entry.kind)}"
    meta = i18n.t(lang, "dossier.meta", supplier=_supplier(lang, entry), ref=entry.ref)
    if not item.shown:
        return Block(heading, meta, (), (i18n.t(lang, "dossier.redacted"),))
    body: list[str] = []
    if entry.title:
        body.append(entry.title)
    if entry.kind is EntryKind.ACTION and "event" in entry.extra:
        body.append(timeline_text(lang, entry.extra))
        if not entry.text and not entry.facts and not item.attachments and not entry.title:
            return Block(heading, meta, tuple(body), (), compact=True)
    if entry.text:
        body.append(entry.text)
    notes = list(entry.facts)
    if item.source:
        notes.append(i18n.t(lang, "dossier.source", source=item.source))
    elif item.anonymous:
        notes.append(i18n.t(lang, "dossier.anonymous"))
    elif item.source_withheld:
        notes.append(i18n.t(lang, "dossier.source_withheld"))
    for found in item.attachments:
        notes.append(i18n.t(lang, "dossier.attachment", name=found.filename, mime=found.mime,
                            size=f"{found.size / 1000:.0f}", sha=found.sha256[:16]))
    return Block(heading, meta, tuple(body), tuple(notes))


def _title(file: FileContents) -> str:
    return i18n.t(file.lang, "dossier.title", code=file.case_code)


def _subtitle(file: FileContents) -> str:
    return i18n.t(file.lang, "dossier.subtitle",
                  copy=i18n.t(file.lang, f"dossier.copy.{file.copy.value}"),
                  when=_day(file.lang, file.exported_at))


def _intro(file: FileContents) -> list[str]:
    lang = file.lang
    return [i18n.t(lang, f"dossier.about.{file.copy.value}"),
            i18n.t(lang, "dossier.counts", total=len(file.items), shown=file.shown,
                   redacted=file.redacted)]


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~"})


def _md(text: str) -> str:
    """Text as Markdown shows it literally (no markup, no HTML from what someone typed)."""
    return text.translate(_MD_SPECIAL)


def render_markdown(file: FileContents) -> str:
    lines = [f"# {_md(_title(file))}", "", f"*{_md(_subtitle(file))}*", ""]
    lines += [_md(line) + "  " for line in _intro(file)]
    for item in file.items:
        block = _block(file.lang, item)
        if block.compact:
            lines += ["", f"- **{_md(block.heading)}**: {_md(block.body[0])} "
                          f"*({_md(block.meta)})*"]
            continue
        lines += ["", f"## {_md(block.heading)}", "", f"*{_md(block.meta)}*", ""]
        for text in block.body:
            lines += [_md(line) + "  " for line in text.splitlines() or [""]]
        for note in block.notes:
            lines.append(f"- {_md(note)}")
    return "\n".join(lines) + "\n"


class _Pdf(FPDF):
    def __init__(self, header_text: str, page_word: str) -> None:
        super().__init__(format="A4")
        self._header_text = header_text
        self._page_word = page_word
        self.add_font("sans", "", str(assets.SANS))
        self.add_font("sans", "B", str(assets.SANS_BOLD))
        self.set_margins(18, 20, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font("sans", "", 8)
        self.set_text_color(90, 90, 90)
        top = self.t_margin
        self.text(self.l_margin, top + 3.5, self._header_text)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, top + 5, self.w - self.r_margin, top + 5)
        self.set_xy(self.l_margin, top + 8)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_font("sans", "", 8)
        self.set_text_color(90, 90, 90)
        words = self._page_word.format(page=self.page_no(), pages="{nb}")
        self.text((self.w - self.get_string_width(words)) / 2, self.h - 8, words)


def _printable(text: str) -> str:
    """What the PDF font can draw: control characters out (a tab as a space)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else " " for c in text.replace("\t", " "))


#: the width of each word in each style (mm), kept across exports: it depends only on the
#: bundled font and the size; bounded (a file of free text has many distinct words)
_WIDTHS: dict[str, dict[str, float]] = {}
_WIDTHS_KEPT = 100_000


class _Layout:
    """Lines set on the pages by hand: words wrapped with a cache of the font's widths and
    each line drawn with ``text`` (fpdf2's ``multi_cell`` measures every line again from its
    characters: ten times slower for a file of thousands of entries)."""

    #: (style, size, line height, grey)
    STYLES: ClassVar[dict[str, tuple[str, float, float, int]]] = {
        "title": ("B", 16, 8, 0), "heading": ("B", 10, 5.5, 0), "meta": ("", 8, 4, 90),
        "body": ("", 10, 5, 0), "note": ("", 9, 4.5, 0), "intro": ("", 10, 5, 0),
        "line": ("", 9, 4.5, 0)}

    def __init__(self, pdf: _Pdf) -> None:
        self.pdf = pdf
        self.width = pdf.w - pdf.l_margin - pdf.r_margin
        self.bottom = pdf.h - pdf.b_margin
        self.y = pdf.get_y()
        self._style = ""
        self._widths = _WIDTHS

    def _use(self, name: str) -> tuple[float, dict[str, float]]:
        style, size, height, grey = self.STYLES[name]
        if name != self._style:
            self.pdf.set_font("sans", style, size)
            self.pdf.set_text_color(grey, grey, grey)
            self._style = name
        return height, self._widths.setdefault(f"{style}{size}", {})

    def _width(self, word: str, cache: dict[str, float]) -> float:
        found = cache.get(word)
        if found is None:
            if len(cache) > _WIDTHS_KEPT:
                cache.clear()
            found = cache[word] = self.pdf.get_string_width(word)
        return found

    def wrap(self, text: str, cache: dict[str, float], indent: float = 0.0) -> list[str]:
        room = self.width - indent
        space = self._width(" ", cache)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current: list[str] = []
            used = 0.0
            words = paragraph.split(" ")
            for typed in words:
                word = typed
                wide = self._width(word, cache)
                while wide > room and len(word) > 1:  # a word longer than a line: cut it
                    cut = max(1, int(len(word) * room / wide))
                    if current:
                        lines.append(" ".join(current))
                        current, used = [], 0.0
                    lines.append(word[:cut])
                    word = word[cut:]
                    wide = self._width(word, cache)
                extra = wide + (space if current else 0.0)
                if current and used + extra > room:
                    lines.append(" ".join(current))
                    current, used = [word], wide
                else:
                    current.append(word)
                    used += extra
            lines.append(" ".join(current))
        return lines

    def room_for(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.pdf.add_page()
            self._style = ""  # the header set its own font
            self.y = self.pdf.get_y()

    def write(self, name: str, text: str, bullet: bool = False) -> None:
        height, cache = self._use(name)
        indent = self._width("• ", cache) if bullet else 0.0
        for number, line in enumerate(self.wrap(_printable(text), cache, indent)):
            if self.y + height > self.bottom:
                self.room_for(height)
                height, cache = self._use(name)
            x = self.pdf.l_margin
            if bullet and number == 0:
                self.pdf.text(x, self.y + height * 0.75, "•")
            self.pdf.text(x + indent, self.y + height * 0.75, line)
            self.y += height

    def gap(self, height: float) -> None:
        self.y += height


def render_pdf(file: FileContents) -> tuple[bytes, int]:
    """The copy as a PDF (A4, DejaVu Sans, the case code and the export date on every page,
    page numbers), and its number of pages."""
    lang = file.lang
    pdf = _Pdf(f"{_title(file)} — {_subtitle(file)}",
               i18n.t(lang, "dossier.page", page="{page}", pages="{pages}"))
    pdf.set_title(_title(file))
    pdf.set_creator("KorteLijn")
    pdf.add_page()
    layout = _Layout(pdf)
    layout.write("title", _title(file))
    for line in [_subtitle(file), *_intro(file)]:
        layout.write("intro", line)
    layout.gap(3)
    for item in file.items:
        block = _block(lang, item)
        if block.compact:
            layout.write("line", f"{block.heading}: {block.body[0]} ({block.meta})")
            layout.gap(1)
            continue
        layout.room_for(16)  # a heading is not left alone at the foot of a page
        layout.write("heading", block.heading)
        layout.write("meta", block.meta)
        for text in block.body:
            layout.write("body", text)
        for note in block.notes:
            layout.write("note", note, bullet=True)
        layout.gap(2.5)
    return bytes(pdf.output()), pdf.page_no()


# --- the use case ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ExportDossier:
    person_id: int
    case_code: str
    #: ``None``: the copy for the person's role (the care file for the care team, else the
    #: landlord's copy)
    copy: Copy | None = None
    format: Format = Format.PDF
    #: where the document goes: the chat the command came from
    transport: str = "console"
    chat_id: str = ""


@dataclass(frozen=True)
class DossierExported:
    case_code: str
    copy: Copy
    format: Format
    filename: str
    shown: int
    redacted: int
    pages: int
    size: int


def filename(case_code: str, copy: Copy, fmt: Format, at: datetime) -> str:
    day = at.astimezone(i18n.LOCAL).date().isoformat()
    return f"overlastdossier-{case_code}-{copy.value}-{day}.{fmt.value}"


def render(file: FileContents, fmt: Format) -> tuple[bytes, int]:
    if fmt is Format.PDF:
        return render_pdf(file)
    return render_markdown(file).encode(), 0


async def export_dossier(cmd: ExportDossier, uow: UnitOfWork, ctx: ServiceContext
                         ) -> DossierExported:
    """Make the copy asked for, queue it as a document to the asker's chat (encrypted in the
    outbox until delivered), and log the export (refs and counts, never content)."""
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    copy = cmd.copy or default_copy(ctx.privacy, roles)
    if copy is None or not may_export(ctx.privacy, copy, roles):
        raise ExportNotAllowed(copy=errors.MessageKey(
            f"dossier.copy.{(copy or Copy.LANDLORD).value}"))
    person = await uow.persons.get(cmd.person_id)
    lang = person.language if person else "nl"
    file = await contents(uow, ctx, case, copy, roles, lang)
    data, pages = render(file, cmd.format)
    now = ctx.clock.now()
    name = filename(case.code, copy, cmd.format, now)
    caption = i18n.t(lang, "dossier.caption", code=case.code,
                     copy=i18n.t(lang, f"dossier.copy.{copy.value}"), count=file.shown,
                     redacted=file.redacted, format=cmd.format.value.upper())
    row = await uow.outbox.add(transport=cmd.transport, address=cmd.chat_id, text=caption,
                               now=now, person_id=cmd.person_id, case_id=case.id,
                               with_id=True, kind=MessageKind.DOCUMENT)
    uow.session.add(orm.OutboxDocument(
        outbox_id=row.id, filename=name,
        mime="application/pdf" if cmd.format is Format.PDF else "text/markdown",
        content=data))
    uow.session.add(orm.DossierExport(
        case_id=case.id, person_id=cmd.person_id, role=access.roles_text(roles) or "",
        copy=copy.value, format=cmd.format.value, at=now, shown=file.shown,
        redacted=file.redacted, refs=json.dumps({
            "shown": [i.entry.ref for i in file.items if i.shown],
            "redacted": [i.entry.ref for i in file.items if not i.shown]})))
    access.record(uow, person_id=cmd.person_id, role=roles, case_id=case.id,
                  what="dossier_export", purpose=f"/overlastdossier {copy.value}",
                  subject_id=row.id, at=now)
    await uow.session.flush()
    log.info("nuisance file exported: %s copy, %d entries, %d redacted, %d bytes",
             copy.value, file.shown, file.redacted, len(data))
    return DossierExported(case_code=case.code, copy=copy, format=cmd.format, filename=name,
                           shown=file.shown, redacted=file.redacted, pages=pages,
                           size=len(data))


async def exports_of(uow: UnitOfWork, case_id: int) -> list[orm.DossierExport]:
    return list((await uow.session.execute(
        select(orm.DossierExport).where(orm.DossierExport.case_id == case_id)
        .order_by(orm.DossierExport.id))).scalars())
