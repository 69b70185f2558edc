"""Rent arrears (N11; seeds/000_…): a missed rent payment is signalled early to the
municipality, and to its debt help where the case has it (``route_signal``, facts only); when
the landlord nevertheless obtains an eviction judgment (ontruimingsvonnis) on a case with rent
arrears, the municipality's crisis team is alerted, facts only, so that the partners can
still make agreements with the tenant and prevent the eviction.

The debt help and the crisis team are roles of a case (``Role.DEBT_HELP``,
``Role.CRISIS_TEAM``), enrolled by invitation like every role; the policy lets them know of
rent-arrears signals only, and their facts only (docs/PRIVACY.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n, notify
from bot.domain import errors
from bot.domain.events import Event
from bot.domain.model import CARE_TEAM, Role, SignalKind
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.signals import case_of_member


@dataclass(frozen=True, slots=True)
class RecordEvictionJudgment:
    person_id: int
    case_code: str


@dataclass(frozen=True)
class EvictionJudgmentRecorded:
    case_code: str
    #: the case has a missed-rent signal
    missed_rent: bool
    #: the crisis team members alerted
    crisis_team: list[int]


async def record_eviction_judgment(cmd: RecordEvictionJudgment, uow: UnitOfWork,
                                   ctx: ServiceContext) -> EvictionJudgmentRecorded:
    """The landlord records an eviction judgment: on the timeline (the reflection after a
    closing then asks about it); the care team is told; on a case with rent arrears the
    crisis team is alerted at once (urgent), and the coordinator is told when the case has
    no crisis team to alert."""
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    if Role.LANDLORD not in roles:
        raise errors.NotAllowed()
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    now = ctx.clock.now()
    missed_rent = any(s.kind is SignalKind.MISSED_RENT
                      for s in await uow.signals.of_case(case.id))
    uow.timeline.record(case_id=case.id, at=now, event=Event.EVICTION_JUDGMENT,
                        actor_id=cmd.person_id, actor_role=Role.LANDLORD,
                        missed_rent=missed_rent)
    told: set[int] = {cmd.person_id}
    alerted: list[int] = []
    if missed_rent:
        for member in await uow.cases.members(case.id, (Role.CRISIS_TEAM,)):
            if member.person_id in told:
                continue
            told.add(member.person_id)
            alerted.append(member.person_id)
            await notify.to_person(
                uow, member.person_id,
                lambda lang: i18n.t(lang, "arrears.crisis_alert", code=case.code,
                                    when=i18n.when(lang, now)),
                now, case_id=case.id, priority=notify.Priority.URGENT)
        if not alerted and case.created_by is not None:
            await notify.to_person(
                uow, case.created_by,
                lambda lang: i18n.t(lang, "arrears.no_crisis_team", code=case.code),
                now)
    for member in await uow.cases.members(case.id, tuple(CARE_TEAM)):
        if member.person_id in told:
            continue
        told.add(member.person_id)
        await notify.to_person(
            uow, member.person_id,
            lambda lang: i18n.t(lang, "arrears.judgment_notice", code=case.code,
                                when=i18n.when(lang, now)),
            now, case_id=case.id)
    return EvictionJudgmentRecorded(case.code, missed_rent, alerted)
