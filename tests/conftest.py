"""Shared fixtures: a clock that only moves when told, and databases of both kinds.

Persistence tests run against SQLite always, and against PostgreSQL when
``KORTELIJN_TEST_DATABASE_URL`` names one (``.ci/run`` sets it to this machine's server).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import crypto
from bot.domain.clock import ManualClock
from bot.persistence.database import create_engine, head_revision, migrate

try:
    from xdist.scheduler import LoadGroupScheduling
except ImportError:  # pytest-xdist is not installed: no parallel run, nothing to schedule
    LoadGroupScheduling = None


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

#: the tests that share the session's Synapse (tests/matrix/conftest.py marks them)
SYNAPSE_GROUP = ("tests/matrix/", "synapse")


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadgroup`` with the Matrix tests in one worker, beside one Synapse.

    pytest-xdist 3.8 groups by a suffix it appends to each marked test's ``_nodeid`` in the
    worker, which pytest 9 no longer reads (a node's id is ``_id``): every test came back as
    a group of its own, and each worker started a Synapse. This scheduler groups the Matrix
    tests by their path instead; a test whose id does carry a group keeps it. The group is
    the largest unit, so xdist hands it out first and the other worker takes the rest."""
    if LoadGroupScheduling is None or config.getvalue("dist") != "loadgroup":
        return None
    return _MatrixTogether(config, log)


if LoadGroupScheduling is not None:
    class _MatrixTogether(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            prefix, group = SYNAPSE_GROUP
            if nodeid.startswith(prefix):
                return group
            scope: str = super()._split_scope(nodeid)
            return scope


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
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path
                             ) -> AsyncIterator[str]:
    """An empty database of each kind, as an SQLAlchemy URL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'kortelijn.db'}"
        return
    await _reset_postgres(PG_URL)
    yield PG_URL
    await _reset_postgres(PG_URL)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """An empty database of each kind (the end-to-end tests' own conftest makes it a migrated
    one: :func:`migrated_database_url`)."""
    return empty_database_url


# --- a database at the newest migration, without migrating it for every test -------------

#: the SQLite file this process migrated once, copied for each test that wants one
_SQLITE_TEMPLATE: list[Path] = []
#: the PostgreSQL schema the migrations made in this process: table, column, type
_PG_SCHEMA: list[frozenset[tuple[str, str, str]]] = []


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def _sqlite_template(folder: Path) -> Path:
    if not _SQLITE_TEMPLATE:
        template = folder / "template.db"
        await _migrated(f"sqlite+aiosqlite:///{template}")
        # the engine is gone: its write-ahead log is checkpointed into the file and removed
        assert not template.with_name(template.name + "-wal").exists()
        _SQLITE_TEMPLATE.append(template)
    return _SQLITE_TEMPLATE[0]


async def _pg_schema(conn: asyncpg.Connection) -> frozenset[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public'")
    return frozenset((r[0], r[1], r[2]) for r in rows)


async def _emptied_postgres_at_head(url: str) -> None:
    """The worker's database as the migrations leave it: when its schema is the one they
    made (the same revision, tables, columns and types), its rows are deleted and its
    sequences restarted (a few milliseconds); otherwise it is dropped and migrated anew."""
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username,
        password=parsed.password, database=parsed.database)
    try:
        version = None
        if await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
            version = await conn.fetchval("SELECT version_num FROM alembic_version")
        if _PG_SCHEMA and version == head_revision() and await _pg_schema(conn) == _PG_SCHEMA[0]:
            tables = [r[0] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'")]
            sequences = [r[0] for r in await conn.fetch(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")]
            async with conn.transaction():
                # no foreign key is checked while every table is emptied (in any order)
                await conn.execute("SET LOCAL session_replication_role = replica")
                for table in tables:  # names read from the catalogue, not from input
                    await conn.execute(f'DELETE FROM public."{table}"')  # noqa: S608
                for sequence in sequences:
                    await conn.execute(f'ALTER SEQUENCE public."{sequence}" RESTART')
            return
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        await conn.execute("CREATE SCHEMA public")
        await _migrated(url)
        _PG_SCHEMA[:] = [await _pg_schema(conn)]
    finally:
        await conn.close()


@pytest.fixture(params=_backends())
async def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path,
                                tmp_path_factory: pytest.TempPathFactory
                                ) -> AsyncIterator[str]:
    """A database of each kind with the schema at the newest migration and no rows, as an
    SQLAlchemy URL: what ``database_url`` is after ``migrate``, without running the
    migrations for each test (SQLite: a copy of a file migrated once per process;
    PostgreSQL: the tables emptied when the schema is the migrations', else migrated anew).
    The migrations themselves are tested on ``empty_database_url``."""
    if request.param == "sqlite":
        database = tmp_path / "kortelijn.db"
        shutil.copy(await _sqlite_template(tmp_path_factory.getbasetemp()), database)
        yield f"sqlite+aiosqlite:///{database}"
        return
    await _emptied_postgres_at_head(PG_URL)
    yield PG_URL
    await _emptied_postgres_at_head(PG_URL)  # no rows of this test meet the next
