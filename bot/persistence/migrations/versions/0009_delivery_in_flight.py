"""delivery: priority, the attempt in flight, resends; the outbox by chat

``priority`` orders delivery when the network's overall limit is the bottleneck (0 urgent:
reminders, lapse notices, escalations; 1 normal; 2 bulk: digests). ``attempt_started_at`` is
set, and committed, before a message's request goes out and cleared when its outcome is
recorded: after a crash, a pending row that still has it may have been sent, and is resent
and counted in ``resends``. The index finds a chat's pending messages (order per chat).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column("attempt_started_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("resends", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.create_index("ix_outbox_chat", ["transport", "address", "status"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat")
        batch_op.drop_column("resends")
        batch_op.drop_column("attempt_started_at")
        batch_op.drop_column("priority")
