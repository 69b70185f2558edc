"""the outbox's messages to one chat in the order they go: ``ix_outbox_chat`` also by priority
and id

Delivery asks, for a chat, for its most urgent and then oldest pending message (the next to
go once one is done), and for each pending message whether an earlier one of its chat must
go first. With the index on ``(transport, address, status)`` alone both read and sort every
pending message of the chat, so a chat with a long queue (thousands of deadline notices to
one coordinator) made each of those look-ups cost in proportion to its queue; with
``priority`` and ``id`` in the index they read one entry.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 15:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outbox")
    op.create_index("ix_outbox_chat", "outbox",
                    ["transport", "address", "status", "priority", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outbox")
    op.create_index("ix_outbox_chat", "outbox", ["transport", "address", "status"],
                    unique=False)
