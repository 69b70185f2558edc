"""The SQLite file holds the case data (encrypted, but its shape and the keyed hashes are
there): it and its WAL and shared-memory files are readable by this user only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from bot.persistence.database import create_engine, migrate


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_and_its_wal_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which would make them world-readable
    try:
        path = tmp_path / "var" / "kortelijn.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        async with engine.begin() as conn:  # a write keeps the WAL and its index in use
            await conn.execute(text("CREATE TABLE probe (x INTEGER)"))
            wal = path.with_name(path.name + "-wal")
            shm = path.with_name(path.name + "-shm")
            assert wal.exists()
            assert shm.exists()
            assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        await engine.dispose()
    finally:
        os.umask(old)


async def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "kortelijn.db"
    path.touch()
    path.chmod(0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine)
    await engine.dispose()
    assert mode(path) == 0o600
