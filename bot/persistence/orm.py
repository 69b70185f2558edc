"""Tables, as typed SQLAlchemy 2 models. The schema itself is made by the Alembic migrations;
a test checks that these models and the migrations agree."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    attributes,
    mapped_column,
    relationship,
    validates,
)
from sqlalchemy.sql.expression import false

from bot import crypto
from bot.crypto import EncryptedAddress, EncryptedBytes, EncryptedJSON, EncryptedText

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, hands back aware datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Organisation(Base):
    """An organisation people are invited for. Its name is encrypted (it can tell which care
    provider works with a tenant); it is found by its keyed hash (``name_hash``)."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    name: Mapped[str] = mapped_column(EncryptedText("organisations.name"))
    #: HMAC-SHA256 of the name under a key derived from the security key (hex)
    name_hash: Mapped[str] = mapped_column(String(64), unique=True)

    @validates("name")
    def _hash_name(self, _key: str, name: str) -> str:
        self.name_hash = crypto.keyring().lookup_hash(name)
        return name


class Person(Base):
    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    #: encrypted at rest, as every name, chat address and free text (``bot/crypto.py``)
    display_name: Mapped[str] = mapped_column(EncryptedText("persons.display_name"))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    #: quiet hours, local "HH:MM"; empty means the deployment's default
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    #: local "HH:MM" of the daily digest (care team); empty means the deployment's default
    digest_time: Mapped[str | None] = mapped_column(String(5))
    last_daily_digest: Mapped[datetime | None]
    last_weekly_digest: Mapped[datetime | None]


class Identity(Base):
    """One chat identity of a person: (transport, address) where the bot reaches them.

    The address is stored encrypted; it is found by its keyed hash (``address_hash``)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("transport", "address_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                           index=True)
    transport: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText("identities.address"))
    #: HMAC-SHA256 of the address under a key derived from the security key (hex)
    address_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    @validates("address")
    def _hash_address(self, _key: str, address: str) -> str:
        self.address_hash = crypto.keyring().lookup_hash(address)
        return address


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    #: when its content was erased after the retention period (the row itself stays)
    purged_at: Mapped[datetime | None]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                           index=True)
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime]


class Invitation(Base):
    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    #: SHA-256 of the code; the code itself is never stored
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    redeemed_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))


class SignalRow(Base):
    __tablename__ = "signals"
    #: the household pattern asks, per kind, whether the case had one since a moment: one
    #: seek each, however many signals the case has (migration 0017)
    __table_args__ = (Index("ix_signals_case_kind_posted", "case_id", "kind", "posted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    posted_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    poster_role: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(EncryptedText("signals.note"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    acknowledged_role: Mapped[str | None] = mapped_column(String(32))
    #: who complained (a landlord may name the complainant; only the landlord sees it)
    complainant: Mapped[str | None] = mapped_column(EncryptedText("signals.complainant"))
    #: the roles that may read the note, comma-separated (chosen by the poster)
    audience: Mapped[str | None] = mapped_column(String(200))
    #: none, draft (awaiting the poster's confirmation), sent, withheld
    note_status: Mapped[str] = mapped_column(String(16), default="none")
    #: for the tenant's own reports: received, in_progress, done
    report_status: Mapped[str | None] = mapped_column(String(16))
    #: a complaint the team has discussed with the tenant, so the tenant may see it
    released_to_tenant: Mapped[bool] = mapped_column(Boolean, default=False)


class WindowRow(Base):
    """A response window of a norm: open until met, lapsed or cancelled."""

    __tablename__ = "windows"
    #: the metrics count windows per state and norm
    __table_args__ = (Index("ix_windows_status_norm", "status", "norm"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    norm: Mapped[str] = mapped_column(String(8))
    signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    #: the responsible roles, in order of preference, comma-separated
    responsible: Mapped[str] = mapped_column(String(200))
    waiting_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    #: when the norm alone would have it lapse; ``due_at`` adds extensions and pauses
    base_due_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_at: Mapped[datetime | None]
    #: the norm's span and escalation chain this window was armed with (to notice changes)
    policy: Mapped[str | None] = mapped_column(String(64))
    paused_at: Mapped[datetime | None]
    #: for periodic norms: which period this window is
    period: Mapped[int] = mapped_column(Integer, default=1)


class DeadlineRow(Base):
    """One moment at which something must happen for a window (a reminder, the lapse).

    The scheduler wakes for the earliest row whose ``done_at`` is empty.
    """

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_pending", "done_at", "due_at"),
                      Index("ix_deadlines_late", "late"),
                      # the earliest pending step, read at every re-arm: the pending ones
                      # only, in due order (with millions of open windows, one index probe)
                      Index("ix_deadlines_next", "due_at",
                            postgresql_where=text("done_at IS NULL"),
                            sqlite_where=text("done_at IS NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id", ondelete="CASCADE"),
                                           index=True)
    step: Mapped[str] = mapped_column(String(16))
    #: the step's place in the norm's escalation chain
    seq: Mapped[int] = mapped_column(Integer, default=0)
    #: who is told: comma-separated targets (responsible, waiting, team_lead, coordinator)
    notify: Mapped[str] = mapped_column(String(100), default="")
    #: may be delivered inside the recipient's quiet hours
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    #: done, skipped (the window closed first)
    outcome: Mapped[str | None] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class TimelineRow(Base):
    """What happened in a case, as structured facts (no free text)."""

    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    #: details of the event; encrypted at rest (a reason may be free text)
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("timeline.data"), default=dict)


class OutboxRow(Base):
    """A message to one chat, written in the transaction of the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),
                      Index("ix_outbox_chat", "transport", "address", "status", "priority",
                            "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    transport: Mapped[str] = mapped_column(String(16))
    #: encrypted deterministically, so the order per chat can still be kept in SQL
    address: Mapped[str] = mapped_column(EncryptedAddress("outbox.address"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                                  index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(EncryptedText("outbox.text"))
    #: the choices offered with it, by index (``OutboxChoice``); loaded with the row
    choices: Mapped[list[OutboxChoice]] = relationship(
        lazy="selectin", order_by="OutboxChoice.idx", cascade="all, delete-orphan",
        passive_deletes=True)
    #: replace this earlier outbox message instead of sending anew
    edit_of: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    #: answer to this incoming transport message
    reply_to: Mapped[str | None] = mapped_column(String(64))
    #: pending, sent, failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    transport_message_id: Mapped[str | None] = mapped_column(String(64))
    #: why delivery failed (an error class and code, never message text)
    last_error: Mapped[str | None] = mapped_column(String(200))
    #: what the message is (``bot.domain.choices.MessageKind``), so it is recognised as data
    kind: Mapped[str] = mapped_column(String(32), default="message", server_default="message")
    #: which of its choices was picked (a pick is final: a choice is used once), and when
    picked_index: Mapped[int | None] = mapped_column(Integer)
    picked_at: Mapped[datetime | None]

    #: 0 urgent (reminders, lapse notices, escalations), 1 normal, 2 bulk (digests): the
    #: order in which chats get the network's overall limit when it is the bottleneck
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: set (and committed) before the request goes out, cleared when its outcome is recorded:
    #: a pending row that has it after a crash may have been sent
    attempt_started_at: Mapped[datetime | None]
    #: how often it was sent again although it may have gone out already
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: several instances: the one that marked it in flight, and until when that claim holds
    #: (after it, another instance may resend it); cleared with ``attempt_started_at``
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class OutboxChoice(Base):
    """One choice offered with an outbox message: a button, numbered option or reaction.

    A pick comes back as (outbox id or transport message id, index) and is resolved through
    this row, also after a restart. ``action`` and ``subject_id`` say what it does as data."""

    __tablename__ = "outbox_choices"
    __table_args__ = (UniqueConstraint("outbox_id", "idx"),
                      Index("ix_outbox_choices_action_subject", "action", "subject_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    #: 0-based position among the message's choices
    idx: Mapped[int] = mapped_column(Integer)
    #: encrypted: a label may carry a name
    label: Mapped[str] = mapped_column(EncryptedText("outbox_choices.label"))
    label_key: Mapped[str | None] = mapped_column(String(64))
    #: the command it stands for, as a person could type it (empty for a conversation's answer)
    command: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[str | None] = mapped_column(String(64))


class Absence(Base):
    """A person away until a moment; their nudges go to the backup meanwhile."""

    __tablename__ = "absences"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                           index=True)
    backup_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime]
    until: Mapped[datetime]
    created_at: Mapped[datetime]


class CaseChat(Base):
    """A group or room linked to a case as its shared case chat."""

    __tablename__ = "case_chats"
    __table_args__ = (UniqueConstraint("transport", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    transport: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedAddress("case_chats.address"))
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime]
    #: how many members the network counts (the bot not counted), when it last said; more
    #: than the known members (``case_chat_members``) means a stranger is in it
    member_total: Mapped[int | None] = mapped_column(Integer)
    counted_at: Mapped[datetime | None]
    #: the network reports every join and leave of this chat to the bot (``Audience``)
    follows_members: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())


class ProcessedUpdate(Base):
    """An incoming update already handled (a chat network may deliver it again)."""

    __tablename__ = "processed_updates"
    __table_args__ = (UniqueConstraint("transport", "update_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    transport: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(index=True)


class AccessLogRow(Base):
    """Who read or received what of a case, in which role, when and why (NEN 7513 spirit)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"),
                                                  index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"),
                                                index=True)
    #: what was read or received: summary, status, dossier, digest, delivery, export, …
    what: Mapped[str] = mapped_column(String(32))
    #: why: the command or process that caused it
    purpose: Mapped[str] = mapped_column(String(64))
    #: the record concerned (a signal number, an outbox message), if one
    subject_id: Mapped[int | None] = mapped_column(Integer)


class Conversation(Base):
    """Where a person stands in a guided conversation about a case (one per person and case;
    ``bot/services/conversations.py``)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("person_id", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                           index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         index=True)
    #: which conversation (its definition's name) and the state it is in
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    #: the answers so far (free text, so encrypted at rest)
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("conversations.data"),
                                                   default=dict)
    #: orders a person's conversations by which asked last (typed text answers that one)
    asked: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class CaseChatMember(Base):
    """A person known to be in a shared case chat (seen writing or joining, or listed by the
    network): their roles decide what it may show."""

    __tablename__ = "case_chat_members"
    __table_args__ = (UniqueConstraint("case_chat_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_chat_id: Mapped[int] = mapped_column(ForeignKey("case_chats.id", ondelete="CASCADE"),
                                              index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime]


class PatternProposal(Base):
    """A household pattern proposed to the team lead (so it is proposed once)."""

    __tablename__ = "pattern_proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    proposed_at: Mapped[datetime]
    kinds: Mapped[str] = mapped_column(String(200))


class TransportState(Base):
    """What a chat transport keeps across a restart, in our database rather than in its own
    files: Matrix's sync token (written after what it covers is handled), its login,
    which rooms are direct or shared, and the direct rooms it leaves when no code is redeemed
    there in time. ``key`` and ``value`` may name a person (a Matrix id): both encrypted."""

    __tablename__ = "transport_state"
    __table_args__ = (UniqueConstraint("transport", "kind", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    transport: Mapped[str] = mapped_column(String(16))
    #: ``sync`` (the token), ``login``, ``room`` (direct or shared), ``dm`` (a person's
    #: direct room), ``leave`` (when to leave an unredeemed direct room), ``undecrypted``
    #: (an encrypted event waiting for its room key, by event id: as the homeserver sent it)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(EncryptedAddress("transport_state.key"))
    value: Mapped[str] = mapped_column(EncryptedText("transport_state.value"))
    updated_at: Mapped[datetime]


# --- trajectories (issue 11: the last chance, the breakthrough track, reflections, the yearly
# evaluation); free text is encrypted, each of its class (docs/PRIVACY.md)

class TrajectoryRow(Base):
    """A last-chance trajectory or a breakthrough track of a case
    (``bot/domain/trajectory.py``)."""

    __tablename__ = "trajectories"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    proposed_at: Mapped[datetime]
    proposed_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    proposed_role: Mapped[str | None] = mapped_column(String(32))
    consented_at: Mapped[datetime | None]
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_by_tenant: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the support agreement (class agreement)
    agreement: Mapped[str | None] = mapped_column(EncryptedText("trajectories.agreement"))
    agreement_at: Mapped[datetime | None]
    #: which new lease it is part of (class agreement)
    lease_ref: Mapped[str | None] = mapped_column(EncryptedText("trajectories.lease_ref"))
    lease_linked_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    minimum_until: Mapped[datetime | None]
    evaluations: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None]
    closure: Mapped[str | None] = mapped_column(String(16))
    #: why it closed so (class evaluation)
    closing_note: Mapped[str | None] = mapped_column(
        EncryptedText("trajectories.closing_note"))
    #: the evaluation window (N10) now running
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id", ondelete="SET NULL"))


class TrajectoryEvaluationRow(Base):
    """One periodic evaluation of a trajectory, with its outcome."""

    __tablename__ = "trajectory_evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    trajectory_id: Mapped[int] = mapped_column(
        ForeignKey("trajectories.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    period: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    role: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    #: what was evaluated (class evaluation)
    note: Mapped[str | None] = mapped_column(EncryptedText("trajectory_evaluations.note"))
    #: the N10 window it met
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id", ondelete="SET NULL"))


class ReflectionRow(Base):
    """A reflection on a closed case or trajectory (N12), the answers of its conversation."""

    __tablename__ = "reflections"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    trajectory_id: Mapped[int | None] = mapped_column(
        ForeignKey("trajectories.id", ondelete="SET NULL"))
    #: case or trajectory
    subject: Mapped[str] = mapped_column(String(16))
    after_eviction: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime]
    by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    role: Mapped[str | None] = mapped_column(String(32))
    #: the answers (class evaluation)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("reflections.answers"),
                                                    default=dict)


class EvaluationReportRow(Base):
    """An evaluation report of the cooperation (no case content), made yearly or on demand:
    the yearly reminder is due when no yearly one was made since its moment."""

    __tablename__ = "evaluation_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    made_at: Mapped[datetime] = mapped_column(index=True)
    #: yearly or on_demand
    reason: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    made_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))


# --- the complaint procedure (issue 11: bot/domain/complaint.py, bot/services/complaints.py) -

class ComplaintRow(Base):
    """A nuisance complaint about the tenant, recorded by the landlord: its own states
    (``bot.domain.complaint.ComplaintStatus``) and the windows the guideline ties to it."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    happened_at: Mapped[datetime]
    #: when the landlord received it (N2 runs from here)
    received_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]
    #: class ``complaint``
    description: Mapped[str] = mapped_column(EncryptedText("complaints.description"))
    #: class ``complainant``; empty when anonymous (then no identity is stored at all)
    complainant: Mapped[str | None] = mapped_column(EncryptedText("complaints.complainant"))
    status: Mapped[str] = mapped_column(String(16), default="received")
    #: action 1, class ``assessment``
    handling: Mapped[str | None] = mapped_column(EncryptedText("complaints.handling"))
    handled_at: Mapped[datetime | None]
    conscious: Mapped[bool | None] = mapped_column(Boolean)
    tenant_justified: Mapped[bool | None] = mapped_column(Boolean)
    coach_justified: Mapped[bool | None] = mapped_column(Boolean)
    #: action 2, class ``assessment``
    assessment_note: Mapped[str | None] = mapped_column(
        EncryptedText("complaints.assessment_note"))
    assessed_at: Mapped[datetime | None]
    assessed_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    last_contact_at: Mapped[datetime | None]
    resolved_landlord_at: Mapped[datetime | None]
    resolved_team_at: Mapped[datetime | None]
    n2_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("windows.id", ondelete="SET NULL"))
    n3_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("windows.id", ondelete="SET NULL"))
    n5_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("windows.id", ondelete="SET NULL"))
    n6_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("windows.id", ondelete="SET NULL"))
    n7_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("windows.id", ondelete="SET NULL"))
    contact_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("windows.id", ondelete="SET NULL"))


class TaskRow(Base):
    """A follow-up someone in a role must do (the table of action 2, and the procedure's
    other steps); its text comes from the catalogue (``task.<kind>``): no free text."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    owner_role: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    #: the task's clock (norm ``T``), when it has one
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id", ondelete="SET NULL"))


class LetterRow(Base):
    """A letter of the ladder (actions 3-6), with what the guideline asks with it."""

    __tablename__ = "complaint_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    sent_on: Mapped[date] = mapped_column(Date)
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    copy_landlord_file: Mapped[bool] = mapped_column(Boolean, default=False)
    copy_care_file: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_advice: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the roles consulted, comma-separated
    consulted: Mapped[str] = mapped_column(String(200), default="")
    advice_police: Mapped[bool] = mapped_column(Boolean, default=False)
    advice_on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    #: action 6: the tenant did not keep the agreements of the lease and support agreement
    agreements_broken: Mapped[bool] = mapped_column(Boolean, default=False)
    #: class ``letter``
    note: Mapped[str | None] = mapped_column(EncryptedText("complaint_letters.note"))
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]


class InterventionRow(Base):
    """An intervention (1-4) or a mediation referral (with both parties' consent)."""

    __tablename__ = "complaint_interventions"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    #: class ``care``
    note: Mapped[str | None] = mapped_column(EncryptedText("complaint_interventions.note"))
    tenant_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    complainant_consent: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckRow(Base):
    """One partner asked at the four-week (N5) or six-week (N6) check, and their answer."""

    __tablename__ = "complaint_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"),
                                              index=True)
    #: ``N5`` or ``N6``
    norm: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(32))
    asked_at: Mapped[datetime]
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"))
    #: none, new (N5); resolved, unresolved (N6)
    answer: Mapped[str | None] = mapped_column(String(16))

# --- the nuisance file (issue 11, item 7; bot/services/evidence.py, bot/services/dossier.py) --

class EvidenceRow(Base):
    """One item of evidence in a case's nuisance file: a neighbour's statement, the landlord's
    telephone or visit note, a photo, video, sound recording or measurement, a police or
    atmosphere report, a mayor's behaviour directive. Typed, dated, with the role that
    supplied it; its text is of the kind's information class (``bot/domain/evidence.py``)."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: when it happened (the statement's date, the visit, the measurement)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    supplied_role: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id",
                                                               ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(EncryptedText("evidence.text"), default="")
    #: who made the statement, when the neighbour is known to the landlord (class
    #: complainant); ``None`` when anonymous: then no identity is stored at all
    source: Mapped[str | None] = mapped_column(EncryptedText("evidence.source"))


class JudgeRelease(Base):
    """The care team released an entry of the file for the judge's copy (who, when)."""

    __tablename__ = "judge_releases"
    __table_args__ = (UniqueConstraint("case_id", "ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    #: the entry's ref, ``letter:12``, ``evidence:3``, ``timeline:40``
    ref: Mapped[str] = mapped_column(String(48))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id",
                                                               ondelete="SET NULL"))
    released_role: Mapped[str] = mapped_column(String(32))
    released_at: Mapped[datetime]


class AttachmentRow(Base):
    """A file (PDF, photo, video, sound) belonging to an entry of a case's file, by the
    entry's ref; its name and content encrypted at rest."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case_ref", "case_id", "ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(48))
    filename: Mapped[str] = mapped_column(EncryptedText("attachments.filename"))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(EncryptedBytes("attachments.content"))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    added_role: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime]


class OutboxDocument(Base):
    """The document an outbox message carries (an export of the file), encrypted, kept only
    until the message is delivered or given up."""

    __tablename__ = "outbox_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the row's own key, to which its encrypted values are bound (``bot/crypto.py``)
    row_key: Mapped[str | None] = mapped_column(String(22))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"),
                                           unique=True)
    filename: Mapped[str] = mapped_column(EncryptedText("outbox_documents.filename"))
    mime: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(EncryptedBytes("outbox_documents.content"))


class DossierExport(Base):
    """One export of a case's file: who, in which role, which copy and format, when, and the
    refs of the entries shown and redacted with their counts (never content)."""

    __tablename__ = "dossier_exports"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(32))
    copy: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]
    shown: Mapped[int] = mapped_column(Integer)
    redacted: Mapped[int] = mapped_column(Integer)
    #: ``{"shown": ["letter:12", ...], "redacted": [...]}``
    refs: Mapped[str] = mapped_column(Text)


# --- values bound to their row -------------------------------------------------------------

def _bind_new(_mapper: Mapper[Any], _connection: Any, target: Base) -> None:
    """A row the ORM inserts gets its key, and its encrypted values are bound to it."""
    if getattr(target, crypto.ROW_KEY) is None:
        setattr(target, crypto.ROW_KEY, crypto.new_row_key())
    row = getattr(target, crypto.ROW_KEY)
    for key in crypto.row_bound_columns(type(target).__table__):
        value = getattr(target, key)
        if value is not None:
            setattr(target, key, crypto.bound_to_row(value, row))


def _bind_changed(_mapper: Mapper[Any], _connection: Any, target: Base) -> None:
    """A changed encrypted value of a row the ORM updates is bound to the row's key."""
    row = getattr(target, crypto.ROW_KEY)
    for key in crypto.row_bound_columns(type(target).__table__):
        if attributes.get_history(target, key).has_changes():
            value = getattr(target, key)
            if value is not None:
                if row is None:
                    raise crypto.RowKeyMissing(f"{type(target).__tablename__}: a row without "
                                               f"its key (run the migrations)")
                setattr(target, key, crypto.bound_to_row(value, row))


async def bound_for_update(session: Any, model: type[Base], row_id: int,
                           values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for a Core ``UPDATE`` of row ``row_id`` (a conditional save of an
    aggregate), its row-bound values bound to the row's key, read first (one statement, only
    when such a value is set)."""
    columns = crypto.row_bound_columns(model.__table__)
    if not any(values.get(key) for key in columns):
        return values
    row = (await session.execute(
        select(model.__table__.c[crypto.ROW_KEY]).where(model.__table__.c.id == row_id)
    )).scalar_one_or_none()
    if row is None:
        return values  # no such row (the update changes nothing), or one the migrations missed
    return {key: crypto.bound_to_row(value, row) if key in columns else value
            for key, value in values.items()}


for _model in Base.__subclasses__():
    if crypto.row_bound_columns(_model.__table__):
        event.listen(_model, "before_insert", _bind_new)
        event.listen(_model, "before_update", _bind_changed)
