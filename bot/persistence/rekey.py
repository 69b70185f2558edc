"""Key rotation: rewrite every encrypted value, and every identity's look-up hash, with the key
that writes now (``[security] key``), reading with any configured key (``old_keys``).

Run it (``kortelijn rekey``) after putting a new key first and the old one in ``old_keys``;
afterwards the old key is no longer needed. Values already under the new key are left alone, so
it can be run again after an interruption. The encrypted columns are found in the models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import crypto
from bot.persistence.orm import Base

log = logging.getLogger(__name__)


def encrypted_columns() -> list[tuple[str, str, bool]]:
    """``(table, column, deterministic)`` for every encrypted column of the models."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, crypto.EncryptedAddress):
                found.append((table.name, column.name, True))
            elif isinstance(column.type, crypto.EncryptedText | crypto.EncryptedJSON):
                found.append((table.name, column.name, False))
    return found


Progress = Callable[[int, int], None]


def _rekey(connection: Connection, progress: Progress | None = None) -> int:
    ring = crypto.keyring()
    changed = 0
    columns = encrypted_columns()
    total = sum(connection.execute(text(
        f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL")).scalar_one()  # noqa: S608
        for table, column, _ in columns)
    done = 0
    for table, column, deterministic in columns:
        rows = connection.execute(text(
            f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()  # noqa: S608
        done += len(rows)
        if progress is not None:
            progress(done, total)
        updates = [{"id": row_id, "value": (ring.seal if deterministic else ring.encrypt)(
            ring.decrypt(value))} for row_id, value in rows if not ring.is_current(value)]
        if updates:
            connection.execute(text(
                f"UPDATE {table} SET {column} = :value WHERE id = :id"), updates)  # noqa: S608
            changed += len(updates)
    hashes = [{"id": row_id, "hash": ring.lookup_hash(ring.decrypt(address))}
              for row_id, address in connection.execute(
                  text("SELECT id, address FROM identities")).all()]
    if hashes:
        connection.execute(text("UPDATE identities SET address_hash = :hash WHERE id = :id"),
                           hashes)
    return changed


async def rekey(engine: AsyncEngine, progress: Progress | None = None) -> int:
    """Rewrite everything with the writing key, in one transaction; how many values changed.
    ``progress(done, total)`` is told the rows read so far."""
    async with engine.begin() as conn:
        changed = await conn.run_sync(_rekey, progress)
    log.info("rewrote %d encrypted value(s) with key %s", changed, crypto.keyring().key_id)
    return changed
