"""Backups: SQLite's online backup is one consistent snapshot while the bot writes on; a backup
(SQLite: ``kortelijn backup``; PostgreSQL: the documented pg_dump and pg_restore) restored into
a fresh database carries on: its open windows lapse, its pending messages go out. Long
operator commands show progress on a terminal (a pty) and stay quiet in a pipe."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import crypto, notify
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.persistence.backup import BackupError, backup_sqlite
from bot.persistence.database import create_engine, downgrade, migrate, session_factory
from bot.progress import Progress
from bot.transports.console import console_address
from tests.conftest import TEST_KEY
from tests.support.harness import ConsoleHarness

ROOT = Path(__file__).parents[2]


# --- progress ---------------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_says_rate_and_time_left() -> None:
    moments = iter([0.0, 1.0, 2.0, 2.05, 4.0])
    out = Terminal()
    progress = Progress("backup", "pages", out, monotonic=lambda: next(moments))
    progress(100, 400)   # at 1 s: 100 pages/s, 3 s left
    progress(200, 400)   # at 2 s
    progress(210, 400)   # 0.05 s later: not redrawn
    progress(400, 400)   # the end is always drawn
    progress.finish()
    lines = out.getvalue().split("\r")[1:]
    assert lines == ["backup: 100/400 pages (25%), 100 pages/s, 0:00:03 left",
                     "backup: 200/400 pages (50%), 100 pages/s, 0:00:02 left",
                     "backup: 400/400 pages (100%), 100 pages/s, 0:00:00 left\n"]


def test_progress_in_a_pipe_is_quiet() -> None:
    out = io.StringIO()
    progress = Progress("rekey", "rows", out)
    progress(1, 2)
    progress(2, 2)
    progress.finish()
    assert out.getvalue() == ""


def filled_sqlite(path: Path, rows: int = 20000) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, value TEXT)")
        conn.executemany("INSERT INTO filler (value) VALUES (?)",
                         [("x" * 400,) for _ in range(rows)])


def run_cli(args: list[str], env: dict[str, str], *, terminal: bool) -> tuple[int, str, str]:
    """Run ``kortelijn`` with stderr on a pty (a terminal) or a pipe; (status, out, err)."""
    if not terminal:
        done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env,  # noqa: S603
                              capture_output=True, text=True, timeout=120, check=False)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], env=env,  # noqa: S603
                                stdout=subprocess.PIPE, stderr=follower, text=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the pty closed: the process is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        out = proc.stdout.read() if proc.stdout else ""
        status = proc.wait(timeout=120)
    finally:
        os.close(leader)
    return status, out, b"".join(chunks).decode()


def cli_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.pop("KORTELIJN_CONFIG", None)
    return env


@pytest.mark.parametrize("terminal", [True, False], ids=["pty", "pipe"])
def test_kortelijn_backup_shows_progress_only_on_a_terminal(tmp_path: Path,
                                                           terminal: bool) -> None:
    source = tmp_path / "k.db"
    filled_sqlite(source)
    env = cli_env(KORTELIJN_DATABASE__URL=f"sqlite+aiosqlite:///{source}")
    status, out, err = run_cli(["backup", str(tmp_path / "copy.db")], env, terminal=terminal)
    assert status == 0, err
    assert "the encryption key is not in it" in out
    if terminal:
        assert "\rbackup: " in err
        assert "pages (100%)" in err
        assert " pages/s, " in err
        assert " left" in err
    else:
        assert err == ""
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT count(*) FROM filler").fetchone() == (20000,)


@pytest.mark.parametrize("terminal", [True, False], ids=["pty", "pipe"])
def test_kortelijn_rekey_shows_progress_only_on_a_terminal(tmp_path: Path,
                                                          terminal: bool) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    asyncio.run(_people(url, 300))
    new_key = crypto.generate_key()
    env = cli_env(KORTELIJN_DATABASE__URL=url, KORTELIJN_SECURITY__KEY=new_key,
                  KORTELIJN_SECURITY__OLD_KEYS=f'["{TEST_KEY}"]')
    status, out, err = run_cli(["rekey"], env, terminal=terminal)
    assert status == 0, err
    assert "300 encrypted value(s) rewritten" in out
    if terminal:
        assert "rows (100%)" in err
        assert " rows/s, " in err
    else:
        assert err == ""


@pytest.mark.parametrize("terminal", [True, False], ids=["pty", "pipe"])
def test_a_migration_that_rewrites_rows_shows_progress_only_on_a_terminal(
        tmp_path: Path, terminal: bool) -> None:
    """0011 rewrites every encrypted value (binds it to its row): `kortelijn migrate` from
    0010 shows the rows done, the rate and the time left on a terminal, nothing in a pipe."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    asyncio.run(_people(url, 300, back_to="0010"))
    status, _out, err = run_cli(["migrate"], cli_env(KORTELIJN_DATABASE__URL=url),
                                terminal=terminal)
    assert status == 0, err
    if terminal:
        assert "binding cipher texts to their rows: 300/300 rows (100%)" in err
        assert " rows/s, " in err
        assert " left" in err
    else:
        assert err == ""


async def _people(url: str, count: int, *, back_to: str | None = None) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with session_factory(engine)() as session:
            session.add_all(orm.Person(display_name=f"P{i}", language="nl",
                                       created_at=datetime.now(UTC)) for i in range(count))
            await session.commit()
        if back_to is not None:
            await downgrade(engine, back_to)
    finally:
        await engine.dispose()


def test_backup_on_postgresql_points_at_pg_dump(tmp_path: Path) -> None:
    env = cli_env(KORTELIJN_DATABASE__URL="postgresql+asyncpg://u@127.0.0.1:1/db")
    status, _out, err = run_cli(["backup", str(tmp_path / "b.db")], env, terminal=False)
    assert status == 2
    assert "pg_dump --format=custom" in err


# --- the snapshot -----------------------------------------------------------------------------
def test_the_backup_is_one_snapshot_while_another_connection_writes(tmp_path: Path) -> None:
    source, target = tmp_path / "k.db", tmp_path / "copy.db"
    filled_sqlite(source)
    writer = sqlite3.connect(source, isolation_level=None, timeout=30)
    seen: list[tuple[int, int]] = []

    def write_between_steps(done: int, total: int) -> None:
        seen.append((done, total))
        writer.execute("INSERT INTO filler (value) VALUES ('written during the backup')")

    try:
        backup_sqlite(source, target, write_between_steps)
    finally:
        writer.close()
    assert len(seen) > 3  # it went in steps, with writes in between ...
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)  # ... never anew
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM filler").fetchone() == (20000,)
    with sqlite3.connect(source) as live:
        assert live.execute("SELECT count(*) FROM filler").fetchone() == (20000 + len(seen),)
    with pytest.raises(BackupError, match="exists already"):
        backup_sqlite(source, target)


# --- restore, and carry on --------------------------------------------------------------------
def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _restore_postgres(url: str, dump: Path) -> str:
    """The documented commands: pg_dump into a file, pg_restore into a fresh database."""
    fresh = make_url(url).set(database=f"{make_url(url).database}_restore")
    admin = create_engine(url)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh.database}"'))
            await conn.execute(text(f'CREATE DATABASE "{fresh.database}"'))
    finally:
        await admin.dispose()
    await _tool("pg_dump", "--format=custom", f"--file={dump}", _libpq(url))
    fresh_url = fresh.render_as_string(hide_password=False)
    await _tool("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(fresh_url)}",
                str(dump))
    return fresh_url


async def _tool(name: str, *args: str) -> None:
    program = shutil.which(name)
    assert program is not None, name
    proc = await asyncio.create_subprocess_exec(program, *args)
    async with asyncio.timeout(120):
        assert await proc.wait() == 0, name


async def _drop(url: str, name: str) -> None:
    admin = create_engine(url)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def test_a_restored_bot_carries_on(database_url: str, clock: ManualClock,
                                         tmp_path: Path) -> None:
    if database_url.startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        case = await bot.new_case()
        await bot.join("Lotte", case, "verhuurder")
        await bot.join("Bram", case, "begeleider")
        await bot.type("/als Lotte")
        lines = await bot.type(f"/signaal {case} brievenbus")
        assert any("Nieuw signaal #1" in line for line in bot.to("Bram", lines))
        assert bot.app is not None
        async with bot.app.new_uow() as uow:  # a message not yet delivered at the backup
            bram = await uow.persons.by_identity("console", console_address("Bram"))
            assert bram is not None
            # due in an hour (as after quiet hours): certainly still pending at the backup
            await notify.to_person(uow, bram.id, lambda _lang: "Nog te bezorgen bij de back-up",
                                   clock.now(), not_before=clock.now() + timedelta(hours=1))
            await uow.commit()
        # the backup, while the bot runs
        if database_url.startswith("sqlite"):
            restored = tmp_path / "restored" / "kortelijn.db"
            source = make_url(database_url).database
            assert source is not None
            await asyncio.to_thread(backup_sqlite, Path(source), restored)
            restored_url = f"sqlite+aiosqlite:///{restored}"
        else:
            restored_url = await _restore_postgres(database_url, tmp_path / "kortelijn.dump")
    finally:
        await bot.stop()
    again = ConsoleHarness(restored_url, clock)
    try:
        await again.start()
        assert "Nog te bezorgen bij de back-up" not in again.to("Bram", again.new_output())
        lines = await again.advance(timedelta(hours=1))  # the pending message goes out
        assert again.to("Bram", lines) == ["Nog te bezorgen bij de back-up"]
        lines = await again.advance(timedelta(hours=48))  # the window, restored, lapses
        assert any("Termijn verlopen" in line for line in again.to("Bram", lines)), lines
        assert any("Termijn verlopen" in line for line in again.to("Lotte", lines)), lines
    finally:
        await again.stop()
        if restored_url.startswith("postgresql"):
            fresh = make_url(restored_url).database
            assert fresh is not None
            await _drop(database_url, fresh)
