"""trajectories: the last chance and the breakthrough track, their evaluations, reflections on
a closing, and the evaluation reports of the cooperation (the yearly reminder's state)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "trajectories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("proposed_at", False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("proposed_role", sa.String(length=32), nullable=True),
        _when("consented_at"),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("consent_by_tenant", sa.Boolean(), nullable=False),
        sa.Column("agreement", sa.Text(), nullable=True),
        _when("agreement_at"),
        sa.Column("lease_ref", sa.Text(), nullable=True),
        _when("lease_linked_at"),
        _when("started_at"),
        _when("minimum_until"),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        _when("closed_at"),
        sa.Column("closure", sa.String(length=16), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_trajectories_case_id_cases")),
        sa.ForeignKeyConstraint(["proposed_by"], ["persons.id"], ondelete="SET NULL",
                                name=op.f("fk_trajectories_proposed_by_persons")),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"], ondelete="SET NULL",
                                name=op.f("fk_trajectories_window_id_windows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trajectories")),
    )
    op.create_index(op.f("ix_trajectories_case_id"), "trajectories", ["case_id"])
    op.create_table(
        "trajectory_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        _when("at", False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["trajectory_id"], ["trajectories.id"], ondelete="CASCADE",
                                name=op.f("fk_trajectory_evaluations_trajectory_id_trajectories")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_trajectory_evaluations_case_id_cases")),
        sa.ForeignKeyConstraint(["by"], ["persons.id"], ondelete="SET NULL",
                                name=op.f("fk_trajectory_evaluations_by_persons")),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"], ondelete="SET NULL",
                                name=op.f("fk_trajectory_evaluations_window_id_windows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trajectory_evaluations")),
    )
    op.create_index(op.f("ix_trajectory_evaluations_trajectory_id"), "trajectory_evaluations",
                    ["trajectory_id"])
    op.create_index(op.f("ix_trajectory_evaluations_case_id"), "trajectory_evaluations",
                    ["case_id"])
    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("after_eviction", sa.Boolean(), nullable=False),
        _when("at", False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_reflections_case_id_cases")),
        sa.ForeignKeyConstraint(["trajectory_id"], ["trajectories.id"], ondelete="SET NULL",
                                name=op.f("fk_reflections_trajectory_id_trajectories")),
        sa.ForeignKeyConstraint(["by"], ["persons.id"], ondelete="SET NULL",
                                name=op.f("fk_reflections_by_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflections")),
    )
    op.create_index(op.f("ix_reflections_case_id"), "reflections", ["case_id"])
    op.create_table(
        "evaluation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("made_at", False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        _when("period_start", False),
        _when("period_end", False),
        sa.Column("made_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["made_by"], ["persons.id"], ondelete="SET NULL",
                                name=op.f("fk_evaluation_reports_made_by_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_reports")),
    )
    op.create_index(op.f("ix_evaluation_reports_made_at"), "evaluation_reports", ["made_at"])


def downgrade() -> None:
    op.drop_table("evaluation_reports")
    op.drop_table("reflections")
    op.drop_table("trajectory_evaluations")
    op.drop_table("trajectories")
