"""Household pattern: signals of different kinds within a short period (missed rent, a full
mailbox and noise within four weeks, say) lead to a proposal to the team lead to hold a case
meeting. The tenant's own reports never count."""

from __future__ import annotations

from datetime import timedelta

from bot import i18n, notify
from bot.domain.events import Event
from bot.domain.model import TENANT_REPORTS, Role
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext


async def check(uow: UnitOfWork, ctx: ServiceContext, case_id: int) -> bool:
    """Propose a case meeting when the pattern shows, once per period; ``True`` if proposed."""
    period: timedelta = ctx.patterns.period
    now = ctx.clock.now()
    since = now - period
    kinds = await uow.signals.kinds_since(case_id, since, leave_out=TENANT_REPORTS)
    if len(kinds) < ctx.patterns.kinds:
        return False
    recent = await uow.session.execute(
        orm.PatternProposal.__table__.select().where(
            orm.PatternProposal.case_id == case_id, orm.PatternProposal.proposed_at > since))
    if recent.first() is not None:
        return False
    uow.session.add(orm.PatternProposal(case_id=case_id, proposed_at=now,
                                        kinds=",".join(sorted(k.value for k in kinds))))
    case = await uow.cases.get(case_id)
    code = case.code if case else "?"
    leads = await uow.cases.members(case_id, (Role.TEAM_LEAD,)) or await uow.cases.members(
        case_id, (Role.COACH,))
    ordered = sorted(kinds, key=lambda k: k.value)
    for lead in leads:
        await notify.to_person(
            uow, lead.person_id,
            lambda lang: i18n.t(lang, "pattern.proposal", code=code,
                                period=i18n.duration(lang, period),
                                kinds=", ".join(i18n.kind_name(lang, k) for k in ordered)),
            now, case_id=case_id)
    uow.timeline.record(case_id=case_id, at=now, event=Event.PATTERN_PROPOSED,
                        kinds=",".join(k.value for k in ordered))
    return True
