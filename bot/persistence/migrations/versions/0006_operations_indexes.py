"""indexes for the metrics

``/metrics`` counts open and lapsed windows per norm and the deadline steps that ran late
at every scrape; these indexes keep those counts cheap on a large deployment.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_windows_status_norm", "windows", ["status", "norm"], unique=False)
    op.create_index("ix_deadlines_late", "deadlines", ["late"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deadlines_late", table_name="deadlines")
    op.drop_index("ix_windows_status_norm", table_name="windows")
