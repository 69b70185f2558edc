"""Shared case chats: link a group (or room) to a case, unlink it, and keep track of who is in
it, so that the policy can tell what it may be sent (``Policy.chat_audience``).

Only the coordinator or a member of that case's care team may link or unlink. A member is
known when they write in the chat or the network reports that they joined; they are forgotten
when it reports that they left. The network's member count (Telegram's
``getChatMemberCount``; Matrix's joined members) is stored with the chat: while it counts
more members than the bot knows, or the network does not report every join (a Telegram bot
that is no administrator), the chat holds a stranger.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import errors
from bot.domain.commands import LinkChat, NoteChatMembers, UnlinkChat
from bot.domain.events import Event
from bot.domain.model import CARE_TEAM, Role
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.cases import normalise_case_code
from bot.services.context import ServiceContext


async def _care_role(uow: UnitOfWork, person: orm.Person, case: orm.Case
                     ) -> tuple[bool, Role | None]:
    """Whether the person may link chats of this case, and their care-team role in it."""
    roles = await uow.cases.roles_of(case.id, person.id)
    care = next((r for r in roles if r in CARE_TEAM), None)
    return person.is_coordinator or care is not None, care


async def _person(uow: UnitOfWork, person_id: int) -> orm.Person:
    person = await uow.persons.get(person_id)
    if person is None:
        raise errors.NotInvited()
    return person


@dataclass(frozen=True)
class ChatLinked:
    case_code: str
    chat_id: int


async def link_chat(cmd: LinkChat, uow: UnitOfWork, ctx: ServiceContext) -> ChatLinked:
    """``/koppel <zaak>`` in a group: the group becomes the case's shared chat (moving it from
    another case takes the right on that case too). The person linking is its first known
    member."""
    me = await _person(uow, cmd.person_id)
    code = normalise_case_code(cmd.case_code)
    case = await uow.cases.by_code(code) if code else None
    allowed, role = await _care_role(uow, me, case) if case else (False, None)
    if case is None or not allowed:
        raise errors.UnknownCase(code=cmd.case_code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    now = ctx.clock.now()
    existing = await uow.case_chats.of_chat(cmd.transport, cmd.address)
    if existing is not None and existing.case_id != case.id:
        other = await uow.cases.get(existing.case_id)
        if other is not None:
            may_move, other_role = await _care_role(uow, me, other)
            if not may_move:
                raise errors.NotAllowed()
            uow.timeline.record(case_id=other.id, at=now, event=Event.CHAT_UNLINKED,
                                actor_id=me.id, actor_role=other_role,
                                transport=cmd.transport)
    chat = existing
    if existing is None or existing.case_id != case.id:
        chat = await uow.case_chats.link(case.id, cmd.transport, cmd.address, me.id, now)
        uow.timeline.record(case_id=case.id, at=now, event=Event.CHAT_LINKED,
                            actor_id=me.id, actor_role=role, transport=cmd.transport)
    assert chat is not None  # noqa: S101
    await uow.case_chats.seen(chat.id, me.id, now)
    return ChatLinked(case_code=case.code, chat_id=chat.id)


async def unlink_chat(cmd: UnlinkChat, uow: UnitOfWork, ctx: ServiceContext) -> str:
    """``/ontkoppel`` in a linked group; returns the case code."""
    me = await _person(uow, cmd.person_id)
    chat = await uow.case_chats.of_chat(cmd.transport, cmd.address)
    case = await uow.cases.get(chat.case_id) if chat else None
    if chat is None or case is None:
        raise errors.NotAllowed()
    allowed, role = await _care_role(uow, me, case)
    if not allowed:
        raise errors.NotAllowed()
    await uow.case_chats.unlink(chat)
    uow.timeline.record(case_id=case.id, at=ctx.clock.now(), event=Event.CHAT_UNLINKED,
                        actor_id=me.id, actor_role=role, transport=cmd.transport)
    return case.code


async def note_members(cmd: NoteChatMembers, uow: UnitOfWork, ctx: ServiceContext) -> bool:
    """Record what is known of a linked chat's members: who wrote or joined (if the bot knows
    them as a person), who left, the full list where the network gives one, and its member
    count. ``False`` when the chat is linked to no case."""
    chat = await uow.case_chats.of_chat(cmd.transport, cmd.address)
    if chat is None:
        return False
    now = ctx.clock.now()
    if cmd.listed is not None:
        known = []
        for address in cmd.listed:
            person = await uow.persons.by_identity(cmd.transport, address)
            if person is not None:
                known.append(person.id)
        await uow.case_chats.replace_members(chat.id, known, now)
    for address in cmd.joined:
        person = await uow.persons.by_identity(cmd.transport, address)
        if person is not None:
            await uow.case_chats.seen(chat.id, person.id, now)
    for address in cmd.left:
        person = await uow.persons.by_identity(cmd.transport, address)
        if person is not None:
            await uow.case_chats.left(chat.id, person.id)
    if cmd.counted:
        chat.member_total = cmd.total
        chat.counted_at = now
        chat.follows_members = cmd.followed
    return True
