"""Need to know, checked by brute force: random cases with a marker string in every class of
information, rendered for every role in every way the bot renders case data (messages,
viewing a signal, status, summary, meeting overview, digests, a shared case chat, the person's
own export). No marker of a class a role may not see may reach a person in that role.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain import errors
from bot.domain.clock import ManualClock
from bot.domain.commands import (
    AcknowledgeSignal,
    CreateCase,
    InviteToRole,
    PostSignal,
    RedeemInvitation,
    SendNote,
)
from bot.domain.model import CARE_TEAM, Role, SignalKind, kinds_for
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.privacy import DEFAULT_POLICY, DETAIL_CLASS, Info, Visibility
from bot.services import cases, exports, queries, signals, summaries
from bot.services.context import ServiceContext
from tests.conftest import START

#: the class of each marker a signal can carry
NOTE_CLASS = DETAIL_CLASS


def sees(role: Role, info: Info) -> bool:
    return DEFAULT_POLICY[role][info] is Visibility.SHOWN


@dataclass
class Planted:
    marker: str
    info: Info
    signal_id: int
    poster_id: int
    #: roles outside the note's audience must not read it either
    audience: frozenset[Role] | None = None


class World:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = session_factory(self.engine)
        self.clock = ManualClock(START)
        self.ctx = ServiceContext(clock=self.clock)
        self.counter = itertools.count()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def case_with_everyone(self) -> tuple[str, dict[Role, orm.Person], orm.Person]:
        n = next(self.counter)
        async with self.uow() as uow:
            now = self.clock.now()
            coordinator = await uow.persons.add(display_name=f"Coord{n}", language="nl",
                                                transport="console", address=f"c{n}", now=now,
                                                is_coordinator=True)
            code = await cases.create_case(CreateCase(coordinator.id), uow, self.ctx)
            people = {}
            for role in Role:
                person = await uow.persons.add(
                    display_name=f"TENANTNAME{n}" if role is Role.TENANT else f"{role}{n}",
                    language="nl", transport="console", address=f"{role}{n}", now=now)
                issued = await cases.invite(InviteToRole(coordinator.id, code, role), uow,
                                            self.ctx)
                await cases.redeem(RedeemInvitation(person.id, issued.code), uow, self.ctx)
                people[role] = person
            case = await uow.cases.by_code(code)
            assert case is not None
            chat = await uow.case_chats.link(case.id, "console", f"group{n}", coordinator.id,
                                             now)
            await uow.commit()
        self.chat_address = chat.address
        return code, people, coordinator


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    path: Path = tmp_path_factory.mktemp("need-to-know") / "k.db"
    w = World(f"sqlite+aiosqlite:///{path}")
    asyncio.run(migrate(w.engine))
    asyncio.run(w.engine.dispose())
    return w


signal_plans = st.lists(
    st.tuples(
        st.sampled_from([r for r in Role if r not in (Role.MEDIATOR, Role.MONITOR)]),
        st.integers(min_value=0, max_value=20),   # which kind the poster may post
        st.booleans(),                            # confirm the note (or leave it a draft)
        st.booleans(),                            # the team releases it to the tenant
        st.booleans(),                            # acknowledged
        st.sampled_from(["default", "team", "all"]),
    ),
    min_size=1, max_size=5)


async def renderings(world: World, code: str, person: orm.Person) -> list[str]:
    """Every rendering of the case the bot can make for this person."""
    texts: list[str] = []
    async with world.uow() as uow:
        me = await uow.persons.get(person.id)
        assert me is not None
        texts += [r.text for r in (await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.person_id == me.id))).scalars()]
        case = await uow.cases.by_code(code)
        assert case is not None
        for signal in await uow.signals.of_case(case.id):
            with contextlib.suppress(errors.DomainError):  # not theirs to see: fine
                texts.append(await summaries.view_signal(uow, world.ctx, me, signal.id))
        texts.append(await queries.case_status(me, code, uow, world.ctx))
        texts.append(await summaries.case_summary(uow, world.ctx, me, code))
        texts.append(await summaries.meeting_summary(uow, world.ctx, me, code))
        texts.append(await summaries.daily_digest(uow, world.ctx, me, None) or "")
        texts.append(await summaries.weekly_digest(uow, world.ctx, me) or "")
        texts += await exports.personal_data_export(me, uow, world.ctx)
    return texts


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(plans=signal_plans)
def test_no_role_sees_what_it_may_not(world: World, plans: list[tuple]) -> None:  # type: ignore[type-arg]
    asyncio.run(_check(world, plans))


async def _check(world: World, plans: list[tuple]) -> None:  # type: ignore[type-arg]
    world.engine = create_engine(str(world.engine.url))
    world.sessions = session_factory(world.engine)
    try:
        code, people, coordinator = await world.case_with_everyone()
        planted: list[Planted] = []
        for i, (role, which, confirm, release, ack, audience_choice) in enumerate(plans):
            kinds = kinds_for(role)
            kind = kinds[which % len(kinds)]
            poster = people[role]
            marker = f"MARK{i}X{kind.value.upper()}"
            complainant = f"CMPL{i}X" if role is Role.LANDLORD else None
            audience = {"default": None, "team": frozenset(CARE_TEAM),
                        "all": frozenset(Role)}[audience_choice]
            async with world.uow() as uow:
                posted = await signals.post_signal(
                    PostSignal(poster.id, code, kind, f"note {marker}", complainant=complainant,
                               audience=audience, note_confirmed=kind in (
                                   SignalKind.HARASSED_TENANT, SignalKind.UNJUST_COMPLAINT)),
                    uow, world.ctx)
                await uow.commit()
            number = posted.signal.id
            if confirm and posted.signal.note_status == "draft":
                async with world.uow() as uow:
                    await signals.send_note(SendNote(poster.id, number, audience), uow,
                                            world.ctx)
                    await uow.commit()
            if release and kind not in (SignalKind.HARASSED_TENANT,
                                        SignalKind.UNJUST_COMPLAINT):
                async with world.uow() as uow:
                    await uow.signals.update(number, released_to_tenant=True)
                    await uow.commit()
            if ack:
                for candidate in (Role.COACH, Role.TEAM_LEAD, Role.LANDLORD):
                    try:
                        async with world.uow() as uow:
                            await signals.acknowledge(
                                AcknowledgeSignal(people[candidate].id, number), uow, world.ctx)
                            await uow.commit()
                        break
                    except errors.DomainError:
                        continue
            async with world.uow() as uow:
                stored = await uow.signals.get(number)
                assert stored is not None
            planted.append(Planted(marker, NOTE_CLASS[kind], number, poster.id,
                                   stored.audience))
            if complainant:
                planted.append(Planted(complainant, Info.COMPLAINANT, number, poster.id))

        for role, person in people.items():
            seen = "\n".join(await renderings(world, code, person))
            for plant in planted:
                if plant.poster_id == person.id:
                    continue  # one's own words
                allowed = sees(role, plant.info) and (
                    plant.info is Info.COMPLAINANT or sees(role, Info.FREE_TEXT))
                if plant.audience is not None and plant.info is not Info.COMPLAINANT:
                    allowed = allowed and role in plant.audience
                if role is Role.TENANT:
                    allowed = False  # never others' words, never who complained
                if not allowed:
                    assert plant.marker not in seen, (role, plant)
            tenant_name = people[Role.TENANT].display_name
            if not sees(role, Info.TENANT_IDENTITY):
                assert tenant_name not in seen, role

        # a shared case chat shows only what every role may see: no words, no names
        async with world.uow() as uow:
            group = [r.text for r in (await uow.session.execute(
                select(orm.OutboxRow).where(orm.OutboxRow.address == world.chat_address)
            )).scalars()]
        shared = "\n".join(group)
        for plant in planted:
            assert plant.marker not in shared
        assert people[Role.TENANT].display_name not in shared
        # the coordinator is no content role: nothing of any note reached them
        coordinator_seen = "\n".join(await renderings_for_coordinator(world, coordinator))
        for plant in planted:
            assert plant.marker not in coordinator_seen
    finally:
        await world.engine.dispose()


async def renderings_for_coordinator(world: World, coordinator: orm.Person) -> list[str]:
    async with world.uow() as uow:
        return [r.text for r in (await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.person_id == coordinator.id))).scalars()]
