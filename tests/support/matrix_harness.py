"""People on a real Synapse as nio clients, and the whole KorteLijn on Matrix, for the Matrix
tests and the benchmark (in this process, or as a process of its own).

A :class:`Person` is a nio client with its own device and crypto store that syncs in the
background, joins rooms it is invited to, and keeps every message it received; tests wait on
what it received by polling with a deadline. :class:`MatrixBot` runs the whole bot
in-process against the same homeserver (``[matrix]`` settings, its own account, store and
database); a restart builds a new bot on the same database and store, as a new process
would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nio

from bot import crypto
from bot.app import KorteLijn
from bot.config import Settings
from bot.transports.matrix import MatrixTransport
from tests.support.synapse import Account, Synapse

CASE = re.compile(r"\bZ-[2-9A-HJKMNP-Z]{4}\b")
INVITE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b")
ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class OffsetClock:
    """Real time that a test can move forward (a server's events carry real time stamps)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> datetime:
        self.offset += delta
        return self.now()


@dataclass
class Received:
    room_id: str
    event_id: str
    sender: str
    body: str
    content: dict[str, Any]
    encrypted: bool
    #: when it arrived (time.perf_counter)
    at: float = field(default_factory=time.perf_counter)


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


async def until(condition: Callable[[], object], within: float = 30.0,
                what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy (and return it), or fail after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"waited {within}s in vain for {what}")
        await asyncio.sleep(0.05)  # polling for a condition with a deadline


class Person:
    """One human on Matrix: a nio client with its own device and crypto store."""

    def __init__(self, synapse: Synapse, folder: Path, name: str) -> None:
        self.synapse = synapse
        self.name = name
        self.account: Account = synapse.register(unique(name))
        self.user_id = self.account.user_id
        store = folder / f"person-{self.user_id[1:].split(':')[0]}"
        store.mkdir(parents=True, exist_ok=True)
        self.client = nio.AsyncClient(
            synapse.url, self.user_id, device_id=self.account.device_id, store_path=str(store),
            config=nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False,
                                         max_limit_exceeded=0, max_timeouts=0))
        self.received: list[Received] = []
        self.undecrypted = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.client.restore_login(self.user_id, self.account.device_id,
                                  self.account.access_token)
        await self.client.keys_upload()
        self.client.add_event_callback(self._on_message, nio.RoomMessage)
        self.client.add_event_callback(self._on_undecrypted, nio.MegolmEvent)
        self.client.add_event_callback(self._on_invite, nio.InviteMemberEvent)
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self._sync_forever(), name=f"person-{self.name}")

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self.client.sync_forever(timeout=1000)
            except asyncio.CancelledError:
                raise
            except Exception:  # the homeserver restarts in one test: keep going
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _on_message(self, room: nio.MatrixRoom, event: Any) -> None:
        if event.sender == self.user_id:
            return
        content = event.source.get("content", {})
        self.received.append(Received(room.room_id, event.event_id, event.sender,
                                      getattr(event, "body", ""), content,
                                      bool(getattr(event, "decrypted", False))))

    async def _on_undecrypted(self, room: nio.MatrixRoom, event: nio.MegolmEvent) -> None:
        self.undecrypted += 1

    async def _on_invite(self, room: nio.MatrixRoom, event: nio.InviteMemberEvent) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    # --- acting -------------------------------------------------------------------------------
    async def open_direct(self, other: str, *, encrypted: bool) -> str:
        answer = await self.client.room_create(
            is_direct=True, invite=[other], preset=nio.RoomPreset.trusted_private_chat,
            initial_state=[ENCRYPTION] if encrypted else [])
        assert isinstance(answer, nio.RoomCreateResponse), answer
        await until(lambda: answer.room_id in self.client.rooms, what="own room synced")
        return str(answer.room_id)

    async def open_group(self, invite: list[str], *, encrypted: bool) -> str:
        answer = await self.client.room_create(
            name="Zaakoverleg", invite=invite, preset=nio.RoomPreset.private_chat,
            initial_state=[ENCRYPTION] if encrypted else [])
        assert isinstance(answer, nio.RoomCreateResponse), answer
        await until(lambda: answer.room_id in self.client.rooms, what="own room synced")
        return str(answer.room_id)

    async def say(self, room_id: str, text: str, *, reply_to: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        answer = await self.client.room_send(room_id, "m.room.message", content,
                                             ignore_unverified_devices=True)
        assert isinstance(answer, nio.RoomSendResponse), answer
        return str(answer.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        """React as Element does: in an encrypted room the reaction is encrypted too (nio
        sends reactions in the clear, so this encrypts it by hand)."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                    "key": key}}
        client = self.client
        room = client.rooms[room_id]
        event_type: str = "m.reaction"
        if room.encrypted and client.olm is not None:
            if client.olm.should_share_group_session(room_id):
                await client.share_group_session(room_id, ignore_unverified_devices=True)
            event_type, content = client.encrypt(room_id, "m.reaction", content)
        method, path, data = nio.Api.room_send(client.access_token, room_id, event_type,
                                               content, uuid.uuid4())
        answer = await client._send(nio.RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(answer, nio.RoomSendResponse), answer
        return str(answer.event_id)

    async def leave(self, room_id: str) -> None:
        await self.client.room_leave(room_id)

    # --- reading ------------------------------------------------------------------------------
    def from_bot(self, bot_id: str, room_id: str | None = None) -> list[Received]:
        return [r for r in self.received
                if r.sender == bot_id and (room_id is None or r.room_id == room_id)]

    async def expect(self, bot_id: str, pattern: str, *, room_id: str | None = None,
                     after: int = 0, within: float = 30.0) -> Received:
        """The first message from the bot (from index ``after`` on) whose body matches."""
        regex = re.compile(pattern)

        def found() -> Received | None:
            return next((r for r in self.from_bot(bot_id, room_id)[after:]
                         if regex.search(r.body)), None)

        found_message: Received = await until(found, within, f"{self.name}: /{pattern}/")
        return found_message


class MatrixBot:
    """The whole KorteLijn on Matrix, in-process, on its own account, store and database."""

    def __init__(self, synapse: Synapse, folder: Path, database_url: str, *,
                 coordinator: str, encryption: bool = True, clock: OffsetClock | None = None,
                 matrix: dict[str, Any] | None = None) -> None:
        self.synapse = synapse
        self.account = synapse.register(unique("kortelijn"))
        self.user_id = self.account.user_id
        self.clock = clock or OffsetClock()
        self.settings = Settings.model_validate({
            "database": {"url": database_url},
            "bot": {"coordinators": [f"matrix:{coordinator}"]},
            "matrix": {"homeserver": synapse.url, "user_id": self.user_id,
                       "password": self.account.password, "device_id": "KORTELIJN",
                       "store_path": str(folder / "bot-store"), "encryption": encryption,
                       **(matrix or {})},
            "delivery": {"first_backoff": "0.2s", "max_backoff": "2s"},
        })
        self.app: KorteLijn | None = None

    @property
    def transport(self) -> MatrixTransport:
        assert self.app is not None
        transport = self.app.transports["matrix"]
        assert isinstance(transport, MatrixTransport)
        return transport

    async def start(self) -> None:
        self.app = KorteLijn(self.settings, clock=self.clock, console=False)
        await self.app.start()
        assert await self.transport.wait_ready(60), "the bot's first sync did not come"

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


class MatrixBotProcess:
    """The whole KorteLijn on Matrix as a process of its own (``kortelijn run``, as deployed),
    on its own account, store and SQLite database: its work (and its commits' waits for the
    disk) never holds up the people's clients in this process."""

    def __init__(self, synapse: Synapse, folder: Path, *, coordinator: str,
                 encryption: bool = True) -> None:
        self.account = synapse.register(unique("kortelijn"))
        self.user_id = self.account.user_id
        self.database = folder / "bot-process.db"
        self.environment = {
            "KORTELIJN_DATABASE__URL": f"sqlite+aiosqlite:///{self.database}",
            "KORTELIJN_BOT__COORDINATORS": f'["matrix:{coordinator}"]',
            "KORTELIJN_MATRIX__HOMESERVER": synapse.url,
            "KORTELIJN_MATRIX__USER_ID": self.user_id,
            "KORTELIJN_MATRIX__PASSWORD": self.account.password,
            "KORTELIJN_MATRIX__DEVICE_ID": "KORTELIJN",
            "KORTELIJN_MATRIX__STORE_PATH": str(folder / "bot-process-store"),
            "KORTELIJN_MATRIX__ENCRYPTION": "true" if encryption else "false",
            "KORTELIJN_SECURITY__KEY": crypto.generate_key(),
            "KORTELIJN_METRICS__ADDRESS": "127.0.0.1:0",
        }
        self.folder = folder
        self._process: asyncio.subprocess.Process | None = None

    def _synced(self) -> bool:
        """Whether the bot has saved its first sync position (it is ready then)."""
        if not self.database.exists():
            return False
        try:
            with contextlib.closing(sqlite3.connect(self.database, timeout=1)) as db:
                return db.execute("SELECT 1 FROM transport_state WHERE kind = 'sync'"
                                  ).fetchone() is not None
        except sqlite3.Error:
            return False  # not migrated yet

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=self.folder,
            env={**os.environ, **self.environment},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await until(self._synced, within=120, what="the bot process's first sync")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
