"""Two instances that start at once never migrate at once: on PostgreSQL an advisory lock
lets the first migrate while the second waits, then finds the schema current."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.persistence.database import (
    MIGRATION_LOCK,
    create_engine,
    head_revision,
    migrate,
    schema_revision,
)
from tests.conftest import PG_URL, _reset_postgres
from tests.support.polling import until

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")]


@pytest.fixture
async def empty_postgres() -> str:
    await _reset_postgres(PG_URL)
    return PG_URL


async def test_two_concurrent_migrations_on_an_empty_database(empty_postgres: str) -> None:
    engines = [create_engine(empty_postgres) for _ in range(2)]
    try:
        # without the lock the second CREATE TABLE of the same table fails
        async with asyncio.timeout(60):
            await asyncio.gather(*(migrate(engine) for engine in engines))
        assert await schema_revision(engines[0]) == head_revision()
        async with engines[0].connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert rows == [(head_revision(),)]
    finally:
        for engine in engines:
            await engine.dispose()
        await _reset_postgres(PG_URL)


async def test_a_migration_waits_for_the_lock(empty_postgres: str) -> None:
    holder = create_engine(empty_postgres)
    migrating = create_engine(empty_postgres)
    try:
        async with holder.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            task = asyncio.create_task(migrate(migrating))
            await until(lambda: _waiting_for_advisory_lock(conn),
                        what="the migration waiting for the lock")
            assert not task.done()
            assert await schema_revision(holder) is None  # nothing migrated meanwhile
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            await conn.commit()
            async with asyncio.timeout(30):
                await task
        assert await schema_revision(holder) == head_revision()
    finally:
        await holder.dispose()
        await migrating.dispose()
        await _reset_postgres(PG_URL)


async def _waiting_for_advisory_lock(conn) -> bool:  # type: ignore[no-untyped-def]
    count = (await conn.execute(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))).scalar()
    await conn.commit()
    return bool(count)
