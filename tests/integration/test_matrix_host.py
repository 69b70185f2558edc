"""The two questions a chat transport asks of the core (``TransportHost``), against a real
database: is this person enrolled (a stranger's direct room is left when no code is redeemed),
and may they bring the bot into a shared room (only the coordinator or a member of some case's
care team: the Matrix transport declines anyone else's invitation)."""

from __future__ import annotations

import pytest

from bot.domain.clock import ManualClock
from bot.domain.model import Role
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.services.transport_state import TransportHost

PEOPLE = {"@coach:test": Role.COACH, "@lead:test": Role.TEAM_LEAD,
          "@landlord:test": Role.LANDLORD, "@police:test": Role.POLICE,
          "@tenant:test": Role.TENANT, "@monitor:test": Role.MONITOR}


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


@pytest.mark.parametrize("coordinator_in", ["settings", "database"])
async def test_only_the_care_team_and_the_coordinator_may_bring_the_bot_into_a_room(
        database_url: str, clock: ManualClock, coordinator_in: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        async with UnitOfWork(sessions) as uow:
            coco = await uow.persons.add(display_name="Coco", language="nl", transport="matrix",
                                         address="@coco:test", now=clock.now(),
                                         is_coordinator=coordinator_in == "database")
            case = await uow.cases.add("Z-ABCD", coco.id, clock.now())
            for address, role in PEOPLE.items():
                person = await uow.persons.add(display_name=address, language="nl",
                                               transport="matrix", address=address,
                                               now=clock.now())
                await uow.cases.add_member(case.id, person.id, role, None, clock.now())
            await uow.commit()
        coordinators = [("matrix", "@coco:test")] if coordinator_in == "settings" else []
        host = TransportHost(lambda: UnitOfWork(sessions), "matrix", clock,
                             coordinators=coordinators)

        assert await host.may_invite_bot("@coco:test")
        may = {address for address in PEOPLE if await host.may_invite_bot(address)}
        assert may == {"@coach:test", "@lead:test"}
        assert not await host.may_invite_bot("@stranger:test")

        for address in PEOPLE:
            assert await host.is_enrolled(address)
        assert await host.is_enrolled("@coco:test")
        assert not await host.is_enrolled("@stranger:test")
    finally:
        await engine.dispose()
