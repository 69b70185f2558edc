"""Use cases around signals: post one (norm N1 arms its follow-up window), acknowledge one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot import i18n, notify, privacy
from bot.domain import errors
from bot.domain.commands import AcknowledgeSignal, PostSignal
from bot.domain.events import Event
from bot.domain.model import (
    Member,
    Norm,
    Role,
    Signal,
    Window,
    WindowStatus,
    kinds_for,
    may_post,
    route_signal,
)
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import windows
from bot.services.cases import normalise_case_code
from bot.services.context import ServiceContext


async def case_of_member(uow: UnitOfWork, person_id: int, given: str
                         ) -> tuple[orm.Case, list[Role]]:
    """The case by code, with the person's roles in it. A case the person is not in is
    answered exactly as a case that does not exist."""
    code = normalise_case_code(given)
    case = await uow.cases.by_code(code) if code else None
    roles = await uow.cases.roles_of(case.id, person_id) if case else []
    if case is None or not roles:
        raise errors.UnknownCase(code=given)
    return case, roles


async def responsible_holders(uow: UnitOfWork, case_id: int, responsible: tuple[Role, ...],
                              exclude: int | None) -> tuple[Role | None, list[Member]]:
    """The people who must act: holders of the first responsible role the case has."""
    for role in responsible:
        holders = [m for m in await uow.cases.members(case_id, (role,))
                   if m.person_id != exclude]
        if holders:
            return role, holders
    return None, []


def signal_text(lang: str, signal: Signal, poster_name: str, due: datetime,
                with_note: bool) -> str:
    note = ""
    if with_note and signal.note:
        note = i18n.t(lang, "signal.note", note=signal.note)
    poster = f"{i18n.role_name(lang, signal.poster_role)} ({poster_name})"
    return i18n.t(lang, "signal.new", number=signal.id, code=signal.case_code,
                  kind=i18n.kind_name(lang, signal.kind), poster=poster,
                  when=i18n.when(lang, signal.posted_at), note=note,
                  due=i18n.when(lang, due))


def ack_choices(lang: str, signal_id: int) -> list[tuple[str, str]]:
    return [(i18n.t(lang, "button.ack"), f"/ok {signal_id}")]


@dataclass(frozen=True)
class SignalPosted:
    signal: Signal
    window: Window
    addressee_role: Role | None
    addressees: list[str]


async def post_signal(cmd: PostSignal, uow: UnitOfWork, ctx: ServiceContext) -> SignalPosted:
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    role = next((r for r in roles if may_post(r, cmd.kind)), None)
    if role is None:
        raise errors.KindNotAllowed(role=roles[0], kind=cmd.kind,
                                    choices=kinds_for(roles[0]))
    note = (cmd.note or "").strip() or None
    if note is not None and len(note) > ctx.note_limit:
        raise errors.NoteTooLong(limit=ctx.note_limit)
    now = ctx.clock.now()
    signal = await uow.signals.add(case=case, kind=cmd.kind, person_id=cmd.person_id,
                                   role=role, note=note, now=now)
    routing = route_signal(cmd.kind, role)
    window = await windows.open_window(
        uow, ctx, case_id=case.id, norm=Norm.N1_SIGNAL_FOLLOW_UP, opened_by=cmd.person_id,
        responsible=routing.responsible, waiting_person_id=cmd.person_id, signal_id=signal.id)
    due = window.due_at
    uow.timeline.record(case_id=case.id, at=now, event=Event.SIGNAL_POSTED,
                        actor_id=cmd.person_id, actor_role=role, signal_id=signal.id,
                        kind=cmd.kind.value, window=window.id)

    poster = await uow.persons.get(cmd.person_id)
    poster_name = poster.display_name if poster else "?"
    addressee_role, holders = await responsible_holders(uow, case.id, routing.responsible,
                                                        exclude=cmd.person_id)
    names: list[str] = []
    for member in holders:
        person = await uow.persons.get(member.person_id)
        names.append(person.display_name if person else "?")
        member_roles = await uow.cases.roles_of(case.id, member.person_id)
        with_note = privacy.may_see_note(member_roles, member.person_id, signal)
        await notify.to_person(
            uow, member.person_id,
            partial(signal_text, signal=signal, poster_name=poster_name, due=due,
                    with_note=with_note),
            now, case_id=case.id,
            choices=lambda lang: ack_choices(lang, signal.id))
    for informed_role in routing.informed:
        for member in await uow.cases.members(case.id, (informed_role,)):
            if member.person_id == cmd.person_id:
                continue
            await notify.to_person(
                uow, member.person_id,
                lambda lang: i18n.t(lang, "signal.informed", code=case.code,
                                    kind=i18n.kind_name(lang, signal.kind),
                                    role=i18n.role_name(lang, role),
                                    when=i18n.when(lang, now)),
                now, case_id=case.id)
    if not holders and case.created_by is not None:
        await notify.to_person(
            uow, case.created_by,
            lambda lang: i18n.t(lang, "signal.missing_role", code=case.code,
                                roles=i18n.role_list(lang, routing.responsible)),
            now)
    return SignalPosted(signal=signal, window=window, addressee_role=addressee_role,
                        addressees=names)


@dataclass(frozen=True)
class Acknowledged:
    signal: Signal
    after_lapse: bool


async def acknowledge(cmd: AcknowledgeSignal, uow: UnitOfWork, ctx: ServiceContext
                      ) -> Acknowledged:
    signal = await uow.signals.get(cmd.signal_id)
    roles = await uow.cases.roles_of(signal.case_id, cmd.person_id) if signal else []
    if signal is None or not roles or not privacy.may_see_signal(roles, cmd.person_id, signal):
        raise errors.UnknownSignal(number=cmd.signal_id)
    windows = [w for w in await uow.windows.for_signal(signal.id)
               if w.norm is Norm.N1_SIGNAL_FOLLOW_UP]
    responsible = windows[0].responsible if windows else route_signal(
        signal.kind, signal.poster_role).responsible
    role = next((r for r in roles if r in responsible), None)
    if role is None or cmd.person_id == signal.posted_by:
        raise errors.NotAllowed()
    now = ctx.clock.now()
    if signal.acknowledged_at is not None or not await uow.signals.acknowledge(
            signal.id, cmd.person_id, role, now):
        fresh = await uow.signals.get(signal.id)
        raise errors.AlreadyAcknowledged(
            number=signal.id, who=fresh.acknowledged_role if fresh else None,
            when=fresh.acknowledged_at if fresh else None)
    after_lapse = any(w.status is WindowStatus.LAPSED for w in windows)
    for window in windows:
        if await uow.windows.close(window.id, WindowStatus.MET, now):
            uow.deadlines_changed = True
    uow.timeline.record(case_id=signal.case_id, at=now, event=Event.SIGNAL_ACKNOWLEDGED,
                        actor_id=cmd.person_id, actor_role=role, signal_id=signal.id,
                        after_lapse=after_lapse)
    acker = await uow.persons.get(cmd.person_id)
    acker_name = acker.display_name if acker else "?"

    def who(lang: str) -> str:
        return f"{i18n.role_name(lang, role)} ({acker_name})"

    def marked(text: str) -> Callable[[str], str]:
        return lambda lang: text + i18n.t(lang, "signal.acknowledged_mark", who=who(lang),
                                          when=i18n.when(lang, now))

    await notify.to_person(
        uow, signal.posted_by,
        lambda lang: i18n.t(lang, "ack.notice", number=signal.id,
                            kind=i18n.kind_name(lang, signal.kind), code=signal.case_code,
                            who=who(lang)),
        now, case_id=signal.case_id)
    # every message that offered the button loses it, and says who acknowledged
    for row in await uow.outbox.offering(signal.case_id, f"/ok {signal.id}"):
        if row.person_id is None:
            continue
        await notify.to_person(uow, row.person_id, marked(row.text), now,
                               case_id=signal.case_id, edit_of=row.id)
    return Acknowledged(signal=signal, after_lapse=after_lapse)
