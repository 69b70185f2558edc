"""Telegram, through python-telegram-bot (v22), on the bot's one event loop.

PTB's ``Application`` provides the Bot (initialised by hand; never ``run_polling``, which would
own the loop). Updates come by long polling (the default) or a webhook served with aiohttp that
checks Telegram's secret-token header. Long polling is our own loop over ``getUpdates``, not
PTB's Updater: the offset moves past an update only after the core has handled it and
committed its record, and the webhook answers 200 only then; so a crash at any moment loses no
update (Telegram delivers it again, and the record makes the second handling a no-op). Every
text message and button press becomes an :class:`Incoming` (its ``update_key`` is the
update_id); every :class:`Outgoing` becomes sendMessage or editMessageText with an inline
keyboard, whose buttons carry a compact reference to the choice stored with the message
(``c<outbox id>:<index>``), resolved by the core: a button works after a restart, and nothing
is kept in memory.

Delivery stays within Telegram's limits (https://core.telegram.org/bots/faq): at most 30
messages a second overall, 1 a second per chat and 20 a minute per group. The overall limit is
waited out here, urgent messages first (it holds for every chat alike); a chat that is not
ready yet raises :class:`NotYet` at once, so the delivery loop goes on with other chats. Sends
to different chats may run at once. A 429 that comes anyway is a :class:`RetryLater` after
Telegram's ``retry_after``; 5xx and network errors are retried with back-off by the loop (a
time-out as "maybe sent"); a blocked bot or a chat that is gone is a :class:`PermanentFailure`.

Transport message ids are ``"<chat id>:<message id>"``. No business rule lives here, and the
token never reaches a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import hmac
import itertools
import logging
import math
import re
import secrets
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot import i18n
from bot.config import ConfigError, TelegramSettings
from bot.transports.base import (
    Attachment,
    Audience,
    Choice,
    Document,
    Incoming,
    IncomingHandler,
    NotYet,
    Outgoing,
    PermanentFailure,
    RetryLater,
)

log = logging.getLogger(__name__)

#: the update types the bot asks for: messages and button presses, and changes of a group's
#: members (``chat_member``: only sent where the bot is an administrator, and only when asked
#: for) and of the bot's own membership (``my_chat_member``), so that the policy knows a
#: shared chat's audience (docs/PRIVACY.md)
ALLOWED_UPDATES = ("message", "callback_query", "chat_member", "my_chat_member")

#: the statuses of a member who is in the chat
IN_CHAT = frozenset({"creator", "administrator", "member"})
#: Telegram's limits on one message
TEXT_LIMIT = 4096
#: a document's caption (the message's text) has at most this many characters
CAPTION_LIMIT = 1024
#: the most a bot may download of a file a person sent (getFile refuses larger ones)
DOWNLOAD_LIMIT = 20 * 1024 * 1024
CALLBACK_DATA_LIMIT = 64
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
#: a button's callback data is ``c<outbox id>:<index>``: at most 1 + 10 + 1 + 4 bytes
CHOICE_MARK = "c"
CHOICE_DATA = re.compile(r"c(\d{1,10}):(\d{1,4})")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

#: how long a message waits (no attempt counted) when the transport is not running; the
#: delivery loop does not send to a transport before it is ready, and is woken when it is
NOT_RUNNING_WAIT = 1.0
#: the jitter of the polling back-off (not a secret: only spreads retries in time)
_JITTER = secrets.SystemRandom()


# --------------------------------------------------------------------------------------------
# pacing


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's documented flood limits."""

    overall: int = 30
    overall_window: float = 1.0
    per_chat: int = 1
    per_chat_window: float = 1.0
    per_group: int = 20
    per_group_window: float = 60.0


class _Slot:
    """One message counted in a window: from its request (``at`` is ``None`` while it is in
    flight, so it counts however long the request takes) until ``window`` after its answer."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


#: a chat whose window is full of requests still in flight: how long it is held back
IN_FLIGHT_RECHECK = 0.05


class _Window:
    """At most ``limit`` messages per key in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._slots: dict[object, deque[_Slot]] = {}

    def wait(self, key: object, now: float) -> float:
        """Seconds until one more message for ``key`` is allowed; 0 when it is allowed now;
        infinite while the window is full of requests in flight (an answer frees it)."""
        slots = self._slots.get(key)
        if not slots:
            return 0.0
        horizon = now - self.window
        live = [s for s in slots if s.at is None or s.at > horizon]
        if not live:
            del self._slots[key]
            return 0.0
        if len(live) != len(slots):
            self._slots[key] = deque(live)
        if len(live) < self.limit:
            return 0.0
        # the oldest answers leave the window first; requests in flight never do
        answered = sorted(s.at for s in live if s.at is not None)
        must_leave = len(live) - self.limit + 1
        if must_leave > len(answered):
            return math.inf
        return max(answered[must_leave - 1] + self.window - now, 1e-6)

    def take(self, key: object) -> _Slot:
        slot = _Slot()
        self._slots.setdefault(key, deque()).append(slot)
        return slot


#: the order in which waiting messages get the overall limit (``Outgoing.urgent``/``bulk``)
URGENT, NORMAL, BULK = 0, 1, 2


def priority_of(message: Outgoing) -> int:
    return URGENT if message.urgent else BULK if message.bulk else NORMAL


class Pacer:
    """Client-side flood control, so that Telegram has no reason to answer 429.

    A message counts from its request until a window's length after its answer (Telegram
    counted it at some moment in between), so the next one is never early, however long the
    request took, and however many are in flight at once. Edits count per chat and per group
    in windows of their own and not towards the overall limit.

    Messages waiting for the overall limit are admitted by priority (urgent, normal, bulk),
    first come first served within one: when the overall limit is the bottleneck, a reminder
    does not wait behind a digest. A chat that may not receive another message yet raises
    :class:`NotYet` at once, so that it holds back nothing but itself.
    """

    def __init__(self, limits: Limits | None = None, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._overall = _Window(self.limits.overall, self.limits.overall_window)
        self._chat = _Window(self.limits.per_chat, self.limits.per_chat_window)
        self._group = _Window(self.limits.per_group, self.limits.per_group_window)
        self._queue: list[tuple[int, int]] = []
        self._arrivals = itertools.count()
        self._turns = asyncio.Event()
        self._answers = asyncio.Event()

    def chat_wait(self, chat_id: int, *, edit: bool = False) -> float:
        """Seconds until this chat may receive another message (or edit)."""
        now = self._clock()
        wait = self._chat.wait((chat_id, edit), now)
        if chat_id < 0:  # groups, supergroups and channels have negative ids
            wait = max(wait, self._group.wait((chat_id, edit), now))
        return IN_FLIGHT_RECHECK if math.isinf(wait) else wait

    @property
    def waiting(self) -> int:
        """Messages now waiting for the overall limit."""
        return len(self._queue)

    async def _overall_turn(self, priority: int) -> None:
        """Wait until this message is the most urgent (then the oldest) one waiting and the
        overall limit allows one more."""
        entry = (priority, next(self._arrivals))
        heapq.heappush(self._queue, entry)
        try:
            while True:
                if self._queue[0] == entry:
                    wait = self._overall.wait(None, self._clock())
                    if wait <= 0:
                        return
                    if math.isinf(wait):  # all in flight: the next answer frees a place
                        answers = self._answers
                        await answers.wait()
                    else:
                        await self._sleep(wait)  # only the first in line waits for the clock
                else:
                    turns = self._turns
                    await turns.wait()
        finally:
            self._queue.remove(entry)
            heapq.heapify(self._queue)
            self._turns.set()  # the next in line looks again
            self._turns = asyncio.Event()

    @contextlib.asynccontextmanager
    async def paced(self, chat_id: int, *, edit: bool = False, priority: int = NORMAL
                    ) -> AsyncIterator[None]:
        """Admit one message to ``chat_id``: raise :class:`NotYet` when this chat is not
        ready, wait for the overall limit by priority; count it until its answer is in."""
        wait = self.chat_wait(chat_id, edit=edit)
        if wait > 0:
            raise NotYet("paced: chat not ready", wait)
        if not edit:
            await self._overall_turn(priority)
            wait = self.chat_wait(chat_id, edit=edit)  # another send may have come first
            if wait > 0:
                raise NotYet("paced: chat not ready", wait)
        slots = [self._chat.take((chat_id, edit))]
        if chat_id < 0:
            slots.append(self._group.take((chat_id, edit)))
        if not edit:
            slots.append(self._overall.take(None))
        try:
            yield
        finally:
            done = self._clock()
            for slot in slots:
                slot.at = done
            self._answers.set()
            self._answers = asyncio.Event()


# --------------------------------------------------------------------------------------------
# the transport


def message_id_of(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def parse_message_id(value: str, chat_id: int) -> tuple[int, int]:
    """``"chat:message"`` (or a bare message id in ``chat_id``) → (chat id, message id)."""
    chat, sep, message = value.rpartition(":")
    return (int(chat) if sep else chat_id), int(message)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def retry_after_seconds(error: RetryAfter) -> float:
    """``retry_after`` is an int (deprecated) or, with ``PTB_TIMEDELTA``, a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(error.retry_after)


def backoff_delay(failures: int, first: float, cap: float,
                  uniform: Callable[[float, float], float] = _JITTER.uniform) -> float:
    """Exponential back-off with jitter, bounded: the ``failures``-th retry in a row waits
    between half and all of ``first`` doubled each time, never more than ``cap``; so an
    outage brings no storm of retries, and instances that failed together spread out."""
    delay = min(cap, first * 2 ** min(max(failures, 1) - 1, 30))
    return uniform(delay / 2, delay)


class _RedactToken(logging.Filter):
    """Blanks the token out of a log record (PTB logs its API URL, which holds the token)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if self.token in text:
                record.exc_text = text.replace(self.token, "<token>")
        return True


def _guard_logs(token: str) -> None:
    """httpx logs every request's URL at INFO, and a Bot API URL holds the token: keep httpx
    at WARNING, and blank the token out of whatever python-telegram-bot logs."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    names = [name for name in logging.Logger.manager.loggerDict
             if name == "telegram" or name.startswith("telegram.")]
    for name in ("telegram", "telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore",
                 *names):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(_RedactToken(token))


def _in_chat(member: ChatMember) -> bool:
    if member.status in IN_CHAT:
        return True
    return member.status == "restricted" and bool(getattr(member, "is_member", False))


class TelegramTransport:
    name = "telegram"

    def __init__(self, settings: TelegramSettings, *,
                 commands: Mapping[str, Sequence[tuple[str, str]]] | None = None,
                 default_language: str = "nl", limits: Limits | None = None,
                 pacing: bool = True, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep,
                 poll_backoff: tuple[float, float] = (0.5, 30.0),
                 attachment_limit: int = DOWNLOAD_LIMIT) -> None:
        if settings.token is None:
            raise ConfigError("telegram.token is not set")
        if settings.mode == "webhook" and not settings.webhook_url:
            raise ConfigError("telegram.mode is 'webhook': set telegram.webhook_url too")
        self._settings = settings
        #: a file a person sends is fetched only up to this size (the core says it is too
        #: large otherwise); Telegram lets a bot fetch 20 MB at most
        self._attachment_limit = min(attachment_limit, DOWNLOAD_LIMIT)
        self._token = settings.token.get_secret_value()
        self._commands = dict(commands or {})
        self._default_language = default_language
        self.pacer = Pacer(limits, clock=clock, sleep=sleep) if pacing else None
        self.username: str | None = settings.username
        self._migrated: dict[int, int] = {}
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._on_incoming: IncomingHandler | None = None
        self._runner: web.AppRunner | None = None
        self._webhook_lock = asyncio.Lock()
        #: polling: the first update not yet handled (``None``: whatever Telegram still has)
        self._offset: int | None = None
        self._poller: asyncio.Task[None] | None = None
        self._poll_trouble: str | None = None
        #: polling back-off after a failure: first delay and cap, in seconds
        self._poll_backoff = poll_backoff
        #: this instance takes the account's updates (several instances: only the one that
        #: holds the account's lock, ``bot/leader.py``; the others only send)
        self.receiving = True
        secret = settings.webhook_secret
        self._secret = secret.get_secret_value() if secret else secrets.token_urlsafe(32)
        _guard_logs(self._token)

    # --- life cycle ---------------------------------------------------------------------------
    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """PTB's Application for its Bot (its request pools, its de-serialisation); updates
        are fetched and confirmed by our own loop (``_poll``), never by PTB's Updater."""
        timeout = self._settings.request_timeout.total_seconds()
        builder = (
            Application.builder().token(self._token).base_url(self._settings.base_url)
            .base_file_url(file_url(self._settings.base_url))
            .connect_timeout(timeout).read_timeout(timeout).write_timeout(timeout)
            .pool_timeout(timeout)
            .get_updates_connect_timeout(timeout).get_updates_read_timeout(timeout)
            .get_updates_write_timeout(timeout).get_updates_pool_timeout(timeout)
            .job_queue(None).updater(None))
        app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        return app

    async def start(self, on_incoming: IncomingHandler) -> None:
        self._on_incoming = on_incoming
        app = self._build()
        try:
            await app.initialize()  # getMe
        except InvalidToken:
            raise ConfigError("telegram: the Bot API refused the token") from None
        except TelegramError as error:
            raise RuntimeError(
                f"telegram: the Bot API cannot be reached ({type(error).__name__})") from None
        self._app = app
        self.username = self._settings.username or app.bot.username
        await self._register_commands()
        if self._settings.mode != "webhook":
            with contextlib.suppress(TelegramError):  # polling and a webhook exclude each other
                await app.bot.delete_webhook()
        if self.receiving:
            await self._start_receiving()
        log.info("telegram runs (%s) as @%s%s", self._settings.mode, self.username,
                 "" if self.receiving else ", sending only")

    async def set_receiving(self, receiving: bool) -> None:
        """Take this account's updates (or stop taking them, and only send) from now on."""
        self.receiving = receiving
        if self._app is None:
            return  # ``start`` does what this says
        if receiving and self._poller is None and self._runner is None:
            await self._start_receiving()
            log.info("telegram: this instance now takes the updates")
        elif not receiving:
            # not confirmed here: the instance that took over may be polling already (the
            # updates it gets again were recorded as handled: each is a no-op)
            await self._stop_receiving(self._app, confirm=False)
            log.info("telegram: another instance takes the updates; this one only sends")

    async def _start_receiving(self) -> None:
        if self._settings.mode == "webhook":
            await self._start_webhook()
        else:
            self._poll_trouble = None
            self._poller = asyncio.create_task(self._poll(), name="telegram-polling")

    async def _stop_receiving(self, app: Application[Any, Any, Any, Any, Any, Any], *,
                              confirm: bool = True) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            if confirm:
                await self._confirm_handled(app.bot)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def stop(self) -> None:
        app, self._app = self._app, None
        if app is None:
            return
        try:
            await self._stop_receiving(app)
        finally:
            await app.shutdown()

    @property
    def connected(self) -> bool:
        """Started and receiving: polling, or the webhook server up (for /readyz, metrics)."""
        if self._app is None:
            return False
        if not self.receiving:
            return True  # sending only: up once started
        if self._settings.mode == "webhook":
            return self._runner is not None
        # our own polling loop runs, and its last getUpdates did not fail
        return (self._poller is not None and not self._poller.done()
                and self._poll_trouble is None)

    def invite_link(self, code: str) -> str:
        """A deep link that starts a private chat with the bot and sends ``/start <code>``."""
        return f"https://t.me/{self.username or ''}?start={code}"

    async def _register_commands(self) -> None:
        """The command menu, per language; the default language also for everyone else."""
        bot = self._bot()
        menus = [(lang, menu) for lang, menu in self._commands.items() if menu]
        default = self._commands.get(self._default_language)
        if default:
            menus.append(("", default))
        for lang, menu in menus:
            commands = [BotCommand(name, description[:256]) for name, description in menu]
            try:
                await bot.set_my_commands(commands, language_code=lang or None)
            except TelegramError as error:
                log.warning("telegram: command menu (%s) not registered: %s",
                            lang or "default", type(error).__name__)

    def _bot(self) -> Bot:
        if self._app is None:
            raise RetryLater("telegram is not running")
        bot: Bot = self._app.bot
        return bot

    # --- long polling -------------------------------------------------------------------------
    async def _poll(self) -> None:
        """Fetch updates and hand them to the core one by one, in order. Telegram counts an
        update as confirmed once a getUpdates asks for a higher offset, so the offset moves
        past an update only after the core has handled it and committed its record (or found
        nothing in it to handle): a crash at any moment leaves it unconfirmed, to come again,
        or handled (and then recorded, so the second time is a no-op)."""
        bot = self._bot()
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self._offset, timeout=self._settings.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # every failure: back off, go on
                failures += 1
                await self._poll_failed(error, failures)
                continue
            failures = 0
            if self._poll_trouble is not None:
                log.warning("telegram: polling works again")
                self._poll_trouble = None
            for update in updates:
                try:
                    await self._handle_update(update)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # not confirmed: the next getUpdates returns it again
                    failures += 1
                    log.exception("telegram: update not handled; it stays unconfirmed")
                    await self._backoff(failures)
                    break
                self._offset = update.update_id + 1

    async def _poll_failed(self, error: Exception, failures: int) -> None:
        """Say clearly what went wrong, once per kind in a row, and wait before asking again."""
        if isinstance(error, Conflict):
            kind = "conflict"
            message = ("telegram: getUpdates refused (409 Conflict): another instance of the "
                       "bot polls with this token, or a webhook is set; trying again")
        elif isinstance(error, InvalidToken):
            kind = "token"
            message = ("telegram: the Bot API refuses the token (revoked?); set a valid "
                       "telegram.token; trying again")
        elif isinstance(error, NetworkError):  # time-outs, 5xx, connection errors
            kind = "network"
            message = f"telegram: polling failed ({type(error).__name__}); trying again"
        else:
            kind = "other"
            message = f"telegram: polling failed ({type(error).__name__}); trying again"
        if kind != self._poll_trouble:
            (log.error if kind in ("conflict", "token") else log.warning)(message)
        self._poll_trouble = kind
        await self._backoff(failures)

    async def _backoff(self, failures: int) -> None:
        await asyncio.sleep(backoff_delay(failures, *self._poll_backoff))

    async def _confirm_handled(self, bot: Bot) -> None:
        """On a clean stop: confirm what was handled since the last poll, so that a restart
        does not fetch it again (it would be a no-op, but costs a look-up each)."""
        if self._offset is None:
            return
        with contextlib.suppress(TelegramError):
            await bot.get_updates(offset=self._offset, limit=1, timeout=0)

    # --- webhook ------------------------------------------------------------------------------
    async def _start_webhook(self) -> None:
        url = self._settings.webhook_url or ""
        server = web.Application()
        server.router.add_post(urlsplit(url).path or "/", self._webhook)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._settings.webhook_listen,
                               self._settings.webhook_port)
            await site.start()
            # one connection at a time: Telegram then posts the updates in order
            await self._bot().set_webhook(url, secret_token=self._secret,
                                          allowed_updates=ALLOWED_UPDATES, max_connections=1)
        except BaseException:
            # not listening (the port is still another's: an instance that lost the account
            # has yet to let go of it), or the webhook not set: undone, so that the next try
            # (``set_receiving``) starts afresh and ``connected`` says so meanwhile
            await runner.cleanup()
            raise
        self._runner = runner

    async def _webhook(self, request: web.Request) -> web.Response:
        """One update from Telegram: answered 200 only once it has been handled and its
        record committed; otherwise 500, and Telegram posts it again."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning("telegram: webhook request without the right secret refused")
            return web.Response(status=403)
        app = self._app
        if app is None:
            return web.Response(status=503)
        try:
            update = Update.de_json(await request.json(), app.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        async with self._webhook_lock:
            try:
                await self._handle_update(update)
            except Exception:
                log.exception("telegram: webhook update not handled; Telegram will retry")
                return web.Response(status=500)
        return web.Response()

    # --- receiving ----------------------------------------------------------------------------
    async def _handle_update(self, update: Update) -> None:
        """Hand one update to the core. Returns once it is handled and recorded (or has
        nothing for the core: another bot's command, a kind the bot does not read); raises
        when it was not, and then it must not be confirmed."""
        incoming = await self._incoming(update)
        if incoming is None or self._on_incoming is None:
            return
        await self._on_incoming(incoming)

    async def _incoming(self, update: Update) -> Incoming | None:
        key = str(update.update_id)
        changed = update.chat_member or update.my_chat_member
        if changed is not None:
            return self._membership(changed, key)
        query = update.callback_query
        if query is not None:
            user = query.from_user
            ref = parse_choice_data(query.data or "")
            legacy = (query.data or "") if (query.data or "").startswith("/") else None
            notice = None if ref is not None or legacy is not None else i18n.t(
                i18n.language_of(user.language_code), "telegram.button_expired")
            with contextlib.suppress(TelegramError):  # promptly: the button stops spinning
                await query.answer(text=notice)
            if ref is None and legacy is None:
                return None
            chat = query.message.chat if query.message is not None else None
            chat_id = chat.id if chat is not None else user.id
            pressed = (message_id_of(chat_id, query.message.message_id)
                       if query.message is not None else None)
            return Incoming(
                transport=self.name, chat_id=str(chat_id), sender_id=str(user.id),
                sender_name=user.full_name, text=legacy or "",
                is_group=chat is not None and chat.type != "private", is_choice=True,
                choice_message_id=pressed, choice_outbox_id=ref[0] if ref else None,
                choice_index=ref[1] if ref else None, language_hint=user.language_code,
                update_key=key)
        message = update.message
        if message is not None and message.chat.type != "private" and (
                message.new_chat_members or message.left_chat_member):
            # the service message a group shows when people join or leave
            joined = message.new_chat_members or ()
            who = joined[0] if joined else message.left_chat_member
            if who is not None:
                return Incoming(
                    transport=self.name, chat_id=str(message.chat.id), sender_id=str(who.id),
                    sender_name="", text="", is_group=True, update_key=key,
                    event="member_joined" if joined else "member_left",
                    member_id=str(who.id))
        if message is None or message.from_user is None:
            return None
        text = message.text if message.text is not None else message.caption
        if text is None:
            return None
        is_group = message.chat.type != "private"
        if is_group and not self._addressed_to_me(text):
            return None
        sender = message.from_user
        attachments = () if is_group else await self._attachments(message)
        return Incoming(
            transport=self.name, chat_id=str(message.chat.id), sender_id=str(sender.id),
            sender_name=sender.full_name, text=text,
            message_id=str(message.message_id), is_group=is_group,
            language_hint=sender.language_code, update_key=key, attachments=attachments)

    async def _attachments(self, message: Message) -> tuple[Attachment, ...]:
        """The file a message carries (a document, the largest size of a photo, a video, an
        audio file or voice note), fetched with getFile when it is not too large. A failure
        of the network raises: the update is not confirmed and comes again."""
        found: list[tuple[str, str, str | None, int]] = []  # file id, name, type, size
        if message.document is not None:
            d = message.document
            found.append((d.file_id, d.file_name or "document", d.mime_type, d.file_size or 0))
        if message.photo:
            p = max(message.photo, key=lambda size: size.file_size or size.width * size.height)
            found.append((p.file_id, "photo.jpg", "image/jpeg", p.file_size or 0))
        for media, name in ((message.video, "video.mp4"), (message.audio, "audio"),
                            (message.voice, "voice.ogg")):
            if media is not None:
                found.append((media.file_id, getattr(media, "file_name", None) or name,
                              media.mime_type, media.file_size or 0))
        out = []
        for file_id, name, mime, size in found:
            if size > self._attachment_limit:
                out.append(Attachment(filename=name, mime=mime, size=size, data=None))
                continue
            try:
                file = await self._bot().get_file(file_id)
            except BadRequest:  # "file is too big" (or gone): the core answers "too large"
                out.append(Attachment(filename=name, mime=mime, size=max(
                    size, self._attachment_limit + 1), data=None))
                continue
            data = bytes(await file.download_as_bytearray())
            out.append(Attachment(filename=name, mime=mime, size=len(data), data=data))
        return tuple(out)

    def _membership(self, changed: ChatMemberUpdated, key: str) -> Incoming | None:
        """Someone (or the bot itself) joined or left a group, or its rights changed: the
        core counts the group's members again."""
        if changed.chat.type == "private":
            return None
        old, new = changed.old_chat_member, changed.new_chat_member
        was_in, is_in = _in_chat(old), _in_chat(new)
        member = new.user
        if was_in == is_in and member.id != (self._app.bot.id if self._app else None):
            return None  # a change of rights, no change of who is in it
        return Incoming(
            transport=self.name, chat_id=str(changed.chat.id), sender_id=str(member.id),
            sender_name="", text="", is_group=True, update_key=key,
            event="member_joined" if is_in else "member_left", member_id=str(member.id))

    async def audience(self, chat_id: str) -> Audience:
        """Who is in a group, as far as Telegram tells: it lists no members, so only the
        count (``getChatMemberCount``, without the bot), and whether the bot is an
        administrator (``getChatMember``), so that it hears of every join; the core compares
        the count with the members it knows."""
        bot = self._bot()
        count = await bot.get_chat_member_count(int(chat_id))
        me = await bot.get_chat_member(int(chat_id), bot.id)
        # only an administrator is told of others' joins and leaves (chat_member updates)
        return Audience(member_ids=frozenset(), total=max(count - 1, 0),
                        followed=me.status in ("administrator", "creator"))

    def _addressed_to_me(self, text: str) -> bool:
        """In a group, ``/cmd@OtherBot`` is for another bot."""
        head = text.split(None, 1)[0] if text.strip() else ""
        _, at, addressee = head.partition("@")
        return not at or addressee.lower() == (self.username or "").lower()

    # --- sending ------------------------------------------------------------------------------
    async def send(self, message: Outgoing) -> str:
        if self._app is None:  # stopped (or not yet started): keep it, costs no attempt
            raise NotYet("telegram is not running", NOT_RUNNING_WAIT)
        try:
            chat_id = int(message.chat_id)
        except ValueError:
            raise PermanentFailure("not a Telegram chat id", "chat_not_found") from None
        text = message.text if len(message.text) <= TEXT_LIMIT else (
            message.text[:TEXT_LIMIT - 1] + "…")
        if not text.strip():
            text = "…"
        markup = keyboard(message.choices, message.outbox_id)
        priority = priority_of(message)
        try:
            if message.document is not None:
                return await self._send_document(chat_id, message.document, message.text,
                                                 message.reply_to, priority)
            if message.edit_of is not None:
                return await self._edit(chat_id, message.edit_of, text, markup, priority)
            return await self._send_new(chat_id, text, markup, message.reply_to, priority)
        except RetryAfter as error:
            raise RetryLater("429 flood control", retry_after_seconds(error)) from None
        except Forbidden as error:
            words = str(error).lower()
            kind = ("removed" if "kicked" in words or "not a member" in words
                    else "blocked" if "blocked" in words or "deactivated" in words
                    else "refused")
            raise PermanentFailure(str(error), kind) from None
        except BadRequest as error:
            kind = "chat_not_found" if "chat not found" in str(error).lower() else "refused"
            raise PermanentFailure(str(error), kind) from None
        except TimedOut:  # the request may have reached Telegram all the same
            raise RetryLater("network: TimedOut", maybe_sent=True) from None
        except NetworkError as error:  # 5xx, connection errors
            raise RetryLater(f"network: {type(error).__name__}") from None
        except InvalidToken:
            raise RetryLater("token refused") from None
        except TelegramError as error:
            raise RetryLater(type(error).__name__) from None

    async def _send_new(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None,
                        reply_to: str | None, priority: int = NORMAL) -> str:
        chat_id = self._migrated.get(chat_id, chat_id)
        reply = None
        if reply_to:
            with contextlib.suppress(ValueError):
                reply = ReplyParameters(message_id=parse_message_id(reply_to, chat_id)[1],
                                        allow_sending_without_reply=True)
        try:
            async with self._paced(chat_id, priority=priority):
                sent: Message = await self._bot().send_message(
                    chat_id, text, reply_markup=markup, reply_parameters=reply,
                    link_preview_options=LinkPreviewOptions(is_disabled=True))
        except ChatMigrated as moved:  # a group became a supergroup, with a new id
            self._migrated[chat_id] = moved.new_chat_id
            return await self._send_new(moved.new_chat_id, text, markup, None, priority)
        return message_id_of(sent.chat_id, sent.message_id)

    async def _send_document(self, chat_id: int, document: Document, caption: str,
                             reply_to: str | None, priority: int = NORMAL) -> str:
        """A file as a document (sendDocument, multipart), the message as its caption."""
        chat_id = self._migrated.get(chat_id, chat_id)
        if len(caption) > CAPTION_LIMIT:
            caption = caption[:CAPTION_LIMIT - 1] + "…"
        reply = None
        if reply_to:
            with contextlib.suppress(ValueError):
                reply = ReplyParameters(message_id=parse_message_id(reply_to, chat_id)[1],
                                        allow_sending_without_reply=True)
        try:
            async with self._paced(chat_id, priority=priority):
                sent: Message = await self._bot().send_document(
                    chat_id, InputFile(document.data, filename=document.filename),
                    caption=caption or None, reply_parameters=reply)
        except ChatMigrated as moved:
            self._migrated[chat_id] = moved.new_chat_id
            return await self._send_document(moved.new_chat_id, document, caption, None,
                                             priority)
        return message_id_of(sent.chat_id, sent.message_id)

    async def _edit(self, chat_id: int, edit_of: str, text: str,
                    markup: InlineKeyboardMarkup | None, priority: int = NORMAL) -> str:
        try:
            chat_id, message_id = parse_message_id(edit_of, chat_id)
        except ValueError:
            return await self._send_new(chat_id, text, markup, None, priority)
        try:
            async with self._paced(chat_id, edit=True):
                # without reply_markup Telegram drops the keyboard: no button is pressed twice
                await self._bot().edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True))
        except BadRequest as error:
            words = str(error).lower()
            if "not modified" in words:
                return message_id_of(chat_id, message_id)
            if ("message to edit not found" in words or "can't be edited" in words
                    or "message_id_invalid" in words):
                return await self._send_new(chat_id, text, markup, None, priority)
            raise
        return message_id_of(chat_id, message_id)

    def _paced(self, chat_id: int, *, edit: bool = False, priority: int = NORMAL
               ) -> contextlib.AbstractAsyncContextManager[None]:
        if self.pacer is None:
            return contextlib.nullcontext()
        return self.pacer.paced(chat_id, edit=edit, priority=priority)


# --------------------------------------------------------------------------------------------
# buttons


def file_url(base_url: str) -> str:
    """Where the Bot API serves files, from its base URL: ``…/bot`` → ``…/file/bot``."""
    trimmed = base_url.rstrip("/")
    if trimmed.endswith("/bot"):
        return trimmed[:-len("/bot")] + "/file/bot"
    return trimmed + "/file/bot"


def choice_data(outbox_id: int, index: int) -> str:
    """A button's callback data: a compact reference to the choice stored with the message
    (outbox row and index), resolved by the core, so it works after a restart."""
    return f"{CHOICE_MARK}{outbox_id}:{index}"


def parse_choice_data(data: str) -> tuple[int, int] | None:
    """(outbox id, index) from a button's callback data; ``None`` if it is none of ours.
    (Anyone can send any callback data: the core checks the message is this chat's.)"""
    found = CHOICE_DATA.fullmatch(data)
    return (int(found.group(1)), int(found.group(2))) if found else None


def keyboard(choices: Sequence[Choice], outbox_id: int | None) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a message: one button per choice, by reference; without an
    outbox row (none of the core's messages) the command itself, where it fits."""
    if not choices:
        return None
    buttons = [InlineKeyboardButton(choice.label, callback_data=(
        choice_data(outbox_id, index) if outbox_id is not None
        else choice.command if 0 < len(choice.command.encode()) <= CALLBACK_DATA_LIMIT
        else CHOICE_MARK)) for index, choice in enumerate(choices)]
    columns = 2 if len(buttons) > 3 and all(len(c.label) <= 20 for c in choices) else 1
    return InlineKeyboardMarkup(
        [buttons[i:i + columns] for i in range(0, len(buttons), columns)])
