"""Use cases around signals: post one (norm N1 arms its follow-up window), acknowledge one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot import i18n, notify, render
from bot.domain import errors
from bot.domain.commands import AcknowledgeSignal, PostSignal
from bot.domain.events import Event
from bot.domain.model import (
    TENANT_REPORTS,
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
from bot.privacy import default_audience
from bot.render import Viewer
from bot.services import patterns, windows
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


def ack_choices(lang: str, signal_id: int) -> list[tuple[str, str]]:
    return [(i18n.t(lang, "button.ack"), f"/ok {signal_id}")]


def view_choices(lang: str, signal_id: int) -> list[tuple[str, str]]:
    return [(i18n.t(lang, "button.view"), f"/bekijk {signal_id}")]


async def viewer(uow: UnitOfWork, case_id: int, person_id: int) -> Viewer:
    person = await uow.persons.get(person_id)
    return Viewer(roles=tuple(await uow.cases.roles_of(case_id, person_id)),
                  person_id=person_id, lang=person.language if person else "nl")


async def poster_name(uow: UnitOfWork, signal: Signal) -> str:
    person = await uow.persons.get(signal.posted_by)
    return person.display_name if person else "?"


@dataclass(frozen=True)
class SignalPosted:
    signal: Signal
    window: Window
    addressee_role: Role | None
    addressees: list[str]
    #: who would read the note once the poster confirms it (names with roles)
    note_audience: list[tuple[Role, str]]


async def post_signal(cmd: PostSignal, uow: UnitOfWork, ctx: ServiceContext) -> SignalPosted:
    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    role = next((r for r in roles if may_post(r, cmd.kind)), None)
    if role is None:
        raise errors.KindNotAllowed(role=roles[0], kind=cmd.kind,
                                    choices=kinds_for(roles[0]))
    note = (cmd.note or "").strip() or None
    if note is not None and len(note) > ctx.note_limit:
        raise errors.NoteTooLong(limit=ctx.note_limit)
    complainant = (cmd.complainant or "").strip()[:200] or None
    if complainant is not None and role is not Role.LANDLORD:
        complainant = None  # only the landlord keeps contact with the complainant
    allowed = set(ctx.privacy.allowed_audience(cmd.kind)) | {role}
    audience = frozenset((cmd.audience or default_audience(role)) & allowed)
    now = ctx.clock.now()
    note_status = "none" if note is None else ("sent" if cmd.note_confirmed else "draft")
    signal = await uow.signals.add(
        case=case, kind=cmd.kind, person_id=cmd.person_id, role=role, note=note, now=now,
        note_status=note_status, audience=audience, complainant=complainant,
        report_status="received" if cmd.kind in TENANT_REPORTS else None)
    routing = route_signal(cmd.kind, role)
    window = await windows.open_window(
        uow, ctx, case_id=case.id, norm=Norm.N1_SIGNAL_FOLLOW_UP, opened_by=cmd.person_id,
        responsible=routing.responsible, waiting_person_id=cmd.person_id, signal_id=signal.id)
    uow.timeline.record(case_id=case.id, at=now, event=Event.SIGNAL_POSTED,
                        actor_id=cmd.person_id, actor_role=role, signal_id=signal.id,
                        kind=cmd.kind.value, window=window.id)

    name = await poster_name(uow, signal)
    addressee_role, holders = await windows.holders(uow, case.id, routing.responsible,
                                                    exclude=cmd.person_id)
    names: list[str] = []
    told: set[int] = {cmd.person_id}
    for person_id in holders:
        person = await uow.persons.get(person_id)
        names.append(person.display_name if person else "?")
        told.add(person_id)
        await _announce(uow, ctx, signal, person_id, name, window.due_at,
                        addressee=True, neutral=cmd.neutral)
    for informed_role in routing.informed:
        for member in await uow.cases.members(case.id, (informed_role,)):
            if member.person_id not in told:
                told.add(member.person_id)
                await _announce(uow, ctx, signal, member.person_id, name, window.due_at,
                                addressee=False, neutral=cmd.neutral)
    if not holders and case.created_by is not None:
        await notify.to_person(
            uow, case.created_by,
            lambda lang: i18n.t(lang, "signal.missing_role", code=case.code,
                                roles=i18n.role_list(lang, routing.responsible)),
            now)
    await to_shared_chats(uow, ctx, signal, name)
    if cmd.kind not in TENANT_REPORTS:
        await patterns.check(uow, ctx, case.id)
    return SignalPosted(signal=signal, window=window, addressee_role=addressee_role,
                        addressees=names,
                        note_audience=await note_readers(uow, ctx, signal, audience)
                        if note is not None else [])


async def _announce(uow: UnitOfWork, ctx: ServiceContext, signal: Signal, person_id: int,
                    name: str, due: datetime, *, addressee: bool, neutral: bool) -> None:
    """Tell one person of a new signal, rendered for their roles (or neutrally)."""
    seen_by = await viewer(uow, signal.case_id, person_id)
    if not ctx.privacy.may_see_signal(seen_by.roles, person_id, signal):
        return
    if neutral:
        await notify.to_person(
            uow, person_id, lambda lang: render.neutral(lang, signal.case_code, signal.id),
            ctx.clock.now(), case_id=signal.case_id,
            choices=lambda lang: view_choices(lang, signal.id))
        return

    def text(lang: str) -> str:
        return render.new_signal(ctx.privacy, Viewer(seen_by.roles, person_id, lang), signal,
                                 name, due, addressee=addressee)

    await notify.to_person(uow, person_id, text, ctx.clock.now(), case_id=signal.case_id,
                           choices=(lambda lang: ack_choices(lang, signal.id))
                           if addressee else None)


async def note_readers(uow: UnitOfWork, ctx: ServiceContext, signal: Signal,
                       audience: frozenset[Role]) -> list[tuple[Role, str]]:
    """Who in the case would read the note with this audience (without the poster)."""
    chosen = replace(signal, audience=audience, note_status="sent")
    readers = []
    for member in await uow.cases.members(signal.case_id):
        if member.person_id == signal.posted_by or member.role not in audience:
            continue
        roles = await uow.cases.roles_of(signal.case_id, member.person_id)
        if ctx.privacy.may_read_note(roles, member.person_id, chosen):
            person = await uow.persons.get(member.person_id)
            readers.append((member.role, person.display_name if person else "?"))
    return readers


async def to_shared_chats(uow: UnitOfWork, ctx: ServiceContext, signal: Signal,
                          name: str) -> None:
    """A shared case chat gets only what every role in it may see: the facts, when all of
    them may know the signal exists, and names only when all may see those."""
    for chat in await uow.case_chats.of_case(signal.case_id):
        roles = await chat_roles(uow, chat)
        if not roles or not all(ctx.privacy.may_see_signal([r], None, signal) for r in roles):
            continue
        names = all(ctx.privacy.sees_names([r]) for r in roles)
        lang = ctx.chat_language
        group = Viewer(roles=tuple(roles), person_id=None, lang=lang)
        text = i18n.t(lang, "signal.shared", number=signal.id, code=signal.case_code,
                      kind=i18n.kind_name(lang, signal.kind),
                      poster=render.poster_label(ctx.privacy, group, signal,
                                                 name if names else ""),
                      when=i18n.when(lang, signal.posted_at))
        await notify.to_chat(uow, chat.transport, chat.address, text, ctx.clock.now(),
                             case_id=signal.case_id)


async def chat_roles(uow: UnitOfWork, chat: orm.CaseChat) -> list[Role]:
    """The roles a shared chat may show to: those of the people seen in it, or, while none
    is known, every role (the strictest reading)."""
    people = await uow.case_chats.members(chat.id)
    if not people:
        return list(Role)
    roles: set[Role] = set()
    for person_id in people:
        roles.update(await uow.cases.roles_of(chat.case_id, person_id) or [Role.TENANT])
    return sorted(roles, key=list(Role).index)


async def send_note(uow: UnitOfWork, ctx: ServiceContext, person_id: int, signal_id: int,
                    audience: frozenset[Role] | None) -> tuple[Signal, list[tuple[Role, str]]]:
    """The poster confirms a note (with the default or a chosen audience): it goes out."""
    signal = await uow.signals.get(signal_id)
    if signal is None or signal.posted_by != person_id or not signal.note:
        raise errors.UnknownSignal(number=signal_id)
    if signal.note_status != "draft":
        raise NoteNotDraft(number=signal_id)
    allowed = set(ctx.privacy.allowed_audience(signal.kind)) | {signal.poster_role}
    chosen = frozenset((audience or signal.audience or default_audience(signal.poster_role))
                       & allowed)
    await uow.signals.update(signal.id, note_status="sent",
                             audience=",".join(sorted(r.value for r in chosen)))
    sent = replace(signal, note_status="sent", audience=chosen)
    readers = await note_readers(uow, ctx, sent, chosen)
    now = ctx.clock.now()
    for member in await uow.cases.members(signal.case_id):
        if member.person_id == person_id:
            continue
        seen_by = await viewer(uow, signal.case_id, member.person_id)
        if not ctx.privacy.may_read_note(seen_by.roles, member.person_id, sent):
            continue
        await notify.to_person(
            uow, member.person_id,
            lambda lang: i18n.t(lang, "signal.note_follows", number=sent.id,
                                code=sent.case_code, kind=i18n.kind_name(lang, sent.kind),
                                note=sent.note), now, case_id=signal.case_id)
    uow.timeline.record(case_id=signal.case_id, at=now, event=Event.NOTE_SENT,
                        actor_id=person_id, signal_id=signal.id,
                        audience=",".join(sorted(r.value for r in chosen)))
    return sent, readers


async def withhold_note(uow: UnitOfWork, ctx: ServiceContext, person_id: int,
                        signal_id: int) -> Signal:
    signal = await uow.signals.get(signal_id)
    if signal is None or signal.posted_by != person_id or not signal.note:
        raise errors.UnknownSignal(number=signal_id)
    if signal.note_status != "draft":
        raise NoteNotDraft(number=signal_id)
    await uow.signals.update(signal.id, note_status="withheld")
    return replace(signal, note_status="withheld")


class NoteNotDraft(errors.DomainError):
    key = "error.note_not_draft"


@dataclass(frozen=True)
class Acknowledged:
    signal: Signal
    after_lapse: bool


async def acknowledge(cmd: AcknowledgeSignal, uow: UnitOfWork, ctx: ServiceContext
                      ) -> Acknowledged:
    signal = await uow.signals.get(cmd.signal_id)
    roles = await uow.cases.roles_of(signal.case_id, cmd.person_id) if signal else []
    if signal is None or not roles or not ctx.privacy.may_see_signal(roles, cmd.person_id,
                                                                        signal):
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

    if signal.kind in TENANT_REPORTS:
        # the tenant's own report: its status moves on, and the tenant hears it neutrally
        await uow.signals.update(signal.id, report_status="in_progress")
        await notify.to_person(
            uow, signal.posted_by,
            lambda lang: i18n.t(lang, "report.update", code=signal.case_code,
                                number=signal.id),
            now, case_id=signal.case_id)
    else:
        await notify.to_person(
            uow, signal.posted_by,
            lambda lang: i18n.t(lang, "ack.notice", number=signal.id,
                                kind=i18n.kind_name(lang, signal.kind),
                                code=signal.case_code, who=who(lang)),
            now, case_id=signal.case_id)
    # every message that offered the button loses it, and says who acknowledged
    for row in await uow.outbox.offering(signal.case_id, f"/ok {signal.id}"):
        if row.person_id is None:
            continue
        await notify.to_person(uow, row.person_id, marked(row.text), now,
                               case_id=signal.case_id, edit_of=row.id)
    return Acknowledged(signal=signal, after_lapse=after_lapse)
