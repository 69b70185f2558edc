"""Exports as chat messages: a case's access log for the coordinator, and what is stored about
a person for that person (AVG art. 15). Each export is itself logged.

The coordinator is not a content role: the access log shows who, when, in which role, what and
why, never what was read. A person's own export holds their own data only: nothing about
other people (not who stood in for them, not who complained, not what others wrote).
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select

from bot import i18n
from bot.domain import errors
from bot.domain.model import Role, SignalKind
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import access
from bot.services.cases import normalise_case_code, require_coordinator
from bot.services.context import ServiceContext

#: a chat message stays under this many characters (Telegram allows 4,096)
CHUNK = 3500


def chunks(text: str, limit: int = CHUNK) -> list[str]:
    """Split a long text into messages under ``limit`` characters, at line ends where it can."""
    out: list[str] = []
    current = ""
    for whole in text.split("\n"):
        line = whole
        while len(line) >= limit:  # a single line too long: cut it
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit - 1])
            line = line[limit - 1:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) >= limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current or not out:
        out.append(current)
    return out


def _roles(lang: str, stored: str | None) -> str:
    if not stored:
        return i18n.t(lang, "accesslog.no_role")
    names = []
    for role in stored.split(","):
        if role in Role.__members__.values():
            names.append(i18n.role_name(lang, role))
        elif f"accesslog.role.{role}" in i18n.MESSAGES:
            names.append(i18n.t(lang, f"accesslog.role.{role}"))
        else:
            names.append(role)
    return ", ".join(names)


def _what(lang: str, what: str) -> str:
    key = f"accesslog.what.{what}"
    return i18n.t(lang, key) if key in i18n.MESSAGES else what


def _purpose(lang: str, purpose: str) -> str:
    key = "accesslog.purpose." + purpose.replace(" ", "_")
    return i18n.t(lang, key) if key in i18n.MESSAGES else purpose


async def access_log_export(person: orm.Person, given_code: str, uow: UnitOfWork,
                            ctx: ServiceContext) -> list[str]:
    """A case's access log for the coordinator, as chat messages."""
    await require_coordinator(uow, person.id)
    code = normalise_case_code(given_code)
    case = await uow.cases.by_code(code) if code else None
    if case is None:
        raise errors.UnknownCase(code=given_code)
    lang, now = person.language, ctx.clock.now()
    rows = await access.of_case(uow, case.id)
    names: dict[int, str] = {}
    lines = [i18n.tn(lang, "accesslog.header", len(rows), code=case.code, count=len(rows))
             if rows else i18n.t(lang, "accesslog.empty", code=case.code)]
    for row in rows:
        if row.person_id is None:
            who = i18n.t(lang, "accesslog.nobody")
        else:
            if row.person_id not in names:
                reader = await uow.persons.get(row.person_id)
                names[row.person_id] = reader.display_name if reader else "?"
            who = names[row.person_id]
        lines.append(i18n.t(lang, "accesslog.line", when=i18n.when(lang, row.at), who=who,
                            role=_roles(lang, row.role), what=_what(lang, row.what),
                            purpose=_purpose(lang, row.purpose)))
    access.record(uow, person_id=person.id, role=access.COORDINATOR, case_id=case.id,
                  what="access_log", purpose="/toegangslog", at=now)
    return chunks("\n".join(lines))


def _clock(value: str | None, default: time, lang: str) -> str:
    return value or i18n.t(lang, "mydata.default", value=default.strftime("%H:%M"))


async def personal_data_export(person: orm.Person, uow: UnitOfWork, ctx: ServiceContext
                               ) -> list[str]:
    """What KorteLijn stores about this person, for this person, as chat messages."""
    lang, now = person.language, ctx.clock.now()

    def when(moment: datetime) -> str:
        return i18n.when(lang, moment)

    none = i18n.t(lang, "mydata.none")
    quiet = (f"{person.quiet_start}–{person.quiet_end}"
             if person.quiet_start and person.quiet_end else i18n.t(
                 lang, "mydata.default", value=f"{ctx.policies.quiet_start:%H:%M}–"
                                               f"{ctx.policies.quiet_end:%H:%M}"))
    language_key = f"mydata.language.{person.language}"
    lines = [i18n.t(lang, "mydata.header", when=when(now)),
             i18n.t(lang, "mydata.profile", name=person.display_name,
                    language=i18n.t(lang, language_key) if language_key in i18n.MESSAGES
                    else person.language, quiet=quiet,
                    digest=_clock(person.digest_time, ctx.digests.daily_at, lang),
                    since=when(person.created_at))]
    if person.is_coordinator:
        lines.append(i18n.t(lang, "mydata.coordinator"))

    identities = (await uow.session.execute(
        select(orm.Identity).where(orm.Identity.person_id == person.id)
        .order_by(orm.Identity.id))).scalars().all()
    lines.append(i18n.t(lang, "mydata.identities"))
    lines += [i18n.t(lang, "mydata.identity_line", transport=i.transport, address=i.address,
                     since=when(i.created_at)) for i in identities] or [none]

    memberships = (await uow.session.execute(
        select(orm.Membership, orm.Case.code)
        .join(orm.Case, orm.Case.id == orm.Membership.case_id)
        .where(orm.Membership.person_id == person.id)
        .order_by(orm.Membership.joined_at, orm.Membership.id))).all()
    lines.append(i18n.t(lang, "mydata.memberships"))
    lines += [i18n.t(lang, "mydata.membership_line", code=code,
                     role=i18n.role_name(lang, m.role), since=when(m.joined_at))
              for m, code in memberships] or [none]

    posted = (await uow.session.execute(
        select(orm.SignalRow, orm.Case.code)
        .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
        .where(orm.SignalRow.posted_by == person.id)
        .order_by(orm.SignalRow.id))).all()
    lines.append(i18n.t(lang, "mydata.signals"))
    if not posted:
        lines.append(none)
    for signal, code in posted:
        lines.append(i18n.t(lang, "mydata.signal_line", number=signal.id, code=code,
                            kind=i18n.kind_name(lang, SignalKind(signal.kind)),
                            when=when(signal.posted_at),
                            role=i18n.role_name(lang, signal.poster_role)))
        if signal.note:
            lines.append(i18n.t(lang, "mydata.signal_note", note=signal.note))

    evidence = (await uow.session.execute(
        select(orm.EvidenceRow.id, orm.EvidenceRow.kind, orm.EvidenceRow.recorded_at,
               orm.EvidenceRow.supplied_role, orm.Case.code)
        .join(orm.Case, orm.Case.id == orm.EvidenceRow.case_id)
        .where(orm.EvidenceRow.recorded_by == person.id)
        .order_by(orm.EvidenceRow.id))).all()
    lines.append(i18n.t(lang, "mydata.evidence"))
    lines += [i18n.t(lang, "mydata.evidence_line", ref=f"evidence:{number}", code=code,
                     kind=i18n.t(lang, f"dossier.kind.{kind}"), when=when(at),
                     role=i18n.role_name(lang, role))
              for number, kind, at, role, code in evidence] or [none]

    acknowledged = (await uow.session.execute(
        select(orm.SignalRow.id, orm.Case.code, orm.SignalRow.acknowledged_at,
               orm.SignalRow.acknowledged_role)
        .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
        .where(orm.SignalRow.acknowledged_by == person.id)
        .order_by(orm.SignalRow.acknowledged_at, orm.SignalRow.id))).all()
    lines.append(i18n.t(lang, "mydata.acks"))
    lines += [i18n.t(lang, "mydata.ack_line", number=number, code=code, when=when(at),
                     role=i18n.role_name(lang, role) if role else "?")
              for number, code, at, role in acknowledged if at is not None] or [none]

    absences = (await uow.session.execute(
        select(orm.Absence.starts_at, orm.Absence.until)
        .where(orm.Absence.person_id == person.id)
        .order_by(orm.Absence.starts_at, orm.Absence.id))).all()
    lines.append(i18n.t(lang, "mydata.absences"))
    lines += [i18n.t(lang, "mydata.absence_line", start=when(start), until=when(until))
              for start, until in absences] or [none]

    reads = await access.of_person(uow, person.id)
    codes: dict[int, str] = {}
    lines.append(i18n.t(lang, "mydata.reads"))
    for row in reads:
        code = "—"
        if row.case_id is not None:
            if row.case_id not in codes:
                case = await uow.cases.get(row.case_id)
                codes[row.case_id] = case.code if case else "—"
            code = codes[row.case_id]
        lines.append(i18n.t(lang, "mydata.read_line", when=when(row.at), code=code,
                            what=_what(lang, row.what), purpose=_purpose(lang, row.purpose)))
    if not reads:
        lines.append(none)
    lines.append(i18n.t(lang, "mydata.footer"))
    access.record(uow, person_id=person.id, role=None, case_id=None, what="personal_data",
                  purpose="/mijngegevens", at=now)
    return chunks("\n".join(lines))
