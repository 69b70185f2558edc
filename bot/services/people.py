"""Use cases of a person about themself: enrol with an invitation, choose a language, set
quiet hours and the daily digest's time, register an absence with a backup, and end it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import i18n, notify
from bot.domain import arguments, errors
from bot.domain.commands import (
    ChooseLanguage,
    EndAbsence,
    EnrolPerson,
    RedeemInvitation,
    RegisterAbsence,
    SetDigestTime,
    SetQuietHours,
)
from bot.domain.model import CARE_TEAM
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import cases
from bot.services.context import ServiceContext


class UnknownLanguage(errors.DomainError):
    key = "error.unknown_language"


BadMoment = arguments.BadMoment


class UnknownBackup(errors.DomainError):
    key = "error.unknown_backup"


class NoBackup(errors.DomainError):
    key = "error.no_backup"


class NoDailyDigest(errors.DomainError):
    """Only the care team gets a daily digest; the others get the weekly one (or none)."""

    key = "error.no_daily_digest"


@dataclass(frozen=True)
class Enrolled:
    person: orm.Person
    joined: cases.Joined | None


async def enrol(cmd: EnrolPerson, uow: UnitOfWork, ctx: ServiceContext) -> Enrolled:
    """``/start <code>``: a person is stored only once they hold an invitation that works."""
    person = await uow.persons.by_identity(cmd.transport, cmd.address)
    if person is None:
        if not cases.INVITE_CODE.match(cases.normalise_invite_code(cmd.code)):
            raise errors.InvalidInvitation()
        person = await uow.persons.add(
            display_name=cmd.display_name.strip()[:200] or "?", language=cmd.language,
            transport=cmd.transport, address=cmd.address, now=ctx.clock.now())
    joined = await cases.redeem(RedeemInvitation(person_id=person.id, code=cmd.code), uow, ctx)
    return Enrolled(person=person, joined=joined)


async def _me(uow: UnitOfWork, person_id: int) -> orm.Person:
    person = await uow.persons.get(person_id)
    if person is None:
        raise errors.NotInvited()
    return person


async def choose_language(cmd: ChooseLanguage, uow: UnitOfWork, ctx: ServiceContext) -> str:
    """The language the person is addressed in from now on."""
    language = cmd.language.strip().lower()
    if language not in i18n.LANGUAGES:
        raise UnknownLanguage()
    (await _me(uow, cmd.person_id)).language = language
    return language


async def set_quiet_hours(cmd: SetQuietHours, uow: UnitOfWork, ctx: ServiceContext
                          ) -> tuple[str, str] | None:
    """Quiet hours as local ``HH:MM``; equal start and end, or none, mean none at all."""
    person = await _me(uow, cmd.person_id)
    if cmd.hours is None or cmd.hours[0] == cmd.hours[1]:
        person.quiet_start = person.quiet_end = "00:00"
        return None
    person.quiet_start, person.quiet_end = cmd.hours
    return cmd.hours


def quiet_hours_of(person: orm.Person, ctx: ServiceContext) -> tuple[str, str] | None:
    """The person's quiet hours in force (theirs, or the deployment's); ``None``: none."""
    start = person.quiet_start or ctx.policies.quiet_start.strftime("%H:%M")
    end = person.quiet_end or ctx.policies.quiet_end.strftime("%H:%M")
    return None if start == end else (start, end)


async def gets_daily_digest(uow: UnitOfWork, person_id: int) -> bool:
    return any(r in CARE_TEAM for _, r in await uow.cases.cases_of(person_id))


async def set_digest_time(cmd: SetDigestTime, uow: UnitOfWork, ctx: ServiceContext
                          ) -> str | None:
    """The local time of the care team's daily digest, or ``None`` for no daily digest."""
    person = await _me(uow, cmd.person_id)
    if not await gets_daily_digest(uow, person.id):
        raise NoDailyDigest()
    person.digest_time = cmd.at or "off"
    return cmd.at


def parse_until(text: str, now: datetime, ctx: ServiceContext) -> datetime:
    """'2026-12-01', '1-12', '1-12-2026', '01/12' (back from that day on, local) or '3d',
    '1w', read by :func:`bot.domain.arguments.until` (after now, at most a year ahead). A day
    and month without a year mean the next such day; today is no moment to be back (the
    answer then offers tomorrow)."""
    return arguments.until(text, now, ctx.policies.calendar)


async def colleagues(uow: UnitOfWork, person_id: int) -> list[orm.Person]:
    """People in the care team of the cases where this person is in the care team."""
    found: dict[int, orm.Person] = {}
    for case, role in await uow.cases.cases_of(person_id):
        if role not in CARE_TEAM:
            continue
        for member in await uow.cases.members(case.id, tuple(CARE_TEAM)):
            if member.person_id != person_id and member.person_id not in found:
                person = await uow.persons.get(member.person_id)
                if person is not None:
                    found[person.id] = person
    return list(found.values())


@dataclass(frozen=True)
class AbsenceRegistered:
    until: datetime
    backup_name: str


@dataclass(frozen=True)
class BackupToChoose:
    """No backup named: the person chooses among these colleagues."""

    until: datetime
    names: list[str]


async def register_absence(cmd: RegisterAbsence, uow: UnitOfWork, ctx: ServiceContext
                           ) -> AbsenceRegistered | BackupToChoose:
    """Away until a moment, with a backup who receives the nudges of the cases where the
    policy lets them stand in (``bot/privacy.py``); elsewhere the team lead does."""
    me = await _me(uow, cmd.person_id)
    now = ctx.clock.now()
    until = parse_until(cmd.until_text, now, ctx)
    found = await colleagues(uow, me.id)
    if not found:
        raise NoBackup()
    wanted = cmd.backup_name.strip()
    if not wanted:
        return BackupToChoose(until=until, names=[p.display_name for p in found])
    backup = next((p for p in found if p.display_name.casefold() == wanted.casefold()), None)
    if backup is None:
        raise UnknownBackup(given=wanted, choices=", ".join(p.display_name for p in found))
    await uow.absences.set(me.id, backup.id, now, until)
    name = me.display_name
    await notify.to_person(
        uow, backup.id,
        lambda lang: i18n.t(lang, "away.backup_notice", name=name,
                            until=i18n.when(lang, until)), now)
    return AbsenceRegistered(until=until, backup_name=backup.display_name)


async def end_absence(cmd: EndAbsence, uow: UnitOfWork, ctx: ServiceContext) -> bool:
    """Back: the person receives their own nudges again. ``False`` if they were not away."""
    return await uow.absences.end(cmd.person_id, ctx.clock.now())

