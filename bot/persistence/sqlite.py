"""SQLite for SQLAlchemy's asyncio layer without a thread hop per statement.

aiosqlite runs every call (open a cursor, execute, fetch, close) in a thread of its own and
wakes the event loop for each result: four hops per statement, the largest cost of a unit of
work (issue 9, item 9). SQLite is a library, not a server: a statement on a warm page cache
takes microseconds, less than one hop. So this dialect calls the standard ``sqlite3`` module
directly, on the event loop's thread, under SQLAlchemy's asyncio API (``AsyncEngine``,
``AsyncSession``): callers do not change.

What must never happen on the event loop is a wait for a lock. Every transaction therefore
starts with ``BEGIN IMMEDIATE``: it takes SQLite's one write lock up front, without waiting
(``busy_timeout`` is 0); while another connection (another unit of work of this process
suspended on real I/O, or another process such as ``kortelijn rekey``) holds it, the begin is
retried after an *asynchronous* pause, so the loop runs on meanwhile. Once the lock is held no
statement of the transaction can meet a lock (WAL: readers never block the writer, nor the
writer them), and a read-then-write transaction can no longer fail half-way with
``SQLITE_BUSY`` when someone else wrote in between: units of work on SQLite are serialisable.
Units of work in one process are serialised by that lock, as SQLite's writes always are.

Durability (stated here and in ``docs``/the report, kept honest): the database runs in WAL mode
with ``synchronous=FULL`` by default: ``COMMIT`` returns only after the write-ahead log is
synced to disk, so a committed signal, with its outbox rows, survives a crash of the process
*and* of the machine (power loss). ``synchronous=NORMAL`` (``[database] sqlite_synchronous``)
survives a crash of the process but may lose the last commits on power loss; the database stays
consistent either way, and the outbox row is always in the same transaction as its change.
With FULL each commit waits for one ``fsync``. On a disk that syncs in well under two
milliseconds (an SSD) the commit runs on the event loop, as every statement does: a hop to a
worker thread (a thread switch under the GIL, then the loop's wake-up) costs more than such a
sync. When the recent syncs took longer on average (a slow or busy disk), the wait moves off
the event loop, one hop per *transaction*, so the loop is never held up for long
(``INLINE_COMMIT_S``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Executable, pool, util
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection as SAConnection
from sqlalchemy.engine.interfaces import DBAPIConnection, IsolationLevel
from sqlalchemy.engine.url import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import await_only, in_greenlet

_T = TypeVar("_T")

#: how the database is made durable (see the module's docstring)
Synchronous = Literal["full", "normal"]

#: the driver name this module registers (``sqlite+kortelijn://``)
DRIVER = "kortelijn"

#: how long a transaction waits for SQLite's write lock before it gives up (as the old
#: ``timeout`` of the driver did)
LOCK_TIMEOUT_S = 30.0
_FIRST_PAUSE_S = 0.0005
_LONGEST_PAUSE_S = 0.05
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


class Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's asyncio results call before they leave the greenlet; rows of a
        ``sqlite3`` cursor can be fetched from anywhere, so nothing needs doing."""


class Connection(sqlite3.Connection):
    """A ``sqlite3`` connection that never begins a transaction by itself (the dialect
    does, with ``BEGIN IMMEDIATE``) and knows whether it is in autocommit mode."""

    autocommit_mode = False
    synchronous: Synchronous = "full"
    #: the task whose transaction on this connection holds the write lock
    holder: asyncio.Task[Any] | None = None

    def cursor(self, factory: Any = Cursor) -> Any:
        return super().cursor(factory)


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def _pause(seconds: float) -> None:
    """Wait without holding up the event loop (in SQLAlchemy's greenlet: an asyncio sleep)."""
    if in_greenlet():
        await_only(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


def begin_immediate(connection: sqlite3.Connection, timeout: float = LOCK_TIMEOUT_S) -> None:
    """Begin a transaction holding the write lock; wait for it asynchronously."""
    deadline = time.monotonic() + timeout
    pause = _FIRST_PAUSE_S
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _busy(error) or time.monotonic() >= deadline:
                raise
        else:
            return
        _pause(pause)
        pause = min(pause * 2, _LONGEST_PAUSE_S)


async def _nothing() -> None:
    return None


def _yield_once() -> None:
    """SQLAlchemy's ``AsyncConnection`` insists that a statement awaited something (its
    check for a sync driver): one await of a finished coroutine, a greenlet switch without a
    turn of the event loop."""
    if in_greenlet():
        await_only(_nothing())


#: the connection whose transaction holds the write lock for a task (``_begin``)
_holder: weakref.WeakKeyDictionary[asyncio.Task[Any], Connection] = (
    weakref.WeakKeyDictionary())


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _raw(dbapi_connection: Any) -> Connection:
    """The ``sqlite3`` connection (SQLAlchemy wraps it while it first connects)."""
    raw: Connection = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
    return raw


def _begin(connection: Connection) -> None:
    """Begin with the write lock; but a unit of work opened inside another one of the same
    task (a test reading while it holds one open) begins a plain, deferred transaction: it
    may read (WAL), and a write in it fails at once instead of waiting for its own task."""
    task = _task()
    holder = _holder.get(task) if task is not None else None
    if holder is not None and holder is not connection:
        connection.execute("BEGIN")
        return
    begin_immediate(connection)
    if task is not None:
        connection.holder = task
        _holder[task] = connection


def _ended(connection: Connection) -> None:
    """The transaction ended (SQLAlchemy may end it from another task than began it)."""
    task, connection.holder = connection.holder, None
    if task is not None and _holder.get(task) is connection:
        del _holder[task]


#: a commit that syncs to disk is carried out on the event loop while the disk's syncs take
#: less than this (on average, recently); beyond it, it waits in a worker thread
INLINE_COMMIT_S = 0.002
#: how much each commit's time weighs in that average
_SYNC_WEIGHT = 0.1


class _SyncCost:
    """How long the disk's syncs take lately (an exponential moving average of commits)."""

    average = 0.0

    def note(self, seconds: float) -> None:
        self.average += _SYNC_WEIGHT * (seconds - self.average)

    @property
    def inline(self) -> bool:
        return self.average < INLINE_COMMIT_S


_sync_cost = _SyncCost()


def _timed_commit(connection: Connection) -> float:
    started = time.perf_counter()
    connection.commit()
    return time.perf_counter() - started


def _commit(connection: Connection) -> None:
    if connection.in_transaction:
        if connection.synchronous == "full" and in_greenlet() and not _sync_cost.inline:
            # a slow disk: the fsync of the log waits off the event loop (the one hop of a
            # transaction, which costs more than a fast disk's sync: a thread switch, and the
            # loop's wake-up)
            _sync_cost.note(await_only(asyncio.to_thread(_timed_commit, connection)))
        elif connection.synchronous == "full":
            _sync_cost.note(_timed_commit(connection))
        else:
            connection.commit()  # no sync to wait for
    _ended(connection)


def _rollback(connection: Connection) -> None:
    if connection.in_transaction:
        connection.rollback()
    _ended(connection)


class SQLiteDialect_kortelijn(SQLiteDialect_pysqlite):  # noqa: N801 (SQLAlchemy's naming)
    """``sqlite3`` under SQLAlchemy's asyncio layer, statements inline (module docstring)."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def create_connect_args(self, url: URL) -> Any:
        args, options = super().create_connect_args(url)
        # never wait for a lock inside SQLite (the loop would stop): begin_immediate waits
        options["timeout"] = 0
        options["isolation_level"] = None
        options["factory"] = Connection
        # the pool hands a connection to whichever task asks; a commit may sync in a worker
        options["check_same_thread"] = False
        return args, options

    def set_isolation_level(self, dbapi_connection: DBAPIConnection,
                            level: IsolationLevel) -> None:
        # the driver's own transaction handling stays off: AUTOCOMMIT only means that the
        # dialect does not begin one
        _raw(dbapi_connection).autocommit_mode = level == "AUTOCOMMIT"
        if level != "AUTOCOMMIT":
            super(SQLiteDialect_pysqlite, self).set_isolation_level(dbapi_connection, level)

    def detect_autocommit_setting(self, dbapi_conn: DBAPIConnection) -> bool:
        return _raw(dbapi_conn).autocommit_mode

    def do_execute(self, cursor: Any, statement: str, parameters: Any,
                   context: Any = None) -> None:
        _yield_once()
        cursor.execute(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        _yield_once()
        cursor.execute(statement)

    def do_executemany(self, cursor: Any, statement: str, parameters: Any,
                       context: Any = None) -> None:
        _yield_once()
        cursor.executemany(statement, parameters)

    def do_begin(self, dbapi_connection: DBAPIConnection) -> None:
        connection = _raw(dbapi_connection)
        if not connection.autocommit_mode and not connection.in_transaction:
            _begin(connection)

    def do_commit(self, dbapi_connection: DBAPIConnection) -> None:
        _commit(_raw(dbapi_connection))

    def do_rollback(self, dbapi_connection: DBAPIConnection) -> None:
        _rollback(_raw(dbapi_connection))


def set_pragmas(connection: Connection, synchronous: Synchronous) -> None:
    """The settings of every connection (outside any transaction, where SQLite takes them)."""
    connection.synchronous = synchronous
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute(f"PRAGMA synchronous={synchronous.upper()}")


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_kortelijn")


class InlineSession(AsyncSession):
    """An ``AsyncSession`` whose statements run inline on SQLite (issue 9, item 9).

    SQLAlchemy's asyncio session runs every call in a greenlet of its own (``greenlet_spawn``)
    so that a driver may await; this dialect never awaits inside a statement (module
    docstring). So once the session holds its connection, with the transaction begun, its
    statements, look-ups and flushes are run by the synchronous session directly: no greenlet
    per call. Taking the connection (``BEGIN IMMEDIATE``, which may wait for the write lock)
    and the commit (which waits for the fsync off the loop) still go through the greenlet, so
    neither ever holds up the event loop."""

    _inline_ready = False

    async def inline(self) -> Session:
        """The synchronous session, its connection taken and its transaction begun."""
        sync = self.sync_session
        if not (self._inline_ready and sync.in_transaction()):
            await self.connection()  # in a greenlet: checkout and BEGIN IMMEDIATE
            self._inline_ready = True
        return sync

    async def execute(self, statement: Executable, params: Any = None, *,
                      execution_options: Any = util.EMPTY_DICT,
                      bind_arguments: Any = None, **kw: Any) -> Any:
        sync = await self.inline()
        options = (util.immutabledict(execution_options).union(_BUFFERED)
                   if execution_options else _BUFFERED)
        return sync.execute(statement, params=params, execution_options=options,
                            bind_arguments=bind_arguments, **kw)

    async def scalar(self, statement: Executable, params: Any = None, *,
                     execution_options: Any = util.EMPTY_DICT,
                     bind_arguments: Any = None, **kw: Any) -> Any:
        result = await self.execute(statement, params, execution_options=execution_options,
                                    bind_arguments=bind_arguments, **kw)
        return result.scalar()

    async def scalars(self, statement: Executable, params: Any = None, *,
                      execution_options: Any = util.EMPTY_DICT,
                      bind_arguments: Any = None, **kw: Any) -> Any:
        result = await self.execute(statement, params, execution_options=execution_options,
                                    bind_arguments=bind_arguments, **kw)
        return result.scalars()

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        return (await self.inline()).get(entity, ident, **kw)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        sync = self.sync_session
        if not sync.new and not sync.dirty and not sync.deleted:
            return  # nothing to write: no need to begin
        (await self.inline()).flush(objects=objects)

    async def delete(self, instance: object) -> None:
        (await self.inline()).delete(instance)

    async def run_sync(self, fn: Callable[..., _T], *arg: Any, **kw: Any) -> _T:
        return fn(await self.inline(), *arg, **kw)

    async def commit(self) -> None:
        self._inline_ready = False
        await super().commit()

    async def rollback(self) -> None:
        self._inline_ready = False
        await super().rollback()

    async def close(self) -> None:
        self._inline_ready = False
        await super().close()


#: what the asyncio session asks of every statement (its results are buffered)
_BUFFERED = util.immutabledict({"prebuffer_rows": True})


# --- the hot path's statements, straight on the driver -------------------------------------

class Rows:
    """What a statement run by :func:`run_inline` returned, already processed (the few
    ways of reading a result the repositories use)."""

    def __init__(self, keys: list[str], rows: list[tuple[Any, ...]]) -> None:
        self._keys = keys
        self._rows = rows

    def all(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise ValueError(f"one row expected, {len(self._rows)} found")
        return self._rows[0][0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]

    def mappings(self) -> list[dict[str, Any]]:
        return [dict(zip(self._keys, row, strict=True)) for row in self._rows]


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]
    keys: list[str]
    results: tuple[Callable[[Any], Any] | None, ...]


#: (statement, the parameters' names) → its plan, or None where SQLAlchemy must run it
_PLANS: dict[tuple[int, tuple[str, ...]], _Plan | None] = {}
#: the statements of the plans (so that an id in ``_PLANS`` is never reused)
_KEPT: dict[int, Any] = {}


def _plan(connection: SAConnection, statement: Any, names: tuple[str, ...]) -> _Plan | None:
    key = (id(statement), names)
    if key in _PLANS:
        return _PLANS[key]
    dialect = connection.dialect
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(names))
    plan: _Plan | None = None
    # only what needs nothing of SQLAlchemy's execution: every parameter given (no column
    # defaults to fill in), no list expanded into the SQL
    if not compiled.post_compile_params and set(compiled.positiontup or ()) <= set(names):
        processors = compiled._bind_processors
        columns = compiled._result_columns
        plan = _Plan(
            sql=compiled.string, names=tuple(compiled.positiontup or ()),
            binds=tuple(processors.get(n) for n in compiled.positiontup or ()),
            keys=[c.keyname for c in columns],
            results=tuple(c.type._cached_result_processor(dialect, None) for c in columns))
    if len(_PLANS) > 1000:
        _PLANS.clear()
        _KEPT.clear()
    _PLANS[key] = plan
    _KEPT[id(statement)] = statement
    return plan


def run_inline(connection: SAConnection, statement: Any, params: Any = None) -> Any:
    """Run a Core statement on SQLite's own connection: compiled once (by SQLAlchemy, so
    its column types encrypt and convert as always), then straight on the ``sqlite3``
    cursor, without SQLAlchemy's execution context, about a tenth of its cost. Its
    ``before_cursor_execute`` listeners are still told of every statement (what counts
    them counts these too). Statements that need more (column defaults, expanding lists)
    run through SQLAlchemy."""
    many = isinstance(params, list)
    first = (params[0] if params else {}) if many else (params or {})
    plan = _plan(connection, statement, tuple(first))
    if plan is None:
        return connection.execute(statement, params)
    if many:
        values: Any = [tuple(bind(row[n]) if bind is not None else row[n]
                             for n, bind in zip(plan.names, plan.binds, strict=True))
                       for row in params]
    else:
        values = tuple(bind(first[n]) if bind is not None else first[n]
                       for n, bind in zip(plan.names, plan.binds, strict=True))
    raw = _raw(connection.connection.dbapi_connection)
    cursor = raw.cursor()
    try:
        listeners = connection.dispatch.before_cursor_execute
        if listeners:
            listeners(connection, cursor, plan.sql, values, None, many)
        if many:
            cursor.executemany(plan.sql, values)
            return Rows(plan.keys, [])
        cursor.execute(plan.sql, values)
        fetched = cursor.fetchall() if plan.keys else []
    finally:
        cursor.close()
    if any(plan.results):
        fetched = [tuple(p(v) if p is not None else v
                         for p, v in zip(plan.results, row, strict=True)) for row in fetched]
    return Rows(plan.keys, fetched)
