"""Data protection commands: close a case (its content is purged after the retention period),
a case's access log for the coordinator, and what is stored about me (AVG art. 15).

Long exports arrive as several messages, each under 3,500 characters.
"""

from __future__ import annotations

from bot import i18n
from bot.domain.commands import CloseCase
from bot.services import erasure, exports, retention
from handlers.commands import CoordinatorOnly, Request, UsageError


async def cmd_close_case(req: Request, args: list[str]) -> None:
    """Close a case (coordinator): /sluitzaak <zaak>."""
    if not req.me.is_coordinator:
        raise CoordinatorOnly()
    if not args:
        raise UsageError(usage=req.t("usage.closecase"))
    closed = await retention.close_case(
        CloseCase(coordinator_id=req.me.id, case_code=args[0]), req.uow, req.ctx)
    req.reply(req.t("retention.closed", code=closed.code, cancelled=closed.cancelled,
                    purge=i18n.when(req.lang, closed.purge_after)))


async def cmd_access_log(req: Request, args: list[str]) -> None:
    """Who read or received what of a case (coordinator): /toegangslog <zaak>."""
    if not req.me.is_coordinator:
        raise CoordinatorOnly()
    if not args:
        raise UsageError(usage=req.t("usage.accesslog"))
    for text in await exports.access_log_export(req.me, args[0], req.uow, req.ctx):
        req.reply(text)


async def cmd_my_data(req: Request, args: list[str]) -> None:
    """What KorteLijn stores about me: /mijngegevens."""
    for text in await exports.personal_data_export(req.me, req.uow, req.ctx):
        req.reply(text)


async def cmd_forget_me(req: Request, args: list[str]) -> None:
    """Have the bot forget me (AVG art. 17): /vergeetmij, then confirm."""
    if not args or args[0].lower() not in ("bevestig", "confirm"):
        req.reply(req.t("erase.explain"),
                  [(req.t("erase.button"), req.t("command.forget_confirm"))])
        return
    await erasure.forget_person(req.uow, req.ctx, req.me.id)
    req.person = None  # the answer goes to the chat; there is nobody to address it to
    req.reply(req.t("erase.done"))
