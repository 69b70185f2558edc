"""Read-only use cases: a person's cases, where a case stands. Each rendering is made for the
reader's roles in the case; the coordinator sees the case's shape, never its content."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bot import i18n, render
from bot.domain.model import Role, Signal
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.render import Viewer
from bot.services import access
from bot.services.cases import normalise_case_code
from bot.services.context import ServiceContext
from bot.services.signals import case_of_member, poster_name
from bot.services.summaries import signal_state


async def list_cases(person: orm.Person, uow: UnitOfWork, ctx: ServiceContext) -> str:
    lang = person.language
    lines: list[str] = []
    memberships = await uow.cases.cases_of(person.id)
    if memberships:
        by_case: dict[str, tuple[orm.Case, list[Role]]] = {}
        for case, role in memberships:
            by_case.setdefault(case.code, (case, []))[1].append(role)
        lines.append(i18n.t(lang, "cases.header"))
        for case, roles in by_case.values():
            open_windows = await visible_open_windows(uow, ctx, case.id, person.id, roles)
            lines.append(i18n.tn(lang, "cases.line", open_windows, code=case.code,
                                 roles=i18n.role_list(lang, roles), open=open_windows))
            access.record(uow, person_id=person.id, role=roles, case_id=case.id,
                          what="cases", purpose="/zaken", at=ctx.clock.now())
    if person.is_coordinator:
        cases = await uow.cases.all()
        if cases:
            lines.append(i18n.t(lang, "cases.header_coordinator"))
            for case in cases:
                access.record(uow, person_id=person.id, role=access.COORDINATOR,
                              case_id=case.id, what="cases", purpose="/zaken",
                              at=ctx.clock.now())
                lines.append(i18n.t(lang, "cases.line_coordinator", code=case.code,
                                    when=i18n.when(lang, case.created_at),
                                    members=await _member_counts(uow, case.id, lang)))
        elif not memberships:
            return i18n.t(lang, "cases.none_coordinator")
    if not lines:
        return i18n.t(lang, "cases.none")
    return "\n".join(lines)


async def visible_signals(uow: UnitOfWork, ctx: ServiceContext, case_id: int, person_id: int,
                          roles: list[Role]) -> list[Signal]:
    return [s for s in await uow.signals.of_case(case_id)
            if ctx.privacy.may_see_signal(roles, person_id, s)]


async def visible_open_windows(uow: UnitOfWork, ctx: ServiceContext, case_id: int,
                               person_id: int, roles: list[Role]) -> int:
    visible = {s.id for s in await visible_signals(uow, ctx, case_id, person_id, roles)}
    return sum(1 for w in await uow.windows.open_of_case(case_id) if w.signal_id in visible)


async def _member_counts(uow: UnitOfWork, case_id: int, lang: str,
                         ctx: ServiceContext | None = None,
                         viewer: list[Role] | None = None) -> str:
    """Who takes part, by role: for a member of the case only the roles the policy lets them
    know of (``Policy.may_know_member``); for the coordinator, who invites them, all."""
    counts = Counter(m.role for m in await uow.cases.members(case_id)
                     if ctx is None or viewer is None
                     or ctx.privacy.may_know_member(viewer, m.role))
    if not counts:
        return i18n.t(lang, "status.nobody")
    return ", ".join(f"{counts[r]}× {i18n.role_name(lang, r)}" for r in Role if counts[r])


async def case_status(person: orm.Person, given_code: str, uow: UnitOfWork,
                      ctx: ServiceContext) -> str:
    lang = person.language
    now = ctx.clock.now()
    if person.is_coordinator:
        code = normalise_case_code(given_code)
        case = await uow.cases.by_code(code) if code else None
        if case is not None and not await uow.cases.roles_of(case.id, person.id):
            invitations = (await uow.session.execute(
                select(func.count()).select_from(orm.Invitation).where(
                    orm.Invitation.case_id == case.id, orm.Invitation.redeemed_at.is_(None),
                    orm.Invitation.expires_at > now))).scalar_one()
            access.record(uow, person_id=person.id, role=access.COORDINATOR, case_id=case.id,
                          what="status", purpose="/status", at=now)
            return i18n.t(lang, "status.coordinator", code=case.code,
                          when=i18n.when(lang, case.created_at),
                          members=await _member_counts(uow, case.id, lang),
                          invitations=invitations)
    case, roles = await case_of_member(uow, person.id, given_code)
    access.record(uow, person_id=person.id, role=roles, case_id=case.id, what="status",
                  purpose="/status", at=now)
    lines = [i18n.t(lang, "status.header", code=case.code, roles=i18n.role_list(lang, roles),
                    members=await _member_counts(uow, case.id, lang, ctx, roles))]
    signals = await visible_signals(uow, ctx, case.id, person.id, roles)
    if not signals:
        lines.append(i18n.t(lang, "status.no_signals"))
        return "\n".join(lines)
    lines.append(i18n.t(lang, "status.signals"))
    viewer = Viewer(tuple(roles), person.id, lang)
    for signal in signals:
        windows = await uow.windows.for_signal(signal.id)
        state = signal_state(lang, signal, windows[0] if windows else None, now)
        lines.append(render.signal_line(ctx.privacy, viewer, signal,
                                        await poster_name(uow, signal), state))
    return "\n".join(lines)
