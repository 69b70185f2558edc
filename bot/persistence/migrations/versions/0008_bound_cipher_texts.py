"""cipher texts bound to their column; organisation names encrypted

Every encrypted value is written again with the authenticated data naming its place,
``<table>.<column>`` (``bot/crypto.py``, versions ``v2`` / ``d2``), so that a value copied into
another column or table no longer opens. Organisation names become encrypted, found by a keyed
hash (``name_hash``, unique) like identities. Needs the keyring the bot installs before it
migrates; an empty database needs none. The downgrade writes the unbound form again and
decrypts the organisation names.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot import crypto

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, deterministic): every encrypted column at this revision
ENCRYPTED = (
    ("persons", "display_name", False),
    ("identities", "address", False),
    ("signals", "note", False),
    ("signals", "complainant", False),
    ("timeline", "data", False),
    ("outbox", "address", True),
    ("outbox", "text", False),
    ("outbox_choices", "label", False),
    ("case_chats", "address", True),
    ("conversations", "data", False),
)


def _rows(table: str, column: str) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in op.get_bind().execute(sa.text(
        f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()]  # noqa: S608


def _write(table: str, column: str, values: list[dict[str, object]]) -> None:
    if values:
        op.get_bind().execute(sa.text(
            f"UPDATE {table} SET {column} = :value WHERE id = :id"), values)  # noqa: S608


def _any_rows() -> bool:
    bind = op.get_bind()
    return any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()  # noqa: S608
               for table in {t for t, _, _ in ENCRYPTED} | {"organisations"})


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint("uq_organisations_name", type_="unique")
        batch.alter_column("name", type_=sa.Text(), existing_type=sa.String(200))
        batch.add_column(sa.Column("name_hash", sa.String(64), nullable=True))
    if _any_rows():
        ring = crypto.keyring()
        for table, column, deterministic in ENCRYPTED:
            context = f"{table}.{column}"
            make = ring.seal if deterministic else ring.encrypt
            _write(table, column, [
                {"id": row_id, "value": make(ring.decrypt(value), context)}
                for row_id, value in _rows(table, column) if not ring.is_bound(value)])
        names = _rows("organisations", "name")
        _write("organisations", "name", [
            {"id": row_id, "value": ring.encrypt(name, "organisations.name")}
            for row_id, name in names])
        if names:
            op.get_bind().execute(
                sa.text("UPDATE organisations SET name_hash = :hash WHERE id = :id"),
                [{"id": row_id, "hash": ring.lookup_hash(name)} for row_id, name in names])
    with op.batch_alter_table("organisations") as batch:
        batch.alter_column("name_hash", nullable=False, existing_type=sa.String(64))
        batch.create_unique_constraint("uq_organisations_name_hash", ["name_hash"])


def downgrade() -> None:
    if _any_rows():
        ring = crypto.keyring()
        for table, column, deterministic in ENCRYPTED:
            context = f"{table}.{column}"
            make = ring.seal if deterministic else ring.encrypt
            _write(table, column, [
                {"id": row_id, "value": make(ring.decrypt(value, context))}
                for row_id, value in _rows(table, column) if ring.is_bound(value)])
        _write("organisations", "name", [
            {"id": row_id, "value": ring.decrypt(value, "organisations.name")}
            for row_id, value in _rows("organisations", "name")])
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint("uq_organisations_name_hash", type_="unique")
        batch.drop_column("name_hash")
        batch.alter_column("name", type_=sa.String(200), existing_type=sa.Text())
        batch.create_unique_constraint("uq_organisations_name", ["name"])
