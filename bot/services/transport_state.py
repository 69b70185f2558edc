"""What a chat transport asks of the core: its own state, kept in our database (Matrix's sync
position, its login, its rooms), and two questions about a person that only the core can
answer (are they enrolled; may they bring the bot into a shared room).

The transport holds no rule: who may invite the bot into a group is decided here, by the
roles people hold (the care team of some case) and the deployment's coordinators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import delete, select

from bot.domain.clock import Clock
from bot.domain.model import CARE_TEAM, Role
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork

#: (kind, key, value): the value ``None`` removes the entry
Change = tuple[str, str, str | None]


class TransportHost:
    """The core's side of one transport's state and questions."""

    def __init__(self, new_uow: Callable[[], UnitOfWork], transport: str, clock: Clock, *,
                 coordinators: Iterable[tuple[str, str]] = ()) -> None:
        self._new_uow = new_uow
        self.transport = transport
        self._clock = clock
        self._coordinators = {address for name, address in coordinators if name == transport}

    async def load_state(self) -> dict[str, dict[str, str]]:
        """Every entry this transport keeps: kind → key → value."""
        async with self._new_uow() as uow:
            rows = (await uow.session.execute(
                select(orm.TransportState).where(
                    orm.TransportState.transport == self.transport))).scalars()
            state: dict[str, dict[str, str]] = {}
            for row in rows:
                state.setdefault(row.kind, {})[row.key] = row.value
            return state

    async def save_state(self, changes: Iterable[Change]) -> None:
        """Write the changes in one transaction."""
        async with self._new_uow() as uow:
            await write_state(uow, self.transport, changes, self._clock.now())
            await uow.commit()

    async def _roles(self, address: str) -> set[Role] | None:
        """The roles this chat identity holds in any case; ``None`` for a stranger. A
        coordinator counts as holding every role of the care team."""
        if address in self._coordinators:
            return set(CARE_TEAM)
        async with self._new_uow() as uow:
            person = await uow.persons.by_identity(self.transport, address)
            if person is None:
                return None
            if person.is_coordinator:
                return set(CARE_TEAM)
            return {role for _, role in await uow.cases.cases_of(person.id)}

    async def is_enrolled(self, address: str) -> bool:
        """Whether this chat identity belongs to someone who holds a role or coordinates."""
        return bool(await self._roles(address))

    async def may_invite_bot(self, address: str) -> bool:
        """Whether this person may bring the bot into a shared room: a coordinator, or a
        member of some case's care team."""
        return bool((await self._roles(address) or set()) & CARE_TEAM)

async def write_state(uow: UnitOfWork, transport: str, changes: Iterable[Change],
                      now: datetime) -> None:
    """Upsert or remove entries of a transport's state inside ``uow``'s transaction.

    The key is encrypted deterministically, so an entry is found by equality in SQL."""
    for kind, key, value in changes:
        existing = (await uow.session.execute(
            select(orm.TransportState).where(
                orm.TransportState.transport == transport, orm.TransportState.kind == kind,
                orm.TransportState.key == key))).scalar_one_or_none()
        if value is None:
            if existing is not None:
                await uow.session.execute(delete(orm.TransportState).where(
                    orm.TransportState.id == existing.id))
        elif existing is None:
            uow.session.add(orm.TransportState(transport=transport, kind=kind, key=key,
                                               value=value, updated_at=now))
        else:
            existing.value = value
            existing.updated_at = now
    await uow.session.flush()
