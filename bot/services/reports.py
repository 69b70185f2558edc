"""The tenant's guided report, as stored state: where the tenant stands in it, and sending it.

(The generic, persistent conversation runner replaces this; the steps stay the same.)
"""

from __future__ import annotations

import json
from datetime import timedelta

from bot import i18n
from bot.domain.commands import PostSignal
from bot.domain.model import Role, SignalKind
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import signals
from bot.services.context import ServiceContext

CONVERSATION_TTL = timedelta(hours=24)
KIND = "tenant_report"


async def current(uow: UnitOfWork, ctx: ServiceContext, person_id: int
                  ) -> orm.Conversation | None:
    return await uow.conversations.get(person_id, ctx.clock.now())


async def save_step(uow: UnitOfWork, ctx: ServiceContext, person_id: int, step: str,
                    data: dict[str, str]) -> None:
    now = ctx.clock.now()
    await uow.conversations.save(person_id, KIND, step, json.dumps(data), now,
                                 now + CONVERSATION_TTL)


async def cancel(uow: UnitOfWork, ctx: ServiceContext, person_id: int) -> bool:
    return await uow.conversations.clear(person_id)


async def send(uow: UnitOfWork, ctx: ServiceContext, person_id: int, lang: str,
               data: dict[str, str], audience: frozenset[Role]
               ) -> signals.SignalPosted:
    """The tenant confirms the preview: the report is posted, its answers as its note (of the
    class tenant_report), and the conversation ends."""
    text = i18n.t(lang, "report.text", what=data.get("what", ""), when=data.get("when", ""),
                  where=data.get("where", ""))
    posted = await signals.post_signal(
        PostSignal(person_id=person_id, case_code=data["case"], kind=SignalKind(data["kind"]),
                   note=text, audience=audience, note_confirmed=True, neutral=True), uow, ctx)
    await uow.conversations.clear(person_id)
    return posted
