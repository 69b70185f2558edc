"""Commands: what a person asks the bot to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.model import Role, SignalKind


@dataclass(frozen=True, slots=True)
class CreateCase:
    coordinator_id: int


@dataclass(frozen=True, slots=True)
class InviteToRole:
    coordinator_id: int
    case_code: str
    role: Role
    organisation: str | None = None


@dataclass(frozen=True, slots=True)
class RedeemInvitation:
    person_id: int
    code: str


@dataclass(frozen=True, slots=True)
class PostSignal:
    person_id: int
    case_code: str
    kind: SignalKind
    note: str | None = None
    #: who complained, if the landlord names them
    complainant: str | None = None
    #: the roles that may read the note; ``None``: the default audience
    audience: frozenset[Role] | None = None
    #: the poster has already seen who receives the note (a guided report's preview);
    #: otherwise the note waits for the poster's confirmation
    note_confirmed: bool = False
    #: tell recipients only that there is something to read (the tenant's own reports)
    neutral: bool = False


@dataclass(frozen=True, slots=True)
class AcknowledgeSignal:
    person_id: int
    signal_id: int


@dataclass(frozen=True, slots=True)
class CloseCase:
    coordinator_id: int
    case_code: str


@dataclass(frozen=True, slots=True)
class EnrolPerson:
    """Someone new (or known) sends ``/start <code>``: bind this chat identity to a role."""

    transport: str
    address: str
    display_name: str
    language: str
    code: str


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    person_id: int
    language: str


@dataclass(frozen=True, slots=True)
class SetQuietHours:
    person_id: int
    #: local ``(start, end)`` as ``"HH:MM"``; ``None``: no quiet hours at all
    hours: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class SetDigestTime:
    person_id: int
    #: local ``"HH:MM"``; ``None``: no daily digest
    at: str | None


@dataclass(frozen=True, slots=True)
class RegisterAbsence:
    person_id: int
    until_text: str
    #: the backup's name as typed; empty: the person is asked to choose
    backup_name: str


@dataclass(frozen=True, slots=True)
class EndAbsence:
    person_id: int


@dataclass(frozen=True, slots=True)
class LinkChat:
    person_id: int
    transport: str
    address: str
    case_code: str


@dataclass(frozen=True, slots=True)
class UnlinkChat:
    person_id: int
    transport: str
    address: str


@dataclass(frozen=True, slots=True)
class NoteChatMembers:
    """What is known of a shared chat's members: someone wrote, joined or left, and how many
    the network says there are."""

    transport: str
    address: str
    #: the chat identity (sender id) that joined or wrote, or left
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    #: every member the transport can name (Matrix), if it can
    listed: tuple[str, ...] | None = None
    #: the network's member count (without the bot), if known
    total: int | None = None
    #: set when the count was asked now (otherwise the stored count stays)
    counted: bool = False
    #: the transport reports every join and leave (``Audience.followed``)
    followed: bool = False


@dataclass(frozen=True, slots=True)
class CompleteWindow:
    person_id: int
    window_id: int


@dataclass(frozen=True, slots=True)
class StartWindow:
    person_id: int
    case_code: str
    norm_text: str


@dataclass(frozen=True, slots=True)
class PauseWindow:
    person_id: int
    window_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ResumeWindow:
    person_id: int
    window_id: int


@dataclass(frozen=True, slots=True)
class ExtendWindow:
    person_id: int
    window_id: int
    span_text: str
    reason: str


@dataclass(frozen=True, slots=True)
class ShareReason:
    """The poster of a pause or extension reason decides, having seen who would read it."""

    person_id: int
    window_id: int
    #: ``send`` (to the readers shown), ``team`` (the care team only) or ``withhold``
    choice: str


@dataclass(frozen=True, slots=True)
class SendNote:
    person_id: int
    signal_id: int
    #: ``None``: the default audience
    audience: frozenset[Role] | None = None


@dataclass(frozen=True, slots=True)
class WithholdNote:
    person_id: int
    signal_id: int


@dataclass(frozen=True, slots=True)
class ReleaseToTenant:
    person_id: int
    signal_id: int


@dataclass(frozen=True, slots=True)
class ResolveReport:
    person_id: int
    signal_id: int


@dataclass(frozen=True, slots=True)
class ForgetPerson:
    person_id: int
