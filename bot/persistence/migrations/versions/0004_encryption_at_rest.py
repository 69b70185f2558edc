"""encryption at rest

Free text, names and chat identities are stored encrypted (``bot/crypto.py``): the columns
become TEXT (cipher text is longer than the plain text was), identities get a keyed hash of
their address to be found by, unique per transport instead of the address itself.

Rows already in the database (a development database; there is no production data before this
revision) are encrypted here, with the keyring the bot installs before it migrates (the
configured ``[security] key``, or in development the key file). An empty database needs no key.
The downgrade decrypts them again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:56:03.156994
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from bot import crypto

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, how): "text" random-nonce AES-GCM, "json" the same of the JSON text,
#: "address" deterministic AES-SIV (compared for equality in SQL)
ENCRYPTED = (
    ("persons", "display_name", "text"),
    ("identities", "address", "text"),
    ("signals", "note", "text"),
    ("signals", "complainant", "text"),
    ("timeline", "data", "json"),
    ("outbox", "address", "address"),
    ("outbox", "text", "text"),
    ("outbox", "choices", "json"),
    ("case_chats", "address", "address"),
    ("conversations", "data", "text"),
)


def _rewrite(table: str, column: str, change: Callable[[str], str]) -> None:
    """Apply ``change`` to every non-null value of a column (plain SQL, no ORM types)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()  # noqa: S608
    if rows:
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # noqa: S608
                     [{"id": row[0], "value": change(str(row[1]))} for row in rows])


def _encrypt_existing() -> None:
    bind = op.get_bind()
    if not any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()  # noqa: S608
               for table, _, _ in ENCRYPTED):
        return  # an empty database: nothing to encrypt, no key needed
    ring = crypto.keyring()
    for table, column, how in ENCRYPTED:
        _rewrite(table, column, ring.seal if how == "address" else ring.encrypt)
    rows = bind.execute(sa.text("SELECT id, address FROM identities")).all()
    if rows:
        bind.execute(sa.text("UPDATE identities SET address_hash = :hash WHERE id = :id"),
                     [{"id": row[0], "hash": ring.lookup_hash(ring.decrypt(row[1]))}
                      for row in rows])


def _decrypt_existing() -> None:
    bind = op.get_bind()
    if not any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()  # noqa: S608
               for table, _, _ in ENCRYPTED):
        return
    ring = crypto.keyring()
    for table, column, _ in ENCRYPTED:
        _rewrite(table, column, ring.decrypt)


def upgrade() -> None:
    with op.batch_alter_table("case_chats", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=False,
        )

    with op.batch_alter_table("identities", schema=None) as batch_op:
        # nullable until every existing row has its hash (below)
        batch_op.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "address",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=False,
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "choices",
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="choices::text",
        )

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column(
            "display_name",
            existing_type=sa.VARCHAR(length=200),
            type_=sa.Text(),
            existing_nullable=False,
        )

    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.alter_column(
            "data",
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="data::text",
        )

    _encrypt_existing()

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.alter_column(
            "address_hash", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.drop_constraint(batch_op.f("uq_identities_transport"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_identities_transport"), ["transport", "address_hash"]
        )


def downgrade() -> None:
    _decrypt_existing()

    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.alter_column(
            "data",
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="data::json",
        )

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column(
            "display_name",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=200),
            existing_nullable=False,
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "choices",
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="choices::json",
        )
        batch_op.alter_column(
            "address",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=False,
        )

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_identities_transport"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_identities_transport"), ["transport", "address"]
        )
        batch_op.alter_column(
            "address",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=False,
        )
        batch_op.drop_column("address_hash")

    with op.batch_alter_table("case_chats", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=False,
        )
