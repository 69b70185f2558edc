"""Linking a group (or room) to a case as its shared case chat: ``/koppel <zaak>`` and
``/ontkoppel`` (``/link``, ``/unlink``), sent in the group itself.

Only the coordinator or a member of that case's care team (coach, team lead) may do it. The bot
does not chatter in groups: anyone else gets no answer at all (the dispatcher stays silent on
every refusal in a group). The confirmation names the case code and nothing of its content.
"""

from __future__ import annotations

from bot.domain import errors
from bot.domain.events import Event
from bot.domain.model import CARE_TEAM, Role
from bot.persistence import orm
from bot.services.cases import normalise_case_code
from handlers.commands import Request, UsageError


class GroupOnly(errors.DomainError):
    key = "error.group_only"


async def _care_role(req: Request, case: orm.Case) -> tuple[bool, Role | None]:
    """Whether I may link chats of this case, and my care-team role in it (if any)."""
    roles = await req.uow.cases.roles_of(case.id, req.me.id)
    care = next((r for r in roles if r in CARE_TEAM), None)
    return req.me.is_coordinator or care is not None, care


async def cmd_link(req: Request, args: list[str]) -> None:
    """Link this group to a case: /koppel <zaak>."""
    if not req.incoming.is_group:
        raise GroupOnly()
    me = req.me
    if not args:
        raise UsageError(usage=req.t("usage.link"))
    code = normalise_case_code(args[0])
    case = await req.uow.cases.by_code(code) if code else None
    allowed, role = await _care_role(req, case) if case else (False, None)
    if case is None or not allowed:
        raise errors.UnknownCase(code=args[0])
    transport, address = req.incoming.transport, req.incoming.chat_id
    now = req.ctx.clock.now()
    existing = await req.uow.case_chats.of_chat(transport, address)
    if existing is not None and existing.case_id != case.id:
        # moving the chat to another case takes the right on that case too
        other = await req.uow.cases.get(existing.case_id)
        if other is not None:
            may_move, other_role = await _care_role(req, other)
            if not may_move:
                raise errors.NotAllowed()
            req.uow.timeline.record(case_id=other.id, at=now, event=Event.CHAT_UNLINKED,
                                    actor_id=me.id, actor_role=other_role,
                                    transport=transport)
    if existing is None or existing.case_id != case.id:
        await req.uow.case_chats.link(case.id, transport, address, me.id, now)
        req.uow.timeline.record(case_id=case.id, at=now, event=Event.CHAT_LINKED,
                                actor_id=me.id, actor_role=role, transport=transport)
    req.reply(req.t("chat.linked", code=case.code))


async def cmd_unlink(req: Request, args: list[str]) -> None:
    """Unlink this group from its case: /ontkoppel."""
    if not req.incoming.is_group:
        raise GroupOnly()
    me = req.me
    chat = await req.uow.case_chats.of_chat(req.incoming.transport, req.incoming.chat_id)
    case = await req.uow.cases.get(chat.case_id) if chat else None
    if chat is None or case is None:
        raise errors.NotAllowed()
    allowed, role = await _care_role(req, case)
    if not allowed:
        raise errors.NotAllowed()
    await req.uow.case_chats.unlink(chat)
    req.uow.timeline.record(case_id=case.id, at=req.ctx.clock.now(), event=Event.CHAT_UNLINKED,
                            actor_id=me.id, actor_role=role,
                            transport=req.incoming.transport)
    req.reply(req.t("chat.unlinked", code=case.code))

