"""several instances: an outbox message claimed by one instance, for a lease; the next step


``claimed_by`` names the instance that marked the message in flight (``[cluster] instance``),
``lease_until`` how long the claim holds: another instance leaves the message alone until
then, and after it (the claimant died) counts it as a resend and sends it. Cleared with
``attempt_started_at`` when the outcome is recorded.

``ix_deadlines_next`` indexes the pending steps only, by due moment: the scheduler asks for
the earliest one at every re-arm, and with a million open windows the two-column index
(``done_at`` IS NULL is no equality to PostgreSQL's planner) made that a full scan.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_index("ix_deadlines_next", "deadlines", ["due_at"], unique=False,
                    postgresql_where=sa.text("done_at IS NULL"),
                    sqlite_where=sa.text("done_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_deadlines_next", table_name="deadlines")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
