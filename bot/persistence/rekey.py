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


def binary_columns() -> list[tuple[str, str]]:
    """``(table, column)`` for every encrypted binary column (``crypto.EncryptedBytes``)."""
    return [(table.name, column.name) for table in Base.metadata.sorted_tables
            for column in table.columns if isinstance(column.type, crypto.EncryptedBytes)]


Progress = Callable[[int, int], None]


def rewrite_value(ring: crypto.Keyring, table: str, column: str, deterministic: bool,
                  value: str, row: str | None = None) -> str:
    """A stored value made again with the writing key, bound to ``table.column`` and (a
    random-nonce one) to its ``row`` (a value of an older form is read as such)."""
    context = f"{table}.{column}"
    plain = opened(ring, context, value, row)
    return ring.seal(plain, context) if deterministic else ring.encrypt(plain, context, row)


def opened(ring: crypto.Keyring, context: str, value: str, row: str | None) -> str:
    """A stored value's text, whichever form it has (bound to its row, to its column only,
    or to nothing)."""
    if ring.is_row_bound(value):
        return ring.decrypt(value, context, row)
    return ring.decrypt(value, context if ring.is_bound(value) else None)


def _rekey(connection: Connection, progress: Progress | None = None) -> int:
    ring = crypto.keyring()
    changed = 0
    columns = encrypted_columns()
    total = sum(connection.execute(text(
        f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL")).scalar_one()  # noqa: S608
        for table, column, _ in columns)
    done = 0
    for table, column, deterministic in columns:
        row_key = "NULL" if deterministic else crypto.ROW_KEY
        rows = connection.execute(text(
            f"SELECT id, {row_key}, {column} FROM {table} "  # noqa: S608
            f"WHERE {column} IS NOT NULL AND {column} != ''")).all()
        done += len(rows)
        if progress is not None:
            progress(done, total)
        updates = [{"id": row_id, "value": rewrite_value(ring, table, column, deterministic,
                                                         value, row)}
                   for row_id, row, value in rows if not ring.is_current(value)]
        if updates:
            connection.execute(text(
                f"UPDATE {table} SET {column} = :value WHERE id = :id"), updates)  # noqa: S608
            changed += len(updates)
    for table, column in binary_columns():  # attachments, documents waiting to go out
        context = f"{table}.{column}"
        for row_id, value in connection.execute(text(
                f"SELECT id, {column} FROM {table}")).all():  # noqa: S608
            stored = bytes(value)
            if stored.split(b"\n", 1)[0] != f"{crypto.RANDOM}:{ring.key_id}".encode():
                connection.execute(text(
                    f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # noqa: S608
                    {"id": row_id, "value": ring.encrypt_bytes(
                        ring.decrypt_bytes(stored, context), context)})
                changed += 1
    for table, column, hashed in LOOKUPS:
        hashes = [{"id": row_id, "hash": ring.lookup_hash(opened(
            ring, f"{table}.{column}", value, row))}
            for row_id, row, value in connection.execute(text(
                f"SELECT id, {crypto.ROW_KEY}, {column} FROM {table}")).all()]  # noqa: S608
        if hashes:
            connection.execute(text(
                f"UPDATE {table} SET {hashed} = :hash WHERE id = :id"), hashes)  # noqa: S608
    return changed


#: encrypted columns found by a keyed hash: (table, column, hash column)
LOOKUPS = (("identities", "address", "address_hash"), ("organisations", "name", "name_hash"))


async def rekey(engine: AsyncEngine, progress: Progress | None = None) -> int:
    """Rewrite everything with the writing key, in one transaction; how many values changed.
    ``progress(done, total)`` is told the rows read so far."""
    async with engine.begin() as conn:
        changed = await conn.run_sync(_rekey, progress)
    log.info("rewrote %d encrypted value(s) with key %s", changed, crypto.keyring().key_id)
    return changed
