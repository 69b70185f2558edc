"""Use cases around signals: post one (norm N1 arms its follow-up window), acknowledge one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot import i18n, notify, render
from bot.domain import errors
from bot.domain.choices import Action, Option, option
from bot.domain.commands import (
    AcknowledgeSignal,
    PostSignal,
    ReleaseToTenant,
    ResolveReport,
    SendNote,
    WithholdNote,
)
from bot.domain.events import Event
from bot.domain.model import (
    CARE_TEAM,
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
from bot.privacy import ChatAudience, default_audience
from bot.render import Viewer
from bot.services import access, patterns, windows
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


def ack_choices(lang: str, signal_id: int) -> list[Option]:
    return [option(Action.ACKNOWLEDGE, signal_id, i18n.t(lang, "button.ack"),
                   label_key="button.ack", command=i18n.t(lang, "command.ack", number=signal_id))]


def view_choices(lang: str, signal_id: int) -> list[Option]:
    return [option(Action.VIEW, signal_id, i18n.t(lang, "button.view"),
                   label_key="button.view",
                   command=i18n.t(lang, "command.view", number=signal_id))]


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
    poster_sees_names = ctx.privacy.sees_names(roles)
    told: set[int] = {cmd.person_id}
    for person_id in holders:
        person = await uow.persons.get(person_id)
        if poster_sees_names:
            names.append(person.display_name if person else "?")
        told.add(person_id)
        await _announce(uow, ctx, signal, person_id, name, window.due_at,
                        addressee=True, neutral=cmd.neutral)
    informed = [m.person_id for informed_role in routing.informed
                for m in await uow.cases.members(case.id, (informed_role,))]
    if cmd.neutral and note is not None:
        # a guided report: everyone who may read it hears that it is there, as its
        # poster was shown in the preview
        informed += [reader for reader, _ in await _note_reader_ids(uow, ctx, signal,
                                                                   audience)]
    for person_id in informed:
        if person_id not in told:
            told.add(person_id)
            await _announce(uow, ctx, signal, person_id, name, window.due_at,
                            addressee=False, neutral=cmd.neutral)
    if not holders and case.created_by is not None:
        await notify.to_person(
            uow, case.created_by,
            lambda lang: i18n.t(lang, "signal.missing_role", code=case.code,
                                roles=i18n.role_list(lang, routing.responsible)),
            now)
    await to_shared_chats(uow, ctx, signal, name)
    if cmd.kind not in TENANT_REPORTS and role is not Role.TENANT:
        await patterns.check(uow, ctx, case.id)
    readers = await note_readers(uow, ctx, signal, audience) if note is not None else []
    if not poster_sees_names:
        readers = [(r, "") for r, _ in readers]
    return SignalPosted(signal=signal, window=window, addressee_role=addressee_role,
                        addressees=names, note_audience=readers)


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


async def _note_reader_ids(uow: UnitOfWork, ctx: ServiceContext, signal: Signal,
                           audience: frozenset[Role]) -> list[tuple[int, Role]]:
    chosen = replace(signal, audience=audience, note_status="sent")
    readers = []
    for member in await uow.cases.members(signal.case_id):
        if member.person_id == signal.posted_by or member.role not in audience:
            continue
        roles = await uow.cases.roles_of(signal.case_id, member.person_id)
        if ctx.privacy.may_read_note(roles, member.person_id, chosen):
            readers.append((member.person_id, member.role))
    return readers


async def note_readers(uow: UnitOfWork, ctx: ServiceContext, signal: Signal,
                       audience: frozenset[Role]) -> list[tuple[Role, str]]:
    """Who in the case would read the note with this audience (without the poster)."""
    readers = []
    for person_id, role in await _note_reader_ids(uow, ctx, signal, audience):
        person = await uow.persons.get(person_id)
        readers.append((role, person.display_name if person else "?"))
    return readers


async def to_shared_chats(uow: UnitOfWork, ctx: ServiceContext, signal: Signal,
                          name: str) -> None:
    """A shared case chat gets only what every role in it may see (``Policy.chat_audience``):
    the facts, when all of them may know the signal exists, and names only when all may see
    those. A chat with anyone unaccounted for hears only that there is news. Each delivery
    is access-logged with the chat's roles."""
    lang = ctx.chat_language
    now = ctx.clock.now()
    for chat in await uow.case_chats.of_case(signal.case_id):
        audience = await chat_audience(uow, ctx, chat)
        if audience.stranger:
            if not audience.roles or any(ctx.privacy.may_see_signal([r], None, signal)
                                         for r in audience.roles):
                text = i18n.t(lang, "signal.shared_news", code=signal.case_code)
            else:
                continue
        elif ctx.privacy.chat_may_see_signal(audience, signal):
            group = Viewer(roles=audience.roles, person_id=None, lang=lang)
            names = ctx.privacy.chat_sees_names(audience)
            text = i18n.t(lang, "signal.shared", number=signal.id, code=signal.case_code,
                          kind=i18n.kind_name(lang, signal.kind),
                          poster=render.poster_label(ctx.privacy, group, signal,
                                                     name if names else ""),
                          when=i18n.when(lang, signal.posted_at))
        else:
            continue
        row = await notify.to_chat(uow, chat.transport, chat.address, text, now,
                                   case_id=signal.case_id)
        access.record(uow, person_id=None, role=list(audience.roles) or "stranger",
                      case_id=signal.case_id, what="shared_chat", purpose="shared case chat",
                      at=now, subject_id=row.id)


async def chat_audience(uow: UnitOfWork, ctx: ServiceContext, chat: orm.CaseChat
                        ) -> ChatAudience:
    """The roles of every member of a shared chat the bot knows; anyone it cannot account for
    (the network counts more members than it knows, no count was made yet, or joins are not
    reported to it) is a stranger."""
    people = await uow.case_chats.members(chat.id)
    held = [await uow.cases.roles_of(chat.case_id, person_id) for person_id in people]
    unaccounted = (chat.member_total is None or chat.member_total > len(people)
                   or not chat.follows_members)
    return ctx.privacy.chat_audience(held, unaccounted)


async def send_note(cmd: SendNote, uow: UnitOfWork, ctx: ServiceContext
                    ) -> tuple[Signal, list[tuple[Role, str]]]:
    """The poster confirms a note (with the default or a chosen audience): it goes out."""
    person_id, signal_id, audience = cmd.person_id, cmd.signal_id, cmd.audience
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


async def withhold_note(cmd: WithholdNote, uow: UnitOfWork, ctx: ServiceContext) -> Signal:
    person_id, signal_id = cmd.person_id, cmd.signal_id
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

    async def who_for(person_id: int) -> Callable[[str], str]:
        """The acknowledger as this reader may see them: by name only where names are theirs
        to see (never for the mediator)."""
        named = ctx.privacy.sees_names(await uow.cases.roles_of(signal.case_id, person_id))
        return lambda lang: render.person(lang, role, acker_name if named else None)

    def marked(text: str, who: Callable[[str], str]) -> Callable[[str], str]:
        return lambda lang: text + i18n.t(lang, "signal.acknowledged_mark", who=who(lang),
                                          when=i18n.when(lang, now))

    if signal.kind in TENANT_REPORTS:
        # the tenant's own report: its status moves on (a resolved one stays resolved), and
        # the tenant hears it neutrally
        status = signal.report_status_on_acknowledgement()
        if status != signal.report_status:
            await uow.signals.update(signal.id, report_status=status)
        await notify.to_person(
            uow, signal.posted_by,
            lambda lang: i18n.t(lang, "report.update", code=signal.case_code,
                                number=signal.id),
            now, case_id=signal.case_id)
    else:
        who = await who_for(signal.posted_by)
        await notify.to_person(
            uow, signal.posted_by,
            lambda lang: i18n.t(lang, "ack.notice", number=signal.id,
                                kind=i18n.kind_name(lang, signal.kind),
                                code=signal.case_code, who=who(lang)),
            now, case_id=signal.case_id)
    # every message that offered the button loses it, and says who acknowledged
    for row in await uow.outbox.offering(Action.ACKNOWLEDGE, signal.id):
        if row.person_id is None:
            continue
        await notify.to_person(uow, row.person_id,
                               marked(row.text, await who_for(row.person_id)), now,
                               case_id=signal.case_id, edit_of=row.id)
    return Acknowledged(signal=signal, after_lapse=after_lapse)


# --- releasing a complaint to the tenant, resolving a tenant's report -----------------------

NotAComplaint = errors.NotAComplaint
AlreadyReleased = errors.AlreadyReleased
AlreadyResolved = errors.AlreadyResolved
NotYoursToRelease = errors.NotReleasable


class NotYoursToResolve(errors.DomainError):
    key = "error.not_resolvable"


async def release_to_tenant(cmd: ReleaseToTenant, uow: UnitOfWork, ctx: ServiceContext
                            ) -> Signal:
    """The team discussed a complaint with the tenant: the tenant may now see its facts. Only
    a complaint (a signal whose details are of the complaint class), and once."""
    signal = await uow.signals.get(cmd.signal_id)
    roles = await uow.cases.roles_of(signal.case_id, cmd.person_id) if signal else []
    if signal is None or not ctx.privacy.may_see_signal(roles, cmd.person_id, signal):
        raise errors.UnknownSignal(number=cmd.signal_id)
    care = next((r for r in roles if r in CARE_TEAM), None)
    released, _ = signal.release_to_tenant(
        is_complaint=care is not None and ctx.privacy.is_complaint(signal.kind))
    now = ctx.clock.now()
    await uow.signals.update(signal.id, released_to_tenant=True)
    uow.timeline.record(case_id=signal.case_id, at=now, event=Event.RELEASED_TO_TENANT,
                        actor_id=cmd.person_id, actor_role=care, signal_id=signal.id)
    code = signal.case_code
    for tenant in await uow.cases.members(signal.case_id, (Role.TENANT,)):
        await notify.to_person(uow, tenant.person_id,
                               lambda lang: i18n.t(lang, "release.notice", code=code), now,
                               case_id=signal.case_id)
    return released


async def resolve_report(cmd: ResolveReport, uow: UnitOfWork, ctx: ServiceContext) -> Signal:
    """A tenant's report is resolved, once (by the care team or the landlord); its windows
    close and the tenant hears it neutrally."""
    signal = await uow.signals.get(cmd.signal_id)
    roles = await uow.cases.roles_of(signal.case_id, cmd.person_id) if signal else []
    if signal is None or not ctx.privacy.may_see_signal(roles, cmd.person_id, signal):
        raise errors.UnknownSignal(number=cmd.signal_id)
    role = next((r for r in roles if r in CARE_TEAM or r is Role.LANDLORD), None)
    if role is None or signal.kind not in TENANT_REPORTS or signal.posted_by == cmd.person_id:
        raise NotYoursToResolve(number=signal.id)
    resolved, _ = signal.resolve_report()
    now = ctx.clock.now()
    await uow.signals.update(signal.id, report_status="done")
    uow.timeline.record(case_id=signal.case_id, at=now, event=Event.REPORT_STATUS,
                        actor_id=cmd.person_id, actor_role=role, signal_id=signal.id,
                        status="done")
    for window in await uow.windows.for_signal(signal.id):
        if await uow.windows.close(window.id, WindowStatus.MET, now):
            uow.deadlines_changed = True
    code, number = signal.case_code, signal.id
    await notify.to_person(
        uow, signal.posted_by,
        lambda lang: i18n.t(lang, "report.update", code=code, number=number),
        now, case_id=signal.case_id)
    return resolved
