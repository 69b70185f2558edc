"""Domain errors. Each carries a message-catalogue key and its arguments, so the entry point
can answer the person in their own language; none carries case content into a log."""

from __future__ import annotations

from typing import Any


class MessageKey(str):
    """An error argument that is itself a sentence of the catalogue (a usage line): the entry
    point renders it in the reader's language."""

    __slots__ = ()


class RoleNames(tuple[Any, ...]):
    """An error argument naming roles to the reader, in their language (not the ids to type)."""

    __slots__ = ()


class DomainError(Exception):
    """A rule said no. ``key`` names the sentence in the message catalogue."""

    key = "error.generic"

    def __init__(self, **args: Any) -> None:
        super().__init__(self.key)
        self.args_for_message: dict[str, Any] = args


class NotInvited(DomainError):
    """The person holds no role anywhere and is no coordinator."""

    key = "error.not_invited"


class UnknownCase(DomainError):
    """No case by that code that this person may know of. Deliberately the same answer whether
    the case does not exist or the person is not in it."""

    key = "error.unknown_case"


class NotAllowed(DomainError):
    key = "error.not_allowed"


class UnknownRole(DomainError):
    key = "error.unknown_role"


class UnknownSignalKind(DomainError):
    key = "error.unknown_kind"


class KindNotAllowed(DomainError):
    key = "error.kind_not_allowed"


class UnknownSignal(DomainError):
    key = "error.unknown_signal"


class AlreadyAcknowledged(DomainError):
    key = "error.already_acknowledged"


class InvalidInvitation(DomainError):
    key = "error.invalid_invitation"


class NoteTooLong(DomainError):
    key = "error.note_too_long"


class CaseClosed(DomainError):
    """The case was closed: nothing new goes into it."""

    key = "error.case_closed"


class WindowNotOpen(DomainError):
    """A window that does not run (any more) cannot be changed so."""

    key = "error.window_not_open"


class WindowNotPaused(DomainError):
    key = "error.window_not_paused"


class ExtensionTooLong(DomainError):
    key = "error.extension_too_long"


class NoExtension(DomainError):
    """An extension that moves nothing (zero time) is none."""

    key = "error.bad_span"


class NotAComplaint(DomainError):
    key = "error.not_a_complaint"


class NotReleasable(DomainError):
    """A signal the person may see, but that is no complaint the care team can release."""

    key = "error.not_releasable"


class AlreadyReleased(DomainError):
    key = "error.already_released"


class AlreadyResolved(DomainError):
    key = "error.already_resolved"
