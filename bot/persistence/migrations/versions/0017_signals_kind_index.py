"""the household pattern's question, one index seek per kind

``ix_signals_case_kind_posted`` (case, kind, moment): the pattern check asks, for each kind,
whether the case had a signal of it since a moment. Without it the question read every signal
of the case in the period (``SELECT DISTINCT kind``), a cost that grew with a busy case's
history on the hot path of every signal (issue 9, item 9).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_signals_case_kind_posted", "signals",
                    ["case_id", "kind", "posted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signals_case_kind_posted", table_name="signals")
