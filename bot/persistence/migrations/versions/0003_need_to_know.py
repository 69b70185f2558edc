"""need to know

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:50:16.561146
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_conversations_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("person_id", name=op.f("uq_conversations_person_id")),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_access_log_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_access_log_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_person_id"), ["person_id"], unique=False)

    op.create_table(
        "pattern_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_pattern_proposals_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pattern_proposals")),
    )
    with op.batch_alter_table("pattern_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pattern_proposals_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "case_chat_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_chat_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_chat_id"],
            ["case_chats.id"],
            name=op.f("fk_case_chat_members_case_chat_id_case_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_case_chat_members_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_chat_members")),
        sa.UniqueConstraint(
            "case_chat_id", "person_id", name=op.f("uq_case_chat_members_case_chat_id")
        ),
    )
    with op.batch_alter_table("case_chat_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_chat_members_case_chat_id"), ["case_chat_id"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True))
        batch_op.add_column(
            sa.Column("last_daily_digest", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_weekly_digest", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("complainant", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("note_status", sa.String(length=16), nullable=False, server_default="none")
        )
        batch_op.add_column(sa.Column("report_status", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "released_to_tenant", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("complainant")
        batch_op.drop_column("released_to_tenant")
        batch_op.drop_column("report_status")
        batch_op.drop_column("note_status")
        batch_op.drop_column("audience")

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("last_weekly_digest")
        batch_op.drop_column("last_daily_digest")
        batch_op.drop_column("digest_time")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("purged_at")

    with op.batch_alter_table("case_chat_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_chat_members_case_chat_id"))

    op.drop_table("case_chat_members")
    with op.batch_alter_table("pattern_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pattern_proposals_case_id"))

    op.drop_table("pattern_proposals")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_person_id"))
        batch_op.drop_index(batch_op.f("ix_access_log_case_id"))
        batch_op.drop_index(batch_op.f("ix_access_log_at"))

    op.drop_table("access_log")
    op.drop_table("conversations")
