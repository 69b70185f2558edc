"""complaints: the complaint procedure (issue 11, actions 1-6)

A complaint with its own states and the windows the guideline ties to it, the tasks of the
table in action 2 (and the procedure's other steps), the ladder's letters (actions 3-6), the
interventions and mediation referrals, and the partners asked at the four- and six-week
checks with their answers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("complainant", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handling", sa.Text(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conscious", sa.Boolean(), nullable=True),
        sa.Column("tenant_justified", sa.Boolean(), nullable=True),
        sa.Column("coach_justified", sa.Boolean(), nullable=True),
        sa.Column("assessment_note", sa.Text(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessed_by", sa.Integer(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_landlord_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_team_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("n2_window_id", sa.Integer(), nullable=True),
        sa.Column("n3_window_id", sa.Integer(), nullable=True),
        sa.Column("n5_window_id", sa.Integer(), nullable=True),
        sa.Column("n6_window_id", sa.Integer(), nullable=True),
        sa.Column("n7_window_id", sa.Integer(), nullable=True),
        sa.Column("contact_window_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["assessed_by"], ["persons.id"],
                                name=op.f("fk_complaints_assessed_by_persons"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_complaints_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_window_id"], ["windows.id"],
                                name=op.f("fk_complaints_contact_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["n2_window_id"], ["windows.id"],
                                name=op.f("fk_complaints_n2_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["n3_window_id"], ["windows.id"],
                                name=op.f("fk_complaints_n3_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["n5_window_id"], ["windows.id"],
                                name=op.f("fk_complaints_n5_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["n6_window_id"], ["windows.id"],
                                name=op.f("fk_complaints_n6_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["n7_window_id"], ["windows.id"],
                                name=op.f("fk_complaints_n7_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["recorded_by"], ["persons.id"],
                                name=op.f("fk_complaints_recorded_by_persons"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    op.create_index(op.f("ix_complaints_case_id"), "complaints", ["case_id"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("owner_role", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"],
                                name=op.f("fk_tasks_window_id_windows"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_tasks_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"],
                                name=op.f("fk_tasks_complaint_id_complaints"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["done_by"], ["persons.id"],
                                name=op.f("fk_tasks_done_by_persons"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_case_id"), "tasks", ["case_id"])
    op.create_index(op.f("ix_tasks_complaint_id"), "tasks", ["complaint_id"])
    op.create_table(
        "complaint_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("signed_seen", sa.Boolean(), nullable=False),
        sa.Column("copy_landlord_file", sa.Boolean(), nullable=False),
        sa.Column("copy_care_file", sa.Boolean(), nullable=False),
        sa.Column("legal_advice", sa.Boolean(), nullable=False),
        sa.Column("consulted", sa.String(length=200), nullable=False),
        sa.Column("advice_police", sa.Boolean(), nullable=False),
        sa.Column("advice_on_call", sa.Boolean(), nullable=False),
        sa.Column("agreements_broken", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_complaint_letters_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by"], ["persons.id"],
                                name=op.f("fk_complaint_letters_recorded_by_persons"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_letters")),
    )
    op.create_index(op.f("ix_complaint_letters_case_id"), "complaint_letters", ["case_id"])
    op.create_table(
        "complaint_interventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("tenant_consent", sa.Boolean(), nullable=False),
        sa.Column("complainant_consent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_complaint_interventions_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by"], ["persons.id"],
                                name=op.f("fk_complaint_interventions_recorded_by_persons"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_interventions")),
    )
    op.create_index(op.f("ix_complaint_interventions_case_id"), "complaint_interventions",
                    ["case_id"])
    op.create_table(
        "complaint_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("norm", sa.String(length=8), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["answered_by"], ["persons.id"],
                                name=op.f("fk_complaint_checks_answered_by_persons"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["asked_by"], ["persons.id"],
                                name=op.f("fk_complaint_checks_asked_by_persons"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_complaint_checks_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"],
                                name=op.f("fk_complaint_checks_complaint_id_complaints"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_checks")),
    )
    op.create_index(op.f("ix_complaint_checks_case_id"), "complaint_checks", ["case_id"])
    op.create_index(op.f("ix_complaint_checks_complaint_id"), "complaint_checks", ["complaint_id"])


def downgrade() -> None:
    op.drop_table("complaint_checks")
    op.drop_table("complaint_interventions")
    op.drop_table("complaint_letters")
    op.drop_table("tasks")
    op.drop_table("complaints")
