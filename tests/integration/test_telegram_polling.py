"""Updates confirmed only once handled, against the Bot API stand-in over HTTP on 127.0.0.1:
the offset moves past an update only after the core returned from it; an update whose
handling fails (or whose process dies first) comes again; what the bot does not read is
confirmed and blocks nothing; 409 Conflict and a refused token are said clearly and polling
goes on; the webhook answers 200 only after the commit; and the records are pruned."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot import i18n
from bot.app import KorteLijn
from bot.config import RetentionSettings, Settings
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.updates import prune_processed
from bot.transports.base import Incoming
from bot.transports.telegram import TelegramTransport
from tests.conftest import START
from tests.integration.test_telegram_transport import (
    GROUP,
    USER,
    Received,
    free_port,
    settings_for,
)
from tests.support.fake_bot_api import FakeBotApi
from tests.support.seconds import FakeClock

FAST = (0.01, 0.05)  # the polling back-off in these tests: first delay and cap


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(hang_seconds=5) as fake:
        fake.add_user(USER, first_name="Anna")
        fake.add_group(GROUP, title="Team")
        yield fake


def transport_for(api: FakeBotApi, **extra: Any) -> TelegramTransport:
    clock = FakeClock()
    return TelegramTransport(settings_for(api, poll_timeout="2s", **extra), clock=clock,
                             sleep=clock.pass_time, poll_backoff=FAST)


def pending(api: FakeBotApi, update: dict[str, Any]) -> bool:
    return any(u["update_id"] == update["update_id"] for u in api.pending_updates)


async def test_an_update_is_confirmed_only_after_it_was_handled(api: FakeBotApi) -> None:
    seen_pending: list[bool] = []
    release = asyncio.Event()
    update: dict[str, Any] = {}

    async def slow(incoming: Incoming) -> None:
        seen_pending.append(pending(api, update))
        await release.wait()

    tg = transport_for(api)
    await tg.start(slow)
    try:
        update.update(api.user_sends(USER, "/help") or {})
        await api.wait_for(lambda: seen_pending == [True])
        assert pending(api, update)  # being handled: not confirmed
        release.set()
        await api.wait_for(lambda: not pending(api, update))
    finally:
        await tg.stop()


async def test_an_update_whose_handling_fails_comes_again(api: FakeBotApi) -> None:
    keys: list[str | None] = []
    still_pending: list[bool] = []
    update: dict[str, Any] = {}

    async def flaky(incoming: Incoming) -> None:
        keys.append(incoming.update_key)
        still_pending.append(pending(api, update))
        if len(keys) == 1:
            raise RuntimeError("the database is gone")

    tg = transport_for(api)
    await tg.start(flaky)
    try:
        update.update(api.user_sends(USER, "/help") or {})
        later = api.user_sends(USER, "/zaken")
        assert later is not None
        await api.wait_for(lambda: len(keys) == 3)
        key = str(update["update_id"])
        assert keys == [key, key, str(later["update_id"])]  # again, and still in order
        assert still_pending == [True, True, True]
        await api.wait_for(lambda: api.pending_updates == [])
    finally:
        await tg.stop()


async def test_an_update_of_a_process_that_stopped_while_handling_it_comes_again(
        api: FakeBotApi) -> None:
    started = asyncio.Event()

    async def dies_before_commit(incoming: Incoming) -> None:
        started.set()
        await asyncio.Event().wait()  # never commits: the process is about to die

    first = transport_for(api)
    await first.start(dies_before_commit)
    update = api.user_sends(USER, "/help")
    assert update is not None
    await asyncio.wait_for(started.wait(), 5)
    await first.stop()
    assert pending(api, update)

    received = Received()
    second = transport_for(api)
    await second.start(received)
    try:
        await received.wait()
        assert [i.update_key for i in received.items] == [str(update["update_id"])]
        await api.wait_for(lambda: not pending(api, update))
    finally:
        await second.stop()


async def test_what_the_bot_does_not_read_is_confirmed_and_blocks_nothing(
        api: FakeBotApi) -> None:
    api.privacy_mode = False
    received = Received()
    tg = transport_for(api)
    await tg.start(received)
    try:
        sticker = api.push_update("message", {
            "message_id": 900, "date": 0, "chat": {"id": USER, "type": "private"},
            "from": {"id": USER, "is_bot": False, "first_name": "Anna"},
            "sticker": {"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1,
                        "is_animated": False, "is_video": False, "type": "regular"}})
        other_bot = api.user_sends(USER, "/status@OtherBot", chat_id=GROUP,
                                   chat_type="supergroup")
        chatter = api.user_sends(USER, "goedemorgen allemaal", chat_id=GROUP,
                                 chat_type="supergroup")
        text = api.user_sends(USER, "/help")
        assert other_bot is not None
        assert chatter is not None
        assert text is not None
        await received.wait(2)
        # group chatter is the core's (it notes who writes there); the rest is not
        assert [i.update_key for i in received.items] == [str(chatter["update_id"]),
                                                          str(text["update_id"])]
        await api.wait_for(lambda: api.pending_updates == [])
        assert not pending(api, sticker)
    finally:
        await tg.stop()


async def test_409_conflict_and_a_refused_token_are_said_clearly_and_polling_goes_on(
        api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.transports.telegram")
    received = Received()
    tg = transport_for(api)
    await tg.start(received)
    try:
        api.fail_next("getUpdates", 3, status=409, description=(
            "Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running"))
        api.fail_next("getUpdates", 2, status=401, description="Unauthorized")
        api.fail_next("getUpdates", 2, status=502, description="Bad Gateway")
        api.user_sends(USER, "/help")  # ends the poll that waits now
        await received.wait(within=10)
        messages = [r.getMessage() for r in caplog.records]
        conflict = [m for m in messages if "409 Conflict" in m]
        token = [m for m in messages if "refuses the token" in m]
        network = [m for m in messages if "polling failed" in m]
        assert len(conflict) == 1  # once for three in a row
        assert "another instance" in conflict[0]
        assert len(token) == 1
        assert len(network) == 1
        assert [r.levelname for r in caplog.records if "409" in r.getMessage()] == ["ERROR"]
        assert any("polling works again" in m for m in messages)
        assert api.token.split(":", 1)[1] not in caplog.text
    finally:
        await tg.stop()


async def test_the_webhook_answers_200_only_once_the_update_is_handled(
        api: FakeBotApi) -> None:
    calls: list[str | None] = []

    async def flaky(incoming: Incoming) -> None:
        calls.append(incoming.update_key)
        if len(calls) == 1:
            raise RuntimeError("the database is gone")

    port = free_port()
    tg = transport_for(api, mode="webhook", webhook_url=f"http://127.0.0.1:{port}/hook",
                       webhook_port=port)
    await tg.start(flaky)
    try:
        update = api.user_sends(USER, "/help")
        assert update is not None
        assert await api.post_webhook_update() == 500  # Telegram keeps it and tries again
        assert pending(api, update)
        assert await api.post_webhook_update() == 200
        assert not pending(api, update)
        assert calls == [str(update["update_id"])] * 2
    finally:
        await tg.stop()


async def test_the_app_leaves_an_update_unconfirmed_while_it_cannot_record_it(
        api: FakeBotApi, tmp_path: Path) -> None:
    """The whole bot on SQLite: while its table of handled updates is gone (a database in
    trouble), an update is neither handled nor confirmed; once it is back, the update comes
    again and is handled once."""
    settings = Settings.model_validate({
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"},
        "bot": {"coordinators": [f"telegram:{USER}"]},
        "telegram": {"token": api.token, "base_url": api.base_url, "request_timeout": "2s",
                     "poll_timeout": "2s"}})
    app = KorteLijn(settings, clock=ManualClock(START))
    await app.start()
    try:
        async with app.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE processed_updates RENAME TO away"))
        update = api.user_sends(USER, "/nieuwezaak", first_name="Coco")
        assert update is not None
        # fetched, refused, fetched again: still not confirmed, nothing answered
        await api.wait_for(lambda: len(api.calls("getUpdates")) >= 4, within=10)
        assert pending(api, update)
        assert api.sent(USER) == []
        async with app.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE away RENAME TO processed_updates"))
        await api.wait_for(lambda: len(api.sent(USER)) == 1, within=15)
        await api.wait_for(lambda: not pending(api, update), within=10)
        async with app.new_uow() as uow:
            assert await uow.updates.seen("telegram", str(update["update_id"]))
            cases = (await uow.session.execute(select(func.count(orm.Case.id)))).scalar_one()
        (answer,) = api.sent(USER)
        # handled once: the case made; or, when the table came back in the middle of an
        # attempt, the answer that nothing was recorded (so the person tries again)
        assert cases == 1 or answer.text == i18n.t("nl", "error.internal")
    finally:
        await app.stop()


async def test_the_records_of_handled_updates_are_pruned_after_the_period(
        database_url: str) -> None:
    engine = create_engine(database_url)
    await migrate(engine)
    sessions = session_factory(engine)

    def new_uow() -> UnitOfWork:
        return UnitOfWork(sessions)

    clock = ManualClock(START)
    async with new_uow() as uow:
        for age_days, key in ((10, "old"), (8, "older than a week"), (6, "recent"), (0, "new")):
            uow.updates.record("telegram", key, START - timedelta(days=age_days))
        await uow.commit()
    ctx = ServiceContext(clock=clock, retention=RetentionSettings(
        processed_updates_after=timedelta(days=7)))
    try:
        assert await prune_processed(new_uow, ctx) == 2
        async with new_uow() as uow:
            left = list((await uow.session.execute(
                select(orm.ProcessedUpdate.update_key).order_by(orm.ProcessedUpdate.id)))
                .scalars())
            assert left == ["recent", "new"]
            assert await uow.updates.seen("telegram", "recent")
        assert await prune_processed(new_uow, ctx) == 0
        clock.advance(timedelta(days=7))
        assert await prune_processed(new_uow, ctx) == 1
        async with new_uow() as uow:
            count = (await uow.session.execute(
                select(func.count(orm.ProcessedUpdate.id)))).scalar_one()
            assert count == 1
    finally:
        await engine.dispose()


def test_the_period_is_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="at least"):
        RetentionSettings(processed_updates_after=timedelta(hours=12))
