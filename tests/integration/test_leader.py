"""Leader election on PostgreSQL (an advisory lock on a dedicated connection: one leader, the
others take over when it goes), and SQLite's refusal of a second instance."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.leader import FOLLOWER, LEADER, AlreadyRunning, Leadership, SingleInstance
from bot.persistence.database import create_engine
from tests.conftest import PG_URL
from tests.support.polling import until


# --- SQLite: one instance ---------------------------------------------------------------------
def test_a_second_instance_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    first, second = SingleInstance(tmp_path / "k.db"), SingleInstance(tmp_path / "k.db")
    first.acquire()
    with pytest.raises(AlreadyRunning, match=f"process {os.getpid()}"):
        second.acquire()
    first.release()
    second.acquire()  # the first is gone: the next may run
    second.release()
    other = SingleInstance(tmp_path / "other.db")
    other.acquire()  # another database is another matter
    other.release()


async def test_kortelijn_run_refuses_a_second_process_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "KORTELIJN_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"}
    env.pop("KORTELIJN_CONFIG", None)
    lock = tmp_path / "k.db.instance.lock"
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env)
    try:
        async def locked() -> bool:
            return await asyncio.to_thread(
                lambda: lock.exists() and lock.read_text().strip() == str(first.pid))

        await until(locked, within=30, what="the first instance holding the lock")
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env)
        async with asyncio.timeout(30):
            _, err = await second.communicate()
        assert second.returncode == 2
        assert f"another KorteLijn (process {first.pid}) runs on this SQLite database" in \
            err.decode()
        assert first.returncode is None  # the first runs on
    finally:
        assert first.stdin is not None
        first.stdin.close()
        async with asyncio.timeout(30):
            await first.wait()


# --- PostgreSQL: one leader -------------------------------------------------------------------
@pytest.fixture
async def instances() -> AsyncIterator[tuple[Leadership, Leadership, list[str], list[str]]]:
    engines = [create_engine(PG_URL), create_engine(PG_URL)]
    changes: tuple[list[str], list[str]] = ([], [])
    a = Leadership(engines[0], check_every=0.1, on_change=changes[0].append)
    b = Leadership(engines[1], check_every=0.1, on_change=changes[1].append)
    yield a, b, *changes
    await a.stop()
    await b.stop()
    for engine in engines:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")
@pytest.mark.parametrize("how", ["stops", "loses its connection"])
async def test_one_leader_and_a_takeover(
        instances: tuple[Leadership, Leadership, list[str], list[str]], how: str) -> None:
    a, b, a_changes, b_changes = instances
    await a.start()
    await b.start()
    assert (a.role, b.role) == (LEADER, FOLLOWER)
    assert await b.check() == FOLLOWER  # trying again changes nothing while a leads
    if how == "stops":
        await a.stop()
    else:  # the leader's connection is cut (a network failure, a database restart)
        admin = create_engine(PG_URL)
        try:
            async with admin.begin() as conn:
                await conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = :low AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"),
                    {"low": 0x6C656164})
        finally:
            await admin.dispose()

    async def b_leads() -> bool:
        return b.is_leader

    await until(b_leads, within=10, what="the follower taking over")

    async def a_follows() -> bool:
        return not a.is_leader

    await until(a_follows, within=10, what="the old leader stepping down")
    assert a_changes == [LEADER, FOLLOWER]
    assert b_changes == [LEADER]


def test_leader_election_needs_postgresql(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        Leadership(engine)
