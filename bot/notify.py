"""Writing messages to people into the outbox, each rendered in the recipient's language.

Rendering is done per recipient, so what a person receives is made for that person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import IntEnum

from bot import i18n
from bot.domain.choices import MessageKind, Option
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork

log = logging.getLogger(__name__)

#: renders a message in the given language
Render = Callable[[str], str]
#: a message's choices: an :class:`Option` (or a plain ``(label, command)``) each
Choices = Sequence[Option | tuple[str, str]]


class Priority(IntEnum):
    """Which messages get the network's overall limit first when it is the bottleneck."""

    #: reminders, lapse notices and escalations: a deadline depends on them
    URGENT = 0
    #: answers to people and notices of signals
    NORMAL = 1
    #: digests and other messages many people get at once
    BULK = 2


async def to_person(uow: UnitOfWork, person_id: int, render: Render, now: datetime, *,
                    case_id: int | None = None, choices: Callable[[str], Choices]
                    | None = None, edit_of: int | None = None,
                    not_before: datetime | None = None,
                    kind: MessageKind = MessageKind.MESSAGE,
                    priority: Priority = Priority.NORMAL) -> orm.OutboxRow | None:
    """Queue a message to a person on the chat identity the bot reaches them on."""
    person = await uow.persons.get(person_id)
    identity = await uow.persons.identity_of(person_id)
    if person is None or identity is None:
        log.warning("no chat identity for person %s; message not queued", person_id)
        return None
    lang = person.language
    with i18n.as_of(now):
        text, offered = render(lang), choices(lang) if choices else None
    return await uow.outbox.add(
        transport=identity.transport, address=identity.address, person_id=person_id,
        case_id=case_id, text=text, now=now, choices=offered, edit_of=edit_of,
        not_before=not_before, kind=kind, priority=priority)


async def to_chat(uow: UnitOfWork, transport: str, address: str, text: str,
                  now: datetime, *, person_id: int | None = None,
                  choices: Choices | None = None,
                  reply_to: str | None = None, case_id: int | None = None,
                  kind: MessageKind = MessageKind.MESSAGE,
                  priority: Priority = Priority.NORMAL) -> orm.OutboxRow:
    """Queue an answer to a chat (also one whose sender is not a known person)."""
    return await uow.outbox.add(transport=transport, address=address, person_id=person_id,
                                text=text, now=now, choices=choices, reply_to=reply_to,
                                case_id=case_id, kind=kind, priority=priority)
