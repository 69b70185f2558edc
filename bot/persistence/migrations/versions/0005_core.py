"""shared chats: what the network says of their members

A shared case chat stores how many members the network counts (without the bot), when it
said so, and whether the network reports every join and leave to the bot. More members than
the bot knows, or joins it is not told of, mean a stranger may be in it
(``Policy.chat_audience``, docs/PRIVACY.md). Chats linked before this revision have no
count: they are treated as holding a stranger until the next count.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_chats") as batch:
        batch.add_column(sa.Column("member_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("follows_members", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("case_chats") as batch:
        batch.drop_column("follows_members")
        batch.drop_column("counted_at")
        batch.drop_column("member_total")
