"""the nuisance file: evidence, releases for the judge's copy, attachments, outbox documents

``evidence`` holds the items a judge weighs (statements, notes, photos, measurements, police
and atmosphere reports, behaviour directives), typed and dated with the supplying role; an
anonymous statement stores no identity at all. ``judge_releases`` records what the care team
released for the judge's copy. ``attachments`` holds files (PDF, photo, video, sound) by the
ref of the entry they belong to, encrypted at rest. ``dossier_exports`` logs each export
(who, which copy, the refs shown and redacted, counts; never content). ``outbox_documents``
holds an export waiting to be delivered, encrypted, deleted once delivered or given up.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supplied_role", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        _fk("evidence", "case_id", "cases", "CASCADE"),
        _fk("evidence", "recorded_by", "persons", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_case_id"), "evidence", ["case_id"], unique=False)
    op.create_table(
        "judge_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=48), nullable=False),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("released_role", sa.String(length=32), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        _fk("judge_releases", "case_id", "cases", "CASCADE"),
        _fk("judge_releases", "released_by", "persons", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_releases")),
        sa.UniqueConstraint("case_id", "ref", name=op.f("uq_judge_releases_case_id")),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=48), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_role", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        _fk("attachments", "case_id", "cases", "CASCADE"),
        _fk("attachments", "added_by", "persons", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_case_ref", "attachments", ["case_id", "ref"],
                    unique=False)
    op.create_table(
        "outbox_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=22), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _fk("outbox_documents", "outbox_id", "outbox", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_documents")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_outbox_documents_outbox_id")),
    )
    op.create_table(
        "dossier_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("copy", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("redacted", sa.Integer(), nullable=False),
        sa.Column("refs", sa.Text(), nullable=False),
        _fk("dossier_exports", "case_id", "cases", "CASCADE"),
        _fk("dossier_exports", "person_id", "persons", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_exports")),
    )
    op.create_index(op.f("ix_dossier_exports_case_id"), "dossier_exports", ["case_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dossier_exports_case_id"), table_name="dossier_exports")
    op.drop_table("dossier_exports")
    op.drop_table("outbox_documents")
    op.drop_index("ix_attachments_case_ref", table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("judge_releases")
    op.drop_index(op.f("ix_evidence_case_id"), table_name="evidence")
    op.drop_table("evidence")
