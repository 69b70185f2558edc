"""transport state: Matrix's sync token, login and rooms, in our database

The sync token is written in the transaction that handles the batch it ends, so an event is
never handled twice, also across kill -9; the login (device id and access token) so the bot
keeps one device and its keys; which rooms are direct or shared, and when to leave a direct
room where no invitation code was redeemed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transport_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_state")),
        sa.UniqueConstraint("transport", "kind", "key",
                            name=op.f("uq_transport_state_transport")),
    )


def downgrade() -> None:
    op.drop_table("transport_state")
