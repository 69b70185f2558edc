"""The access log: every read of case data and every delivery records who, in which role,
which case, what, when and for what purpose (in the spirit of NEN 7513), in the transaction of
the read itself: it commits or rolls back with what was read.

``what`` names what was read or received: ``status``, ``summary``, ``signal``, ``dossier``,
``digest``, ``meeting``, ``delivery``, ``access_log`` (a coordinator's export of a case's log),
``personal_data`` (a person's export of what is stored about them). ``purpose`` names the
command (``/status``) or the process (``notification``, ``daily digest``) that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from bot.domain.model import Role
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork

#: the role recorded for a coordinator acting as such (not a content role)
COORDINATOR = "coordinator"
_ROLE_WIDTH = 32


def roles_text(roles: str | Iterable[Role | str] | None) -> str | None:
    """A person's roles in a case as the log stores them: ``coach,team_lead``."""
    if roles is None:
        return None
    text = roles if isinstance(roles, str) else ",".join(str(r) for r in roles)
    return text[:_ROLE_WIDTH] or None


def record(uow: UnitOfWork, *, person_id: int | None,
           role: str | Iterable[Role | str] | None, case_id: int | None, what: str,
           purpose: str, subject_id: int | None = None, at: datetime) -> None:
    """Log one access in the caller's transaction. ``role`` is the reader's role or roles in
    the case (``[Role.COACH]``, ``"coordinator"``)."""
    # written with the unit of work's other entries in one statement (at its commit)
    uow.insert_later(orm.AccessLogRow.__table__, {
        "at": at, "person_id": person_id, "role": roles_text(role), "case_id": case_id,
        "what": what[:32], "purpose": purpose[:64], "subject_id": subject_id})


async def delivered(uow: UnitOfWork, row: orm.OutboxRow, at: datetime) -> None:
    """Log that a message of a case reached a person (when the outbox marks it sent)."""
    if row.case_id is None or row.person_id is None:
        return
    roles: list[Role | str] = list(await uow.cases.roles_of(row.case_id, row.person_id))
    if not roles:
        person = await uow.persons.get(row.person_id)
        if person is not None and person.is_coordinator:
            roles = [COORDINATOR]
    record(uow, person_id=row.person_id, role=roles, case_id=row.case_id, what="delivery",
           purpose="notification", subject_id=row.id, at=at)


async def of_case(uow: UnitOfWork, case_id: int) -> list[orm.AccessLogRow]:
    """A case's access log, oldest first."""
    stmt = (select(orm.AccessLogRow).where(orm.AccessLogRow.case_id == case_id)
            .order_by(orm.AccessLogRow.at, orm.AccessLogRow.id))
    return list((await uow.session.execute(stmt)).scalars())


async def of_person(uow: UnitOfWork, person_id: int) -> list[orm.AccessLogRow]:
    """What a person read or received, oldest first."""
    stmt = (select(orm.AccessLogRow).where(orm.AccessLogRow.person_id == person_id)
            .order_by(orm.AccessLogRow.at, orm.AccessLogRow.id))
    return list((await uow.session.execute(stmt)).scalars())
