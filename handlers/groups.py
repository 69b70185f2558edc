"""Linking a group (or room) to a case as its shared case chat: ``/koppel <zaak>`` and
``/ontkoppel`` (``/link``, ``/unlink``), sent in the group itself.

Only the coordinator or a member of that case's care team (coach, team lead) may do it. The bot
does not chatter in groups: anyone else gets no answer at all (the dispatcher stays silent on
every refusal in a group). The confirmation names the case code and nothing of its content.
"""

from __future__ import annotations

from bot.domain import errors
from bot.domain.commands import LinkChat, UnlinkChat
from bot.services import chats
from handlers.commands import Request, UsageError


class GroupOnly(errors.DomainError):
    key = "error.group_only"


async def cmd_link(req: Request, args: list[str]) -> None:
    """Link this group to a case: /koppel <zaak>."""
    if not req.incoming.is_group:
        raise GroupOnly()
    if not args:
        raise UsageError(usage=req.t("usage.link"))
    linked = await chats.link_chat(
        LinkChat(req.me.id, req.incoming.transport, req.incoming.chat_id, "".join(args)),
        req.uow, req.ctx)
    req.reply(req.t("chat.linked", code=linked.case_code))


async def cmd_unlink(req: Request, args: list[str]) -> None:
    """Unlink this group from its case: /ontkoppel."""
    if not req.incoming.is_group:
        raise GroupOnly()
    code = await chats.unlink_chat(
        UnlinkChat(req.me.id, req.incoming.transport, req.incoming.chat_id), req.uow, req.ctx)
    req.reply(req.t("chat.unlinked", code=code))
