"""The unit of work: one transaction, rolled back unless committed, with the repositories
the services use. Messages to people go into the outbox inside the same transaction.

It is lean on the hot path (posting a signal; issue 9, item 9), without giving up that the
outbox row commits or rolls back with its change:

- one commit per unit of work, and no flush per message: outbox rows are written when the
  transaction flushes (at the commit, or before a statement that reads the outbox);
- rows nobody reads back at once (timeline events, access-log entries) are gathered and
  written in one statement per table, at the commit or just before a statement touches their
  table (so what was recorded is always what a later query of the same unit of work sees);
- what a unit of work has read of a case's members, people and their chat identities is kept
  for the rest of it (one query for a case's roster, people and identities together) and
  forgotten as soon as a statement changes one of those tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    event,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy import case as sa_case
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    configure_mappers,
    make_transient_to_detached,
)
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.util import find_tables

from bot import crypto
from bot.domain import model
from bot.domain.choices import Action, MessageKind, Option, as_option
from bot.domain.model import Role, SignalKind, StepKind, WindowStatus
from bot.persistence import orm
from bot.persistence.complaints import ComplaintRepository
from bot.persistence.database import BEFORE_STATEMENT, UnitSession
from bot.persistence.sqlite import DRIVER, InlineSession, run_inline
from bot.persistence.trajectories import TrajectoryRepository

_M = TypeVar("_M", bound=orm.Base)

#: tables whose rows a unit of work keeps once read (see ``Cache``)
_CACHED_TABLES = frozenset({"cases", "memberships", "persons", "identities"})

# The statements of the hot path, built once: SQLAlchemy then also computes each one's cache
# key once (building a statement and its key costs about as much as running it on SQLite).

_PERSONS: Table = orm.Person.__table__  # type: ignore[assignment]
_CASES: Table = orm.Case.__table__  # type: ignore[assignment]
_MEMBERSHIPS: Table = orm.Membership.__table__  # type: ignore[assignment]
_IDENTITIES: Table = orm.Identity.__table__  # type: ignore[assignment]


def _by_identity(keys: int) -> Any:
    """A person, with the cases they hold a role in and the roles, by a chat identity's
    keyed hashes (one per configured key: ``h0``, ``h1``, …); Core columns, read into
    the session's objects by :func:`_attach`."""
    return (
        select(*_PERSONS.c, *_CASES.c, _MEMBERSHIPS.c.role)
        .outerjoin(_MEMBERSHIPS, _MEMBERSHIPS.c.person_id == _PERSONS.c.id)
        .outerjoin(_CASES, _CASES.c.id == _MEMBERSHIPS.c.case_id)
        .where(_PERSONS.c.id == (
            # the person of the first identity found (the earliest, as the ORM's did)
            select(_IDENTITIES.c.person_id).where(_IDENTITIES.c.id == (
                select(func.min(_IDENTITIES.c.id))
                .where(_IDENTITIES.c.transport == bindparam("transport"),
                       or_(*(_IDENTITIES.c.address_hash == bindparam(f"h{i}")
                             for i in range(keys))))
                .scalar_subquery())).scalar_subquery()))
        .order_by(_CASES.c.id, _MEMBERSHIPS.c.id))


#: the look-up by identity for each number of configured keys
_BY_IDENTITY: dict[int, Any] = {}
#: a case's memberships with the members and their chat identities
_ROSTER = (
    select(_MEMBERSHIPS.c.person_id, _MEMBERSHIPS.c.role, *_PERSONS.c, *_IDENTITIES.c)
    .join(_PERSONS, _PERSONS.c.id == _MEMBERSHIPS.c.person_id)
    .outerjoin(_IDENTITIES, _IDENTITIES.c.person_id == _MEMBERSHIPS.c.person_id)
    .where(_MEMBERSHIPS.c.case_id == bindparam("case_id"))
    .order_by(_MEMBERSHIPS.c.id, _IDENTITIES.c.id))
#: several cases' rosters at once, each row led by its case
_ROSTERS = (
    select(_MEMBERSHIPS.c.case_id, _MEMBERSHIPS.c.person_id, _MEMBERSHIPS.c.role, *_PERSONS.c,
           *_IDENTITIES.c)
    .join(_PERSONS, _PERSONS.c.id == _MEMBERSHIPS.c.person_id)
    .outerjoin(_IDENTITIES, _IDENTITIES.c.person_id == _MEMBERSHIPS.c.person_id)
    .where(_MEMBERSHIPS.c.case_id.in_(bindparam("case_ids", expanding=True)))
    .order_by(_MEMBERSHIPS.c.id, _IDENTITIES.c.id))


def _attach(session: Session, model_class: type[_M], table: Table, row: Sequence[Any]
            ) -> _M:
    """The session's object for a row read by a Core statement (``row``: the table's
    columns in order): the one it holds already, or a new one made persistent in it without
    another query, as if the ORM had loaded it (a change to it is flushed as usual)."""
    key = identity_key(model_class, (row[0],))
    found = session.identity_map.get(key)
    if found is not None:
        return found
    made = _made(model_class, dict(zip(table.c.keys(), row, strict=True)))
    make_transient_to_detached(made)
    session.add(made)
    return made


# the models' attributes are set up when their mappers are configured, which ``_made`` does
# not do by itself (a constructor does)
configure_mappers()


def _made(model_class: type[_M], values: dict[str, Any]) -> _M:
    """A model instance with these values, made as the ORM makes the ones it loads (without
    an attribute event per column: a tenth of the constructor's cost, on the hot path)."""
    made: _M = manager_of_class(model_class).new_instance()
    made.__dict__.update(values)
    return made
# inserts on the tables themselves (not the ORM entities): no ORM bulk-insert machinery
_SIGNALS: Table = orm.SignalRow.__table__  # type: ignore[assignment]
_WINDOWS: Table = orm.WindowRow.__table__  # type: ignore[assignment]
_DEADLINES: Table = orm.DeadlineRow.__table__  # type: ignore[assignment]
_OUTBOX: Table = orm.OutboxRow.__table__  # type: ignore[assignment]
_TIMELINE: Table = orm.TimelineRow.__table__  # type: ignore[assignment]
_INSERT_SIGNAL = insert(_SIGNALS).returning(_SIGNALS.c.id)
_INSERT_WINDOW = insert(_WINDOWS).returning(_WINDOWS.c.id)
_INSERT_STEPS = insert(_DEADLINES)
_CHOICES: Table = orm.OutboxChoice.__table__  # type: ignore[assignment]
_CASE_CHATS: Table = orm.CaseChat.__table__  # type: ignore[assignment]
#: the table of a message's choices: they are written with their message (``Deferred``)
OUTBOX_CHOICES = _CHOICES.name
_INSERT_OUTBOX = insert(_OUTBOX).returning(_OUTBOX.c.id)
#: many messages in one statement, with their ids and row keys (for their choices)
_INSERT_OUTBOX_KEYED = insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.row_key)
_INSERT_CHOICES = insert(_CHOICES)
_CHATS_OF_CASE = (select(_CASE_CHATS).where(_CASE_CHATS.c.case_id == bindparam("case_id"))
                  .order_by(_CASE_CHATS.c.id))
#: one row: for each kind of signal, whether the case had one since a moment (an index seek
#: per kind on ``ix_signals_case_kind_posted``, where ``SELECT DISTINCT kind`` read every
#: signal of the period)
_KINDS = tuple(SignalKind)
_KINDS_SINCE = select(*(
    exists().where(_SIGNALS.c.case_id == bindparam("case_id"),
                   _SIGNALS.c.kind == literal_column(f"'{kind.value}'"),
                   _SIGNALS.c.posted_at >= bindparam("since")).label(f"k{index}")
    for index, kind in enumerate(_KINDS)))

#: statement cache key → the tables the statement reads or changes (``_before_statement``)
_TABLES_OF: dict[object, frozenset[str]] = {}


def _tables_of(statement: Any) -> frozenset[str]:
    """The tables a statement touches, remembered per distinct statement (its cache key is
    computed once per statement object and reused when it is compiled)."""
    key = statement._generate_cache_key() if hasattr(statement, "_generate_cache_key") \
        else None
    if key is not None and key.key in _TABLES_OF:
        return _TABLES_OF[key.key]
    tables = frozenset(t.name for t in find_tables(statement, include_crud=True,
                                                   include_joins=True, include_aliases=True))
    if key is not None:
        if len(_TABLES_OF) > 5000:
            _TABLES_OF.clear()
        _TABLES_OF[key.key] = tables
    return tables


class Cache:
    """What a unit of work read of cases, their members, people and chat identities."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.case_by_code: dict[str, orm.Case] = {}
        #: (case id, person id) → the person's roles there, in Role order
        self.roles: dict[tuple[int, int], list[Role]] = {}
        #: case id → its memberships in the order they were made
        self.rosters: dict[int, list[model.Member]] = {}
        #: person id → the cases they hold a role in, with the role
        self.cases_of: dict[int, list[tuple[orm.Case, Role]]] = {}
        #: person id → the chat identity the bot reaches them on (None: they have none)
        self.identity: dict[int, orm.Identity | None] = {}
        #: the people read with a roster (the session's identity map holds them only weakly)
        self.people: dict[int, orm.Person] = {}

    def remember_cases(self, person_id: int, found: list[tuple[orm.Case, Role]]) -> None:
        self.cases_of[person_id] = found
        held: dict[int, list[Role]] = defaultdict(list)
        for case, role in found:
            self.case_by_code[case.code] = case
            held[case.id].append(role)
        for case_id, roles in held.items():
            self.roles[(case_id, person_id)] = sorted(roles, key=list(Role).index)


class Deferred:
    """Rows inserted in one statement per table (``insert().values`` many), later: at the
    commit, or just before a statement reads or changes their table. A row is given as its
    values, or as a transient model instance whose values are taken when it is written.
    Messages (``outbox``) are written with their choices: the messages in one statement that
    returns their ids, in order, then all their choices in one more."""

    def __init__(self) -> None:
        self.rows: dict[Table, list[dict[str, Any] | orm.Base]] = defaultdict(list)
        #: for each deferred message, in order: its row (which gets its id) and its choices
        self.messages: list[tuple[orm.OutboxRow, list[Option]]] = []

    def add(self, table: Table, values: dict[str, Any] | orm.Base) -> None:
        self.rows[table].append(values)

    def add_message(self, row: orm.OutboxRow, values: dict[str, Any], options: list[Option]
                    ) -> None:
        self.rows[_OUTBOX].append(values)
        self.messages.append((row, options))

    def clear(self) -> None:
        self.rows.clear()
        self.messages = []

    def write(self, session: Session, tables: set[str] | None = None) -> None:
        """Insert what is waiting (for ``tables`` only, if given), in the order recorded."""
        connection = session.connection()
        inline = connection.dialect.driver == DRIVER

        def run(statement: Any, params: Any) -> Any:
            params = _bound(statement, params)
            if inline:
                return run_inline(connection, statement, params)
            return connection.execute(statement, params)

        for table in [t for t in self.rows if tables is None or t.name in tables]:
            rows = [_values(table, row) for row in self.rows.pop(table)]
            if table is not _OUTBOX:
                run(_insert(table), rows)
                continue
            messages, self.messages = self.messages, []
            if not any(options for _, options in messages):
                run(_insert(table), rows)
                continue
            # one statement for all of them (SQLAlchemy's "insertmanyvalues"), which returns
            # each row's id with its row key: SQLite does not promise the order of RETURNING
            # over many rows, the keys say which id is whose
            bound = _bound(_INSERT_OUTBOX_KEYED, rows)
            if inline and len(bound) <= _KEYED_AT_ONCE and len(
                    {tuple(values) for values in bound}) == 1:
                # the same, as one statement of its own per number of messages, run inline
                statement, flat = _outbox_keyed(bound)
                returned = run_inline(connection, statement, flat).all()
            else:
                returned = connection.execute(_INSERT_OUTBOX_KEYED, bound).all()
            ids = {key: row_id for row_id, key in returned}
            for (row, _), values in zip(messages, bound, strict=True):
                row.id = ids[values[crypto.ROW_KEY]]
            run(_INSERT_CHOICES, [_choice(row.id, index, option) for row, options in messages
                                  for index, option in enumerate(options)])


def _bound(statement: Any, params: Any) -> Any:
    """An INSERT's rows with their row keys, and their encrypted values bound to them
    (``bot.crypto.bind_row``); any other statement's parameters as they are."""
    if not getattr(statement, "is_insert", False) or params is None:
        return params
    table = statement.table
    if isinstance(params, list):
        return [crypto.bind_row(table, row) for row in params]
    return crypto.bind_row(table, params)


#: at most this many messages in one multi-row INSERT of its own (a unit of work with more,
#: a broadcast, goes through SQLAlchemy's batches: an SQLite build may allow as few as 32,766
#: parameters in one statement, and each message has about 24)
_KEYED_AT_ONCE = 200
#: (number of messages, their columns) → one multi-row INSERT of the outbox returning each
#: row's id and key, built once
_OUTBOX_KEYED: dict[tuple[int, tuple[str, ...]], Any] = {}


def _outbox_keyed(rows: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """A multi-row INSERT of these messages (every row with the same columns), with its
    parameters as one flat mapping: what :func:`run_inline` runs without SQLAlchemy's
    "insertmanyvalues" machinery. The columns' own types bind the values (encrypting the
    texts bound to their rows)."""
    names = tuple(rows[0])
    statement = _OUTBOX_KEYED.get((len(rows), names))
    if statement is None:
        statement = _OUTBOX_KEYED[(len(rows), names)] = insert(_OUTBOX).values([
            {name: bindparam(f"{name}_{index}", type_=_OUTBOX.c[name].type)
             for name in names} for index in range(len(rows))]).returning(
            _OUTBOX.c.id, _OUTBOX.c.row_key)
    flat = {f"{name}_{index}": value for index, row in enumerate(rows)
            for name, value in row.items()}
    return statement, flat


#: one INSERT statement per table, built once (its cache key is then computed once)
_INSERTS: dict[str, Any] = {}


def _insert(table: Table) -> Any:
    found = _INSERTS.get(table.name)
    if found is None or found.table is not table:
        found = _INSERTS[table.name] = insert(table)
    return found


def _choice(outbox_id: int, index: int, option: Option) -> dict[str, Any]:
    return {"outbox_id": outbox_id, "idx": index, "label": option.label,
            "label_key": option.label_key, "command": option.command,
            "action": option.action.value, "subject_id": option.subject_id,
            "value": option.value}


def _values(table: Table, row: dict[str, Any] | orm.Base) -> dict[str, Any]:
    if isinstance(row, dict):
        return row
    row.__dict__[_WRITTEN] = True
    return {c.key: getattr(row, c.key) for c in table.columns if c.key != "id"}


#: marks a deferred model instance once written: changing it then would change nothing
_WRITTEN = "_kortelijn_written"


@event.listens_for(orm.TimelineRow.data, "set")
def _refuse_late_change(target: orm.TimelineRow, value: Any, *_args: Any) -> Any:
    if target.__dict__.get(_WRITTEN):
        raise RuntimeError("a timeline event was changed after it was written")
    return value


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._committed = False
        #: set when a change touched the deadlines, so the scheduler re-arms after commit
        self.deadlines_changed = False
        #: set when outbox rows were written, so the delivery loop wakes after commit
        self.outbox_written = False
        #: the earliest moment of the deadline steps this unit of work added (every step is
        #: added through ``WindowRepository``; its other changes only end or remove steps)
        self.earliest_new_deadline: datetime | None = None
        self.cache = Cache()
        self.deferred = Deferred()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._committed = False
        self.deadlines_changed = False
        self.outbox_written = False
        self.earliest_new_deadline = None
        self.cache = Cache()
        self.deferred = Deferred()
        # called before each of its statements (``database.UnitSession``)
        sync = self._session.sync_session
        sync.info[BEFORE_STATEMENT] = self._before_statement
        if not isinstance(sync, UnitSession):
            event.listen(sync, "do_orm_execute", self._before_statement)
        self.persons = PersonRepository(self._session, self.cache, self)
        self.cases = CaseRepository(self._session, self.cache, self)
        self.signals = SignalRepository(self._session, self)
        self.windows = WindowRepository(self._session, self)
        self.timeline = TimelineRepository(self._session, self.deferred)
        self.outbox = OutboxRepository(self._session, self)
        self.updates = UpdateRepository(self._session)
        self.case_chats = CaseChatRepository(self._session, self)
        self.conversations = ConversationRepository(self._session)
        self.absences = AbsenceRepository(self._session)
        self.trajectories = TrajectoryRepository(self._session)
        # the complaint procedure (issue 11; bot/persistence/complaints.py)
        self.complaints = ComplaintRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                self.deferred.clear()
                # detach first, so what was read stays readable after the rollback
                session.expunge_all()
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    def _before_statement(self, state: ORMExecuteState) -> None:
        """Before each statement of the session: write the deferred rows it may read or
        change, and forget what was kept of a table it changes."""
        self._prepare(state.session, state.statement, state.is_select)

    def _prepare(self, session: Session, statement: Any, is_select: bool) -> None:
        if self.deferred.rows:
            touched = _tables_of(statement)
            if OUTBOX_CHOICES in touched:
                touched |= {_OUTBOX.name}  # a message's choices are written with it
            if touched & {t.name for t in self.deferred.rows}:
                if session.new:
                    session.flush()  # rows they may refer to go first
                self.deferred.write(session, set(touched))
        if not is_select:
            table = getattr(statement, "table", None)
            if table is None or getattr(table, "name", None) in _CACHED_TABLES:
                self.cache.clear()

    async def run(self, statement: Any, params: Any = None) -> Any:
        """A Core statement on the unit of work's connection, past the ORM's execution layer
        (the hot path's statements: issue 9, item 9). What the ORM would do first is done
        here: pending objects are flushed, deferred rows the statement may see are written,
        and what was kept of a table it changes is forgotten. On SQLite it runs inline."""
        session = self.session
        sync = session.sync_session
        params = _bound(statement, params)
        if isinstance(session, InlineSession):
            connection = (await session.inline()).connection()
            if sync.new or sync.dirty or sync.deleted:
                sync.flush()
            self._prepare(sync, statement, statement.is_select)
            return run_inline(connection, statement, params)
        if sync.new or sync.dirty or sync.deleted:
            await session.flush()
        if self.deferred.rows or not statement.is_select:
            await session.run_sync(self._prepare, statement, statement.is_select)
        return await (await session.connection()).execute(statement, params)

    def insert_later(self, table: FromClause, values: dict[str, Any]) -> None:
        """Insert a row nobody needs the id of, with others of its table (``Deferred``);
        ``table`` is a model's ``__table__``."""
        if not isinstance(table, Table):
            raise TypeError("insert_later takes a table")
        self.deferred.add(table, values)

    async def commit(self) -> None:
        session = self.session
        await session.flush()
        if self.deferred.rows:
            await session.run_sync(self.deferred.write)
        await session.commit()
        self._committed = True

    async def flush(self) -> None:
        await self.session.flush()
        if self.deferred.rows:
            await self.session.run_sync(self.deferred.write)


class UpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, transport: str, key: str) -> bool:
        stmt = select(orm.ProcessedUpdate.id).where(orm.ProcessedUpdate.transport == transport,
                                                   orm.ProcessedUpdate.update_key == key)
        return (await self.session.execute(stmt)).first() is not None

    def record(self, transport: str, key: str, now: datetime) -> None:
        self.session.add(orm.ProcessedUpdate(transport=transport, update_key=key,
                                             processed_at=now))

    async def prune(self, before: datetime) -> int:
        """Forget the updates handled before ``before``; return how many."""
        result = await self.session.execute(
            delete(orm.ProcessedUpdate).where(orm.ProcessedUpdate.processed_at < before)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


class PersonRepository:
    def __init__(self, session: AsyncSession, cache: Cache | None = None,
                 uow: UnitOfWork | None = None) -> None:
        self.session = session
        self.cache = cache or Cache()
        self._run = uow.run if uow is not None else session.execute

    async def by_identity(self, transport: str, address: str) -> orm.Person | None:
        """The person behind a chat identity, read together with the cases they hold a role
        in (nearly every command asks that next: ``CaseRepository.cases_of``)."""
        # the address is stored encrypted: find it by its keyed hash, under every configured
        # key (a rotated key still finds identities stored before the rotation)
        hashes = crypto.keyring().lookup_hashes(address)
        statement = _BY_IDENTITY.get(len(hashes))
        if statement is None:
            statement = _BY_IDENTITY[len(hashes)] = _by_identity(len(hashes))
        rows = (await self._run(statement, {
            "transport": transport, **{f"h{i}": h for i, h in enumerate(hashes)}})).all()
        if not rows:
            return None
        sync = self.session.sync_session
        people, width = len(_PERSONS.c), len(_CASES.c)
        person = _attach(sync, orm.Person, _PERSONS, rows[0][:people])
        self.cache.people[person.id] = person
        self.cache.remember_cases(person.id, [
            (_attach(sync, orm.Case, _CASES, row[people:people + width]), Role(row[-1]))
            for row in rows if row[people] is not None])
        return person

    async def get(self, person_id: int) -> orm.Person | None:
        known = self.cache.people.get(person_id)
        if known is not None:
            return known
        return await self.session.get(orm.Person, person_id)

    async def add(self, *, display_name: str, language: str, transport: str, address: str,
                  now: datetime, is_coordinator: bool = False) -> orm.Person:
        person = orm.Person(display_name=display_name, language=language,
                            is_coordinator=is_coordinator, created_at=now)
        self.session.add(person)
        await self.session.flush()
        identity = orm.Identity(person_id=person.id, transport=transport, address=address,
                                created_at=now)
        self.session.add(identity)
        await self.session.flush()
        self.cache.identity[person.id] = identity
        return person

    async def with_roles(self) -> list[orm.Person]:
        """Everyone who holds a role in a case."""
        holders = select(orm.Membership.person_id)
        stmt = select(orm.Person).where(orm.Person.id.in_(holders)).order_by(orm.Person.id)
        return list((await self.session.execute(stmt)).scalars())

    async def coordinators(self) -> list[int]:
        stmt = select(orm.Person.id).where(orm.Person.is_coordinator.is_(True)).order_by(
            orm.Person.id)
        return list((await self.session.execute(stmt)).scalars())

    async def identity_of(self, person_id: int) -> orm.Identity | None:
        """The chat identity the bot reaches a person on (the first one they used); the
        members of a case whose roster was read come with theirs."""
        if person_id in self.cache.identity:
            return self.cache.identity[person_id]
        stmt = (select(orm.Identity).where(orm.Identity.person_id == person_id)
                .order_by(orm.Identity.id).limit(1))
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        self.cache.identity[person_id] = found
        return found

    async def organisation(self, name: str) -> orm.Organisation:
        # the name is stored encrypted: found by its keyed hash under every configured key
        stmt = (select(orm.Organisation)
                .where(orm.Organisation.name_hash.in_(crypto.keyring().lookup_hashes(name)))
                .order_by(orm.Organisation.id).limit(1))
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        if found is None:
            found = orm.Organisation(name=name)
            self.session.add(found)
            await self.session.flush()
        return found


class CaseRepository:
    def __init__(self, session: AsyncSession, cache: Cache | None = None,
                 uow: UnitOfWork | None = None) -> None:
        self.session = session
        self.cache = cache or Cache()
        self._run = uow.run if uow is not None else session.execute

    async def by_code(self, code: str) -> orm.Case | None:
        if code in self.cache.case_by_code:
            return self.cache.case_by_code[code]
        stmt = select(orm.Case).where(orm.Case.code == code)
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        if found is not None:
            self.cache.case_by_code[code] = found
        return found

    async def get(self, case_id: int) -> orm.Case | None:
        return await self.session.get(orm.Case, case_id)

    async def load(self, case_ids: set[int]) -> list[orm.Case]:
        """Read these cases in one statement; while the caller holds the rows, ``get`` finds
        them in the session without another."""
        if not case_ids:
            return []
        return list((await self.session.execute(
            select(orm.Case).where(orm.Case.id.in_(case_ids)))).scalars())

    async def add(self, code: str, created_by: int, now: datetime) -> orm.Case:
        case = orm.Case(code=code, created_by=created_by, created_at=now, status="open")
        self.session.add(case)
        await self.session.flush()
        return case

    async def all(self) -> list[orm.Case]:
        return list((await self.session.execute(
            select(orm.Case).order_by(orm.Case.id))).scalars())

    async def roles_of(self, case_id: int, person_id: int) -> list[Role]:
        key = (case_id, person_id)
        if key not in self.cache.roles:
            if person_id in self.cache.cases_of:
                found = [r for c, r in self.cache.cases_of[person_id] if c.id == case_id]
            elif case_id in self.cache.rosters:
                found = [m.role for m in self.cache.rosters[case_id] if m.person_id == person_id]
            else:
                stmt = select(orm.Membership.role).where(
                    orm.Membership.case_id == case_id, orm.Membership.person_id == person_id)
                found = [Role(r) for r in (await self.session.execute(stmt)).scalars()]
            self.cache.roles[key] = sorted(found, key=list(Role).index)
        return list(self.cache.roles[key])

    async def cases_of(self, person_id: int) -> list[tuple[orm.Case, Role]]:
        if person_id not in self.cache.cases_of:
            stmt = (
                select(orm.Case, orm.Membership.role)
                .join(orm.Membership, orm.Membership.case_id == orm.Case.id)
                .where(orm.Membership.person_id == person_id)
                .order_by(orm.Case.id, orm.Membership.id)
            )
            self.cache.remember_cases(person_id, [
                (case, Role(role)) for case, role in (await self.session.execute(stmt)).all()])
        return list(self.cache.cases_of[person_id])

    async def members(self, case_id: int, roles: tuple[Role, ...] | None = None
                      ) -> list[model.Member]:
        """The case's memberships (of ``roles`` only, if given), oldest first."""
        roster = await self.roster(case_id)
        return [m for m in roster if roles is None or m.role in roles]

    async def roster(self, case_id: int) -> list[model.Member]:
        """Every membership of a case; read once per unit of work, in one query with the
        members themselves and their chat identities (which the notices need next)."""
        if case_id not in self.cache.rosters:
            self._remember_roster(case_id, (await self._run(_ROSTER, {"case_id": case_id})
                                            ).all())
        return self.cache.rosters[case_id]

    async def load_rosters(self, case_ids: set[int]) -> None:
        """Read the rosters of these cases not read yet in one statement (``roster`` then
        finds them)."""
        wanted = sorted(case_ids - set(self.cache.rosters))
        if not wanted:
            return
        rows: dict[int, list[Sequence[Any]]] = {case_id: [] for case_id in wanted}
        for row in (await self._run(_ROSTERS, {"case_ids": wanted})).all():
            rows[row[0]].append(row[1:])
        for case_id, found in rows.items():
            self._remember_roster(case_id, found)

    def _remember_roster(self, case_id: int, rows: Sequence[Sequence[Any]]) -> None:
        members: dict[tuple[int, str], model.Member] = {}
        sync = self.session.sync_session
        people = 2 + len(_PERSONS.c)
        for row in rows:
            person_id, role = row[0], row[1]
            members.setdefault((person_id, role), model.Member(person_id=person_id,
                                                               role=Role(role)))
            if person_id not in self.cache.identity:
                self.cache.identity[person_id] = None if row[people] is None else _attach(
                    sync, orm.Identity, _IDENTITIES, row[people:])
            if person_id not in self.cache.people:
                self.cache.people[person_id] = _attach(sync, orm.Person, _PERSONS,
                                                       row[2:people])
        self.cache.rosters[case_id] = list(members.values())

    async def add_member(self, case_id: int, person_id: int, role: Role,
                         organisation_id: int | None, now: datetime) -> bool:
        """Add the role; ``False`` when the person already holds it in this case."""
        existing = await self.roles_of(case_id, person_id)
        if role in existing:
            return False
        self.session.add(orm.Membership(case_id=case_id, person_id=person_id, role=role.value,
                                        organisation_id=organisation_id, joined_at=now))
        await self.session.flush()
        self.cache.clear()
        return True

    async def add_invitation(self, *, case_id: int, role: Role, organisation_id: int | None,
                             code_hash: str, created_by: int, now: datetime,
                             expires_at: datetime) -> orm.Invitation:
        invitation = orm.Invitation(case_id=case_id, role=role.value,
                                    organisation_id=organisation_id, code_hash=code_hash,
                                    created_by=created_by, created_at=now,
                                    expires_at=expires_at)
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def claim_invitation(self, code_hash: str, person_id: int, now: datetime
                               ) -> orm.Invitation | None:
        """Mark the invitation used, once: a second claim (even a concurrent one) gets None."""
        stmt = (
            update(orm.Invitation)
            .where(orm.Invitation.code_hash == code_hash,
                   orm.Invitation.redeemed_at.is_(None),
                   orm.Invitation.expires_at > now)
            .values(redeemed_at=now, redeemed_by=person_id)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        if getattr(result, "rowcount", 0) != 1:
            return None
        found = await self.session.execute(
            select(orm.Invitation).where(orm.Invitation.code_hash == code_hash))
        return found.scalar_one()


class SignalRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork | None = None) -> None:
        self.session = session
        self._run = uow.run if uow is not None else session.execute

    async def add(self, *, case: orm.Case, kind: SignalKind, person_id: int, role: Role,
                  note: str | None, now: datetime, note_status: str = "none",
                  audience: frozenset[Role] | None = None, complainant: str | None = None,
                  report_status: str | None = None) -> model.Signal:
        # a Core INSERT … RETURNING id: nothing of the ORM's flush is needed for it
        signal_id = (await self._run(_INSERT_SIGNAL, {
            "case_id": case.id, "kind": kind.value, "posted_by": person_id,
            "poster_role": role.value, "posted_at": now, "note": note,
            "note_status": note_status, "complainant": complainant,
            "audience": ",".join(sorted(r.value for r in audience))
            if audience is not None else None,
            "report_status": report_status, "released_to_tenant": False,
            "acknowledged_at": None, "acknowledged_by": None,
            "acknowledged_role": None})).scalar_one()
        return model.Signal(
            id=signal_id, case_id=case.id, case_code=case.code, kind=kind, posted_by=person_id,
            poster_role=role, posted_at=now, note=note, audience=audience,
            note_status=note_status, complainant=complainant, report_status=report_status,
            released_to_tenant=False)

    async def get(self, signal_id: int) -> model.Signal | None:
        stmt = (select(orm.SignalRow, orm.Case.code)
                .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
                .where(orm.SignalRow.id == signal_id))
        found = (await self.session.execute(stmt)).first()
        return None if found is None else _signal(found[0], found[1])

    async def of_case(self, case_id: int) -> list[model.Signal]:
        stmt = (select(orm.SignalRow, orm.Case.code)
                .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
                .where(orm.SignalRow.case_id == case_id).order_by(orm.SignalRow.id))
        return [_signal(row, code) for row, code in (await self.session.execute(stmt)).all()]

    async def update(self, signal_id: int, **values: object) -> None:
        """Change a signal's note status, audience (comma-separated roles), report status
        or release to the tenant."""
        await self.session.execute(
            update(orm.SignalRow).where(orm.SignalRow.id == signal_id).values(**values)
            .execution_options(synchronize_session=False))

    async def kinds_since(self, case_id: int, moment: datetime,
                          leave_out: frozenset[SignalKind] = frozenset()) -> set[SignalKind]:
        """The kinds of the case's signals posted since ``moment`` (one small query, however
        many signals there were)."""
        found = (await self._run(_KINDS_SINCE, {"case_id": case_id, "since": moment})
                 ).first() or ()
        return {kind for kind, had in zip(_KINDS, found, strict=True) if had} - leave_out

    async def since(self, case_id: int, moment: datetime) -> list[model.Signal]:
        stmt = (select(orm.SignalRow, orm.Case.code)
                .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
                .where(orm.SignalRow.case_id == case_id, orm.SignalRow.posted_at >= moment)
                .order_by(orm.SignalRow.id))
        return [_signal(row, code) for row, code in (await self.session.execute(stmt)).all()]

    async def acknowledge(self, signal_id: int, person_id: int, role: Role, now: datetime
                          ) -> bool:
        """Record the acknowledgement once; ``False`` when someone was first."""
        stmt = (
            update(orm.SignalRow)
            .where(orm.SignalRow.id == signal_id, orm.SignalRow.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=person_id, acknowledged_role=role.value)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return getattr(result, "rowcount", 0) == 1


def _signal(row: orm.SignalRow, code: str) -> model.Signal:
    return model.Signal(
        id=row.id, case_id=row.case_id, case_code=code, kind=SignalKind(row.kind),
        posted_by=row.posted_by or 0, poster_role=Role(row.poster_role), posted_at=row.posted_at,
        note=row.note, acknowledged_at=row.acknowledged_at, acknowledged_by=row.acknowledged_by,
        acknowledged_role=Role(row.acknowledged_role) if row.acknowledged_role else None,
        audience=frozenset(Role(r) for r in row.audience.split(",") if r)
        if row.audience is not None else None,
        note_status=row.note_status, complainant=row.complainant,
        report_status=row.report_status, released_to_tenant=row.released_to_tenant,
    )


class WindowRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork | None = None) -> None:
        self.session = session
        self._uow = uow
        self._run = uow.run if uow is not None else session.execute

    def _added(self, moments: list[datetime]) -> None:
        """Steps were added: the scheduler needs to look again only if one falls due before
        the moment it is armed for (``UnitOfWork.earliest_new_deadline``)."""
        if self._uow is not None and moments:
            earliest = min(moments)
            known = self._uow.earliest_new_deadline
            self._uow.earliest_new_deadline = earliest if known is None else min(known,
                                                                                  earliest)

    async def open(self, *, case_id: int, norm: model.Norm, signal_id: int | None,
                   responsible: tuple[Role, ...], waiting_person_id: int | None,
                   opened_at: datetime, due_at: datetime, steps: list[model.PlannedStep],
                   policy: str | None = None, period: int = 1) -> model.Window:
        # Core statements, not the ORM's unit of work: arming is on the hot path
        values = {"case_id": case_id, "norm": norm.value, "signal_id": signal_id,
                  "responsible": ",".join(r.value for r in responsible),
                  "waiting_person_id": waiting_person_id, "opened_at": opened_at,
                  "base_due_at": due_at, "due_at": due_at, "status": WindowStatus.OPEN.value,
                  "policy": policy, "period": period, "closed_at": None, "paused_at": None}
        window_id = (await self._run(_INSERT_WINDOW, values)).scalar_one()
        await self.insert_steps(window_id, steps)
        return _window(orm.WindowRow(id=window_id, **values))

    async def open_many(self, windows: list[tuple[dict[str, object], list[model.PlannedStep]]]
                        ) -> list[int]:
        """Open many windows in two statements (bulk arming); returns their ids in order."""
        if not windows:
            return []
        rows = [{**values, "closed_at": None, "paused_at": None, "base_due_at":
                 values["due_at"], "status": WindowStatus.OPEN.value} for values, _ in windows]
        ids = list((await self.session.execute(
            insert(orm.WindowRow).returning(orm.WindowRow.id, sort_by_parameter_order=True),
            rows)).scalars())
        steps = [{"window_id": window_id, "step": s.kind.value, "seq": s.seq,
                  "notify": ",".join(s.notify), "urgent": s.urgent, "due_at": s.due_at,
                  "done_at": None, "outcome": None, "late": False}
                 for window_id, (_, planned) in zip(ids, windows, strict=True) for s in planned]
        if steps:
            await self.session.execute(insert(orm.DeadlineRow), steps)
            self._added([step["due_at"] for step in steps])  # type: ignore[misc]
        return ids

    async def insert_steps(self, window_id: int, steps: list[model.PlannedStep]) -> None:
        self._added([s.due_at for s in steps])
        if steps:
            await self._run(_INSERT_STEPS, [
                {"window_id": window_id, "step": s.kind.value, "seq": s.seq,
                 "notify": ",".join(s.notify), "urgent": s.urgent, "due_at": s.due_at,
                 "done_at": None, "outcome": None, "late": False} for s in steps])

    def add_steps(self, window_id: int, steps: list[model.PlannedStep]) -> None:
        self._added([s.due_at for s in steps])
        self.session.add_all(_step_rows(window_id, steps))

    async def get(self, window_id: int) -> model.Window | None:
        row = await self.session.get(orm.WindowRow, window_id)
        return None if row is None else _window(row)

    async def save(self, window: model.Window, *, was: WindowStatus) -> bool:
        """Store a window its aggregate changed, if it is still as it was read (``was``):
        ``False`` when another transaction changed it first."""
        result = await self.session.execute(
            update(orm.WindowRow)
            .where(orm.WindowRow.id == window.id, orm.WindowRow.status == was.value)
            .values(status=window.status.value, due_at=window.due_at,
                    paused_at=window.paused_at, closed_at=window.closed_at)
            .execution_options(synchronize_session="evaluate"))
        if getattr(result, "rowcount", 0) == 1:
            return True
        # "evaluate" changed the row held in the session even though no row was updated:
        # read it again, so that what follows in this unit of work sees the real state
        held = self.session.sync_session.identity_map.get(identity_key(orm.WindowRow,
                                                                       window.id))
        if held is not None:
            await self.session.refresh(held)
        return False

    async def row(self, window_id: int) -> orm.WindowRow | None:
        return await self.session.get(orm.WindowRow, window_id)

    async def for_signal(self, signal_id: int) -> list[model.Window]:
        stmt = select(orm.WindowRow).where(orm.WindowRow.signal_id == signal_id)
        return [_window(r) for r in (await self.session.execute(stmt)).scalars()]

    async def open_of_case(self, case_id: int) -> list[model.Window]:
        return await self.running(case_id=case_id, statuses=(WindowStatus.OPEN,))

    async def running(self, *, case_id: int | None = None,
                      case_ids: list[int] | None = None,
                      statuses: tuple[WindowStatus, ...] = tuple(model.RUNNING)
                      ) -> list[model.Window]:
        stmt = select(orm.WindowRow).where(
            orm.WindowRow.status.in_([s.value for s in statuses]))
        if case_id is not None:
            stmt = stmt.where(orm.WindowRow.case_id == case_id)
        if case_ids is not None:
            stmt = stmt.where(orm.WindowRow.case_id.in_(case_ids))
        stmt = stmt.order_by(orm.WindowRow.due_at, orm.WindowRow.id)
        return [_window(r) for r in (await self.session.execute(stmt)).scalars()]

    async def with_other_policy(self, norm: model.Norm, signature: str) -> list[orm.WindowRow]:
        """Running windows of a norm armed under another span or chain than now configured."""
        stmt = select(orm.WindowRow).where(
            orm.WindowRow.norm == norm.value,
            orm.WindowRow.status.in_([s.value for s in model.RUNNING]),
            (orm.WindowRow.policy != signature) | orm.WindowRow.policy.is_(None))
        return list((await self.session.execute(stmt)).scalars())

    async def set_status(self, window_id: int, status: WindowStatus, now: datetime,
                         *, expect: tuple[WindowStatus, ...] = (WindowStatus.OPEN,),
                         skip_steps: bool = True) -> bool:
        """Move a window from one of ``expect`` to ``status``; ``False`` if it was in none.
        With ``skip_steps`` its pending steps are dropped (a met or cancelled window stops
        its chain; a lapsed one keeps its escalations)."""
        values: dict[str, object] = {"status": status.value}
        if status in (WindowStatus.MET, WindowStatus.CANCELLED, WindowStatus.LAPSED):
            values["closed_at"] = now
        result = await self.session.execute(
            update(orm.WindowRow)
            .where(orm.WindowRow.id == window_id,
                   orm.WindowRow.status.in_([s.value for s in expect]))
            .values(**values)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) != 1:
            return False
        if skip_steps:
            await self.skip_pending(window_id, now, status.value)
        return True

    async def close(self, window_id: int, status: WindowStatus, now: datetime) -> bool:
        """Meet or cancel a window that still runs, stopping its chain."""
        return await self.set_status(window_id, status, now, expect=tuple(model.RUNNING))

    async def skip_pending(self, window_id: int, now: datetime, outcome: str) -> None:
        await self.session.execute(
            update(orm.DeadlineRow)
            .where(orm.DeadlineRow.window_id == window_id, orm.DeadlineRow.done_at.is_(None))
            .values(done_at=now, outcome=outcome[:16])
            .execution_options(synchronize_session=False))

    async def done_seqs(self, window_id: int) -> set[int]:
        stmt = select(orm.DeadlineRow.seq).where(orm.DeadlineRow.window_id == window_id,
                                                 orm.DeadlineRow.outcome == "done")
        return set((await self.session.execute(stmt)).scalars())

    async def delete_pending(self, window_id: int) -> None:
        await self.session.execute(
            delete(orm.DeadlineRow)
            .where(orm.DeadlineRow.window_id == window_id, orm.DeadlineRow.done_at.is_(None))
            .execution_options(synchronize_session=False))

    async def next_due(self) -> datetime | None:
        """The earliest pending deadline (one indexed look-up)."""
        stmt = select(func.min(orm.DeadlineRow.due_at)).where(orm.DeadlineRow.done_at.is_(None))
        value: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value

    async def due(self, now: datetime, limit: int) -> list[model.Step]:
        stmt = (select(orm.DeadlineRow)
                .where(orm.DeadlineRow.done_at.is_(None), orm.DeadlineRow.due_at <= now)
                .order_by(orm.DeadlineRow.due_at, orm.DeadlineRow.id).limit(limit))
        return [_step(r) for r in (await self.session.execute(stmt)).scalars()]

    async def case_ids(self, window_ids: set[int]) -> dict[int, int]:
        """Each window's case (to carry out the steps of several cases at once)."""
        if not window_ids:
            return {}
        rows = await self.session.execute(
            select(orm.WindowRow.id, orm.WindowRow.case_id)
            .where(orm.WindowRow.id.in_(window_ids)))
        return {window_id: case_id for window_id, case_id in rows.all()}  # noqa: C416

    async def due_by_case(self, now: datetime, limit: int) -> list[tuple[model.Step, int]]:
        """``due`` with each step's case (one statement)."""
        stmt = (select(orm.DeadlineRow, orm.WindowRow.case_id)
                .join(orm.WindowRow, orm.WindowRow.id == orm.DeadlineRow.window_id)
                .where(orm.DeadlineRow.done_at.is_(None), orm.DeadlineRow.due_at <= now)
                .order_by(orm.DeadlineRow.due_at, orm.DeadlineRow.id).limit(limit))
        return [(_step(r), case_id) for r, case_id in (await self.session.execute(stmt)).all()]

    async def claim_steps(self, late: dict[int, bool], now: datetime) -> set[int]:
        """Mark the steps ``late`` names done (each late or not, as it says), once, in one
        statement for each of the two: those already done (elsewhere, or in a transaction
        that committed meanwhile) are not among the ids returned."""
        claimed: set[int] = set()
        # "still pending" as an expression no index answers: SQLite would otherwise read the
        # pending steps' index (every open window's steps) instead of looking up the ids
        pending = sa_case((orm.DeadlineRow.done_at.is_(None), 1), else_=0) == 1
        for flag in (False, True):
            ids = sorted(step_id for step_id, value in late.items() if value is flag)
            if ids:
                result = await self.session.execute(
                    update(orm.DeadlineRow)
                    .where(orm.DeadlineRow.id.in_(ids), pending)
                    .values(done_at=now, outcome="done", late=flag)
                    .returning(orm.DeadlineRow.id)
                    .execution_options(synchronize_session=False))
                claimed.update(result.scalars())
        return claimed

    async def load(self, window_ids: set[int]) -> list[orm.WindowRow]:
        """Read these windows in one statement; while the caller holds the rows, ``get``
        finds them in the session without another."""
        if not window_ids:
            return []
        return list((await self.session.execute(
            select(orm.WindowRow).where(orm.WindowRow.id.in_(window_ids)))).scalars())

    async def claim_step(self, step_id: int, now: datetime, late: bool) -> bool:
        """Mark a step done, once: a second claim (a job fired twice) gets ``False``."""
        result = await self.session.execute(
            update(orm.DeadlineRow)
            .where(orm.DeadlineRow.id == step_id, orm.DeadlineRow.done_at.is_(None))
            .values(done_at=now, outcome="done", late=late)
            .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1


def _step_rows(window_id: int, steps: list[model.PlannedStep]) -> list[orm.DeadlineRow]:
    return [orm.DeadlineRow(window_id=window_id, step=s.kind.value, seq=s.seq,
                            notify=",".join(s.notify), urgent=s.urgent, due_at=s.due_at)
            for s in steps]


def _step(row: orm.DeadlineRow) -> model.Step:
    return model.Step(id=row.id, window_id=row.window_id, kind=StepKind(row.step),
                      due_at=row.due_at, seq=row.seq,
                      notify=tuple(t for t in row.notify.split(",") if t), urgent=row.urgent)


def _window(row: orm.WindowRow) -> model.Window:
    return model.Window(
        id=row.id, case_id=row.case_id, norm=model.Norm(row.norm), signal_id=row.signal_id,
        responsible=tuple(Role(r) for r in row.responsible.split(",") if r),
        waiting_person_id=row.waiting_person_id, opened_at=row.opened_at, due_at=row.due_at,
        status=WindowStatus(row.status), base_due_at=row.base_due_at, policy=row.policy,
        paused_at=row.paused_at, period=row.period, closed_at=row.closed_at,
    )


class AbsenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    #: person id → their absences not over at ``_since`` (read by ``load``)
    _known: dict[int, list[orm.Absence]] | None = None
    _since: datetime | None = None

    async def load(self, person_ids: set[int], since: datetime) -> None:
        """Read these people's absences not over at ``since`` in one statement: ``current``
        then answers for them, at ``since`` or later, without another (until one changes)."""
        if not person_ids:
            return
        found: dict[int, list[orm.Absence]] = {person_id: [] for person_id in person_ids}
        for absence in (await self.session.execute(
                select(orm.Absence).where(orm.Absence.person_id.in_(sorted(person_ids)),
                                          orm.Absence.until > since))).scalars():
            found[absence.person_id].append(absence)
        self._known, self._since = found, since

    async def current(self, person_id: int, now: datetime) -> orm.Absence | None:
        if (self._known is not None and self._since is not None and now >= self._since
                and person_id in self._known):
            return max((a for a in self._known[person_id] if a.starts_at <= now < a.until),
                       key=lambda a: a.id, default=None)
        stmt = (select(orm.Absence)
                .where(orm.Absence.person_id == person_id, orm.Absence.starts_at <= now,
                       orm.Absence.until > now)
                .order_by(orm.Absence.id.desc()).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set(self, person_id: int, backup_id: int | None, now: datetime,
                  until: datetime) -> None:
        self._known = None
        await self.end(person_id, now)
        self.session.add(orm.Absence(person_id=person_id, backup_id=backup_id, starts_at=now,
                                     until=until, created_at=now))
        await self.session.flush()

    async def end(self, person_id: int, now: datetime) -> bool:
        self._known = None
        result = await self.session.execute(
            update(orm.Absence)
            .where(orm.Absence.person_id == person_id, orm.Absence.until > now)
            .values(until=now)
            .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) > 0


class TimelineRepository:
    """The case's timeline. Events are written with the others of the unit of work in one
    statement (``Deferred``): at the commit, or before a statement reads the timeline."""

    def __init__(self, session: AsyncSession, deferred: Deferred | None = None) -> None:
        self.session = session
        self.deferred = deferred or Deferred()

    def record(self, *, case_id: int, at: datetime, event: str, actor_id: int | None = None,
               actor_role: Role | None = None, signal_id: int | None = None,
               **data: str | int | bool | None) -> orm.TimelineRow:
        """Record an event. It is written with the unit of work's others (``Deferred``);
        the returned row is not in the session and has no ``id``; it may still be changed
        (its ``data``) until it is written, which a later change then refuses loudly."""
        row = _made(orm.TimelineRow, {
            "case_id": case_id, "at": at, "event": str(event), "actor_id": actor_id,
            "actor_role": actor_role.value if actor_role else None, "signal_id": signal_id,
            "data": dict(data)})
        self.deferred.add(_TIMELINE, row)
        return row

    async def record_many(self, events: list[dict[str, object]]) -> None:
        """Record many events (``case_id``, ``at``, ``event``, ``data``) in one statement."""
        for e in events:
            self.deferred.add(_TIMELINE, {
                "actor_id": None, "actor_role": None, "signal_id": None, **e})

    async def of_case(self, case_id: int) -> list[orm.TimelineRow]:
        stmt = (select(orm.TimelineRow).where(orm.TimelineRow.case_id == case_id)
                .order_by(orm.TimelineRow.at, orm.TimelineRow.id))
        return list((await self.session.execute(stmt)).scalars())


class OutboxRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self._uow = uow

    async def add(self, *, transport: str, address: str, text: str, now: datetime,
                  person_id: int | None = None, case_id: int | None = None,
                  choices: Sequence[Option | tuple[str, str]] | None = None,
                  edit_of: int | None = None, reply_to: str | None = None,
                  not_before: datetime | None = None, with_id: bool = False,
                  kind: MessageKind = MessageKind.MESSAGE, priority: int = 1) -> orm.OutboxRow:
        """Queue a message, in this unit of work's transaction; its choices are stored with
        it, by index (``outbox_choices``).

        The row is written with the unit of work's other messages in one statement, and its
        choices after them in one more, at the commit or just before a statement reads the
        outbox or the choices (``Deferred``); the order of the messages is the order of these
        calls. The returned row is not attached to the session and has no ``id`` until then
        (a message with choices gets it when it is written), unless ``with_id``: then it
        (and every message queued before it) is written at once and its ``id`` is set.
        ``priority``: 0 urgent, 1 normal, 2 bulk (``bot.notify.Priority``)."""
        options = [as_option(c) for c in choices or []]
        values: dict[str, Any] = {
            "transport": transport, "address": address, "person_id": person_id,
            "case_id": case_id, "text": text, "kind": kind.value, "picked_index": None,
            "picked_at": None, "edit_of": edit_of, "reply_to": reply_to, "status": "pending",
            "attempts": 0, "created_at": now,
            "next_attempt_at": max(now, not_before) if not_before else now,
            "sent_at": None, "transport_message_id": None, "last_error": None,
            "priority": priority, "attempt_started_at": None, "resends": 0}
        self._uow.outbox_written = True
        row = _made(orm.OutboxRow, dict(values))
        if not with_id:
            self._uow.deferred.add_message(row, values, options)
            return row
        await self._uow.flush()  # what was queued before goes first: the order per chat
        row.id = (await self._uow.run(_INSERT_OUTBOX, values)).scalar_one()
        if options:
            await self._uow.run(_INSERT_CHOICES, [_choice(row.id, index, o)
                                                   for index, o in enumerate(options)])
        return row

    async def get(self, row_id: int) -> orm.OutboxRow | None:
        return await self.session.get(orm.OutboxRow, row_id)

    async def sent_as(self, transport: str, address: str, message_id: str
                      ) -> orm.OutboxRow | None:
        """The message the transport knows by ``message_id`` in that chat (the first row
        sent as it: an edit keeps the transport's id)."""
        stmt = (select(orm.OutboxRow)
                .where(orm.OutboxRow.transport == transport,
                       orm.OutboxRow.address == address,
                       orm.OutboxRow.transport_message_id == message_id)
                .order_by(orm.OutboxRow.id).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def last_shown(self, transport: str, address: str) -> orm.OutboxRow | None:
        """The last list (a message with choices) or question (a conversation's prompt)
        delivered to a chat: what a number typed there refers to."""
        has_choices = select(orm.OutboxChoice.id).where(
            orm.OutboxChoice.outbox_id == orm.OutboxRow.id).exists()
        stmt = (select(orm.OutboxRow)
                .where(orm.OutboxRow.transport == transport, orm.OutboxRow.address == address,
                       orm.OutboxRow.status == "sent",
                       has_choices | (orm.OutboxRow.kind == MessageKind.PROMPT.value))
                .order_by(orm.OutboxRow.id.desc()).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def pick(self, row_id: int, index: int, now: datetime) -> bool:
        """Mark choice ``index`` of a message picked, once: a pick among its choices is
        final, so a second pick (a double tap, a stale screen, a race) gets ``False``."""
        result = await self.session.execute(
            update(orm.OutboxRow)
            .where(orm.OutboxRow.id == row_id, orm.OutboxRow.picked_at.is_(None))
            .values(picked_index=index, picked_at=now)
            .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1

    async def offering(self, action: Action, subject_id: int) -> list[orm.OutboxRow]:
        """The original messages (no edits; oldest first) that offered a choice with this
        action on this subject: found by the stored reference, not by their text."""
        stmt = (select(orm.OutboxRow)
                .join(orm.OutboxChoice, orm.OutboxChoice.outbox_id == orm.OutboxRow.id)
                .where(orm.OutboxChoice.action == action.value,
                       orm.OutboxChoice.subject_id == subject_id,
                       orm.OutboxRow.edit_of.is_(None))
                .order_by(orm.OutboxRow.id).distinct())
        return list((await self.session.execute(stmt)).scalars())


class ConversationRepository:
    """Where people stand in guided conversations: one per person and case."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _live(self, rows: Sequence[orm.Conversation], now: datetime
                    ) -> list[orm.Conversation]:
        live = []
        for row in rows:
            if row.expires_at <= now:
                await self.session.delete(row)
            else:
                live.append(row)
        if len(live) != len(rows):
            await self.session.flush()
        return live

    async def of_person(self, person_id: int, now: datetime) -> list[orm.Conversation]:
        """A person's running conversations, the one that last asked something first
        (expired ones are dropped)."""
        stmt = (select(orm.Conversation).where(orm.Conversation.person_id == person_id)
                .order_by(orm.Conversation.asked.desc(), orm.Conversation.id.desc()))
        return await self._live(list((await self.session.execute(stmt)).scalars()), now)

    async def get(self, conversation_id: int, now: datetime) -> orm.Conversation | None:
        found = await self.session.get(orm.Conversation, conversation_id)
        if found is None:
            return None
        live = await self._live([found], now)
        return live[0] if live else None

    async def of_case(self, person_id: int, case_id: int, now: datetime
                      ) -> orm.Conversation | None:
        stmt = select(orm.Conversation).where(orm.Conversation.person_id == person_id,
                                              orm.Conversation.case_id == case_id)
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        live = await self._live([found], now) if found is not None else []
        return live[0] if live else None

    async def start(self, *, person_id: int, case_id: int, name: str, state: str,
                    data: dict[str, Any], now: datetime, expires_at: datetime
                    ) -> orm.Conversation:
        """Begin a conversation; one already running for this person and case is replaced."""
        found = await self.of_case(person_id, case_id, now)
        if found is not None:
            await self.session.delete(found)
            await self.session.flush()
        row = orm.Conversation(person_id=person_id, case_id=case_id, name=name, state=state,
                               data=data, asked=0, started_at=now, updated_at=now,
                               expires_at=expires_at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def asked(self, row: orm.Conversation) -> None:
        """Note that this conversation asked the person something just now (after all the
        person's others)."""
        stmt = select(func.max(orm.Conversation.asked)).where(
            orm.Conversation.person_id == row.person_id)
        row.asked = ((await self.session.execute(stmt)).scalar_one_or_none() or 0) + 1
        await self.session.flush()

    async def drop_expired(self, now: datetime) -> int:
        """Delete every conversation left alone past its time; how many."""
        result = await self.session.execute(
            delete(orm.Conversation).where(orm.Conversation.expires_at <= now)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def end(self, row: orm.Conversation) -> None:
        await self.session.delete(row)
        await self.session.flush()


class CaseChatRepository:
    """Groups and rooms linked to a case as its shared case chat (one case per chat)."""

    def __init__(self, session: AsyncSession, uow: UnitOfWork | None = None) -> None:
        self.session = session
        self._run = uow.run if uow is not None else session.execute

    async def of_chat(self, transport: str, address: str) -> orm.CaseChat | None:
        stmt = select(orm.CaseChat).where(orm.CaseChat.transport == transport,
                                          orm.CaseChat.address == address)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_case(self, case_id: int) -> list[orm.CaseChat]:
        """The case's shared chats, to read (not attached to the session: a Core query, it
        is on the hot path)."""
        rows = (await self._run(_CHATS_OF_CASE, {"case_id": case_id})).mappings()
        return [orm.CaseChat(**row) for row in rows]

    async def link(self, case_id: int, transport: str, address: str, person_id: int,
                   now: datetime) -> orm.CaseChat:
        """Link the chat to the case; a chat linked to another case moves to this one."""
        chat = await self.of_chat(transport, address)
        if chat is None:
            chat = orm.CaseChat(case_id=case_id, transport=transport, address=address,
                                linked_by=person_id, linked_at=now)
            self.session.add(chat)
        else:
            chat.case_id, chat.linked_by, chat.linked_at = case_id, person_id, now
        await self.session.flush()
        return chat

    async def unlink(self, chat: orm.CaseChat) -> None:
        await self.session.delete(chat)
        await self.session.flush()

    async def seen(self, chat_id: int, person_id: int, now: datetime) -> None:
        """Note that a person writes in the chat (their roles then bound what it shows)."""
        stmt = select(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id == chat_id,
                                                orm.CaseChatMember.person_id == person_id)
        member = (await self.session.execute(stmt)).scalar_one_or_none()
        if member is None:
            self.session.add(orm.CaseChatMember(case_chat_id=chat_id, person_id=person_id,
                                                seen_at=now))
        else:
            member.seen_at = now
        await self.session.flush()

    async def left(self, chat_id: int, person_id: int) -> None:
        """The person left the chat (the network said so)."""
        await self.session.execute(
            delete(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id == chat_id,
                                             orm.CaseChatMember.person_id == person_id))

    async def replace_members(self, chat_id: int, person_ids: list[int], now: datetime
                              ) -> None:
        """The network listed the chat's members: exactly these known people are in it."""
        await self.session.execute(
            delete(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id == chat_id))
        for person_id in dict.fromkeys(person_ids):
            self.session.add(orm.CaseChatMember(case_chat_id=chat_id, person_id=person_id,
                                                seen_at=now))
        await self.session.flush()

    async def members(self, chat_id: int) -> list[int]:
        stmt = select(orm.CaseChatMember.person_id).where(
            orm.CaseChatMember.case_chat_id == chat_id)
        return list((await self.session.execute(stmt)).scalars())
