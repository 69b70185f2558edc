"""An encrypted Matrix event that arrives before its room key survives a restart: it is kept in
the database (still encrypted, as the homeserver sent it, and encrypted at rest) before the
sync position moves past it, handled once its key has come, also in a later run, and given
up after a bounded time that a restart does not reset. Against a real database (SQLite and
PostgreSQL), with a stand-in for nio's client; the whole path on a real Synapse is in
tests/matrix/test_matrix_resilience.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import nio
import pytest
from sqlalchemy import select, text

from bot.config import MatrixSettings
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.services.transport_state import TransportHost
from bot.transports.base import Incoming
from bot.transports.matrix import UNDECRYPTED_WAIT, MatrixTransport

BOT = "@kortelijn:test"
BRAM = "@bram:test"
ROOM = "!bram:test"

ENCRYPTED = {"type": "m.room.encrypted", "event_id": "$late", "sender": BRAM,
             "origin_server_ts": 1700000000000,
             "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEp…",
                         "sender_key": "curve", "session_id": "later", "device_id": "BRAMS"}}
PLAIN = {"type": "m.room.message", "event_id": "$late", "sender": BRAM,
         "origin_server_ts": 1700000000000,
         "content": {"msgtype": "m.text", "body": "/zaken"}}


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


class Client:
    """nio's client as far as an undecryptable event goes: the key comes when told."""

    def __init__(self, *, has_key: bool) -> None:
        self.has_key = has_key
        self.rooms: dict[str, nio.MatrixRoom] = {}
        self.asked: list[str] = []

    def decrypt_event(self, event: nio.MegolmEvent) -> Any:
        if not self.has_key:
            raise nio.EncryptionError("no session")
        assert event.room_id == ROOM
        return nio.Event.parse_event(PLAIN)

    async def request_room_key(self, event: nio.MegolmEvent) -> None:
        self.asked.append(event.event_id)


class Bot:
    """One run of the transport on the database: a restart is a new one on the same file."""

    def __init__(self, url: str, clock: ManualClock) -> None:
        self.engine = create_engine(url)
        self.host = TransportHost(lambda: UnitOfWork(session_factory(self.engine)), "matrix",
                                  clock)
        self.transport = MatrixTransport(
            MatrixSettings(homeserver="http://127.0.0.1:9", user_id=BOT, password="x"),
            self.host, clock=clock)
        self.handled: list[Incoming] = []

        async def on_incoming(incoming: Incoming) -> None:
            self.handled.append(incoming)

        self.transport._on_incoming = on_incoming

    async def start(self) -> None:
        self.transport._restore(await self.host.load_state())

    async def kept(self) -> list[str]:
        async with UnitOfWork(session_factory(self.engine)) as uow:
            return [row.key for row in (await uow.session.execute(
                select(orm.TransportState).where(
                    orm.TransportState.kind == "undecrypted"))).scalars()]


@pytest.fixture
async def first(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    bot = Bot(database_url, clock)
    await migrate(bot.engine)
    await bot.host.save_state([("room", ROOM, f"direct {BRAM}"), ("dm", BRAM, ROOM)])
    await bot.start()
    yield bot
    await bot.engine.dispose()


async def _arrives_without_its_key(bot: Bot) -> None:
    client = Client(has_key=False)
    await bot.transport._room_events(client, ROOM, [nio.Event.parse_event(dict(ENCRYPTED))],
                                     history=False)  # type: ignore[arg-type]
    await bot.transport._retry_undecrypted(client)  # type: ignore[arg-type]
    assert bot.handled == []
    assert client.asked == ["$late"]


async def test_an_event_waiting_for_its_key_is_handled_after_a_restart(
        first: Bot, database_url: str, clock: ManualClock) -> None:
    await _arrives_without_its_key(first)
    # kept before the sync position can move past it, as the homeserver sent it
    assert await first.kept() == ["$late"]
    async with first.engine.connect() as conn:
        raw = (await conn.execute(text(
            "SELECT value FROM transport_state WHERE kind = 'undecrypted'"))).scalar_one()
    assert "AwgAEp" not in raw  # encrypted at rest
    assert BRAM not in raw
    # the same batch read again (a crash before the position was saved) keeps it once
    await first.transport._room_events(Client(has_key=False), ROOM,  # type: ignore[arg-type]
                                       [nio.Event.parse_event(dict(ENCRYPTED))], history=False)
    assert len(first.transport._undecrypted) == 1

    # the bot stops (kill -9: nothing is saved on the way out); its key comes meanwhile
    await first.engine.dispose()
    clock.advance(timedelta(minutes=5))
    again = Bot(database_url, clock)
    try:
        await again.start()
        await again.transport._retry_undecrypted(Client(has_key=True))  # type: ignore[arg-type]
        assert [(i.text, i.update_key, i.chat_id) for i in again.handled] == [
            ("/zaken", "$late", BRAM)]
        assert await again.kept() == []
        # handled once: nothing is left to try again
        await again.transport._retry_undecrypted(Client(has_key=True))  # type: ignore[arg-type]
        assert len(again.handled) == 1
    finally:
        await again.engine.dispose()


async def test_an_event_whose_key_never_comes_is_given_up_also_across_a_restart(
        first: Bot, database_url: str, clock: ManualClock) -> None:
    await _arrives_without_its_key(first)
    await first.engine.dispose()
    # the time it came is kept: a restart does not start its wait again
    clock.advance(UNDECRYPTED_WAIT + timedelta(seconds=1))
    again = Bot(database_url, clock)
    try:
        await again.start()
        await again.transport._retry_undecrypted(Client(has_key=False))  # type: ignore[arg-type]
        assert again.handled == []
        assert await again.kept() == []
        assert again.transport._undecrypted == []
    finally:
        await again.engine.dispose()
