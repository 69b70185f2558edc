"""Use cases around a case: create it, invite people to roles, accept an invitation."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from bot import i18n, notify
from bot.domain import errors
from bot.domain.commands import CreateCase, InviteToRole, RedeemInvitation
from bot.domain.events import Event
from bot.domain.model import Role
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext

#: no 0/O, 1/I/L: codes are read aloud and typed on phones
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CASE_CODE = re.compile(r"^Z-?([2-9A-HJKMNP-Z]{4})$", re.IGNORECASE)
INVITE_CODE = re.compile(r"^[2-9A-HJKMNP-Z]{12}$")


def normalise_case_code(text: str) -> str | None:
    """'z7k3m' or 'Z-7K3M' → 'Z-7K3M'; ``None`` when it is no case code."""
    match = CASE_CODE.match(text.strip())
    return f"Z-{match.group(1).upper()}" if match else None


#: a case code read aloud and typed with a space: "z 7k3m", "Z - 7K3M"
SPACED_CASE_CODE = re.compile(r"(?i)(?<![\w-])Z\s*-?\s+([2-9A-HJKMNP-Z]{4})(?![\w-])")


def join_spaced_codes(text: str) -> str:
    """'/status z 7k3m' → '/status Z-7K3M': a case code typed in two parts is one."""
    return SPACED_CASE_CODE.sub(lambda m: f"Z-{m.group(1).upper()}", text)


def normalise_invite_code(text: str) -> str:
    return re.sub(r"[\s\-_]", "", text).upper()


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_invite_code(code).encode()).hexdigest()


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


async def require_coordinator(uow: UnitOfWork, person_id: int) -> orm.Person:
    person = await uow.persons.get(person_id)
    if person is None or not person.is_coordinator:
        raise errors.NotAllowed()
    return person


async def create_case(cmd: CreateCase, uow: UnitOfWork, ctx: ServiceContext) -> str:
    """A new case under a pseudonymous code; nobody types a name or an address."""
    await require_coordinator(uow, cmd.coordinator_id)
    now = ctx.clock.now()
    for _ in range(20):
        code = f"Z-{_random(4)}"
        if await uow.cases.by_code(code) is None:
            break
    else:  # pragma: no cover - 923,521 codes; twenty collisions in a row do not happen
        raise RuntimeError("no free case code")
    case = await uow.cases.add(code, cmd.coordinator_id, now)
    uow.timeline.record(case_id=case.id, at=now, event=Event.CASE_OPENED,
                        actor_id=cmd.coordinator_id)
    return code


@dataclass(frozen=True)
class InvitationIssued:
    code: str
    case_code: str
    role: Role
    expires_at: datetime


async def invite(cmd: InviteToRole, uow: UnitOfWork, ctx: ServiceContext) -> InvitationIssued:
    """A single-use invitation code for a role in a case; only its hash is stored."""
    await require_coordinator(uow, cmd.coordinator_id)
    code_text = normalise_case_code(cmd.case_code)
    case = await uow.cases.by_code(code_text) if code_text else None
    if case is None:
        raise errors.UnknownCase(code=cmd.case_code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    now = ctx.clock.now()
    organisation_id = None
    if cmd.organisation:
        organisation_id = (await uow.persons.organisation(cmd.organisation.strip()[:200])).id
    code = _random(12)
    expires_at = now + ctx.norms.invitation_validity
    await uow.cases.add_invitation(case_id=case.id, role=cmd.role,
                                   organisation_id=organisation_id, code_hash=hash_code(code),
                                   created_by=cmd.coordinator_id, now=now,
                                   expires_at=expires_at)
    uow.timeline.record(case_id=case.id, at=now, event=Event.PERSON_INVITED,
                        actor_id=cmd.coordinator_id, role=cmd.role.value)
    pretty = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    return InvitationIssued(code=pretty, case_code=case.code, role=cmd.role,
                            expires_at=expires_at)


@dataclass(frozen=True)
class Joined:
    case_code: str
    role: Role
    already: bool


async def redeem(cmd: RedeemInvitation, uow: UnitOfWork, ctx: ServiceContext) -> Joined:
    """Bind the person to the invitation's role in its case; the code works once."""
    code = normalise_invite_code(cmd.code)
    if not INVITE_CODE.match(code):
        raise errors.InvalidInvitation()
    now = ctx.clock.now()
    invitation = await uow.cases.claim_invitation(hash_code(code), cmd.person_id, now)
    if invitation is None:
        raise errors.InvalidInvitation()
    case = await uow.cases.get(invitation.case_id)
    assert case is not None  # noqa: S101 - foreign key
    if case.closed_at is not None:
        # an invitation still open when its case closed leads nowhere (the same answer as
        # any code that does not work: a stranger learns nothing of the case)
        raise errors.InvalidInvitation()
    role = Role(invitation.role)
    added = await uow.cases.add_member(case.id, cmd.person_id, role,
                                       invitation.organisation_id, now)
    if added:
        uow.timeline.record(case_id=case.id, at=now, event=Event.MEMBER_JOINED,
                            actor_id=cmd.person_id, actor_role=role)
        person = await uow.persons.get(cmd.person_id)
        name = person.display_name if person else "?"
        if invitation.created_by is not None:
            await notify.to_person(
                uow, invitation.created_by,
                lambda lang: i18n.t(lang, "invite.joined", name=name,
                                    role=i18n.role_name(lang, role), code=case.code),
                now)
    return Joined(case_code=case.code, role=role, already=not added)
