"""Shared fixtures: a clock that only moves when told, and databases of both kinds.

Persistence tests run against SQLite always, and against PostgreSQL when
``KORTELIJN_TEST_DATABASE_URL`` names one (``.ci/run`` sets it to this machine's server).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import crypto
from bot.domain.clock import ManualClock
from bot.persistence.database import create_engine


def _own_database(url: str, worker: str) -> str:
    """The PostgreSQL database of this test process: the named one, or, when pytest-xdist
    runs the suite in several workers (``make test``), one database per worker beside it
    (``test_gw0``, ``test_gw1``, ...), made on first use, so that workers never share tables."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database or 'test'}_{worker}"

    async def make() -> None:
        conn = await asyncpg.connect(
            host=parsed.host, port=parsed.port or 5432, user=parsed.username,
            password=parsed.password, database=parsed.database or "postgres")
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(make())
    return parsed.set(database=name).render_as_string(hide_password=False)


PG_URL = _own_database(os.environ.get("KORTELIJN_TEST_DATABASE_URL", ""),
                       os.environ.get("PYTEST_XDIST_WORKER", ""))
if PG_URL:
    # a bot process a test starts, and code reading the variable, use this worker's database
    os.environ["KORTELIJN_TEST_DATABASE_URL"] = PG_URL

#: a Monday morning, 09:00 in Amsterdam
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


#: the encryption key every test runs with (free text and identities are encrypted at rest)
TEST_KEY = "a29ydGVsaWpuLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc="


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test (and every bot it starts, also as a process) encrypts with ``TEST_KEY``,
    so no test makes a key file; a test may install another keyring."""
    monkeypatch.setenv("KORTELIJN_SECURITY__KEY", TEST_KEY)
    monkeypatch.delenv("KORTELIJN_SECURITY__OLD_KEYS", raising=False)
    crypto.install(crypto.Keyring([crypto.parse_key(TEST_KEY)]))
    return TEST_KEY


@pytest.fixture(autouse=True)
def _metrics_on_any_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot process a test starts serves its health and metrics on a free port, so tests
    running side by side never contend for the default 9464."""
    monkeypatch.setenv("KORTELIJN_METRICS__ADDRESS", "127.0.0.1:0")


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot 22 warns on every RetryAfter unless its time periods are opted in
    as timedelta; the transport reads both (one test switches it off to check the int)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _backends() -> list[object]:
    params: list[object] = ["sqlite"]
    params.append(pytest.param("postgresql", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")]))
    return params


@pytest.fixture(params=_backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each kind, as an SQLAlchemy URL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'kortelijn.db'}"
        return
    await _reset_postgres(PG_URL)
    yield PG_URL
    await _reset_postgres(PG_URL)
