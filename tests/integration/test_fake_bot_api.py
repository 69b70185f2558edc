"""The Bot API stand-in, driven by python-telegram-bot itself (and by raw HTTP where PTB hides
the wire format)."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import pytest
import telegram
from aiohttp import ClientSession, FormData, web
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.support.fake_bot_api import FakeBotApi, FloodLimits
from tests.support.seconds import FakeClock

USER = 42
OTHER_USER = 43
GROUP = -1001234567890


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(clock=clock) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(api.token, base_url=api.base_url) as ptb_bot:
        yield ptb_bot


def keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in labels_and_data]
    )


async def raw_post(api: FakeBotApi, method: str, **kwargs: object) -> tuple[int, dict]:
    async with (
        ClientSession() as session,
        session.post(f"{api.base_url}{api.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# ---- connection, tokens, wire formats ---------------------------------------------------------


async def test_get_me_describes_the_bot(api: FakeBotApi, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == int(api.token.split(":")[0])
    assert me.username == "KorteLijnTestBot"
    assert bot.base_url == f"{api.base_url}{api.token}"
    assert api.base_file_url.endswith("/file/bot")


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with telegram.Bot("111:not-the-token", base_url=api.base_url):
            pass
    async with (
        ClientSession() as session,
        session.post(f"{api.base_url}111:not-the-token/getMe") as response,
    ):
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_is_not_found(api: FakeBotApi, bot: telegram.Bot) -> None:
    status, body = await raw_post(api, "sendHologram")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram")


async def test_ptb_sends_form_encoded_fields_with_json_values(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    api.add_user(USER)
    await bot.send_message(USER, "Kies", reply_markup=keyboard(("Ja", "/ok 3")))
    call = api.calls("sendMessage")[-1]
    assert call.http_method == "POST"
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == "42"
    assert call.params["reply_markup"].startswith('{"inline_keyboard"')


async def test_json_query_string_and_multipart_requests_are_understood(
    api: FakeBotApi, clock: FakeClock
) -> None:
    api.add_user(USER)
    status, body = await raw_post(
        api,
        "sendMessage",
        json={"chat_id": USER, "text": "json", "reply_markup": {"inline_keyboard": []}},
    )
    assert (status, body["result"]["text"]) == (200, "json")
    clock.advance(1.0)
    async with (
        ClientSession() as session,
        session.get(
            f"{api.base_url}{api.token}/SENDMESSAGE", params={"chat_id": "42", "text": "get"}
        ) as response,
    ):
        assert (await response.json())["result"]["text"] == "get"
    clock.advance(1.0)
    form = FormData()
    form.add_field("chat_id", "42")
    form.add_field("text", "multipart")
    form.add_field("document", b"bytes", filename="a.txt")
    status, body = await raw_post(api, "sendMessage", data=form)
    assert (status, body["result"]["text"]) == (200, "multipart")
    assert [m.text for m in api.sent(USER)] == ["json", "get", "multipart"]
    assert api.calls()[-1].content_type == "multipart/form-data"


# ---- incoming updates -------------------------------------------------------------------------


async def test_user_message_arrives_with_command_entity(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    sent = api.user_sends(USER, "/start abc", first_name="Anna", language_code="nl")
    assert sent is not None
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [sent["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.from_user is not None
    assert message.text == "/start abc"
    assert message.chat.type == "private"
    assert message.chat.id == USER
    assert message.from_user.first_name == "Anna"
    assert message.from_user.language_code == "nl"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert message.parse_entities() == {message.entities[0]: "/start"}


async def test_plain_text_has_no_entities_and_offsets_count_utf16(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    api.user_sends(USER, "hallo")
    api.user_sends(USER, "😀 /help")
    first, second = await bot.get_updates()
    assert first.message is not None
    assert first.message.entities == ()
    assert second.message is not None
    assert [(e.offset, e.length) for e in second.message.entities] == [(3, 5)]
    assert list(second.message.parse_entities().values()) == ["/help"]


async def test_group_privacy_mode_hides_plain_group_talk(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    assert api.user_sends(USER, "gewoon praten", chat_id=GROUP, chat_type="supergroup") is None
    assert api.user_sends(USER, "/status@OtherBot", chat_id=GROUP, chat_type="supergroup") is None
    command = api.user_sends(
        USER, "/status@KorteLijnTestBot", chat_id=GROUP, chat_type="supergroup", title="Team"
    )
    assert command is not None
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.chat.type == "supergroup"
    assert update.message.chat.title == "Team"
    assert update.message.from_user is not None
    assert update.message.from_user.id == USER
    assert update.message.entities[0].length == len("/status@KorteLijnTestBot")


async def test_offset_confirms_updates_and_limit_caps_them(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    ids = [api.user_sends(USER, f"m{i}")["update_id"] for i in range(4)]  # type: ignore[index]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1] + 1)] == ids[2:]
    assert [u.update_id for u in await bot.get_updates()] == ids[2:]  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[3:]
    assert [u.update_id for u in await bot.get_updates()] == ids[3:]  # -1 forgot the rest
    assert await bot.get_updates(offset=ids[3] + 1) == ()
    assert api.pending_updates == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda: api.waiting_polls == 1)
    api.user_sends(USER, "wakker?")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["wakker?"]
    assert loop.time() - started < 5


async def test_long_poll_gives_up_after_its_timeout(api: FakeBotApi, bot: telegram.Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 5


async def test_a_second_poller_terminates_the_first(api: FakeBotApi, bot: telegram.Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda: api.waiting_polls == 1)
    # a second bot instance: one Bot's getUpdates connection pool holds a single connection
    async with telegram.Bot(api.token, base_url=api.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)


async def test_allowed_updates_filters_and_persists(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "Kies", reply_markup=keyboard(("Ja", "ja")))
    api.user_sends(USER, "tekst")
    api.user_presses(USER, sent.message_id, data="ja")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]
    api.user_sends(USER, "nog meer tekst")
    # the setting sticks until changed
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()


# ---- sending, editing, deleting ----------------------------------------------------------------


async def test_sent_message_comes_back_as_ptb_message_with_keyboard(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.add_user(USER)
    api.add_user(OTHER_USER)
    first = await bot.send_message(
        USER, "Nieuwe melding", reply_markup=keyboard(("Ok", "/ok 3"), ("Later", "/later 3"))
    )
    clock.advance(1.0)
    second = await bot.send_message(USER, "Tweede")
    elsewhere = await bot.send_message(OTHER_USER, "Ander gesprek")
    assert isinstance(first, telegram.Message)
    assert first.text == "Nieuwe melding"
    assert first.from_user is not None
    assert first.from_user.is_bot
    assert first.chat.id == USER
    assert first.reply_markup is not None
    assert [[b.callback_data for b in row] for row in first.reply_markup.inline_keyboard] == [
        ["/ok 3"],
        ["/later 3"],
    ]
    assert second.message_id == first.message_id + 1
    assert elsewhere.message_id == 1
    stored = api.sent(USER)
    assert [m.text for m in stored] == ["Nieuwe melding", "Tweede"]
    assert stored[0].callback_data == ["/ok 3", "/later 3"]
    assert api.stats.messages_sent == 3


async def test_reply_keyboards_are_stored_but_not_echoed(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    api.add_user(USER)
    message = await bot.send_message(USER, "Kies", reply_markup=ReplyKeyboardMarkup([["Ja"]]))
    assert message.reply_markup is None
    assert api.sent(USER)[0].reply_keyboard == {"keyboard": [[{"text": "Ja"}]]}


async def test_replies_reference_the_earlier_message(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    asked = api.user_sends(USER, "Wanneer?")
    assert asked is not None
    asked_id = asked["message"]["message_id"]
    answer = await bot.send_message(
        USER, "Morgen", reply_parameters=ReplyParameters(message_id=asked_id)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "Wanneer?"
    clock.advance(1.0)
    legacy = await bot.send_message(USER, "Echt", api_kwargs={"reply_to_message_id": asked_id})
    assert legacy.reply_to_message is not None
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "?", reply_parameters=ReplyParameters(message_id=999))


async def test_parse_modes_become_entities_or_parse_errors(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.add_user(USER)
    html = await bot.send_message(USER, "<b>Let op</b> &lt;3 dagen", parse_mode="HTML")
    assert html.text == "Let op <3 dagen"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [("bold", 0, 6)]
    clock.advance(1.0)
    md = await bot.send_message(USER, r"*Zaak 3* is klaar\.", parse_mode="MarkdownV2")
    assert md.text == "Zaak 3 is klaar."
    assert [e.type for e in md.entities] == ["bold"]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: Character '\.' is reserved"):
        await bot.send_message(USER, "Klaar.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "foo"'):
        await bot.send_message(USER, "<foo>x</foo>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "   ")


async def test_edit_reply_markup_applies_and_keeps_history(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "Kies", reply_markup=keyboard(("Ja", "ja")))
    edited = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("Nee", "nee"))
    )
    assert isinstance(edited, telegram.Message)
    assert edited.edit_date is not None
    assert edited.reply_markup is not None
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "nee"
    (stored,) = api.sent(USER)
    assert stored.callback_data == ["nee"]
    assert [v.reply_markup for v in stored.history] == [
        {"inline_keyboard": [[{"text": "Ja", "callback_data": "ja"}]]}
    ]
    clock.advance(1.0)
    removed = await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    assert isinstance(removed, telegram.Message)
    assert removed.reply_markup is None
    assert api.stats.edits == 2


async def test_edit_without_change_or_target_is_refused(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "Kies", reply_markup=keyboard(("Ja", "ja")))
    with pytest.raises(BadRequest, match=r"(?i)^Message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("Ja", "ja"))
        )
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    incoming = api.user_sends(USER, "van de gebruiker")
    assert incoming is not None
    with pytest.raises(BadRequest, match=r"(?i)Message can't be edited"):
        await bot.edit_message_text(
            "x", chat_id=USER, message_id=incoming["message"]["message_id"]
        )
    status, body = await raw_post(
        api,
        "editMessageReplyMarkup",
        data={
            "chat_id": str(USER),
            "message_id": str(sent.message_id),
            "reply_markup": '{"inline_keyboard": [[{"text": "Ja", "callback_data": "ja"}]]}',
        },
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: message is not modified")


async def test_edit_text_without_markup_drops_the_keyboard(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "Kies", reply_markup=keyboard(("Ja", "ja")))
    edited = await bot.edit_message_text("Gekozen: ja", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Gekozen: ja"
    assert edited.reply_markup is None
    (stored,) = api.sent(USER)
    assert stored.text == "Gekozen: ja"
    assert [v.text for v in stored.history] == ["Kies"]


async def test_delete_chat_action_and_get_chat(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.add_user(USER, first_name="Anna")
    sent = await bot.send_message(USER, "weg ermee")
    assert await bot.delete_message(USER, sent.message_id) is True
    assert api.sent(USER)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert await bot.send_chat_action(USER, "typing") is True
    with pytest.raises(BadRequest, match=r"(?i)Wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")
    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.first_name) == (USER, "private", "Anna")


# ---- callback queries --------------------------------------------------------------------------


async def test_button_press_arrives_and_is_answered(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "Kies", reply_markup=keyboard(("Ja", "/ok 3")))
    pressed = api.user_presses(USER, sent.message_id, USER, "/ok 3")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.id == pressed["callback_query"]["id"]
    assert query.data == "/ok 3"
    assert query.from_user.id == USER
    assert isinstance(query.message, telegram.Message)
    assert query.message.message_id == sent.message_id
    assert query.message.text == "Kies"
    assert await bot.answer_callback_query(query.id, text="Genoteerd") is True
    answer = api.callback_answer(query.id)
    assert answer is not None
    assert answer["text"] == "Genoteerd"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)


def test_pressing_a_button_that_does_not_exist_is_a_test_error() -> None:
    api = FakeBotApi()
    with pytest.raises(ValueError, match="has no message"):
        api.user_presses(USER, 1, data="x")


# ---- commands -----------------------------------------------------------------------------------


async def test_commands_are_kept_per_language_and_scope(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    nl = [BotCommand("status", "Stand van zaken")]
    en = [BotCommand("status", "Current state")]
    chat_only = [BotCommand("beheer", "Beheer")]
    assert await bot.set_my_commands(nl, language_code="nl") is True
    assert await bot.set_my_commands(en) is True
    assert await bot.set_my_commands(chat_only, scope=BotCommandScopeChat(USER)) is True
    assert await bot.get_my_commands(language_code="nl") == tuple(nl)
    assert await bot.get_my_commands() == tuple(en)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(USER)) == tuple(chat_only)
    assert await bot.get_my_commands(language_code="de") == ()
    assert await bot.delete_my_commands(language_code="nl") is True
    assert await bot.get_my_commands(language_code="nl") == ()
    assert api.commands() == [{"command": "status", "description": "Current state"}]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Hoofd-Letters", "x")])


# ---- webhook -----------------------------------------------------------------------------------


async def test_webhook_blocks_polling_and_receives_posted_updates(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        assert await bot.set_webhook(url, secret_token="geheim-1") is True
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()
        update = api.user_sends(USER, "/start")
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 1)
        assert await api.post_webhook_update() == 200
        assert received == [("geheim-1", update)]
        assert api.pending_updates == []
        parsed = telegram.Update.de_json(received[0][1], bot)
        assert parsed.message is not None
        assert parsed.message.text == "/start"
    finally:
        await runner.cleanup()
    api.user_sends(USER, "weggegooid")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_webhook_needs_https_elsewhere(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://example.org/hook")


# ---- errors ----------------------------------------------------------------------------------


async def test_blocked_user_is_forbidden_and_unknown_chat_not_found(
    api: FakeBotApi, bot: telegram.Bot
) -> None:
    api.add_user(USER)
    api.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hallo")
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(999, "hallo")
    status, body = await raw_post(api, "sendMessage", data={"chat_id": "999", "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    api.unblock(USER)
    assert (await bot.send_message(USER, "weer goed")).text == "weer goed"


async def test_injected_http_failures(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.add_user(USER)
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway") as caught:
        await bot.send_message(USER, "eerste poging")
    assert not isinstance(caught.value, (BadRequest, TimedOut))
    assert (await bot.send_message(USER, "tweede poging")).text == "tweede poging"
    assert [m.text for m in api.sent(USER)] == ["tweede poging"]
    api.fail_next("sendmessage", count=2, status=500)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "x")
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(USER, "x")
    assert flood.value.retry_after == dtm.timedelta(seconds=7)
    assert api.stats.by_status[502] == 1
    assert api.stats.by_status[500] == 2
    assert api.stats.http_429 == 1
    status, body = await raw_post(api, "getMe")
    assert status == 200
    assert body["ok"]
    api.fail_next("getMe", status=502)
    status, body = await raw_post(api, "getMe")
    assert (status, body) == (
        502,
        {"ok": False, "error_code": 502, "description": "Bad Gateway"},
    )


async def test_injected_timeouts_with_and_without_effect(api: FakeBotApi) -> None:
    api.add_user(USER)
    request = HTTPXRequest(read_timeout=0.3)
    async with telegram.Bot(api.token, base_url=api.base_url, request=request) as bot:
        api.fail_next("sendMessage", kind="timeout")
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "verloren")
        assert api.sent(USER) == []
        api.fail_next("sendMessage", kind="lost_reply")
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "toch verstuurd")
        assert [m.text for m in api.sent(USER)] == ["toch verstuurd"]


# ---- flood control -----------------------------------------------------------------------------


async def test_per_chat_limit_triggers_and_clears(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.add_user(USER)
    await bot.send_message(USER, "een")
    clock.advance(0.3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(USER, "twee")
    assert flood.value.retry_after == dtm.timedelta(seconds=1)
    clock.advance(0.7)
    assert (await bot.send_message(USER, "twee")).text == "twee"
    assert api.stats.http_429 == 1
    assert [m.text for m in api.sent(USER)] == ["een", "twee"]


async def test_429_body_is_the_real_one(api: FakeBotApi) -> None:
    api.add_user(USER)
    await raw_post(api, "sendMessage", data={"chat_id": str(USER), "text": "een"})
    status, body = await raw_post(api, "sendMessage", data={"chat_id": str(USER), "text": "x"})
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )


async def test_per_group_limit_triggers_and_clears(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.add_group(GROUP)
    for i in range(20):
        await bot.send_message(GROUP, f"bericht {i}")
        clock.advance(1.0)  # keeps within the per-chat limit
    clock.advance(0.5)  # t=20.5; the first message (t=0) leaves the window at t=60
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(GROUP, "een te veel")
    assert flood.value.retry_after == dtm.timedelta(seconds=40)  # 39.5 s, rounded up
    clock.advance(39.0)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(GROUP, "nog steeds te veel")
    assert flood.value.retry_after == dtm.timedelta(seconds=1)
    clock.advance(0.5)
    assert (await bot.send_message(GROUP, "nu wel")).text == "nu wel"
    assert api.stats.http_429 == 2


async def test_overall_limit_triggers_and_clears(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    for user in range(1, 32):
        api.add_user(user)
    for user in range(1, 31):
        await bot.send_message(user, "bulk")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(31, "bulk")
    assert flood.value.retry_after == dtm.timedelta(seconds=1)
    clock.advance(1.0)
    assert (await bot.send_message(31, "bulk")).chat.id == 31
    assert api.stats.messages_sent == 31
    assert api.stats.http_429 == 1


async def test_edits_have_their_own_per_chat_window(
    api: FakeBotApi, bot: telegram.Bot, clock: FakeClock
) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "0%")
    await bot.edit_message_text("50%", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("75%", chat_id=USER, message_id=sent.message_id)
    clock.advance(1.0)
    assert await bot.edit_message_text("100%", chat_id=USER, message_id=sent.message_id)


async def test_limits_are_options(clock: FakeClock) -> None:
    async with (
        FakeBotApi(clock=clock, enforce_limits=False) as relaxed,
        telegram.Bot(relaxed.token, base_url=relaxed.base_url) as bot,
    ):
        relaxed.add_user(USER)
        for _ in range(5):
            await bot.send_message(USER, "snel")
        assert relaxed.stats.http_429 == 0
    limits = FloodLimits(per_chat=3)
    async with (
        FakeBotApi(clock=clock, limits=limits) as burst,
        telegram.Bot(burst.token, base_url=burst.base_url) as bot,
    ):
        burst.add_user(USER)
        for _ in range(3):
            await bot.send_message(USER, "snel")
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "te snel")


# ---- a whole PTB Application ------------------------------------------------------------------


async def test_application_polls_and_answers(api: FakeBotApi) -> None:
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Welkom")

    application = Application.builder().token(api.token).base_url(api.base_url).build()
    application.add_handler(CommandHandler("start", start))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        await application.start()
        api.user_sends(USER, "/start")
        await api.wait_for(lambda: api.sent(USER), within=10)
        await application.updater.stop()
        await application.stop()
    assert [m.text for m in api.sent(USER)] == ["Welkom"]
    names = [c.method for c in api.calls()]
    assert names[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert api.pending_updates == []  # the final getUpdates confirmed what was handled
