"""Engines and migrations. SQLite (WAL mode) is the embedded default; PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; for SQLite, make the file's folder and switch on WAL."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_file(Path(database))
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def private_file(path: Path) -> None:
    """Make the SQLite file readable and writable by this user only (0600) before SQLite
    opens it: SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so
    they are private too. A file that exists with a wider mode is narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists() and each.stat().st_mode & 0o077:
            each.chmod(0o600)
            log.warning("narrowed %s to mode 0600 (readable by this user only)", each.name)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _run(connection: Connection, revision: str, down: bool) -> None:
    """Run the migrations on ``connection``, in one transaction.

    SQLite changes a column by copying its table and dropping the old one; with foreign keys
    on, that drop would delete (or null) the rows that refer to it. So on SQLite the foreign
    keys are off while migrating (switched outside the transaction, the only place SQLite
    allows it), checked afterwards, and on again."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("the migration left rows whose foreign keys do not hold")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    async with engine.connect() as conn:
        await conn.run_sync(_run, revision, False)
    log.info("database schema is at %s", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema back to ``revision`` (development and tests)."""
    async with engine.connect() as conn:
        await conn.run_sync(_run, revision, True)
    log.info("database schema is back at %s", revision)
