"""SQLite's online backup: a consistent copy while the bot runs.

The copy is made with SQLite's backup API in steps, inside one read transaction on the source:
in WAL mode that transaction sees one snapshot, so the bot goes on writing meanwhile and the
copy is exactly the database as it was when the backup began (without the read transaction a
write between two steps would make SQLite start over). PostgreSQL is backed up with its own
tools (``pg_dump``; docs/OPERATIONS.md). The encryption key is not in the database, nor in
the backup: it is kept apart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

#: pages copied per step (SQLite's default page is 4 KiB)
PAGES_PER_STEP = 256


class BackupError(Exception):
    """The backup cannot be made; the message says why."""


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; ``None`` for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Copy ``source`` into the new file ``target``, consistently; the number of pages."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists already; name a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    pages = 0

    def step(_status: int, remaining: int, total: int) -> None:
        nonlocal pages
        pages = total
        if progress is not None:
            progress(total - remaining, total)

    src = sqlite3.connect(source, isolation_level=None, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.execute("BEGIN")  # one snapshot for every step
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            src.backup(dst, pages=PAGES_PER_STEP, progress=step)
            src.execute("COMMIT")
            check = dst.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupError(f"the copy in {target} does not check out: {check}")
        finally:
            dst.close()
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {error}") from None
    finally:
        src.close()
    return pages
