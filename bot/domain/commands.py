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
