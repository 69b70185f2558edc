"""A pick among a message's choices, resolved through the choices stored with the message.

This is the one core call behind a Telegram button, a number typed in the console and a Matrix
reaction: the transport says which message (the outbox row id, or its own message id, or
nothing: "the last message shown in this chat") and which choice (0-based index); the choice
comes back from the database, so it works the same after a restart, and it is used once (a
pick among several is final, also against a double tap or a race between two instances).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import i18n
from bot.domain import errors
from bot.domain.choices import MessageKind
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PickChoice:
    """Pick choice ``index`` (0-based) of a bot message in the chat ``chat_id``.

    The message is named by ``outbox_id`` (the outbox row, which Telegram's callback data
    carries), else by ``message_id`` (the transport's id of the message, as a Matrix reaction
    names the event it reacts to), else it is the last message shown in the chat (a number
    typed in the console after a restart)."""

    transport: str
    chat_id: str
    index: int
    outbox_id: int | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChoicePicked:
    """The pick was taken: ``choice`` is what to carry out."""

    message: orm.OutboxRow
    choice: orm.OutboxChoice

    @property
    def among_several(self) -> bool:
        return len(self.message.choices) > 1


class ChoiceMade(errors.DomainError):
    """A choice of this message was picked before (a pick is final)."""

    key = "error.choice_made"


class ChoiceGone(errors.DomainError):
    """The message named is not one of this chat's (or no longer stored)."""

    key = "error.choice_gone"


class ChoiceOutOfRange(errors.DomainError):
    """A number outside the message's list: the answer says which numbers are valid."""

    key = "error.choice_range"


#: the largest row id the databases store (a reference beyond it names nothing)
MAX_ID = 2**31 - 1


async def _message(cmd: PickChoice, uow: UnitOfWork) -> orm.OutboxRow | None:
    if cmd.outbox_id is not None and not 0 < cmd.outbox_id <= MAX_ID:
        raise ChoiceGone()
    if cmd.outbox_id is not None:
        row = await uow.outbox.get(cmd.outbox_id)
    elif cmd.message_id is not None:
        row = await uow.outbox.sent_as(cmd.transport, cmd.chat_id, cmd.message_id)
    else:
        row = await uow.outbox.last_shown(cmd.transport, cmd.chat_id)
        if row is None:
            return None
    if row is None or row.transport != cmd.transport or row.address != cmd.chat_id:
        raise ChoiceGone()
    if not row.choices and row.edit_of is not None:
        # an edit shows what the original offered and what was picked: a number typed at it
        # is a pick on the original
        original = await uow.outbox.get(row.edit_of)
        if original is not None and original.choices:
            return original
    return row


async def pick(cmd: PickChoice, uow: UnitOfWork, now: datetime) -> ChoicePicked | None:
    """Take the pick, once. ``None`` when the message offers no choices (what was typed is
    then plain text: an answer, or no command)."""
    row = await _message(cmd, uow)
    if row is None or not row.choices:
        return None
    if row.picked_at is not None:
        raise ChoiceMade()
    if not 0 <= cmd.index < len(row.choices):
        if len(row.choices) == 1:
            raise ChoiceOutOfRange(valid="1")
        raise ChoiceOutOfRange(valid=f"1–{len(row.choices)}")
    if not await uow.outbox.pick(row.id, cmd.index, now):
        raise ChoiceMade()  # picked in the meantime (another instance, a double tap)
    return ChoicePicked(message=row, choice=row.choices[cmd.index])


async def show_picked(picked: ChoicePicked, uow: UnitOfWork, now: datetime) -> None:
    """A pick among several is final: the message is edited, its choices go and the pick is
    shown (in the recipient's language)."""
    row = picked.message
    person = await uow.persons.get(row.person_id) if row.person_id is not None else None
    lang = person.language if person is not None else i18n.DEFAULT_LANGUAGE
    await uow.outbox.add(transport=row.transport, address=row.address,
                         person_id=row.person_id, case_id=row.case_id,
                         text=row.text + i18n.t(lang, "choice.picked",
                                                label=picked.choice.label),
                         now=now, edit_of=row.id, kind=MessageKind.PICKED)
