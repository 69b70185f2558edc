"""cipher texts bound to their row as well as their column

Every table with encrypted free text gets a ``row_key`` (random, made by the bot when a row is
first written), and every random-nonce value is written again with the authenticated data
naming its table, column AND row (``bot/crypto.py``, version ``v3``): a cipher text copied into
another row no longer opens. Values SQL compares for equality (chat addresses, ``d2``) stay
bound to their column. Needs the keyring the bot installs before it migrates (an empty
database needs none); on a terminal it shows how far it is (``bot/progress.py``). The
downgrade writes the column-bound form of 0008 again and drops the keys.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from bot import crypto
from bot.progress import Progress

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table → its random-nonce encrypted columns (JSON ones are stored as text alike)
ROW_BOUND = {
    "organisations": ("name",),
    "persons": ("display_name",),
    "identities": ("address",),
    "signals": ("note", "complainant"),
    "timeline": ("data",),
    "outbox": ("text",),
    "outbox_choices": ("label",),
    "conversations": ("data",),
    "transport_state": ("value",),
}

#: rows rewritten per statement
BATCH = 500

#: (table, its row key, its values by column) → the row key and values to store
Rewrite = Callable[[str, str | None, dict[str, str | None]],
                   tuple[str | None, dict[str, str | None]]]


def _count(table: str) -> int:
    return int(op.get_bind().execute(sa.text(
        f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def _rewrite(table: str, make: Rewrite, progress: Progress, done: int, total: int) -> int:
    """Every row of ``table`` through ``make``."""
    columns = ROW_BOUND[table]
    bind = op.get_bind()
    listed = ", ".join(columns)
    rows = bind.execute(sa.text(
        f"SELECT id, row_key, {listed} FROM {table} ORDER BY id")).all()  # noqa: S608
    sets = ", ".join(f"{c} = :{c}" for c in columns)
    update = sa.text(f"UPDATE {table} SET row_key = :row_key, {sets} "  # noqa: S608
                     f"WHERE id = :id")
    for start in range(0, len(rows), BATCH):
        batch = []
        for row in rows[start:start + BATCH]:
            row_key, values = make(table, row[1], dict(zip(columns, row[2:], strict=True)))
            batch.append({"id": row[0], "row_key": row_key, **values})
        if batch:
            bind.execute(update, batch)
        done += len(batch)
        progress(done, total)
    return done


def _each(make: Rewrite, label: str) -> None:
    tables = [t for t in ROW_BOUND if _count(t)]
    if not tables:
        return
    total = sum(_count(t) for t in tables)
    progress = Progress(label, "rows")
    done = 0
    for table in tables:
        done = _rewrite(table, make, progress, done, total)
    progress.finish()


def upgrade() -> None:
    for table in ROW_BOUND:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("row_key", sa.String(22), nullable=True))

    def bind_to_row(table: str, row_key: str | None, values: dict[str, str | None]
                    ) -> tuple[str | None, dict[str, str | None]]:
        ring = crypto.keyring()
        row = row_key or crypto.new_row_key()
        out: dict[str, str | None] = {}
        for column, value in values.items():
            context = f"{table}.{column}"
            if value is None or value == "" or ring.is_row_bound(value):
                out[column] = value
                continue
            plain = ring.decrypt(value, context if ring.is_bound(value) else None)
            out[column] = ring.encrypt(plain, context, row)
        return row, out

    _each(bind_to_row, "binding cipher texts to their rows")


def downgrade() -> None:
    def bound_to_column(table: str, row_key: str | None, values: dict[str, str | None]
                        ) -> tuple[str | None, dict[str, str | None]]:
        ring = crypto.keyring()
        out: dict[str, str | None] = {}
        for column, value in values.items():
            context = f"{table}.{column}"
            if value is None or value == "" or not ring.is_row_bound(value):
                out[column] = value
                continue
            out[column] = ring.encrypt(ring.decrypt(value, context, row_key), context)
        return None, out

    _each(bound_to_column, "binding cipher texts to their columns only")
    for table in ROW_BOUND:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_key")
