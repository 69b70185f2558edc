"""Who runs the timed work when several instances share a database.

* PostgreSQL: the instance that holds a session-level advisory lock on a connection of its
  own is the leader. The others are followers and try for the lock every ``check_every``;
  when the leader dies or loses its connection, PostgreSQL releases the lock and a follower
  takes it within that time. A leader checks its connection as often, and steps down the
  moment the connection is gone (the lock went with it).
* SQLite is for one instance: :class:`SingleInstance` holds an exclusive lock on a file next
  to the database for as long as the process runs, and a second instance is refused with a
  clear message.

The bot (``bot/app.py``) holds one for the timed work (``LEADER_LOCK``) and one per chat
account whose updates only one instance may take (:func:`account_lock`: Telegram allows one
poller per token, Matrix one sync per device); ``on_change(role)`` starts and stops the work.
A lock with ``settle`` (Matrix's: two syncs of one device break its keys) is acted on one
check after it was taken: an instance that lost it with its connection notices at its own
next check and stops, so the two never run at once; the takeover stays within
``3 × check_every``.

A check that hangs (the network went, and the database did not answer) counts as a lost
connection after ``check_every``; the dedicated connection asks the server to drop it when
this side stops answering for as long (TCP keepalives and user time-out), so the lock is
freed for a follower within about ``3 × check_every`` also when the leader's machine
vanishes without closing its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import ConfigError

log = logging.getLogger(__name__)

#: the advisory lock of the leader ("KL" and "lead" in ASCII); the migration lock differs
LEADER_LOCK = 0x4B4C_6C656164

LEADER = "leader"
FOLLOWER = "follower"


def account_lock(transport: str, account: str) -> int:
    """The advisory lock key of one chat account's updates (a signed 64-bit number); never
    the leader's. The account is hashed: a token never reaches the database."""
    digest = hashlib.blake2b(f"kortelijn-receive:{transport}:{account}".encode(),
                             digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    return key if key != LEADER_LOCK else key ^ 1


class AlreadyRunning(ConfigError):
    """Another instance runs on this SQLite database."""


class SingleInstance:
    """An exclusive lock on ``<database>.instance.lock`` while this process runs."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".instance.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "?"
            handle.close()
            raise AlreadyRunning(
                f"another KorteLijn (process {other}) runs on this SQLite database; SQLite "
                "is for one instance: stop the other, or use PostgreSQL for several") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Leadership:
    """Leader election through a PostgreSQL advisory lock on a dedicated connection."""

    def __init__(self, engine: AsyncEngine, *, check_every: float = 5.0,
                 on_change: Callable[[str], None] | None = None,
                 key: int = LEADER_LOCK, settle: bool = False) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("leader election needs PostgreSQL (SQLite: SingleInstance)")
        self._engine = engine
        self._check_every = check_every
        self._on_change = on_change or (lambda _role: None)
        self._key = key
        #: a lock taken is acted on only at the next check (one ``check_every`` later): by
        #: then an instance that held it and lost its connection has noticed and stopped, so
        #: the two never run the work at once (Matrix: one sync per device, one key store)
        self._settle = settle
        #: this instance's connection holds the lock (the role may still be settling)
        self._holding = False
        self._conn: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.role = FOLLOWER

    @property
    def is_leader(self) -> bool:
        return self.role == LEADER

    async def start(self) -> None:
        await self.check()
        self._task = asyncio.create_task(self._run(), name="leader-election")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop_connection(unlock=True)
        self._set(FOLLOWER)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("leader election: a check failed; trying again")

    async def check(self) -> str:
        """Keep the lock (leader) or try for it (follower); the role after the check."""
        try:
            await asyncio.wait_for(self._check(), max(self._check_every, 0.5))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # the connection is gone, and the lock with it: step down at once
            log.warning("leader election: the database connection failed (%s)",
                        type(error).__name__)
            await self._drop_connection(unlock=False)
            self._set(FOLLOWER)
        return self.role

    async def _check(self) -> None:
        if self._conn is None:
            self._conn = await self._engine.connect()
            await self._conn.execution_options(isolation_level="AUTOCOMMIT")
            await self._keepalive(self._conn)
        if self._holding:
            await self._conn.execute(text("SELECT 1"))
            self._set(LEADER)  # held since the last check at least
        else:
            taken = bool((await self._conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})).scalar())
            self._holding = taken
            self._set(LEADER if taken and not self._settle else FOLLOWER)

    async def _keepalive(self, conn: AsyncConnection) -> None:
        """The server drops this connection (and the lock) when this side stops answering."""
        idle = max(1, int(self._check_every))
        for name, value in (("tcp_keepalives_idle", idle), ("tcp_keepalives_interval", idle),
                            ("tcp_keepalives_count", 2),
                            ("tcp_user_timeout", int(3000 * self._check_every))):
            with contextlib.suppress(Exception):  # not on every server, nor over a socket
                await conn.execute(text(f"SET {name} = {int(value)}"))

    def _set(self, role: str) -> None:
        if role != self.role:
            self.role = role
            log.info("this instance is now the %s", role)
            self._on_change(role)

    async def _drop_connection(self, *, unlock: bool) -> None:
        conn, self._conn = self._conn, None
        holding, self._holding = self._holding, False
        if conn is None:
            return
        with contextlib.suppress(Exception):
            if unlock and holding:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        with contextlib.suppress(Exception):
            if unlock:
                await conn.close()
            else:
                await conn.invalidate()  # a broken connection is not given back to the pool
