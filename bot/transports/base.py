"""Transport-neutral message shapes and the contract every chat transport fulfils.

A transport turns what arrives from a chat network into :class:`Incoming` and hands it to the
core; it sends :class:`Outgoing` messages the delivery loop gives it. It holds no business rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Choice:
    """One button (Telegram), reaction or numbered option (console)."""

    label: str
    #: the command the choice stands for, exactly as a person could type it (``/ok 3``)
    command: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message (a document, photo, video or sound recording)."""

    filename: str
    #: the type the network says it is (the core checks the content itself)
    mime: str | None
    #: its size as the network reports it
    size: int
    #: its bytes; ``None`` when the transport did not fetch it because it is larger than it
    #: may be (``size`` says how large)
    data: bytes | None


@dataclass(frozen=True, slots=True)
class Document:
    """A file the bot sends (an export of the nuisance file), with the message as caption."""

    filename: str
    mime: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message, button press or command from a person."""

    transport: str
    #: where to answer: the private chat or the group/room it came from
    chat_id: str
    #: who sent it, stable per person on that transport
    sender_id: str
    #: how the transport names the sender (not stored in logs)
    sender_name: str
    text: str
    #: the transport's id of this message or button press, if it has one
    message_id: str | None = None
    #: set when the message came from a group/room rather than a private chat
    is_group: bool = False
    #: set when this is a pick (a button press, a number typed in the console, a reaction);
    #: which choice is in ``choice_index`` (``text`` is what was typed, if anything)
    is_choice: bool = False
    #: the transport message the pressed button belonged to
    choice_message_id: str | None = None
    #: the sender's language as the transport reports it (``nl``, ``en-GB``), if any
    language_hint: str | None = None
    #: the network's id of this update, when it may deliver it again (Telegram's update_id,
    #: Matrix's event id): the bot handles each one once, also across a restart
    update_key: str | None = None
    #: a pick among the choices of the bot's message ``choice_message_id`` (or, where the
    #: transport knows it, of the outbox row ``choice_outbox_id``): the 0-based index of the
    #: choice. The core resolves it through the choices stored with that message, so a button,
    #: a typed number or a reaction works the same, also after a restart; a transport keeps
    #: no map of its own
    choice_index: int | None = None
    choice_outbox_id: int | None = None
    #: what happened: ``message`` (text, a command or a choice), or a change of a group's
    #: members that the network reports: ``member_joined`` / ``member_left`` (``member_id``
    #: names who; the policy needs a group's true audience)
    event: str = "message"
    member_id: str | None = None
    #: files that came with the message (the console: ``… < /path/to/file``)
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one chat."""

    chat_id: str
    text: str
    choices: tuple[Choice, ...] = ()
    #: when set, replace the earlier message with this transport id instead of sending anew
    edit_of: str | None = None
    #: when set, send as an answer to this transport message id
    reply_to: str | None = None
    #: how to name the recipient where the transport shows it (the console); never logged
    recipient_label: str = ""
    #: the recipient's language, where known: what a transport adds itself (the console's
    #: edit marker) is in that language, like the text
    language: str | None = None
    #: the outbox row this message is: a ready-made idempotency key (Matrix's transaction id)
    #: and the handle by which a choice on it comes back (``Incoming.choice_outbox_id``)
    outbox_id: int | None = None
    #: urgent messages (reminders, lapse notices, escalations) go before bulk (digests) when
    #: the network's overall limit is the bottleneck
    urgent: bool = False
    #: bulk messages (digests) go after all others when the overall limit is the bottleneck
    bulk: bool = False
    #: ``kind``: what the message is when it is no plain message (``prompt``, ``picked`` for
    #: the edit that closes a list after a pick, ``delivery_failed``); a transport may
    #: present it differently, never decide on it
    extra: dict[str, str] = field(default_factory=dict)
    #: a file sent with the message (``text`` is its caption)
    document: Document | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is in a group chat, as far as the transport can tell: the policy sends a group
    no more than every member may see, and treats anyone unaccounted for as a stranger."""

    #: sender ids of the members the transport can name (Matrix lists them; Telegram only
    #: those it has seen join or write)
    member_ids: frozenset[str]
    #: how many members the network says there are, the bot itself not counted; ``None``
    #: when unknown (then nobody may be assumed absent)
    total: int | None
    #: the transport reports every join and leave from now on (``Incoming.event``): Matrix
    #: always; Telegram only where the bot is an administrator. Otherwise a count is true
    #: only at the moment it was made, and the chat is treated as holding a stranger
    followed: bool = False


class DeliveryError(Exception):
    """A message could not be delivered now."""


class RetryLater(DeliveryError):
    """Temporary failure: try again, after ``retry_after`` seconds if the network said so.

    ``maybe_sent`` when the request may have reached the network all the same (a time-out
    after it went out): sending again may then show the message twice, and is counted."""

    def __init__(self, reason: str, retry_after: float | None = None, *,
                 maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class NotYet(RetryLater):
    """This chat may not receive another message for ``retry_after`` seconds (the transport
    paces itself within the network's limits). Nothing was sent and no attempt was used; the
    delivery loop holds this chat back and goes on with the others."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason, retry_after)
        self.wait: float = retry_after


class PermanentFailure(DeliveryError):
    """The message can never be delivered to this chat (blocked, chat gone): do not retry.

    ``kind`` says why in a word the core can put into a sentence: ``blocked`` (the person
    blocked the bot), ``chat_not_found``, ``removed`` (the bot is no longer in the group) or
    ``refused`` (the network refused this message); ``reason`` is the network's own words.
    """

    def __init__(self, reason: str, kind: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


IncomingHandler = Callable[[Incoming], Awaitable[None]]


class Transport(Protocol):
    """What the core needs of a chat network."""

    #: short stable name, stored with each chat identity: ``console``, ``telegram``, ``matrix``
    name: str

    async def start(self, on_incoming: IncomingHandler) -> None:
        """Start receiving; call ``on_incoming`` for every message, in order per chat."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""

    async def send(self, message: Outgoing) -> str:
        """Send (or edit) one message; return the transport's id for it.

        Raises :class:`RetryLater` or :class:`PermanentFailure`.
        """
        ...


class Counts(Protocol):
    """A transport with group chats also answers who is in one (``None``: it cannot tell).
    The core asks after a group is linked and whenever the network reports a join or a
    leave (``Incoming.event``)."""

    async def audience(self, chat_id: str) -> Audience | None:
        ...
