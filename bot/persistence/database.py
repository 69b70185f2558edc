"""Engines and migrations. SQLite (WAL mode) is the embedded default; PostgreSQL by URL.

SQLite runs through :mod:`bot.persistence.sqlite` (``sqlite3`` inline, no thread hop per
statement; every transaction holds the write lock from its start); ``sqlite://`` and the
older ``sqlite+aiosqlite://`` URLs both mean it. Its durability is set there: WAL with
``synchronous=FULL`` unless the deployment chooses ``normal``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Insert, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session

from bot import crypto
from bot.persistence import sqlite
from bot.persistence.sqlite import Synchronous

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

#: the PostgreSQL advisory lock that lets one process at a time migrate (any fixed number
#: works, as long as every instance of KorteLijn uses the same one: "KL" and "mig" in ASCII)
MIGRATION_LOCK = 0x4B4C_6D6967


def create_engine(url: str, *, sqlite_synchronous: Synchronous = "full") -> AsyncEngine:
    """An async engine for ``url``; for SQLite, make the file's folder, switch on WAL and
    the durability ``sqlite_synchronous`` (see :mod:`bot.persistence.sqlite`)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        parsed = parsed.set(drivername=f"sqlite+{sqlite.DRIVER}")
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_file(Path(database))
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **kwargs)
    # every INSERT gives its rows their keys and binds their encrypted values to them
    event.listen(engine.sync_engine, "before_execute", _bind_rows, retval=True)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect",
                     lambda connection, _record: sqlite.set_pragmas(connection,
                                                                   sqlite_synchronous))
    return engine


def _bind_rows(_conn: Connection, statement: Any, multiparams: Any, params: Any,
               _options: Any) -> tuple[Any, Any, Any]:
    """Before a statement: an INSERT into a table with row-bound values gets a row key for
    each row (``bot.crypto.bind_row``); the ORM's own inserts have theirs already."""
    if isinstance(statement, Insert) and crypto.row_bound_columns(statement.table):
        table = statement.table
        multiparams = [crypto.bind_row(table, row) for row in multiparams]
        if params:
            params = crypto.bind_row(table, params)
    return statement, multiparams, params


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


#: where a session keeps what its unit of work does before each of its statements
BEFORE_STATEMENT = "kortelijn_before_statement"


class UnitSession(Session):
    """The synchronous session of a unit of work: before each statement it calls what the
    unit of work left in its ``info`` (one listener for the class, registered once, where a
    listener per session cost as much as a statement)."""


@event.listens_for(UnitSession, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    hook = state.session.info.get(BEFORE_STATEMENT)
    if hook is not None:
        hook(state)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for ``engine``; on SQLite they run their statements inline
    (:class:`bot.persistence.sqlite.InlineSession`)."""
    inline = engine.dialect.driver == sqlite.DRIVER
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=UnitSession,
                              class_=sqlite.InlineSession if inline else AsyncSession)


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
    on_sqlite = connection.dialect.name == "sqlite"
    # the pragma works only outside a transaction: on the driver's connection, before one
    raw = connection.connection.driver_connection if on_sqlite else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # several instances may start at once: the first migrates, the others wait
                # here and then find the schema current (released with the transaction)
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)
            if on_sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("the migration left rows whose foreign keys do not hold")
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    async with engine.connect() as conn:
        await conn.run_sync(_run, revision, False)
    log.info("database schema is at %s", revision)


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at; ``None`` for a database never migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(_revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema back to ``revision`` (development and tests)."""
    async with engine.connect() as conn:
        await conn.run_sync(_run, revision, True)
    log.info("database schema is back at %s", revision)
