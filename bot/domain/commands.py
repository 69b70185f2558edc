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


@dataclass(frozen=True, slots=True)
class AcknowledgeSignal:
    person_id: int
    signal_id: int
