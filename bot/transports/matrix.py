"""Matrix, through matrix-nio (with end-to-end encryption by vodozemac), on the bot's one event
loop.

What breaks Matrix bots in production, and what this transport does about it:

- **Old events handled again after a restart.** The sync position lives in our database (the
  :class:`MatrixHost`), written only after what it covers has been handled; each event
  reaches the core with its event id as ``update_key``, which the core records in the
  transaction that handles it. A crash anywhere (kill -9 included) re-reads what came since
  the position was last saved, and the core skips its handled events: every event is handled
  exactly once. So the position need not be written with every batch (that write would stand
  between a signal and its delivery): it is saved every ``TOKEN_SAVE_INTERVAL``, at once after
  a start, and at a clean stop. Events from before the bot's first start, and a room's
  history before the bot joined it, are never handled.
- **nio keeps no rooms across a restart.** The first sync after a start asks for the full
  state, with the saved position as its ``since`` (nio ignores an answer whose position
  equals the one it holds, so the position is not set on the client beforehand).
- **Sync hammering the server during an outage.** nio's own retries are switched off (its
  default sleeps and retries a 429 forever inside the call); a failed sync waits with
  exponential back-off and bounded jitter. A 429 on a send makes that room wait its
  ``retry_after_ms`` (:class:`NotYet`: no attempt counted) while other rooms go on.
- **Encryption keys lost at restart.** The device id and the access token are kept (a
  password login happens once); the crypto store is a file store under ``store_path``; the
  bot never logs out on shutdown (that deletes the device and its keys). An encrypted event
  whose room key has not come yet is kept in the database (as the homeserver sent it, still
  encrypted) before the sync position moves past it, and handled once its key has come, also
  after a restart; it is given up after ``UNDECRYPTED_WAIT``, counted from its arrival.
- **Duplicate sends after a crash.** Every send uses its outbox row as the transaction id,
  so a resend after a crash between the send and its commit is deduplicated by the
  homeserver.

Addressing: a person is reached by their user id (``@ann:example.org``), which the transport
maps to their direct room (opening one when it must reach them first); a shared room by its
room id (``!abc:example.org``). Incoming messages from a direct room name the person as the
chat, so answers and notices meet in one place. Message ids are event ids.

Presentation: an HTML ``formatted_body`` beside a plain ``body`` that reads on its own; an
answer is a reply (``m.in_reply_to``); the bot's own messages are ``m.notice``, answers
``m.text``; choices are a numbered list, picked by sending the number (or replying with it) or
by reacting with the offered emoji (✅ for a single choice, keycaps 1️⃣… otherwise), also
encrypted. A pick reaches the core as an index: choices are resolved there, not here. An
edit is an ``m.replace``. No business rule lives here, and no id, token or text reaches a
log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import json
import logging
import os
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import nio
from nio.crypto import decrypt_attachment

from bot import i18n
from bot.config import ConfigError, MatrixSettings
from bot.domain.clock import Clock, SystemClock
from bot.transports.base import (
    Attachment,
    Audience,
    Incoming,
    IncomingHandler,
    NotYet,
    Outgoing,
    PermanentFailure,
    RetryLater,
)

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[object]]

#: the reaction offered for a message with one choice (acknowledge), and for several
ACK = "\u2705"
KEYCAPS = (*(f"{n}\ufe0f\u20e3" for n in range(1, 10)), "\U0001f51f")
#: how many timeline events one sync hands over per room (a larger gap is fetched)
TIMELINE_LIMIT = 100
#: at most this many pages are fetched to fill one room's gap after a long outage
GAP_PAGES = 20
#: the sync position is saved at most this often (seconds): a crash re-reads what came since,
#: and the core skips what it has handled
TOKEN_SAVE_INTERVAL = 30.0
#: an encrypted event whose key has not come is kept (in the database: a restart keeps it)
#: and tried again after each sync for this long, and at most this many are kept
UNDECRYPTED_WAIT = timedelta(minutes=10)
UNDECRYPTED_KEPT = 1000
#: how long a send waits for nio to know its room (and the person in a direct room) before it
#: is held back and tried again (seconds)
ROOM_WAIT = 10.0


class MatrixHost(Protocol):
    """What the transport needs of the core (``bot/services/transport_state.py``)."""

    async def load_state(self) -> dict[str, dict[str, str]]:
        """Every entry kept for this transport: kind → key → value."""
        ...

    async def save_state(self, changes: Iterable[tuple[str, str, str | None]]) -> None:
        """Write (kind, key, value) entries in one transaction; ``None`` removes one."""

    async def is_enrolled(self, address: str) -> bool:
        """Whether this user holds a role or coordinates."""
        ...

    async def may_invite_bot(self, address: str) -> bool:
        """Whether this user may bring the bot into a shared room."""
        ...


def reaction_index(key: str) -> int | None:
    """The 0-based choice a reaction stands for: ✅ (with or without U+FE0F) the first (the
    only one offered alone), a keycap 1️⃣…9️⃣ (with or without U+FE0F) or 🔟 its number."""
    bare = key.replace("\ufe0f", "").strip()
    if bare in (ACK, "\u2714"):  # ✅, and the heavy check mark ✔ some keyboards offer
        return 0
    if len(bare) == 2 and bare[1] == "\u20e3" and bare[0] in "123456789":
        return int(bare[0]) - 1
    if bare == "\U0001f51f":
        return 9
    return None


def choice_number(text: str) -> int | None:
    """A typed choice: '2', ' 2 ', '2.' → 1 (0-based); anything else None."""
    match = re.fullmatch(r"\s*([0-9]{1,2})[.)]?\s*", text)
    if match is None:
        return None
    number = int(match.group(1))
    return number - 1 if number >= 1 else None


def strip_reply_fallback(body: str) -> str:
    """A reply's body may begin with a quote of the message it answers ('> …' lines and a
    blank line): what the person typed is what follows."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).lstrip("\n")


def render(message: Outgoing, language: str) -> dict[str, Any]:
    """The event content: a plain ``body`` that reads well on its own and an HTML
    ``formatted_body``; choices as a numbered list with how to answer them."""
    plain = message.text.strip() or "…"
    markup = html.escape(plain).replace("\n", "<br>")
    choices = message.choices
    if choices:
        single = len(choices) == 1
        marks = [ACK] if single else list(KEYCAPS[:len(choices)])
        lines = [f"{n}. {mark} {c.label}" for n, (mark, c) in
                 enumerate(zip(marks, choices, strict=False), start=1)]
        hint = (i18n.t(language, "matrix.choice_hint_one", emoji=ACK) if single
                else i18n.t(language, "matrix.choice_hint_many"))
        plain += "\n\n" + "\n".join(lines) + "\n" + hint
        items = "".join(f"<li>{mark} {html.escape(c.label)}</li>"
                        for mark, c in zip(marks, choices, strict=False))
        markup += f"<ol>{items}</ol><p><em>{html.escape(hint)}</em></p>"
    msgtype = "m.text" if message.reply_to else "m.notice"
    content: dict[str, Any] = {"msgtype": msgtype, "body": plain,
                               "format": "org.matrix.custom.html", "formatted_body": markup}
    if message.edit_of is not None:
        return {"msgtype": msgtype, "body": "* " + plain, "format": "org.matrix.custom.html",
                "formatted_body": "* " + markup, "m.new_content": content,
                "m.relates_to": {"rel_type": "m.replace", "event_id": message.edit_of}}
    if message.reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": message.reply_to}}
    return content


class MatrixTransport:
    name = "matrix"
    #: a file a person sends is fetched only up to this size (``[dossier] attachment_limit``,
    #: set by the app); the core says it is too large otherwise
    attachment_limit: int = 20_000_000

    def __init__(self, settings: MatrixSettings, host: MatrixHost, *,
                 clock: Clock | None = None, language: str = "nl",
                 sleep: Sleep = asyncio.sleep) -> None:
        if not settings.homeserver or not settings.user_id:
            raise ConfigError("matrix: set homeserver and user_id")
        if settings.password is None and settings.access_token is None:
            raise ConfigError("matrix: set password or access_token")
        self._settings = settings
        self._host = host
        self._clock = clock or SystemClock()
        self._language = language
        self._sleep = sleep
        self.user_id: str = settings.user_id
        self._client: nio.AsyncClient | None = None
        self._on_incoming: IncomingHandler | None = None
        self._task: asyncio.Task[None] | None = None
        #: set once the first sync after the start is handled: rooms are known, sends may go
        self._ready = asyncio.Event()
        self._synced = asyncio.Event()
        self._token: str | None = None
        self._txn_prefix = ""
        #: room id → "direct <user id>" or "group"; user id → their direct room
        self._rooms: dict[str, str] = {}
        self._direct: dict[str, str] = {}
        #: room id → (when to leave it, the user who has not redeemed a code there)
        self._leave: dict[str, tuple[datetime, str]] = {}
        #: room id → monotonic moment before which nothing is sent there (a 429's wait)
        self._room_wait: dict[str, float] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        #: direct rooms the bot opened in this run
        self._opened: set[str] = set()
        #: consecutive failed syncs (the back-off's exponent)
        self.sync_failures = 0
        #: the position last saved, and when (monotonic)
        self._saved_token: str | None = None
        self._saved_at = 0.0
        #: encrypted events waiting for their key, oldest first: (when they came, room id,
        #: event); each is also kept in the database (``undecrypted``, by its event id)
        self._undecrypted: list[tuple[datetime, str, Any]] = []

    # --- life cycle ---------------------------------------------------------------------------
    async def start(self, on_incoming: IncomingHandler) -> None:
        self._on_incoming = on_incoming
        state = await self._host.load_state()
        self._restore(state)
        client = await self._login(state)
        self._client = client
        self._task = asyncio.create_task(self._sync_loop(), name="matrix-sync")
        log.info("matrix runs (encryption %s)", "on" if client.olm is not None else "off")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._token is not None and self._token != self._saved_token:
            # a clean stop keeps how far the bot had read (everything before it is handled)
            try:
                await self._save_position(self._token)
            except Exception:
                log.warning("matrix: the sync position could not be saved on stopping")
        client, self._client = self._client, None
        self._ready.clear()
        if client is not None:
            # never log out: that would delete this device and its keys
            await client.close()

    def invite_link(self, code: str) -> str:
        """A link that opens a chat with the bot (matrix.to cannot carry the code)."""
        return f"https://matrix.to/#/{self.user_id}"

    async def wait_ready(self, within: float) -> bool:
        """Whether the first sync has been handled within ``within`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), within)
        return self._ready.is_set()

    def _restore(self, state: dict[str, dict[str, str]]) -> None:
        self._token = state.get("sync", {}).get("token")
        self._saved_token = self._token
        self._rooms = dict(state.get("room", {}))
        self._direct = dict(state.get("dm", {}))
        self._leave = {}
        for room_id, value in state.get("leave", {}).items():
            at, _, user = value.partition(" ")
            self._leave[room_id] = (datetime.fromisoformat(at), user)
        self._txn_prefix = state.get("login", {}).get("txn_prefix", "")
        self._undecrypted = []
        for value in state.get("undecrypted", {}).values():
            kept = json.loads(value)
            event = nio.Event.parse_event(kept["event"])
            if isinstance(event, nio.MegolmEvent):
                event.room_id = kept["room"]
                self._undecrypted.append(
                    (datetime.fromisoformat(kept["at"]), kept["room"], event))
        self._undecrypted.sort(key=lambda waiting: waiting[0])

    def _config(self) -> nio.AsyncClientConfig:
        return nio.AsyncClientConfig(
            # a 429 comes back to us at once (nio's default sleeps and retries it forever
            # inside the call, blocking that coroutine); a dropped connection (a keep-alive
            # connection the server closed) is retried once, at once, then comes back too
            max_limit_exceeded=0, max_timeouts=1,
            request_timeout=self._settings.request_timeout.total_seconds(),
            # the sync position is ours, in the database; nio's store keeps only the keys
            store_sync_tokens=False,
            encryption_enabled=self._settings.encryption)

    def _store_path(self) -> str:
        path = Path(self._settings.store_path)
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
        return str(path)

    async def _login(self, state: dict[str, dict[str, str]]) -> nio.AsyncClient:
        """One device for good: an access token as given, or a password login made once and
        kept; the crypto store is loaded for that device."""
        settings = self._settings
        homeserver = settings.homeserver or ""
        saved = json.loads(state.get("login", {}).get("session", "null") or "null")
        client = nio.AsyncClient(homeserver, self.user_id, device_id=settings.device_id or "",
                                 store_path=self._store_path(), config=self._config())
        changes: list[tuple[str, str, str | None]] = []
        if not self._txn_prefix:
            self._txn_prefix = secrets.token_hex(4)
            changes.append(("login", "txn_prefix", self._txn_prefix))
        try:
            if settings.access_token is not None:
                token = settings.access_token.get_secret_value()
                device = settings.device_id or await self._device_of(client, token)
                client.restore_login(self.user_id, device, token)
            elif saved and (not settings.device_id or saved["device_id"] == settings.device_id):
                client.restore_login(self.user_id, saved["device_id"], saved["access_token"])
                if not await self._token_valid(client):
                    await self._password_login(client, saved["device_id"], changes)
            else:
                await self._password_login(client, settings.device_id, changes)
        except BaseException:
            await client.close()
            raise
        if changes:
            await self._host.save_state(changes)
        if client.olm is not None and client.should_upload_keys:
            await client.keys_upload()
        return client

    async def _device_of(self, client: nio.AsyncClient, token: str) -> str:
        client.access_token = token
        answer = await client.whoami()
        if not isinstance(answer, nio.WhoamiResponse) or not answer.device_id:
            raise ConfigError("matrix: the access token was refused (or names no device)")
        return str(answer.device_id)

    async def _token_valid(self, client: nio.AsyncClient) -> bool:
        answer = await client.whoami()
        return not (isinstance(answer, nio.WhoamiError)
                    and answer.status_code == "M_UNKNOWN_TOKEN")

    async def _password_login(self, client: nio.AsyncClient, device_id: str | None,
                              changes: list[tuple[str, str, str | None]]) -> None:
        if self._settings.password is None:
            raise ConfigError("matrix: the saved login no longer works; set a password")
        client.device_id = device_id or ""
        answer = await client.login(self._settings.password.get_secret_value(),
                                    device_name=self._settings.device_name)
        if not isinstance(answer, nio.LoginResponse):
            raise ConfigError("matrix: the homeserver refused the login")
        changes.append(("login", "session", json.dumps(
            {"device_id": answer.device_id, "access_token": answer.access_token})))

    def _live(self) -> nio.AsyncClient:
        if self._client is None:
            raise NotYet("matrix is not running", 1.0)
        return self._client

    # --- syncing ------------------------------------------------------------------------------
    def _backoff(self, failures: int, retry_after_ms: int | None = None) -> float:
        """Exponential back-off with bounded jitter: between half and all of
        ``first · 2^(n-1)``, capped; a homeserver's ``retry_after_ms`` when it gave one."""
        cap = self._settings.max_backoff.total_seconds()
        if retry_after_ms:
            return min(retry_after_ms / 1000, cap)
        base = min(self._settings.first_backoff.total_seconds() * 2 ** (failures - 1), cap)
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)
        return float(base) * jitter

    async def _sync_loop(self) -> None:
        client = self._live()
        first = True
        sync_filter = {"room": {"timeline": {"limit": TIMELINE_LIMIT}}}
        while True:
            try:
                if first:
                    # nio knows no rooms after a restart: the full state, from where we were
                    answer = await client.sync(timeout=0, sync_filter=sync_filter,
                                               since=self._token or None, full_state=True)
                else:
                    answer = await client.sync(
                        timeout=int(self._settings.sync_timeout.total_seconds() * 1000),
                        sync_filter=sync_filter)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # connection refused or dropped, time-out
                answer = None
                reason = type(error).__name__
            if not isinstance(answer, nio.SyncResponse):
                retry_after = getattr(answer, "retry_after_ms", None)
                if answer is not None:
                    reason = str(getattr(answer, "status_code", None) or "error")
                self.sync_failures += 1
                wait = self._backoff(self.sync_failures, retry_after)
                log.warning("matrix: sync failed (%s); attempt %d, next in %.1fs",
                            reason, self.sync_failures, wait)
                await self._sleep(wait)
                continue
            if self.sync_failures:
                log.info("matrix: sync works again after %d failures", self.sync_failures)
            self.sync_failures = 0
            try:
                await self._after_sync(client, answer, history=first and self._token is None,
                                       since=self._token if first else None)
            except asyncio.CancelledError:
                raise
            except Exception:
                # nothing of this batch is marked read: it is read again (handled events
                # are skipped by their event id)
                log.exception("matrix: a sync batch could not be handled; reading it again")
                await self._sleep(self._backoff(1))
                client.next_batch = self._token or ""
                first = True
                continue
            first = False

    async def _after_sync(self, client: nio.AsyncClient, answer: nio.SyncResponse, *,
                          history: bool, since: str | None) -> None:
        await self._invites(client, answer)
        for room_id in answer.rooms.leave:
            await self._forget_room(room_id)
        for room_id, info in answer.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and not history and self._token:
                events = await self._fill_gap(client, room_id, info.timeline.prev_batch,
                                              self._token) + events
            await self._room_events(client, room_id, events, history=history)
        # the position moves only after the batch is handled (a crash re-reads it, and its
        # handled events are skipped by their event id); saved at once after a start, then
        # every half minute, not in the way of the deliveries the batch caused
        now = time.monotonic()
        if (history or since is not None or self._token is None
                or now - self._saved_at > TOKEN_SAVE_INTERVAL):
            await self._save_position(answer.next_batch)
        self._token = answer.next_batch
        if self._undecrypted:
            await self._retry_undecrypted(client)
        # keys between syncs (as nio's sync_forever does), after the batch: not in the way
        await self._keys(client)
        await self.leave_unredeemed()
        self._ready.set()
        self._synced.set()
        self._synced.clear()

    async def _save_position(self, token: str) -> None:
        await self._host.save_state([("sync", "token", token)])
        self._saved_token = token
        self._saved_at = time.monotonic()

    async def _keys(self, client: nio.AsyncClient) -> None:
        """What nio's sync_forever does between syncs for end-to-end encryption."""
        if client.olm is None:
            return
        with contextlib.suppress(Exception):
            await client.send_to_device_messages()
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())

    async def _fill_gap(self, client: nio.AsyncClient, room_id: str, start: str | None,
                        until: str) -> list[Any]:
        """Events of a room between our last position and a limited timeline (a long
        outage): fetched backwards, oldest first."""
        older: list[Any] = []
        token = start
        for _ in range(GAP_PAGES):
            page = await client.room_messages(room_id, start=token, end=until,
                                              limit=TIMELINE_LIMIT)
            if not isinstance(page, nio.RoomMessagesResponse) or not page.chunk:
                break
            older.extend(page.chunk)
            if not page.end or page.end == token:
                break
            token = page.end
        older.reverse()
        return older

    # --- rooms --------------------------------------------------------------------------------
    async def _invites(self, client: nio.AsyncClient, answer: nio.SyncResponse) -> None:
        for room_id, info in answer.rooms.invite.items():
            invite = next((e for e in info.invite_state
                           if isinstance(e, nio.InviteMemberEvent)
                           and e.state_key == self.user_id and e.membership == "invite"), None)
            if invite is None:
                continue
            inviter = invite.sender
            direct = bool(invite.content.get("is_direct"))
            if direct:
                if not await self._join(client, room_id):
                    continue
                changes: list[tuple[str, str, str | None]] = [
                    ("room", room_id, f"direct {inviter}"), ("dm", inviter, room_id)]
                self._rooms[room_id] = f"direct {inviter}"
                self._direct[inviter] = room_id
                if not await self._host.is_enrolled(inviter):
                    due = self._clock.now() + self._settings.unredeemed_room_after
                    self._leave[room_id] = (due, inviter)
                    changes.append(("leave", room_id, f"{due.isoformat()} {inviter}"))
                await self._host.save_state(changes)
            elif await self._host.may_invite_bot(inviter):
                if not await self._join(client, room_id):
                    continue
                self._rooms[room_id] = "group"
                await self._host.save_state([("room", room_id, "group")])
            else:
                log.info("matrix: an invitation to a shared room was declined")
                with contextlib.suppress(Exception):
                    await client.room_leave(room_id)

    async def _join(self, client: nio.AsyncClient, room_id: str) -> bool:
        """Join an invited room; a room that cannot be joined (gone, forbidden) is let go
        rather than holding up the sync."""
        try:
            answer = await client.join(room_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("matrix: joining a room failed (%s)", type(error).__name__)
            return False
        if not isinstance(answer, nio.JoinResponse):
            log.warning("matrix: joining a room failed (%s)",
                        getattr(answer, "status_code", None) or "error")
            return False
        return True

    async def _forget_room(self, room_id: str) -> None:
        kind = self._rooms.pop(room_id, None)
        self._leave.pop(room_id, None)
        self._room_wait.pop(room_id, None)
        changes: list[tuple[str, str, str | None]] = [("room", room_id, None),
                                                      ("leave", room_id, None)]
        for user, room in list(self._direct.items()):
            if room == room_id:
                del self._direct[user]
                changes.append(("dm", user, None))
        if kind is not None or len(changes) > 2:
            await self._host.save_state(changes)

    async def leave_unredeemed(self) -> None:
        """Leave every direct room whose person has not redeemed a code in time."""
        client = self._client
        if client is None:
            return
        now = self._clock.now()
        for room_id, (due, user) in list(self._leave.items()):
            if due > now:
                continue
            if await self._host.is_enrolled(user):
                self._leave.pop(room_id, None)
                await self._host.save_state([("leave", room_id, None)])
                continue
            answer = await client.room_leave(room_id)
            if isinstance(answer, nio.RoomLeaveResponse):
                with contextlib.suppress(Exception):
                    await client.room_forget(room_id)
                await self._forget_room(room_id)
                log.info("matrix: left a direct room where no code was redeemed")

    def _private(self, client: nio.AsyncClient, room_id: str, user: str) -> bool:
        """Whether nobody but the bot and ``user`` is in the room or invited to it."""
        room = client.rooms.get(room_id)
        if room is None:
            return True  # not synced yet: as recorded
        members = set(room.users) | set(room.invited_users)
        return members <= {self.user_id, user}

    def _kind(self, client: nio.AsyncClient, room_id: str) -> str:
        """'direct <user>' or 'group'. A direct room that someone else has joined (or been
        invited to) is no longer direct: it is treated as a group, and the person gets a new
        direct room. A room the bot has no record of is direct when it holds the bot and one
        other person."""
        kind = self._rooms.get(room_id)
        if kind is not None:
            if kind.startswith("direct ") and not self._private(client, room_id, kind[7:]):
                return "group"
            return kind
        room = client.rooms.get(room_id)
        others = [u for u in (room.users if room is not None else {}) if u != self.user_id]
        return f"direct {others[0]}" if len(others) == 1 else "group"

    async def _room_events(self, client: nio.AsyncClient, room_id: str, events: list[Any], *,
                           history: bool) -> None:
        # what happened in a room before the bot joined it is history, never handled
        start = 0
        for index, event in enumerate(events):
            if (isinstance(event, nio.RoomMemberEvent) and event.state_key == self.user_id
                    and event.membership == "join" and event.prev_membership != "join"):
                start = index + 1
        if history:
            return
        for event in events[start:]:
            sender = getattr(event, "sender", None)
            if sender is None or sender == self.user_id:
                continue
            if isinstance(event, nio.RoomMemberEvent):
                await self._member_event(client, room_id, event)
                continue
            if isinstance(event, nio.MegolmEvent):
                await self._keep_undecrypted(client, room_id, event)
                continue
            await self._handle_event(client, room_id, event)

    async def _keep_undecrypted(self, client: nio.AsyncClient, room_id: str,
                                event: nio.MegolmEvent) -> None:
        """An encrypted event not decryptable yet (its key often comes in a later sync): kept
        in the database before the sync position moves past it (as the homeserver sent it:
        still encrypted, and encrypted at rest like all transport state), tried again after
        each sync and after a restart; the sender's devices are asked for the key."""
        if any(e.event_id == event.event_id for _, _, e in self._undecrypted):
            return  # a batch read again
        log.info("matrix: an encrypted event waits for its key")
        now = self._clock.now()
        event.room_id = room_id
        changes: list[tuple[str, str, str | None]] = [("undecrypted", event.event_id, json.dumps(
            {"room": room_id, "at": now.isoformat(), "event": event.source}))]
        self._undecrypted.append((now, room_id, event))
        for _, _, dropped in self._undecrypted[:-UNDECRYPTED_KEPT]:
            log.warning("matrix: too many encrypted events wait for their key; one is dropped")
            changes.append(("undecrypted", dropped.event_id, None))
        del self._undecrypted[:-UNDECRYPTED_KEPT]
        await self._host.save_state(changes)
        with contextlib.suppress(Exception):
            await client.request_room_key(event)

    async def _retry_undecrypted(self, client: nio.AsyncClient) -> None:
        """Encrypted events whose key has arrived since are handled now (in the order they
        came); those still without a key after ``UNDECRYPTED_WAIT`` are given up, logged.

        An event is forgotten only after it was handled (which records its event id in the
        core's transaction): a crash in between retries it at the next start, and the core
        skips it then."""
        now = self._clock.now()
        done: list[str] = []
        try:
            for at, room_id, event in list(self._undecrypted):
                try:
                    decrypted = client.decrypt_event(event)
                except Exception:
                    decrypted = None
                if decrypted is None or isinstance(decrypted, nio.MegolmEvent):
                    if now - at >= UNDECRYPTED_WAIT:
                        log.warning("matrix: an encrypted event could not be decrypted")
                        done.append(event.event_id)
                    continue
                await self._handle_event(client, room_id, decrypted)
                done.append(event.event_id)
        finally:
            if done:
                gone = set(done)
                self._undecrypted = [w for w in self._undecrypted if w[2].event_id not in gone]
                await self._host.save_state([("undecrypted", e, None) for e in done])

    async def _handle_event(self, client: nio.AsyncClient, room_id: str, event: Any) -> None:
        """One message or reaction to the core (its event id makes it handled once)."""
        incoming = await self._incoming(client, room_id, event)
        if incoming is None or self._on_incoming is None:
            return
        try:
            await self._on_incoming(incoming)
        except Exception:
            log.exception("matrix: an event could not be handled")
            raise

    async def _member_event(self, client: nio.AsyncClient, room_id: str,
                            event: nio.RoomMemberEvent) -> None:
        """The other person left a direct room: the bot leaves it too. In a group, every
        join and leave goes to the core (the policy needs the room's true audience)."""
        kind = self._kind(client, room_id)
        gone = event.membership in ("leave", "ban")
        if kind == f"direct {event.state_key}" and gone:
            with contextlib.suppress(Exception):
                await client.room_leave(room_id)
            await self._forget_room(room_id)
            return
        joined = event.membership == "join" and event.prev_membership != "join"
        if kind != "group" or not (joined or gone) or self._on_incoming is None:
            return
        await self._on_incoming(Incoming(
            transport=self.name, chat_id=room_id, sender_id=event.sender, sender_name="",
            text="", is_group=True, update_key=event.event_id,
            event="member_joined" if joined else "member_left", member_id=event.state_key))

    async def _incoming(self, client: nio.AsyncClient, room_id: str, event: Any
                        ) -> Incoming | None:
        kind = self._kind(client, room_id)
        is_group = kind == "group"
        sender: str = event.sender
        chat_id = room_id if is_group else sender
        room = client.rooms.get(room_id)
        name = room.user_name(sender) if room is not None else None
        base = Incoming(transport=self.name, chat_id=chat_id, sender_id=sender,
                        sender_name=name or sender, text="", message_id=event.event_id,
                        is_group=is_group, update_key=event.event_id)
        if isinstance(event, nio.ReactionEvent):
            index = reaction_index(event.key)
            if index is None:
                return None
            # the answer to a reaction replies to the message reacted to
            return replace(base, message_id=event.reacts_to, is_choice=True,
                           choice_message_id=event.reacts_to, choice_index=index)
        if isinstance(event, nio.RoomMessageMedia | nio.RoomEncryptedMedia) and not is_group:
            # a file with a command as its caption (``/bijlage evidence:3``)
            caption = media_caption(event.source.get("content", {}))
            if not caption.startswith("/"):
                return None
            await self._note_direct(sender, room_id)
            found = await fetch_attachment(client, event, self.attachment_limit)
            return replace(base, text=caption, attachments=(found,))
        if not isinstance(event, nio.RoomMessageText):
            return None
        content = event.source.get("content", {})
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return None  # an edit of an earlier message is not a new message
        replied = (relates.get("m.in_reply_to") or {}).get("event_id")
        text = strip_reply_fallback(event.body) if replied else event.body
        if not is_group:
            await self._note_direct(sender, room_id)
        number = choice_number(text)
        if number is not None:
            return replace(base, text=text, is_choice=True, choice_message_id=replied,
                           choice_index=number)
        return replace(base, text=text)

    async def _note_direct(self, user: str, room_id: str) -> None:
        """The room a person last wrote in directly is where the bot reaches them."""
        if self._direct.get(user) != room_id:
            self._direct[user] = room_id
            self._rooms[room_id] = f"direct {user}"
            await self._host.save_state(
                [("dm", user, room_id), ("room", room_id, f"direct {user}")])

    async def _direct_room(self, client: nio.AsyncClient, user: str) -> str:
        """The person's direct room; opened (encrypted when encryption is on) when the bot
        must reach them first."""
        room_id = self._direct.get(user)
        if room_id is not None and self._private(client, room_id, user):
            return room_id
        lock = self._opening.setdefault(user, asyncio.Lock())
        async with lock:
            room_id = self._direct.get(user)
            if room_id is not None and self._private(client, room_id, user):
                return room_id
            if room_id is not None:
                # someone else is in the person's direct room now: never write there again
                log.info("matrix: a direct room gained a member; opening a new one")
                self._rooms[room_id] = "group"
                await self._host.save_state([("room", room_id, "group")])
                self._direct.pop(user, None)
            state = []
            if client.olm is not None:
                state.append({"type": "m.room.encryption", "state_key": "",
                              "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
            answer = await client.room_create(is_direct=True, invite=[user],
                                              preset=nio.RoomPreset.trusted_private_chat,
                                              initial_state=state)
            if not isinstance(answer, nio.RoomCreateResponse):
                code = getattr(answer, "status_code", None)
                if code == "M_LIMIT_EXCEEDED":
                    raise NotYet("429 creating a room",
                                 (getattr(answer, "retry_after_ms", None) or 5000) / 1000)
                raise RetryLater(f"create room: {code or 'error'}")
            room_id = str(answer.room_id)
            self._opened.add(room_id)
            self._direct[user] = room_id
            self._rooms[room_id] = f"direct {user}"
            await self._host.save_state([("dm", user, room_id),
                                         ("room", room_id, f"direct {user}")])
            return room_id

    @staticmethod
    def _room_has(client: nio.AsyncClient, room_id: str, user: str | None) -> bool:
        """Whether nio knows the room and, for a person's direct room, lists the person in
        it (joined or invited)."""
        room = client.rooms.get(room_id)
        return room is not None and (user is None or user in room.users)

    async def _known(self, client: nio.AsyncClient, room_id: str, within: float, *,
                     user: str | None = None) -> bool:
        """Wait (for syncs) until nio knows the room, and the person in it when ``user`` is
        given, at most ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self._room_has(client, room_id, user):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._synced.wait(), left)
        return True

    # --- sending ------------------------------------------------------------------------------
    async def send(self, message: Outgoing) -> str:
        client = self._live()
        if not self._ready.is_set():
            raise NotYet("matrix: first sync not done", 1.0)
        chat = message.chat_id
        if chat.startswith("@"):
            room_id = await self._direct_room(client, chat)
        elif chat.startswith("!"):
            room_id = chat
        else:
            raise PermanentFailure("not a Matrix user or room id", "chat_not_found")
        wait = self._room_wait.get(room_id, 0.0) - time.monotonic()
        if wait > 0:
            raise NotYet("matrix: room rate-limited", wait)
        # nio encrypts for the members it knows of the room. A direct room the bot has just
        # opened can reach it in two syncs: first with the bot alone, then with the person's
        # invitation (a homeserver makes the room, then invites). A message sent in between
        # is encrypted for nobody, and its key is never shared with the person (nio shares a
        # room's session once; the next member event starts a new one): it stays unreadable
        # for them. So a direct room is written to only once nio lists the person in it.
        person = chat if chat.startswith("@") else None
        if client.olm is not None and not await self._known(client, room_id, ROOM_WAIT,
                                                            user=person):
            room = client.rooms.get(room_id)
            if (person is not None and room is not None and person not in room.users
                    and room_id not in self._opened):
                # the person is not in their direct room any more (a leave the bot missed;
                # a room it opened in this run waits for the invitation to sync): the next
                # attempt opens a new one, rather than waiting for them for ever
                log.info("matrix: a direct room without its person; opening a new one")
                with contextlib.suppress(Exception):
                    await client.room_leave(room_id)
                await self._forget_room(room_id)
            raise NotYet("matrix: room not synced yet", 2.0)
        content = render(message, self._language)
        if message.document is not None:
            content = await document_content(client, room_id, message)
        # the outbox row is the transaction id: a resend after a crash is deduplicated
        tx_id = (f"kortelijn.{self._txn_prefix}.{message.outbox_id}"
                 if message.outbox_id is not None else None)
        try:
            answer = await client.room_send(room_id, "m.room.message", content, tx_id=tx_id,
                                            ignore_unverified_devices=True)
        except asyncio.CancelledError:
            raise
        except nio.LocalProtocolError as error:
            raise RetryLater(f"matrix: {type(error).__name__}") from None
        except Exception as error:  # connection refused or dropped, time-out
            raise RetryLater(f"network: {type(error).__name__}") from None
        if isinstance(answer, nio.RoomSendResponse):
            return message.edit_of or str(answer.event_id)
        code = str(getattr(answer, "status_code", None) or "error")
        if code == "M_LIMIT_EXCEEDED":
            seconds = (getattr(answer, "retry_after_ms", None) or 5000) / 1000
            self._room_wait[room_id] = time.monotonic() + seconds
            raise NotYet("429 M_LIMIT_EXCEEDED", seconds)
        if code == "M_FORBIDDEN":
            if chat.startswith("@"):
                # the person left their direct room: open a new one next time
                await self._forget_room(room_id)
                raise RetryLater("matrix: not in the direct room any more")
            raise PermanentFailure("M_FORBIDDEN", "removed")
        if code in ("M_NOT_FOUND", "M_UNKNOWN"):
            raise PermanentFailure(code, "chat_not_found")
        raise RetryLater(f"matrix: {code}")

    async def audience(self, chat_id: str) -> Audience:
        """Who is in a room: its joined members, the bot not counted (Matrix lists them)."""
        if chat_id.startswith("@"):
            return Audience(member_ids=frozenset({chat_id}), total=1)
        client = self._live()
        answer = await client.joined_members(chat_id)
        if not isinstance(answer, nio.JoinedMembersResponse):
            return Audience(member_ids=frozenset(), total=None)
        members = frozenset(m.user_id for m in answer.members if m.user_id != self.user_id)
        # every join and leave in a group reaches the core as an event (_member_event)
        return Audience(member_ids=members, total=len(members), followed=True)


async def document_content(client: nio.AsyncClient, room_id: str, message: Outgoing
                           ) -> dict[str, Any]:
    """A document as an ``m.file`` event: uploaded to the media repository, encrypted first
    when the room is (nio's ``encrypt_attachment``: the key goes in the event's ``file``,
    which the room's encryption carries), the message as its caption (``body``)."""
    document = message.document
    assert document is not None  # noqa: S101
    room = client.rooms.get(room_id)
    encrypted = bool(room is not None and room.encrypted)
    try:
        answer, keys = await client.upload(
            io.BytesIO(document.data), content_type=document.mime,
            filename=document.filename, encrypt=encrypted, filesize=len(document.data))
    except asyncio.CancelledError:
        raise
    except Exception as error:  # connection refused or dropped, time-out
        raise RetryLater(f"network: {type(error).__name__}") from None
    if not isinstance(answer, nio.UploadResponse):
        code = str(getattr(answer, "status_code", None) or "error")
        if code == "M_TOO_LARGE":
            raise PermanentFailure(code, "refused")
        raise RetryLater(f"matrix upload: {code}")
    content: dict[str, Any] = {
        "msgtype": "m.file", "body": message.text or document.filename,
        "filename": document.filename,
        "info": {"mimetype": document.mime, "size": len(document.data)}}
    if encrypted and keys is not None:
        content["file"] = {"url": answer.content_uri, **keys}
    else:
        content["url"] = answer.content_uri
    return content


def media_caption(content: dict[str, Any]) -> str:
    """A file message's caption: its ``body`` when a ``filename`` beside it names the file
    (Matrix 1.10); a body that is only the file's name is no caption."""
    body, filename = content.get("body"), content.get("filename")
    return body if isinstance(body, str) and filename and filename != body else ""


async def fetch_attachment(client: nio.AsyncClient, event: Any, limit: int) -> Attachment:
    """The file of an m.file / m.image / m.video / m.audio event, downloaded from the media
    repository when not larger than ``limit`` and, in an encrypted room, decrypted with the
    key the event carries (nio's ``decrypt_attachment``). A failure of the network raises."""
    content = event.source.get("content", {})
    info = content.get("info") or {}
    name = str(content.get("filename") or "bestand")
    mime = info.get("mimetype") if isinstance(info.get("mimetype"), str) else None
    size: int = info["size"] if isinstance(info.get("size"), int) else 0
    if size > limit:
        return Attachment(filename=name, mime=mime, size=size, data=None)
    answer = await client.download(mxc=event.url)
    if not isinstance(answer, nio.DownloadResponse):
        return Attachment(filename=name, mime=mime, size=0, data=b"")
    data = answer.body if isinstance(answer.body, bytes) else b""
    if isinstance(event, nio.RoomEncryptedMedia):
        try:
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        except Exception:  # a wrong key or hash: nothing usable arrived
            data = b""
    if len(data) > limit:
        return Attachment(filename=name, mime=mime, size=len(data), data=None)
    return Attachment(filename=name, mime=mime, size=len(data), data=data)
