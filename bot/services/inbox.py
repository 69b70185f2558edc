"""What happens to every incoming message before and after its command: it is recognised as
handled once (a network may deliver it again), its sender is found (a configured coordinator is
enrolled on first contact), a writer in a shared chat becomes one of its known members, and the
answers are queued in the outbox, in the same transaction as the change they report.

The dispatcher (``handlers/dispatch.py``) calls these; it writes nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n, notify
from bot.domain.commands import NoteChatMembers
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
                      text: str, choices: list[tuple[str, str]], person_id: int | None,
                      reply_to: str | None) -> None:
    """An answer to the chat a message came from."""
    if person_id is not None and await uow.persons.get(person_id) is None:
        person_id = None  # the person was just erased: the answer goes to the chat alone
    await notify.to_chat(uow, transport, chat_id, text, ctx.clock.now(), person_id=person_id,
                         choices=choices, reply_to=reply_to)


async def picked_message(uow: UnitOfWork, transport: str, chat_id: str, message_id: str
                         ) -> orm.OutboxRow | None:
    """The bot's message with alternatives whose button was pressed (``None``: no such
    message, or a single button, which is the service's to close)."""
    row = await uow.outbox.sent_as(transport, chat_id, message_id)
    if row is None or len(row.choices) < 2:
        return None
    return row


async def choice_message(uow: UnitOfWork, transport: str, chat_id: str, *,
                         message_id: str | None, outbox_id: int | None
                         ) -> orm.OutboxRow | None:
    """The bot's message a pick by index refers to: the outbox row named, the message the
    transport knows by ``message_id``, or else the chat's newest message with choices (a
    number typed without naming a message). Only a message to that very chat."""
    if outbox_id is not None:
        row = await uow.session.get(orm.OutboxRow, outbox_id)
        if row is None or (row.transport, row.address) != (transport, chat_id):
            return None
        return row
    if message_id is not None:
        return await uow.outbox.sent_as(transport, chat_id, message_id)
    return await uow.outbox.latest_with_choices(transport, chat_id)


async def already_picked(uow: UnitOfWork, row: orm.OutboxRow) -> bool:
    return await uow.outbox.edited(row.id)


async def close_picker(uow: UnitOfWork, ctx: ServiceContext, row: orm.OutboxRow,
                       command: str, lang: str) -> None:
    """Edit the message: its buttons go, the pick is shown."""
    label = next((c[0] for c in row.choices if c[1] == command), command)
    await uow.outbox.add(transport=row.transport, address=row.address,
                         person_id=row.person_id, case_id=row.case_id,
                         text=row.text + i18n.t(lang, "choice.picked", label=label),
                         now=ctx.clock.now(), edit_of=row.id)
