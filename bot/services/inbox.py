"""What happens to every incoming message before and after its command: it is recognised as
handled once (a network may deliver it again), its sender is found (a configured coordinator is
enrolled on first contact), a writer in a shared chat becomes one of its known members, and the
answers are queued in the outbox, in the same transaction as the change they report.

The dispatcher (``handlers/dispatch.py``) calls these; it writes nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import notify
from bot.domain.choices import MessageKind
from bot.domain.commands import NoteChatMembers
from bot.notify import Choices
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import chats
from bot.services.context import ServiceContext


@dataclass(frozen=True)
class Sender:
    """Who sent an incoming message, if the bot knows them; ``seen``: handled before."""

    person: orm.Person | None
    seen: bool


async def admit(uow: UnitOfWork, ctx: ServiceContext, *, transport: str, address: str,
                name: str, language: str, update_key: str | None, coordinator: bool
                ) -> Sender:
    """Recognise an update handled before, record it as handled now, and find the sender
    (enrolling a configured coordinator on first contact)."""
    if update_key is not None:
        if await uow.updates.seen(transport, update_key):
            return Sender(person=None, seen=True)
        uow.updates.record(transport, update_key, ctx.clock.now())
    person = await uow.persons.by_identity(transport, address)
    if person is None and coordinator:
        person = await uow.persons.add(
            display_name=name.strip()[:200] or "?", language=language, transport=transport,
            address=address, now=ctx.clock.now(), is_coordinator=True)
    return Sender(person=person, seen=False)


async def record_update(uow: UnitOfWork, ctx: ServiceContext, transport: str,
                        update_key: str | None) -> None:
    """An update answered (or deliberately not) outside its failed transaction."""
    if update_key is not None:
        uow.updates.record(transport, update_key, ctx.clock.now())


async def note_writer(uow: UnitOfWork, ctx: ServiceContext, transport: str, chat_id: str,
                      address: str) -> None:
    """Someone wrote in a group: if it is a shared case chat, they are a known member."""
    await chats.note_members(NoteChatMembers(transport=transport, address=chat_id,
                                             joined=(address,)), uow, ctx)


async def queue_reply(uow: UnitOfWork, ctx: ServiceContext, *, transport: str, chat_id: str,
                      text: str, choices: Choices, person_id: int | None,
                      reply_to: str | None, kind: MessageKind = MessageKind.MESSAGE) -> None:
    """An answer to the chat a message came from (its choices are stored with it)."""
    if person_id is not None and await uow.persons.get(person_id) is None:
        person_id = None  # the person was just erased: the answer goes to the chat alone
    await notify.to_chat(uow, transport, chat_id, text, ctx.clock.now(), person_id=person_id,
                         choices=choices, reply_to=reply_to, kind=kind)
