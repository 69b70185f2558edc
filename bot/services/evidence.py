"""Use cases of the nuisance file's evidence: record an item (a neighbour's statement, the
landlord's note of a call or visit, a photo, video, sound recording or measurement, a police
or atmosphere report, a mayor's behaviour directive), attach a file to an entry of the file,
and release an entry for the judge's copy. With them, two providers of file entries: the
evidence, and the timeline of what the team did (``bot/domain/dossier.py``).

Who may supply which kind, and the class of each kind's text, are in ``bot/domain/evidence.py``
(and docs/PRIVACY.md). An anonymous statement stores no identity at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select

from bot import i18n
from bot.domain import errors
from bot.domain.dossier import PROVIDERS, DossierEntry, EntryKind, provider
from bot.domain.evidence import (
    EVIDENCE,
    TEXT_LIMIT,
    AttachFile,
    EvidenceNotAllowed,
    RecordEvidence,
    ReleaseForJudge,
    may_supply,
)
from bot.domain.model import CARE_TEAM, Role, SignalKind
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.privacy import DETAIL_CLASS, EXISTENCE_CLASS, Info, Visibility
from bot.services.context import ServiceContext
from bot.services.signals import case_of_member


class EmptyEvidence(errors.DomainError):
    key = "error.evidence_empty"


class EvidenceTooLong(errors.DomainError):
    """Arguments: ``limit``."""

    key = "error.evidence_too_long"


class UnknownEntry(errors.DomainError):
    """No entry of that ref in the case that this person may read. Arguments: ``ref``."""

    key = "error.unknown_entry"


class AttachmentTooLarge(errors.DomainError):
    """Arguments: ``size``, ``limit`` (both in MB, as text)."""

    key = "error.attachment_too_large"


class AttachmentType(errors.DomainError):
    """Arguments: ``accepted``."""

    key = "error.attachment_type"


class NoAttachment(errors.DomainError):
    key = "error.no_attachment"


class CareTeamOnly(errors.NotAllowed):
    key = "error.care_team_only"


@dataclass(frozen=True)
class EvidenceRecorded:
    number: int
    ref: str
    kind: EntryKind
    anonymous: bool
    case_code: str


async def record_evidence(cmd: RecordEvidence, uow: UnitOfWork, ctx: ServiceContext
                          ) -> EvidenceRecorded:
    """Put one typed, dated item of evidence in the case's file, supplied in the role that may
    supply its kind."""
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    role = may_supply(cmd.kind, roles)
    if role is None:
        raise EvidenceNotAllowed(kind=errors.MessageKey(f"dossier.kind.{cmd.kind.value}"),
                                 roles=errors.RoleNames(sorted(EVIDENCE[cmd.kind][1])))
    text = cmd.text.strip()
    if not text:
        raise EmptyEvidence()
    if len(text) > TEXT_LIMIT:
        raise EvidenceTooLong(limit=TEXT_LIMIT)
    now = ctx.clock.now()
    # only a neighbour's statement has a source, and only the landlord keeps it
    source = (cmd.source or "").strip()[:200] or None
    if cmd.kind is not EntryKind.NEIGHBOUR_STATEMENT or role is not Role.LANDLORD:
        source = None
    row = orm.EvidenceRow(case_id=case.id, kind=cmd.kind.value,
                          occurred_at=cmd.occurred_at or now, recorded_at=now,
                          supplied_role=role.value, recorded_by=cmd.person_id, text=text,
                          source=source)
    uow.session.add(row)
    await uow.session.flush()
    return EvidenceRecorded(number=row.id, ref=f"evidence:{row.id}", kind=cmd.kind,
                            anonymous=source is None, case_code=case.code)


# --- attachments ---------------------------------------------------------------------------

#: accepted types, recognised by their content (never by the name alone)
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF8", 0, "image/gif"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"\xff\xfb", 0, "audio/mpeg"),
    (b"\xff\xf3", 0, "audio/mpeg"),
    (b"fLaC", 0, "audio/flac"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
)
ACCEPTED = ("PDF", "JPEG", "PNG", "GIF", "WebP", "HEIC", "MP4", "MOV", "WebM", "MP3", "M4A",
            "OGG", "WAV", "FLAC")


def sniff(data: bytes) -> str | None:
    """The type of a file by its first bytes, if it is one the file accepts."""
    for magic, offset, mime in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    return None


def megabytes(size: int, *, up: bool = False) -> str:
    """A size as people read it: '60.0 kB', '2.5 MB'; ``up``: rounded up (a file just over
    a limit never reads as the limit)."""
    unit, scale = ("MB", 1_000_000) if size >= 1_000_000 else ("kB", 1_000)
    tenths = -(-size * 10 // scale) if up else round(size * 10 / scale)
    return f"{tenths / 10:.1f} {unit}"


@dataclass(frozen=True)
class FileAttached:
    number: int
    ref: str
    mime: str
    size: int
    case_code: str


async def attach_file(cmd: AttachFile, uow: UnitOfWork, ctx: ServiceContext) -> FileAttached:
    """Attach a file to an entry of the case's file (by its ref), encrypted at rest. The
    attacher must be able to read the entry in full; the file takes the entry's class."""
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    limit = ctx.dossier.attachment_limit
    if len(cmd.data) > limit:
        raise AttachmentTooLarge(size=megabytes(len(cmd.data), up=True),
                                 limit=megabytes(limit))
    if not cmd.data:
        raise NoAttachment()
    mime = sniff(cmd.data)
    if mime is None:
        raise AttachmentType(accepted=", ".join(ACCEPTED))
    entry = await entry_by_ref(uow, case.id, cmd.ref)
    if entry is None or ctx.privacy.best(roles, entry.info) is not Visibility.SHOWN or (
            Role.TENANT in roles and not any(r in CARE_TEAM for r in roles)):
        raise UnknownEntry(ref=cmd.ref)
    role = next((r for r in roles if ctx.privacy.sees(r, entry.info) is Visibility.SHOWN),
                roles[0])
    name = "".join(c for c in cmd.filename if c.isprintable()).strip()[:120] or "bijlage"
    row = orm.AttachmentRow(case_id=case.id, ref=entry.ref, filename=name, mime=mime,
                            size=len(cmd.data), content=cmd.data, added_by=cmd.person_id,
                            added_role=role.value, added_at=ctx.clock.now())
    uow.session.add(row)
    await uow.session.flush()
    return FileAttached(number=row.id, ref=entry.ref, mime=mime, size=len(cmd.data),
                        case_code=case.code)


@dataclass(frozen=True)
class AttachmentInfo:
    """What the file shows of an attachment (never its content)."""

    id: int
    ref: str
    filename: str
    mime: str
    size: int
    #: a fingerprint of the content, so a judge can match the file handed over
    sha256: str


async def attachments_of(uow: UnitOfWork, case_id: int) -> dict[str, list[AttachmentInfo]]:
    rows = (await uow.session.execute(
        select(orm.AttachmentRow).where(orm.AttachmentRow.case_id == case_id)
        .order_by(orm.AttachmentRow.id))).scalars()
    found: dict[str, list[AttachmentInfo]] = {}
    for row in rows:
        found.setdefault(row.ref, []).append(AttachmentInfo(
            id=row.id, ref=row.ref, filename=row.filename, mime=row.mime, size=row.size,
            sha256=hashlib.sha256(row.content).hexdigest()))
    return found


# --- releases for the judge's copy ----------------------------------------------------------

@dataclass(frozen=True)
class ReleasedForJudge:
    ref: str
    case_code: str
    already: bool


async def release_for_judge(cmd: ReleaseForJudge, uow: UnitOfWork, ctx: ServiceContext
                            ) -> ReleasedForJudge:
    """The care team releases one entry of the file for the judge's copy; recorded with who
    and when (``judge_releases``)."""
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    role = next((r for r in roles if r in CARE_TEAM), None)
    if role is None:
        raise CareTeamOnly()
    entry = await entry_by_ref(uow, case.id, cmd.ref)
    if entry is None:
        raise UnknownEntry(ref=cmd.ref)
    existing = (await uow.session.execute(
        select(func.count(orm.JudgeRelease.id)).where(
            orm.JudgeRelease.case_id == case.id, orm.JudgeRelease.ref == entry.ref))
    ).scalar_one()
    if not existing:
        uow.session.add(orm.JudgeRelease(case_id=case.id, ref=entry.ref,
                                         released_by=cmd.person_id, released_role=role.value,
                                         released_at=ctx.clock.now()))
        await uow.session.flush()
    return ReleasedForJudge(ref=entry.ref, case_code=case.code, already=bool(existing))


async def released_refs(uow: UnitOfWork, case_id: int) -> set[str]:
    return set((await uow.session.execute(
        select(orm.JudgeRelease.ref).where(orm.JudgeRelease.case_id == case_id))).scalars())


def normalise_ref(given: str) -> str:
    """'Evidence:3', 'bewijs:3', 'E3' → 'evidence:3'; others are compared as typed, folded."""
    text = "".join(c for c in given.strip().lower() if c.isprintable())[:48]
    head, sep, tail = text.partition(":")
    if sep and head in ("bewijs", "b", "e"):
        return f"evidence:{tail}"
    if sep and head in ("tijdlijn", "t"):
        return f"timeline:{tail}"
    return text


async def all_entries(uow: UnitOfWork, case_id: int) -> list[DossierEntry]:
    """Every provider's entries of the case, unfiltered, oldest first."""
    entries: list[DossierEntry] = []
    for name in sorted(PROVIDERS):
        entries.extend(await PROVIDERS[name](uow, case_id))
    entries.sort(key=lambda e: (e.at, e.ref))
    return entries


async def entry_by_ref(uow: UnitOfWork, case_id: int, given: str) -> DossierEntry | None:
    """The entry of the case's file by its ref, from whichever provider lists it."""
    ref = normalise_ref(given)
    if not ref or ":" not in ref:
        return None
    return next((e for e in await all_entries(uow, case_id) if e.ref == ref), None)


# --- providers --------------------------------------------------------------------------------

@provider("evidence")
async def evidence_entries(uow: UnitOfWork, case_id: int) -> list[DossierEntry]:
    """Every item of evidence of the case, labelled with its kind's class."""
    rows = (await uow.session.execute(
        select(orm.EvidenceRow).where(orm.EvidenceRow.case_id == case_id)
        .order_by(orm.EvidenceRow.id))).scalars()
    entries = []
    for row in rows:
        kind = EntryKind(row.kind)
        extra = {"recorded_at": row.recorded_at.isoformat()}
        if kind is EntryKind.NEIGHBOUR_STATEMENT:
            # who complained is of its own class: the exporter shows it only where allowed
            extra["anonymous" if row.source is None else "source"] = row.source or "1"
        entries.append(DossierEntry(
            kind=kind, at=row.occurred_at, info=EVIDENCE[kind][0],
            supplied_by=Role(row.supplied_role), title="", text=row.text,
            ref=f"evidence:{row.id}", extra=extra))
    return entries


@provider("timeline")
async def timeline_entries(uow: UnitOfWork, case_id: int) -> list[DossierEntry]:
    """What happened in the case, as the timeline has it (structured facts): each event's
    class is that of the existence of its signal (a care concern is care), else facts.
    Reasons given for pauses and extensions are free text and stay out of the file."""
    signals = {s.id: s for s in await uow.signals.of_case(case_id)}
    # each window's signal, in one query (a timeline names windows by id)
    window_signal: dict[int, int | None] = {}
    for number, subject in (await uow.session.execute(
            select(orm.WindowRow.id, orm.WindowRow.signal_id)
            .where(orm.WindowRow.case_id == case_id))).all():
        window_signal[number] = subject
    entries = []
    for row in await uow.timeline.of_case(case_id):
        data = row.data or {}
        signal_id = row.signal_id
        window_id = data.get("window")
        if signal_id is None and isinstance(window_id, int):
            signal_id = window_signal.get(window_id)
        signal = signals.get(signal_id) if signal_id is not None else None
        info = Info.FACTS
        if signal is not None:
            info = EXISTENCE_CLASS.get(signal.kind, Info.FACTS)
        extra = {"event": row.event}
        if row.actor_role:
            extra["actor"] = row.actor_role
        for key in ("window", "norm", "status"):
            if data.get(key) is not None:
                extra[key] = str(data[key])
        if row.signal_id is not None:
            extra["number"] = str(row.signal_id)
        if signal is not None:
            extra["signal_kind"] = signal.kind.value
            extra["detail_class"] = DETAIL_CLASS[signal.kind].value
        entries.append(DossierEntry(
            kind=EntryKind.ACTION, at=row.at, info=info,
            supplied_by=Role(row.actor_role) if row.actor_role is not None
            and row.actor_role in Role.__members__.values() else None, title="",
            ref=f"timeline:{row.id}", extra=extra))
    return entries


def timeline_text(lang: str, extra: dict[str, str]) -> str:
    """One timeline event in words (as ``/dossier`` shows it)."""
    kind = extra.get("signal_kind")
    return i18n.t(
        lang, f"timeline.{extra['event']}",
        actor=i18n.role_name(lang, extra["actor"]) if extra.get("actor") else "—",
        number=extra.get("number", ""), window=extra.get("window", ""),
        kind=i18n.kind_name(lang, SignalKind(kind)) if kind else "",
        norm=i18n.t(lang, f"norm.{extra['norm']}") if extra.get("norm") else "",
        status=i18n.t(lang, f"report.status.{extra['status']}") if extra.get("status")
        else "")

