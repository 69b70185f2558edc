"""What breaks Matrix bots in production, on a real Synapse: a restart in the middle (the bot
keeps its device and still decrypts), events read again (never handled twice), a kill -9
between a send and its commit (no duplicate: the outbox row is the transaction id), a kill -9
between handling a batch and saving the sync position (nothing handled twice, nothing lost),
and a homeserver outage (sync backs off, with jitter, and recovers)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import nio
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import notify
from bot.persistence import orm
from bot.persistence.database import create_engine, session_factory
from bot.persistence.uow import UnitOfWork
from bot.services.transport_state import write_state
from bot.transports.base import NotYet, Outgoing
from tests.conftest import PG_URL
from tests.matrix.test_matrix_scenario import direct_with_bot, enrol
from tests.support.matrix_harness import CASE, MatrixBot, Person, Received, until
from tests.support.synapse import Synapse


@pytest.fixture
async def people(synapse: Synapse, tmp_path: Path) -> AsyncIterator[dict[str, Person]]:
    crowd = {name: Person(synapse, tmp_path, name) for name in ("coco", "lotte", "bram")}
    for person in crowd.values():
        await person.start()
    yield crowd
    for person in crowd.values():
        await person.stop()


async def _set_sync_token(database_url: str, token: str) -> None:
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            await write_state(uow, "matrix", [("sync", "token", token)], datetime.now(UTC))
            await uow.commit()
    finally:
        await engine.dispose()


def _new(messages: list[Received], pattern: str) -> list[Received]:
    """The messages (not edits) whose body matches."""
    return [r for r in messages if re.search(pattern, r.body)
            and r.content.get("m.relates_to", {}).get("rel_type") != "m.replace"]


async def _devices(bot: MatrixBot) -> set[str]:
    client = bot.transport._client
    assert client is not None
    devices = await client.devices()
    assert isinstance(devices, nio.DevicesResponse)
    return {d.id for d in devices.devices}


async def _case_with_team(coco: Person, lotte: Person, bram: Person, bot: MatrixBot
                          ) -> tuple[str, str, str, str]:
    coco_room = await direct_with_bot(coco, bot, encrypted=True)
    await coco.say(coco_room, "/nieuwezaak")
    created = await coco.expect(bot.user_id, CASE.pattern)
    match = CASE.search(created.body)
    assert match is not None
    lotte_room = await enrol(coco, coco_room, lotte, bot, match[0], "verhuurder",
                             encrypted=True)
    bram_room = await enrol(coco, coco_room, bram, bot, match[0], "begeleider",
                            encrypted=True)
    return match[0], coco_room, lotte_room, bram_room


async def test_restart_in_the_middle_keeps_the_device_and_handles_nothing_twice(
        synapse: Synapse, tmp_path: Path, people: dict[str, Person]) -> None:
    coco, lotte, bram = people["coco"], people["lotte"], people["bram"]
    database = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    bot = MatrixBot(synapse, tmp_path, database, coordinator=coco.user_id)
    await bot.start()
    try:
        case, coco_room, lotte_room, bram_room = await _case_with_team(coco, lotte, bram, bot)
        early_token = bot.transport._token
        assert early_token

        before = await _devices(bot)
        await bot.restart()
        # one device across restarts: the password login happened once, its keys kept
        assert await _devices(bot) == before
        assert bot.transport._client is not None
        assert bot.transport._client.device_id == "KORTELIJN"

        # after the restart the bot still decrypts: Lotte's encrypted signal, and Bram's
        # encrypted reaction to the bot's encrypted notice
        await lotte.say(lotte_room, f"/signaal {case} huurachterstand")
        notice = await bram.expect(bot.user_id, r"Nieuw signaal #1", room_id=bram_room)
        assert notice.encrypted
        await bram.react(bram_room, notice.event_id, "\u2705")
        await lotte.expect(bot.user_id, r"bevestigd door begeleider", room_id=lotte_room)

        # the bot dies before it could save how far it had read: everything since the early
        # position is read again, and none of it is handled again
        await bot.stop()
        await _set_sync_token(database, early_token)
        await bot.start()
        await coco.say(coco_room, "/zaken")
        await coco.expect(bot.user_id, case, after=len(coco.from_bot(bot.user_id)))
        assert len(_new(bram.from_bot(bot.user_id), "Nieuw signaal")) == 1
        assert len(_new(lotte.from_bot(bot.user_id), "bevestigd door")) == 1
        assert len(_new(coco.from_bot(bot.user_id), "is aangemaakt")) == 1
        assert bram.undecrypted == 0
        assert lotte.undecrypted == 0
    finally:
        await bot.stop()


async def _say_with_key_withheld(person: Person, room_id: str, text: str
                                 ) -> tuple[str, Callable[[], Awaitable[object]]]:
    """Send an encrypted message under a new session whose key nobody has yet (nio would
    share it first); returns its event id and a coroutine function that shares the key."""
    client = person.client
    assert client.olm is not None
    client.olm.create_outbound_group_session(room_id)
    session = client.olm.outbound_group_sessions[room_id]
    session.shared = True  # so nio encrypts with it; its key has gone to nobody
    # the key as a client shares it: before its first message (its ratchet moves with each)
    key_at_start = session.session_key
    event_type, content = client.encrypt(room_id, "m.room.message",
                                         {"msgtype": "m.text", "body": text})
    method, path, data = nio.Api.room_send(client.access_token, room_id, event_type, content,
                                           uuid.uuid4())
    answer = await client._send(nio.RoomSendResponse, method, path, data, (room_id,))
    assert isinstance(answer, nio.RoomSendResponse), answer

    async def share() -> object:
        original = type(session)

        class AtStart(original):  # type: ignore[misc, valid-type]
            @property
            def session_key(self) -> str:
                return key_at_start

        session.__class__ = AtStart
        session.shared = False
        try:
            return await client.share_group_session(room_id, ignore_unverified_devices=True)
        finally:
            session.__class__ = original

    return str(answer.event_id), share


async def test_an_event_whose_key_comes_after_a_restart_is_handled_once(
        synapse: Synapse, tmp_path: Path, people: dict[str, Person]) -> None:
    """An encrypted command arrives before its room key; the bot restarts; the key comes
    after the restart: the command is handled then, once, and answered as a reply to it."""
    coco = people["coco"]
    bot = MatrixBot(synapse, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
                    coordinator=coco.user_id)
    await bot.start()
    try:
        room = await direct_with_bot(coco, bot, encrypted=True)
        await coco.say(room, "/nieuwezaak")
        await coco.expect(bot.user_id, "is aangemaakt")
        event_id, share_key = await _say_with_key_withheld(coco, room, "/zaken")
        await until(lambda: bot.transport._undecrypted, what="the event kept without its key")

        await bot.restart()
        assert [e.event_id for _, _, e in bot.transport._undecrypted] == [event_id]
        await share_key()
        answer = await coco.expect(bot.user_id, CASE.pattern, after=1, within=60)
        assert answer.content["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id
        assert answer.encrypted
        await until(lambda: not bot.transport._undecrypted, what="the event forgotten")

        # handled once, also by the next run (the kept copy is gone from the database)
        await bot.restart()
        assert bot.transport._undecrypted == []
        await coco.say(room, "/help")
        await coco.expect(bot.user_id, "/nieuwezaak", after=2)
        replies = [r for r in coco.from_bot(bot.user_id)
                   if r.content.get("m.relates_to", {}).get("m.in_reply_to", {})
                   .get("event_id") == event_id]
        assert len(replies) == 1
    finally:
        await bot.stop()


async def test_homeserver_outage_backs_off_and_recovers(own_synapse: Synapse, tmp_path: Path
                                                        ) -> None:
    coco = Person(own_synapse, tmp_path, "coco")
    await coco.start()
    bot = MatrixBot(own_synapse, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
                    coordinator=coco.user_id,
                    matrix={"first_backoff": "0.2s", "max_backoff": "1.6s"})
    await bot.start()
    waits: list[tuple[int, float]] = []
    transport = bot.transport
    real_sleep = transport._sleep

    async def recorded(seconds: float) -> None:
        # (how many syncs had failed in a row, the wait): a batch that could not be handled
        # as the server went away waits too, with no failed sync counted
        waits.append((transport.sync_failures, seconds))
        await real_sleep(seconds)

    transport._sleep = recorded
    try:
        room = await direct_with_bot(coco, bot, encrypted=False)
        own_synapse.stop()
        await until(lambda: transport.sync_failures >= 6, within=60, what="six failed syncs")
        # exponential back-off with bounded jitter: the n-th wait lies between half and all
        # of 0.2s·2^(n-1), and never beyond the cap
        failed = [(n, wait) for n, wait in waits if n > 0]
        assert [n for n, _ in failed[:6]] == [1, 2, 3, 4, 5, 6], waits
        for n, wait in failed[:6]:
            ceiling = min(0.2 * 2 ** (n - 1), 1.6)
            assert ceiling / 2 <= wait <= ceiling, (n, waits)
        assert len(waits) < 20, "the bot hammered the homeserver"
        own_synapse.start()
        await until(lambda: transport.sync_failures == 0, within=60, what="sync recovered")
        await coco.say(room, "/nieuwezaak")
        await coco.expect(bot.user_id, CASE.pattern, within=60)
    finally:
        await bot.stop()
        await coco.stop()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")
async def test_kill_9_between_send_and_commit_sends_nothing_twice(
        synapse: Synapse, tmp_path: Path, people: dict[str, Person]) -> None:
    """The bot process is killed after Synapse accepted a message and before the outbox row
    was marked sent (the commit is held back by a row lock this test takes); the restarted
    bot sends the row again, with the same transaction id, and Synapse deduplicates it."""
    coco, lotte, bram = people["coco"], people["lotte"], people["bram"]
    engine = create_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    bot = MatrixBot(synapse, tmp_path, PG_URL, coordinator=coco.user_id)
    await bot.start()
    try:
        _, _, _, bram_room = await _case_with_team(coco, lotte, bram, bot)
        await bot.stop()
        # a message for Bram that the next bot will deliver: an edit of the welcome (its
        # mark as sent also clears the welcome's text, which is where the commit waits)
        async with UnitOfWork(session_factory(engine)) as uow:
            welcome = (await uow.session.execute(
                select(orm.OutboxRow).where(orm.OutboxRow.transport == "matrix",
                                            orm.OutboxRow.address == bram.user_id,
                                            orm.OutboxRow.status == "sent")
                .order_by(orm.OutboxRow.id).limit(1))).scalar_one()
            # (written at once, for its id: a queued message is otherwise written at the
            # commit, and a change to the returned row after the call changes nothing)
            row = await uow.outbox.add(transport="matrix", address=bram.user_id,
                                       text="Eenmalig bericht", now=datetime.now(UTC),
                                       person_id=welcome.person_id, edit_of=welcome.id,
                                       with_id=True)
            await uow.commit()
            row_id, welcome_id = row.id, welcome.id

        lock = await engine.connect()
        transaction = await lock.begin()
        await lock.execute(text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"),
                           {"id": welcome_id})
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=tmp_path,
            env={**os.environ, **_bot_environment(bot)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await bram.expect(bot.user_id, "Eenmalig bericht", within=90)
            # Synapse has it; the commit that marks it sent waits on this test's lock
            async with UnitOfWork(session_factory(engine)) as uow:
                pending = await uow.session.get(orm.OutboxRow, row_id)
                assert pending is not None
                assert pending.status == "pending"
        finally:
            process.send_signal(signal.SIGKILL)  # kill -9: no shutdown, no commit
            await asyncio.wait_for(process.wait(), 30)
            await transaction.rollback()
            await lock.close()

        await bot.start()
        async def sent() -> bool:
            async with UnitOfWork(session_factory(engine)) as uow:
                again = await uow.session.get(orm.OutboxRow, row_id)
                return again is not None and again.status == "sent"

        deadline = asyncio.get_running_loop().time() + 60
        while not await sent():
            assert asyncio.get_running_loop().time() < deadline, "the row was never sent"
            await asyncio.sleep(0.1)
        # one more message through the same room proves the resend has been seen
        await bram.say(bram_room, "/zaken")
        await bram.expect(bot.user_id, "Z-", room_id=bram_room,
                          after=len(bram.from_bot(bot.user_id, bram_room)))
        copies = [r for r in bram.from_bot(bot.user_id) if "Eenmalig bericht" in r.body]
        assert len(copies) == 1, copies
    finally:
        await bot.stop()
        await engine.dispose()


async def _sync_token_row(engine: AsyncEngine) -> tuple[int, str]:
    async with UnitOfWork(session_factory(engine)) as uow:
        row = (await uow.session.execute(
            select(orm.TransportState).where(orm.TransportState.transport == "matrix",
                                             orm.TransportState.kind == "sync"))).scalar_one()
        return row.id, row.value


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")
async def test_kill_9_between_handling_and_saving_the_sync_position(
        synapse: Synapse, tmp_path: Path, people: dict[str, Person]) -> None:
    """The sync position is saved after what it covers is handled, in a transaction of its
    own (and only every half minute). The bot process is killed after it handled a command
    (and answered it) and before the position after it was saved (were the save due, it
    would wait on a row lock this test takes): the restarted bot reads that batch again and
    handles none of it twice, and what was said while it was down is handled once."""
    coco = people["coco"]
    engine = create_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    bot = MatrixBot(synapse, tmp_path, PG_URL, coordinator=coco.user_id)
    await bot.start()
    try:
        room = await direct_with_bot(coco, bot, encrypted=True)
        await coco.say(room, "/nieuwezaak")
        await coco.expect(bot.user_id, "is aangemaakt")
        await bot.stop()

        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=tmp_path,
            env={**os.environ, **_bot_environment(bot)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lock = await engine.connect()
        transaction = await lock.begin()
        try:
            await coco.say(room, "/zaken")  # the process is up and reads the room
            await coco.expect(bot.user_id, CASE.pattern, after=1, within=90)
            row_id, position = await _sync_token_row(engine)
            await lock.execute(text("SELECT id FROM transport_state WHERE id = :id FOR UPDATE"),
                               {"id": row_id})
            await coco.say(room, "/nieuwezaak")
            await coco.expect(bot.user_id, "is aangemaakt", after=2, within=60)
            # handled and answered; the position after it is not saved
            async with UnitOfWork(session_factory(engine)) as uow:
                cases = (await uow.session.execute(
                    select(func.count()).select_from(orm.Case))).scalar_one()
            assert cases == 2
        finally:
            process.send_signal(signal.SIGKILL)  # kill -9: no shutdown, nothing saved
            await asyncio.wait_for(process.wait(), 30)
            await transaction.rollback()
            await lock.close()
        assert (await _sync_token_row(engine))[1] == position
        await coco.say(room, "/help")  # said while the bot is down: not lost

        await bot.start()
        await coco.expect(bot.user_id, "/nieuwezaak", after=3, within=60)  # the help
        await coco.say(room, "/zaken")
        answer = await coco.expect(bot.user_id, CASE.pattern, after=4)
        async with UnitOfWork(session_factory(engine)) as uow:
            cases = (await uow.session.execute(
                select(func.count()).select_from(orm.Case))).scalar_one()
        assert cases == 2, "a command read again was handled again"
        assert len(_new(coco.from_bot(bot.user_id), "is aangemaakt")) == 2
        assert len(CASE.findall(answer.body)) >= 2
        helps = [r for r in _new(coco.from_bot(bot.user_id), "/nieuwezaak")
                 if "is aangemaakt" not in r.body]
        assert len(helps) == 1
        assert coco.undecrypted == 0
    finally:
        await bot.stop()
        await engine.dispose()


def _bot_environment(bot: MatrixBot) -> dict[str, str]:
    matrix = bot.settings.matrix
    assert matrix.password is not None
    return {
        "KORTELIJN_DATABASE__URL": bot.settings.database.url,
        "KORTELIJN_BOT__COORDINATORS": f'["{bot.settings.bot.coordinators[0]}"]',
        "KORTELIJN_MATRIX__HOMESERVER": matrix.homeserver or "",
        "KORTELIJN_MATRIX__USER_ID": matrix.user_id or "",
        "KORTELIJN_MATRIX__PASSWORD": matrix.password.get_secret_value(),
        "KORTELIJN_MATRIX__DEVICE_ID": matrix.device_id or "",
        "KORTELIJN_MATRIX__STORE_PATH": str(matrix.store_path),
    }


async def test_rate_limited_rooms_wait_their_turn_and_lose_nothing(tmp_path: Path) -> None:
    """Synapse's message limit for the bot (one a second after a burst of three): each 429
    holds back only the room it came from, for the time Synapse asked, without counting an
    attempt; every message arrives once, in order per room."""
    limits = {"rc_message": {"per_second": 1, "burst_count": 3},
              "rc_login": {"address": {"per_second": 100, "burst_count": 100},
                           "account": {"per_second": 100, "burst_count": 100},
                           "failed_attempts": {"per_second": 100, "burst_count": 100}},
              "rc_registration": {"per_second": 100, "burst_count": 100},
              "rc_joins": {"local": {"per_second": 100, "burst_count": 100}},
              "rc_invites": {"per_user": {"per_second": 100, "burst_count": 100}}}
    server = Synapse(tmp_path / "synapse", rate_limits=limits)
    server.start()
    coco, bram = Person(server, tmp_path, "coco"), Person(server, tmp_path, "bram")
    bot = MatrixBot(server, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
                    coordinator=coco.user_id, encryption=False)
    try:
        for person in (coco, bram):
            await person.start()
        await bot.start()
        for person in (coco, bram):
            await direct_with_bot(person, bot, encrypted=False)
        limited: list[str] = []
        transport = bot.transport
        real_send = transport.send

        async def recorded(message: Outgoing) -> str:
            try:
                return await real_send(message)
            except NotYet as error:
                limited.append(error.reason)
                raise

        transport.send = recorded  # type: ignore[method-assign]
        assert bot.app is not None
        async with bot.app.new_uow() as uow:
            for n in range(6):
                for person in (coco, bram):
                    await notify.to_chat(uow, "matrix", person.user_id, f"Bericht {n}",
                                         bot.clock.now())
            await uow.commit()
        bot.app.delivery.poke()
        for person in (coco, bram):
            await until(lambda p=person: len(p.from_bot(bot.user_id)) >= 6, within=90,
                        what="six messages")
        assert any("429" in reason for reason in limited), limited
        for person in (coco, bram):
            assert [r.body for r in person.from_bot(bot.user_id)] == [
                f"Bericht {n}" for n in range(6)]
        async with bot.app.new_uow() as uow:
            attempts = (await uow.session.execute(
                select(orm.OutboxRow.attempts))).scalars().all()
        assert set(attempts) == {0}, "a 429 counted as a failed attempt"
    finally:
        await bot.stop()
        for person in (coco, bram):
            await person.stop()
        server.stop()
