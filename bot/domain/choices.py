"""Choices offered with a message, and what kind of message it is, as data.

A message's choices are stored with it (``outbox_choices``: outbox id, index, label, the
command it stands for, and a structured reference: the action and its subject). A pick comes
back as (message, index) from any transport and is resolved through the stored row, also
after a restart; the core finds "every message that offered acknowledging signal 3" by
action and subject, never by reading rendered text.

Pure: no I/O, no ORM, no transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """What a choice does, as data (the command text is only how it is shown and run)."""

    ACKNOWLEDGE = "acknowledge"  # /ok <signal>
    VIEW = "view"                # /bekijk <signal>
    COMPLETE = "complete"        # /gedaan T<window>
    NOTE = "note"                # /toelichting <signal> verstuur|zorgteam|niet
    COMMAND = "command"          # any other command, e.g. /signaal <case> <kind>
    #: an answer to a guided conversation; ``subject_id`` is the conversation, ``value`` the
    #: option's value. It is no public command: it works only as a pick on its own message
    ANSWER = "answer"


#: how an action is typed (the command table's Dutch names); one place for the words
COMMAND_TEMPLATES: dict[Action, str] = {
    Action.ACKNOWLEDGE: "/ok {subject}",
    Action.VIEW: "/bekijk {subject}",
    Action.COMPLETE: "/gedaan T{subject}",
    Action.NOTE: "/toelichting {subject} {value}",
}


class MessageKind(StrEnum):
    """What an outbox message is, stored with it (so it is recognised without its text)."""

    MESSAGE = "message"
    #: a coordinator is told that a message could not be delivered (never reported itself)
    DELIVERY_FAILED = "delivery_failed"
    #: a prompt of a guided conversation
    PROMPT = "prompt"
    #: the edit that closes a list once one of its choices was picked
    PICKED = "picked"
    #: a message that carries a document (an export of the nuisance file; its bytes wait
    #: encrypted in ``outbox_documents`` until delivered)
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Option:
    """One choice on a message: a button, a numbered option, a reaction."""

    label: str
    #: the command it stands for, exactly as a person could type it; empty for an answer to
    #: a guided conversation (that is no command)
    command: str = ""
    #: the catalogue key the label was rendered from, if any
    label_key: str | None = None
    action: Action = Action.COMMAND
    #: what the action is about: a signal, a window, a conversation
    subject_id: int | None = None
    #: the option's value (a conversation's answer, a note's audience word)
    value: str | None = None


def option(action: Action, subject_id: int, label: str, *, label_key: str | None = None,
           value: str | None = None, command: str | None = None) -> Option:
    """A choice for one of the actions with a command of its own: ``command`` as the reader
    would type it (the catalogue's ``command.*`` sentence in their language), else the
    action's Dutch template."""
    if command is None:
        command = COMMAND_TEMPLATES[action].format(subject=subject_id, value=value or "")
    command = command.strip()
    return Option(label=label, command=command, label_key=label_key, action=action,
                  subject_id=subject_id, value=value)


def answer(conversation_id: int, value: str, label: str, *, label_key: str | None = None
           ) -> Option:
    """A choice that answers a guided conversation."""
    return Option(label=label, label_key=label_key, action=Action.ANSWER,
                  subject_id=conversation_id, value=value)


def as_option(choice: Option | tuple[str, str]) -> Option:
    """A choice given as (label, command) is a plain command choice."""
    if isinstance(choice, Option):
        return choice
    label, command = choice
    return Option(label=label, command=command)
