"""several instances: an outbox message claimed by one instance, for a lease

``claimed_by`` names the instance that marked the message in flight (``[cluster] instance``),
``lease_until`` how long the claim holds: another instance leaves the message alone until
then, and after it (the claimant died) counts it as a resend and sends it. Cleared with
``attempt_started_at`` when the outcome is recorded.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
