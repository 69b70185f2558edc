"""choices stored with their message; conversations per person and case

A message's choices move from a JSON column of the outbox row into ``outbox_choices`` (outbox
id, index, label, the command, and what it does as data: action and subject), so that a
button, a typed number or a reaction resolves through the stored row, also after a restart.
The outbox row says what it is (``kind``) and which choice was picked (a pick is final).

Guided conversations are keyed by person and case (several per person, one per case), with a
named state and the answers so far as encrypted JSON. Conversations still running are carried
over (their case is read from their data); choices of existing messages too.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:30:00
"""

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot import crypto

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS = ((re.compile(r"^/ok (\d+)$"), "acknowledge"), (re.compile(r"^/bekijk (\d+)$"), "view"),
            (re.compile(r"^/gedaan T(\d+)$"), "complete"),
            (re.compile(r"^/toelichting (\d+) \w+$"), "note"))


def _action_of(command: str) -> tuple[str, int | None, str | None]:
    """What an old choice's command does, as data (done once, here, for existing rows)."""
    for pattern, action in _ACTIONS:
        found = pattern.match(command)
        if found:
            value = command.rsplit(" ", 1)[1] if action == "note" else None
            return action, int(found.group(1)), value
    return "command", None, None


def _outbox_choices() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, choices FROM outbox WHERE choices IS NOT NULL")).all()
    if not rows:
        return
    ring = crypto.keyring()
    new: list[dict[str, Any]] = []
    for row_id, sealed in rows:
        for index, (label, command) in enumerate(json.loads(ring.decrypt(sealed))):
            action, subject, value = _action_of(command)
            new.append({"outbox_id": row_id, "idx": index, "label": ring.encrypt(label),
                        "command": command, "action": action, "subject_id": subject,
                        "value": value})
    if new:
        bind.execute(sa.text(
            "INSERT INTO outbox_choices (outbox_id, idx, label, command, action, subject_id, "
            "value) VALUES (:outbox_id, :idx, :label, :command, :action, :subject_id, :value)"),
            new)


def _old_conversations() -> list[dict[str, Any]]:
    """Running conversations in the new shape: their case is named in their data."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT person_id, kind, step, data, updated_at, expires_at FROM conversations")).all()
    if not rows:
        return []
    ring = crypto.keyring()
    cases: dict[str, int] = {}
    for code, case_id in bind.execute(sa.text("SELECT code, id FROM cases")).all():
        cases[code] = case_id
    out = []
    for person_id, kind, step, sealed, updated_at, expires_at in rows:
        data = json.loads(ring.decrypt(sealed))
        case_id = cases.get(data.get("case"))
        if case_id is None:
            continue
        out.append({"person_id": person_id, "case_id": case_id, "name": kind, "state": step,
                    "data": ring.encrypt(json.dumps(data, ensure_ascii=False)), "asked": 0,
                    "started_at": updated_at, "updated_at": updated_at,
                    "expires_at": expires_at})
    return out


def upgrade() -> None:
    op.create_table(
        "outbox_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("label_key", sa.String(length=64), nullable=True),
        sa.Column("command", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"],
                                name=op.f("fk_outbox_choices_outbox_id_outbox"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_choices")),
        sa.UniqueConstraint("outbox_id", "idx", name=op.f("uq_outbox_choices_outbox_id")),
    )
    op.create_index("ix_outbox_choices_action_subject", "outbox_choices",
                    ["action", "subject_id"], unique=False)
    _outbox_choices()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=False,
                                      server_default="message"))
        batch_op.add_column(sa.Column("picked_index", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("picked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column("choices")

    carried = _old_conversations()
    op.drop_table("conversations")
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_conversations_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"],
                                name=op.f("fk_conversations_person_id_persons"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("person_id", "case_id", name=op.f("uq_conversations_person_id")),
    )
    op.create_index(op.f("ix_conversations_person_id"), "conversations", ["person_id"])
    op.create_index(op.f("ix_conversations_case_id"), "conversations", ["case_id"])
    if carried:  # the moments as the database gave them (plain SQL, no column types)
        op.get_bind().execute(sa.text(
            "INSERT INTO conversations (person_id, case_id, name, state, data, asked, "
            "started_at, updated_at, expires_at) VALUES (:person_id, :case_id, :name, :state, "
            ":data, :asked, :started_at, :updated_at, :expires_at)"), carried)


def downgrade() -> None:
    # running conversations and the choices of messages are not carried back
    op.drop_index(op.f("ix_conversations_case_id"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_person_id"), table_name="conversations")
    op.drop_table("conversations")
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"],
                                name=op.f("fk_conversations_person_id_persons"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("person_id", name=op.f("uq_conversations_person_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("choices", sa.Text(), nullable=True))
    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM outbox")).scalars().all()
    if ids:
        ring = crypto.keyring()
        bind.execute(sa.text("UPDATE outbox SET choices = :value WHERE id = :id"),
                     [{"id": row_id, "value": ring.encrypt("[]")} for row_id in ids])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("choices", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("picked_at")
        batch_op.drop_column("picked_index")
        batch_op.drop_column("kind")
    op.drop_index("ix_outbox_choices_action_subject", table_name="outbox_choices")
    op.drop_table("outbox_choices")
