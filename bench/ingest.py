"""Benchmark: ingesting signals, the bot's hot path (issue 9, item 9).

Posts signals through the dispatcher exactly as the console transport hands them on (one
``Incoming`` each, ``/signaal <zaak> geluid`` by the landlord of a case with three members:
landlord, coach and police officer), and, in the same run on the same database, times
single-row committed inserts into a scratch table. It prints signals per second, the SQL
statements and commits per signal (counted with SQLAlchemy engine events: every cursor
execution is one statement, an ``executemany`` or a multi-row INSERT included; ``BEGIN`` and
``COMMIT`` are not statements, commits are counted apart), and the ratio of the two rates.
Delivery of the outbox is not part of what is timed: ingesting means the signal, its window,
its timeline event, its notices in the outbox and the reply, committed.

SQLite first (a file in a temporary folder, the bot's own settings: WAL, ``synchronous=FULL``,
or ``--synchronous normal``; the raw inserts use the same settings), then PostgreSQL at
``KORTELIJN_BENCH_DATABASE_URL`` or ``--database`` when one is given. THAT DATABASE IS
EMPTIED (its ``public`` schema is dropped and made anew, as the tests do): point it at a
scratch database.

The target: a ratio of at least 0.25 on SQLite. The last line is one JSON object:
``signals_per_s``, ``raw_inserts_per_s``, ``ratio``, ``statements_per_signal``,
``commits_per_signal``, ``cpu_ms_per_signal`` (this process's own CPU time per signal, which a
machine shared with others distorts least), ``floor_signals_per_s`` and ``floor_ratio`` (one
signal's own statements replayed straight on ``sqlite3``: the database's share of a signal,
which no Python above it can beat) (SQLite) and the same with a ``pg_`` prefix
(PostgreSQL).

    make bench-ingest          (or: python -m bench.ingest --signals 2000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.domain.commands import CreateCase, InviteToRole, RedeemInvitation
from bot.domain.model import Role
from bot.persistence.database import create_engine
from bot.services import cases
from bot.transports.base import Incoming

#: who is in the case (console name, role); the first one posts
MEMBERS = (("Lotte Landlord", Role.LANDLORD), ("Bram Coach", Role.COACH),
           ("Petra Police", Role.POLICE))


class Counter:
    """Statements and commits an engine carries out, from its events."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self.commits = 0
        self.texts: list[str] = []
        #: the statements with their parameters as the driver got them (``keep_texts``)
        self.replay: list[tuple[str, Any, bool]] = []
        self.keep_texts = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(engine.sync_engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
                   _context: Any, many: bool) -> None:
        self.statements += 1
        if self.keep_texts:
            self.texts.append(" ".join(statement.split())[:120])
            self.replay.append((statement, parameters, many))

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements = self.commits = 0
        self.texts = []
        self.replay = []


@dataclass
class Figures:
    signals_per_s: float
    raw_inserts_per_s: float
    statements_per_signal: float
    commits_per_signal: float

    @property
    def ratio(self) -> float:
        return self.signals_per_s / self.raw_inserts_per_s


def new_app(url: str, synchronous: str = "full") -> KorteLijn:
    settings = Settings.model_validate({
        "database": {"url": url, "sqlite_synchronous": synchronous},
        "console": {"coordinator": "Coordinator"}})
    return KorteLijn(settings, clock=SystemClock(), transports=[], console=False)


async def populate(app: KorteLijn) -> str:
    """A case with three members; returns its code."""
    ctx = app.ctx
    async with app.new_uow() as uow:
        now = ctx.clock.now()
        coordinator = await uow.persons.add(display_name="Coordinator", language="nl",
                                            transport="console", address="coordinator",
                                            now=now, is_coordinator=True)
        code = await cases.create_case(CreateCase(coordinator.id), uow, ctx)
        for name, role in MEMBERS:
            person = await uow.persons.add(display_name=name, language="nl",
                                           transport="console", address=address(name),
                                           now=now)
            issued = await cases.invite(InviteToRole(coordinator.id, code, role), uow, ctx)
            await cases.redeem(RedeemInvitation(person.id, issued.code), uow, ctx)
        await uow.commit()
    return code


def address(name: str) -> str:
    return name.lower().replace(" ", "")


def signal_line(code: str) -> Incoming:
    name = MEMBERS[0][0]
    return Incoming(transport="console", chat_id=address(name), sender_id=address(name),
                    sender_name=name, text=f"/signaal {code} geluid")


async def post_signals(app: KorteLijn, counter: Counter, code: str, count: int
                       ) -> tuple[float, float, float, float]:
    """Post ``count`` signals one after another; signals/s, statements and commits each, and
    the milliseconds of this process's CPU each took."""
    incoming = signal_line(code)
    counter.reset()
    cpu = time.process_time()
    started = time.perf_counter()
    for _ in range(count):
        await app.dispatcher.handle(incoming)
        # let what the commit woke (the deadline scheduler re-arming) run, as between two
        # messages of a real transport, so its statements are counted and timed too
        for _ in range(3):
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    # on a shared machine the wall clock also counts others' work: the process's own CPU
    # time per signal is printed beside it
    cpu_ms = (time.process_time() - cpu) / count * 1000
    print(f"  {cpu_ms:.2f} ms of CPU per signal, {elapsed / count * 1000:.2f} ms of wall time")
    return count / elapsed, counter.statements / count, counter.commits / count, cpu_ms


async def capture(app: KorteLijn, counter: Counter, code: str, verbose: bool
                  ) -> list[tuple[str, Any, bool]]:
    """The statements of one signal, with the parameters the driver got."""
    counter.reset()
    counter.keep_texts = True
    await app.dispatcher.handle(signal_line(code))
    counter.keep_texts = False
    if verbose:
        print(f"  the statements of one signal ({len(counter.texts)}, "
              f"{counter.commits} commit):")
        for number, statement in enumerate(counter.texts, 1):
            print(f"  {number:3d}  {statement}")
    return counter.replay


def floor_sqlite(path: Path, statements: list[tuple[str, Any, bool]], count: int,
                 synchronous: str) -> float:
    """The database's share of a signal: its statements, with the parameters one signal
    gave them (texts encrypted already), replayed straight on ``sqlite3`` in one committed
    transaction each, with none of the bot's own work (parsing, the policy, rendering,
    encrypting, SQLAlchemy). What no reshaping of the Python above it can beat. A replayed
    message's choices would collide with the first ones (one index per message), so they
    are inserted ``OR IGNORE``: the same look-up, no row."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys=ON")
        replay = [(sql.replace("INSERT INTO outbox_choices", "INSERT OR IGNORE INTO "
                               "outbox_choices"), params, many)
                  for sql, params, many in statements]
        started = time.perf_counter()
        for _ in range(count):
            conn.execute("BEGIN IMMEDIATE")
            for sql, params, many in replay:
                if many:
                    conn.executemany(sql, params)
                else:
                    conn.execute(sql, params).fetchall()
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return count / elapsed


async def ingest(url: str, count: int, warmup: int, verbose: bool, synchronous: str = "full"
                 ) -> tuple[tuple[float, float, float, float], list[tuple[str, Any, bool]]]:
    """The figures of ``post_signals``, and the statements of one signal."""
    app = new_app(url, synchronous)
    await app.start()  # migrations and the delivery loop's first (empty) round
    await app.delivery.stop()  # delivery is not what is measured here
    try:
        code = await populate(app)
        counter = Counter(app.engine)
        await post_signals(app, counter, code, warmup)
        statements = await capture(app, counter, code, verbose)
        return await post_signals(app, counter, code, count), statements
    finally:
        await app.stop()


def raw_sqlite(path: Path, count: int, synchronous: str) -> float:
    """Single-row committed inserts with the settings the bot uses on the same file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw "
                     "(id INTEGER PRIMARY KEY, at TEXT NOT NULL, payload TEXT NOT NULL)")
        started = time.perf_counter()
        for i in range(count):
            conn.execute("BEGIN")
            conn.execute("INSERT INTO bench_raw (at, payload) VALUES (?, ?)",
                         (time.time(), f"row {i}"))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
    finally:
        conn.close()
    return count / elapsed


async def raw_postgres(url: str, count: int) -> float:
    """Single-row committed inserts (autocommit: one round trip each) through asyncpg."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_raw "
                           "(id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, "
                           "payload TEXT NOT NULL)")
        insert = await conn.prepare("INSERT INTO bench_raw (at, payload) VALUES ($1, $2)")
        started = time.perf_counter()
        for i in range(count):
            await insert.fetch(time.time(), f"row {i}")
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_raw")
    finally:
        await conn.close()
    return count / elapsed


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def report(label: str, figures: Figures) -> None:
    print(f"{label}: {figures.signals_per_s:,.0f} signals/s, "
          f"{figures.raw_inserts_per_s:,.0f} single-row committed inserts/s, "
          f"ratio {figures.ratio:.3f}; {figures.statements_per_signal:.1f} statements and "
          f"{figures.commits_per_signal:.1f} commits per signal")


async def main(options: argparse.Namespace) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="kortelijn-bench-ingest-"))
    db = folder / "bench.db"
    (rate, statements, commits, cpu_ms), replay = await ingest(
        f"sqlite:///{db}", options.signals, options.warmup, options.verbose,
        options.synchronous)
    raw = raw_sqlite(db, options.raw, options.synchronous)
    floor = floor_sqlite(db, replay, options.raw, options.synchronous)
    sqlite_figures = Figures(rate, raw, statements, commits)
    report(f"SQLite (WAL, synchronous={options.synchronous})", sqlite_figures)
    print(f"  the database's share alone (one signal's statements replayed on sqlite3): "
          f"{floor:,.0f} signals/s, ratio {floor / raw:.3f}; the bot's work above it: "
          f"{(1 / rate - 1 / floor) * 1000:.2f} ms per signal")
    out: dict[str, float] = {
        "signals_per_s": round(rate, 1), "raw_inserts_per_s": round(raw, 1),
        "ratio": round(sqlite_figures.ratio, 4),
        "statements_per_signal": round(statements, 2),
        "commits_per_signal": round(commits, 2),
        # the process's own CPU per signal: what a loaded machine distorts least
        "cpu_ms_per_signal": round(cpu_ms, 2),
        # the same statements straight on sqlite3: the ratio no Python above them can beat
        "floor_signals_per_s": round(floor, 1), "floor_ratio": round(floor / raw, 4)}
    pg = options.database or os.environ.get("KORTELIJN_BENCH_DATABASE_URL", "")
    if pg:
        await reset_postgres(pg)
        try:
            (rate, statements, commits, cpu_ms), _ = await ingest(
                pg, options.signals, options.warmup, options.verbose)
            raw = await raw_postgres(pg, options.raw)
        finally:
            await reset_postgres(pg)
        pg_figures = Figures(rate, raw, statements, commits)
        report("PostgreSQL", pg_figures)
        out |= {"pg_signals_per_s": round(rate, 1), "pg_raw_inserts_per_s": round(raw, 1),
                "pg_ratio": round(pg_figures.ratio, 4),
                "pg_statements_per_signal": round(statements, 2),
                "pg_commits_per_signal": round(commits, 2),
                "pg_cpu_ms_per_signal": round(cpu_ms, 2)}
    else:
        print("PostgreSQL: skipped (set KORTELIJN_BENCH_DATABASE_URL or give --database)")
    target = sqlite_figures.ratio >= options.target
    print(f"target: ratio >= {options.target} on SQLite: {'met' if target else 'MISSED'}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1_000, help="signals to post (timed)")
    parser.add_argument("--warmup", type=int, default=50, help="signals posted before timing")
    parser.add_argument("--raw", type=int, default=5_000, help="raw inserts to time")
    parser.add_argument("--database", default="",
                        help="a PostgreSQL URL (postgresql+asyncpg://…); it is EMPTIED")
    parser.add_argument("--target", type=float, default=0.25, help="the ratio to reach")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full",
                        help="SQLite's durability, for the bot and the raw inserts alike "
                             "(the bot's default: full)")
    parser.add_argument("--verbose", action="store_true",
                        help="list the statements of one signal")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
