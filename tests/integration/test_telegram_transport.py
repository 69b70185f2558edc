"""The Telegram transport against the Bot API stand-in over HTTP on 127.0.0.1: receiving,
sending, editing, buttons, the three flood limits, failures, the webhook's secret, and each
update handled once (also after a restart of the transport and the app)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bot.app import KorteLijn
from bot.config import Settings, TelegramSettings
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.transports.base import (
    Choice,
    Incoming,
    NotYet,
    Outgoing,
    PermanentFailure,
    RetryLater,
)
from bot.transports.telegram import (
    SECRET_HEADER,
    TelegramTransport,
    choice_data,
    parse_choice_data,
)
from handlers.menu import command_menus
from tests.conftest import START
from tests.support.fake_bot_api import FakeBotApi
from tests.support.seconds import FakeClock

USER = 42
OTHER = 43
GROUP = -1001234567890


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(clock=clock, hang_seconds=5) as fake:
        fake.add_user(USER, first_name="Anna")
        fake.add_user(OTHER, first_name="Bert")
        fake.add_group(GROUP, title="Team")
        yield fake


class Received:
    """What the transport handed to the core."""

    def __init__(self) -> None:
        self.items: list[Incoming] = []
        self._changed = asyncio.Event()

    async def __call__(self, incoming: Incoming) -> None:
        self.items.append(incoming)
        self._changed.set()

    async def wait(self, count: int = 1, within: float = 5.0) -> list[Incoming]:
        """Wait (up to a deadline) until ``count`` items have arrived."""
        async with asyncio.timeout(within):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


@pytest.fixture
def received() -> Received:
    return Received()


def settings_for(api: FakeBotApi, **extra: Any) -> TelegramSettings:
    return TelegramSettings.model_validate(
        {"token": api.token, "base_url": api.base_url, "request_timeout": "2s",
         "poll_timeout": "5s", **extra})


@pytest.fixture
async def transport(api: FakeBotApi, clock: FakeClock, received: Received
                    ) -> AsyncIterator[TelegramTransport]:
    tg = TelegramTransport(settings_for(api), commands=command_menus(), clock=clock,
                           sleep=clock.pass_time)
    await tg.start(received)
    yield tg
    await tg.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# ---- starting ----------------------------------------------------------------------------------


async def test_start_registers_the_command_menu_and_makes_deep_links(
        api: FakeBotApi, transport: TelegramTransport) -> None:
    nl = [c["command"] for c in api.commands(language_code="nl")]
    en = [c["command"] for c in api.commands(language_code="en")]
    assert {"nieuwezaak", "uitnodigen", "signaal", "ok", "koppel", "help"} <= set(nl)
    assert {"newcase", "invite", "signal", "ack", "link", "help"} <= set(en)
    assert "newcase" not in nl
    assert api.commands() == api.commands(language_code="nl")  # the default: Dutch
    assert all(c["description"] for c in api.commands(language_code="en"))
    assert transport.invite_link("ABCD2345EFGH") == \
        "https://t.me/KorteLijnTestBot?start=ABCD2345EFGH"


async def test_the_token_never_reaches_a_log_line(
        api: FakeBotApi, clock: FakeClock, received: Received,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tg = TelegramTransport(settings_for(api), clock=clock, sleep=clock.pass_time)
    await tg.start(received)
    api.user_sends(USER, "/help")
    await received.wait()
    await tg.send(Outgoing(chat_id=str(USER), text="hallo"))
    api.block(OTHER)
    with pytest.raises(PermanentFailure):
        await tg.send(Outgoing(chat_id=str(OTHER), text="hallo"))
    await tg.stop()
    secret = api.token.split(":", 1)[1]
    assert caplog.records
    assert not [r for r in caplog.records
                if secret in r.getMessage() or secret in (r.exc_text or "")]
    assert secret not in caplog.text


async def test_a_refused_token_is_reported_without_the_token(api: FakeBotApi) -> None:
    wrong = "111:not-the-real-token"
    tg = TelegramTransport(TelegramSettings.model_validate(
        {"token": wrong, "base_url": api.base_url}))
    with pytest.raises(Exception, match="refused the token") as caught:
        await tg.start(Received())
    assert "not-the-real-token" not in str(caught.value)
    assert caught.value.__cause__ is None


# ---- receiving ---------------------------------------------------------------------------------


async def test_a_text_message_becomes_incoming_with_its_update_id(
        api: FakeBotApi, transport: TelegramTransport, received: Received) -> None:
    update = api.user_sends(USER, "/start ABCD2345EFGH", first_name="Anna",
                            language_code="en")
    assert update is not None
    await received.wait()
    (incoming,) = received.items
    assert incoming == Incoming(
        transport="telegram", chat_id=str(USER), sender_id=str(USER), sender_name="Anna",
        text="/start ABCD2345EFGH", message_id=str(update["message"]["message_id"]),
        language_hint="en", update_key=str(update["update_id"]))


async def test_in_groups_only_commands_for_this_bot_arrive(
        api: FakeBotApi, transport: TelegramTransport, received: Received) -> None:
    api.privacy_mode = False  # even when the bot could read everything
    api.user_sends(USER, "/status@OtherBot", chat_id=GROUP, chat_type="supergroup")
    api.user_sends(USER, "/koppel@KorteLijnTestBot Z-7K3M", chat_id=GROUP,
                   chat_type="supergroup")
    await received.wait()
    assert [(i.text, i.chat_id, i.sender_id, i.is_group) for i in received.items] == [
        ("/koppel@KorteLijnTestBot Z-7K3M", str(GROUP), str(USER), True)]


# ---- sending, buttons, editing ----------------------------------------------------------------


async def test_buttons_carry_a_reference_to_the_stored_choice_and_come_back_as_a_pick(
        api: FakeBotApi, transport: TelegramTransport, received: Received) -> None:
    sent_id = await transport.send(Outgoing(
        chat_id=str(USER), text="Kies", outbox_id=1234567,
        choices=(Choice("Versturen", "/toelichting 3 verstuur"), Choice("Niet", ""))))
    (message,) = api.sent(USER)
    assert sent_id == f"{USER}:{message.message_id}"
    # no command and no label in the data: the outbox row and the index, well within 64 bytes
    assert message.callback_data == ["c1234567:0", "c1234567:1"]
    assert parse_choice_data(choice_data(2**31 - 1, 9999)) == (2**31 - 1, 9999)
    assert len(choice_data(2**31 - 1, 9999).encode()) <= 64
    assert parse_choice_data("c" + "9" * 11 + ":0") is None  # beyond any row id
    press = api.user_presses(USER, message.message_id, data="c1234567:1")
    await received.wait()
    (incoming,) = received.items
    assert (incoming.is_choice, incoming.choice_outbox_id, incoming.choice_index,
            incoming.choice_message_id, incoming.text) == (True, 1234567, 1, sent_id, "")
    assert incoming.update_key == str(press["update_id"])
    assert api.callback_answer(press["callback_query"]["id"]) is not None  # answered


async def test_a_button_still_works_after_the_transport_restarts_and_foreign_data_does_not(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport,
        received: Received) -> None:
    await transport.send(Outgoing(chat_id=str(USER), text="Kies", outbox_id=7,
                                  choices=(Choice("Bevestigen", "/ok 3"),)))
    (message,) = api.sent(USER)
    await transport.stop()
    again = Received()
    restarted = TelegramTransport(settings_for(api), clock=clock, sleep=clock.pass_time)
    await restarted.start(again)
    api.user_presses(USER, message.message_id, data="c7:0")
    await again.wait()
    assert (again.items[0].choice_outbox_id, again.items[0].choice_index) == (7, 0)
    # data that is none of ours is answered as an expired button, and not handed on
    press = api.user_presses(USER, message.message_id, data="~AbC", check_button=False)
    await api.wait_for(lambda: api.callback_answer(press["callback_query"]["id"]) is not None)
    answer = api.callback_answer(press["callback_query"]["id"])
    assert answer is not None
    assert "knop werkt niet meer" in (answer["text"] or "")
    assert len(again.items) == 1
    await restarted.stop()


async def test_an_edit_replaces_the_text_and_drops_the_buttons(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport) -> None:
    sent_id = await transport.send(Outgoing(chat_id=str(USER), text="Nieuw", outbox_id=1,
                                            choices=(Choice("Bevestigen", "/ok 1"),)))
    edited_id = await transport.send(Outgoing(chat_id=str(USER), text="Nieuw\n✓ Bevestigd",
                                              edit_of=sent_id))
    assert edited_id == sent_id
    (message,) = api.sent(USER)
    assert message.text == "Nieuw\n✓ Bevestigd"
    assert message.callback_data == []
    assert message.reply_markup is None
    assert message.history[0].reply_markup is not None
    # the same edit again: Telegram says "not modified", which is success
    clock.advance(1.0)
    assert await transport.send(Outgoing(chat_id=str(USER), text="Nieuw\n✓ Bevestigd",
                                         edit_of=sent_id)) == sent_id
    assert len(api.sent(USER)) == 1


async def test_an_edit_of_a_message_that_is_gone_is_sent_anew(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport) -> None:
    sent_id = await transport.send(Outgoing(chat_id=str(USER), text="Oud"))
    api.sent(USER)[0].deleted = True  # the person deleted it
    clock.advance(1.0)
    new_id = await transport.send(Outgoing(chat_id=str(USER), text="Nieuw", edit_of=sent_id))
    assert new_id != sent_id
    assert [m.text for m in api.sent(USER) if not m.deleted] == ["Nieuw"]


async def test_group_answers_are_replies_to_the_command(
        api: FakeBotApi, transport: TelegramTransport) -> None:
    command = api.user_sends(USER, "/koppel Z-7K3M", chat_id=GROUP, chat_type="supergroup")
    assert command is not None
    asked = command["message"]["message_id"]
    await transport.send(Outgoing(chat_id=str(GROUP), text="Gekoppeld", reply_to=str(asked)))
    (answer,) = api.sent(GROUP)
    assert answer.reply_to is not None
    assert answer.reply_to.message_id == asked


# ---- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("timedelta_periods", [True, False])
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_is_retry_later_after_retry_after(
        api: FakeBotApi, transport: TelegramTransport, monkeypatch: pytest.MonkeyPatch,
        timedelta_periods: bool) -> None:
    if not timedelta_periods:  # PTB then hands retry_after over as an int
        monkeypatch.delenv("PTB_TIMEDELTA")
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        await transport.send(Outgoing(chat_id=str(USER), text="x"))
    assert not isinstance(caught.value, NotYet)
    assert caught.value.retry_after == 7.0
    assert api.sent(USER) == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_retry_later_with_the_loops_back_off(
        api: FakeBotApi, transport: TelegramTransport, status: int) -> None:
    api.fail_next("sendMessage", status=status)
    with pytest.raises(RetryLater) as caught:
        await transport.send(Outgoing(chat_id=str(USER), text="x"))
    assert caught.value.retry_after is None
    assert api.sent(USER) == []


async def test_a_time_out_is_retry_later(api: FakeBotApi, clock: FakeClock) -> None:
    tg = TelegramTransport(settings_for(api, request_timeout="0.3s"), clock=clock,
                           sleep=clock.pass_time)
    await tg.start(Received())
    try:
        api.fail_next("sendMessage", kind="timeout")
        with pytest.raises(RetryLater) as caught:
            await tg.send(Outgoing(chat_id=str(USER), text="x"))
        assert caught.value.retry_after is None
    finally:
        await tg.stop()


async def test_blocked_removed_and_unknown_chats_are_permanent(
        api: FakeBotApi, transport: TelegramTransport) -> None:
    api.block(USER)
    api.block(GROUP)
    cases = [(str(USER), "blocked"), (str(GROUP), "removed"), ("999", "chat_not_found"),
             ("not-a-chat", "chat_not_found")]
    for chat_id, kind in cases:
        with pytest.raises(PermanentFailure) as caught:
            await transport.send(Outgoing(chat_id=chat_id, text="x"))
        assert caught.value.kind == kind, chat_id


# ---- pacing within the limits -----------------------------------------------------------------


async def test_one_message_a_second_per_chat_without_holding_up_others(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport) -> None:
    await transport.send(Outgoing(chat_id=str(USER), text="een"))
    clock.advance(0.25)
    requests = api.stats.requests
    with pytest.raises(NotYet) as caught:
        await transport.send(Outgoing(chat_id=str(USER), text="twee"))
    assert caught.value.wait == pytest.approx(0.75)
    assert api.stats.requests == requests  # nothing was sent: no attempt used
    await transport.send(Outgoing(chat_id=str(OTHER), text="ander gesprek"))
    clock.advance(0.75)
    await transport.send(Outgoing(chat_id=str(USER), text="twee"))
    assert [m.text for m in api.sent(USER)] == ["een", "twee"]
    assert api.stats.http_429 == 0


async def test_twenty_messages_a_minute_per_group(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport) -> None:
    for i in range(20):
        await transport.send(Outgoing(chat_id=str(GROUP), text=f"bericht {i}"))
        clock.advance(1.0)
    with pytest.raises(NotYet) as caught:
        await transport.send(Outgoing(chat_id=str(GROUP), text="een te veel"))
    assert caught.value.wait == pytest.approx(40.0)
    await transport.send(Outgoing(chat_id=str(USER), text="privé gaat door"))
    clock.advance(40.0)
    await transport.send(Outgoing(chat_id=str(GROUP), text="nu wel"))
    assert len(api.sent(GROUP)) == 21
    assert api.stats.http_429 == 0


async def test_thirty_messages_a_second_overall_are_waited_for(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport) -> None:
    for user in range(1, 32):
        api.add_user(user)
    for user in range(1, 32):
        await transport.send(Outgoing(chat_id=str(user), text="bulk"))
    assert clock.slept == [pytest.approx(1.0)]  # the 31st waited for the window
    assert api.stats.messages_sent == 31
    assert api.stats.http_429 == 0


async def test_edits_are_paced_per_chat_in_their_own_window(
        api: FakeBotApi, clock: FakeClock, transport: TelegramTransport) -> None:
    sent_id = await transport.send(Outgoing(chat_id=str(USER), text="0%"))
    await transport.send(Outgoing(chat_id=str(USER), text="50%", edit_of=sent_id))
    with pytest.raises(NotYet):
        await transport.send(Outgoing(chat_id=str(USER), text="75%", edit_of=sent_id))
    clock.advance(1.0)
    await transport.send(Outgoing(chat_id=str(USER), text="100%", edit_of=sent_id))
    assert api.sent(USER)[0].text == "100%"
    assert api.stats.http_429 == 0


# ---- webhook -----------------------------------------------------------------------------------


async def test_webhook_checks_the_secret_and_handles_before_answering(
        api: FakeBotApi, clock: FakeClock, received: Received) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    tg = TelegramTransport(settings_for(api, mode="webhook", webhook_url=url,
                                        webhook_port=port, webhook_secret="s3cret_-x"),
                           clock=clock, sleep=clock.pass_time)
    await tg.start(received)
    try:
        assert api.webhook is not None
        assert (api.webhook.url, api.webhook.secret_token) == (url, "s3cret_-x")
        update = api.user_sends(USER, "/help")
        assert update is not None
        async with ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                async with session.post(url, json=update, headers=headers) as response:
                    assert response.status == 403
        assert received.items == []
        assert await api.post_webhook_update() == 200
        assert [i.update_key for i in received.items] == [str(update["update_id"])]
    finally:
        await tg.stop()


# ---- each update once, across restarts --------------------------------------------------------


def app_settings(api: FakeBotApi, tmp_path: Path, **telegram: Any) -> Settings:
    return Settings.model_validate({
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'kortelijn.db'}"},
        "bot": {"coordinators": [f"telegram:{USER}"]},
        "telegram": {"token": api.token, "base_url": api.base_url, "request_timeout": "2s",
                     "poll_timeout": "5s", **telegram},
    })


async def count_cases(app: KorteLijn) -> int:
    async with app.new_uow() as uow:
        return int((await uow.session.execute(select(func.count(orm.Case.id)))).scalar_one())


async def test_an_update_delivered_twice_is_handled_once_also_after_a_restart(
        api: FakeBotApi, tmp_path: Path) -> None:
    api.enforce_limits = False  # not about limits: the app runs on the real clock
    clock = ManualClock(START)
    app = KorteLijn(app_settings(api, tmp_path), clock=clock)
    assert app.console is None
    assert isinstance(app.transports["telegram"], TelegramTransport)
    await app.start()
    update = api.user_sends(USER, "/nieuwezaak", first_name="Coco")
    assert update is not None
    await api.wait_for(lambda: len(api.sent(USER)) == 1)
    await app.stop()
    assert api.pending_updates == []  # PTB confirmed the offset on stopping

    # the same update again, now through the webhook of a restarted app on the same database
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    for _ in range(2):
        app = KorteLijn(app_settings(api, tmp_path, mode="webhook", webhook_url=url,
                                     webhook_port=port), clock=clock)
        await app.start()
        try:
            assert await api.post_webhook_update(update) == 200
            assert await api.post_webhook_update(update) == 200
            await app.delivery.deliver_due()
            assert await count_cases(app) == 1
        finally:
            await app.stop()
    assert len(api.sent(USER)) == 1
