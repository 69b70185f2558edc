"""Retention: the coordinator closes a case; a closed case is purged after
``[retention] closed_case_after``, leaving a record that it existed and when it was purged;
rows of the access log go after ``[retention] access_log_after``; messages of no case
(answers to strangers, previews, digests) after ``[retention] caseless_messages_after``;
guided conversations left alone past their time go at the next run.

Purging deletes a case's content (signals, windows and their deadlines, timeline, memberships,
invitations, linked chats, its outbox messages, pattern proposals) in one transaction per case
and keeps the case row itself (code, created, closed, purged) as the record. The access log
keeps its rows about the case: who read what is kept for its own period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from bot import i18n, notify
from bot.domain import errors
from bot.domain.commands import CloseCase
from bot.domain.events import Event
from bot.domain.model import WindowStatus
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.cases import normalise_case_code, require_coordinator
from bot.services.context import ServiceContext

log = logging.getLogger(__name__)

CLOSED = "closed"


@dataclass(frozen=True)
class ClosedCase:
    code: str
    cancelled: int
    #: from when its content is purged
    purge_after: datetime


async def close_case(cmd: CloseCase, uow: UnitOfWork, ctx: ServiceContext) -> ClosedCase:
    """Close a case: its running windows are cancelled, nothing new goes in, and after the
    retention period its content is purged. The members are told, facts only."""
    await require_coordinator(uow, cmd.coordinator_id)
    code = normalise_case_code(cmd.case_code)
    case = await uow.cases.by_code(code) if code else None
    if case is None:
        raise errors.UnknownCase(code=cmd.case_code)
    if case.status == CLOSED or case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    now = ctx.clock.now()
    cancelled = 0
    for window in await uow.windows.running(case_id=case.id):
        stopped, _ = window.stop(now)
        if await uow.windows.save(stopped, was=window.status):
            await uow.windows.skip_pending(window.id, now, WindowStatus.CANCELLED.value)
            cancelled += 1
    if cancelled:
        uow.deadlines_changed = True
    case.status, case.closed_at = CLOSED, now
    uow.timeline.record(case_id=case.id, at=now, event=Event.CASE_CLOSED,
                        actor_id=cmd.coordinator_id, cancelled=cancelled)
    members = dict.fromkeys(m.person_id for m in await uow.cases.members(case.id))
    for person_id in members:
        if person_id != cmd.coordinator_id:
            await notify.to_person(
                uow, person_id,
                lambda lang: i18n.t(lang, "retention.closed_notice", code=case.code),
                now, case_id=case.id)
    # N12: the partners are invited to reflect on the closing (especially after an eviction)
    from bot.services import reflection  # noqa: PLC0415 - reflection imports the runner

    await reflection.ask(uow, ctx, case, None, subject="case")
    await uow.flush()
    return ClosedCase(code=case.code, cancelled=cancelled,
                      purge_after=now + ctx.retention.closed_case_after)


@dataclass(frozen=True)
class Purged:
    cases: list[str]
    access_log_rows: int
    #: messages of no case deleted after their period
    caseless_messages: int = 0


async def due_for_purge(uow: UnitOfWork, now: datetime, ctx: ServiceContext) -> list[int]:
    """Closed cases whose retention period has passed and whose content is still there."""
    stmt = (select(orm.Case.id)
            .where(orm.Case.closed_at.is_not(None), orm.Case.purged_at.is_(None),
                   orm.Case.closed_at <= now - ctx.retention.closed_case_after)
            .order_by(orm.Case.id))
    return list((await uow.session.execute(stmt)).scalars())


async def purge_case(uow: UnitOfWork, case_id: int, now: datetime) -> str | None:
    """Delete a closed case's content and mark it purged; its code, or ``None`` when it is
    not (or no longer) a closed case with content."""
    claimed = await uow.session.execute(
        update(orm.Case)
        .where(orm.Case.id == case_id, orm.Case.closed_at.is_not(None),
               orm.Case.purged_at.is_(None))
        .values(purged_at=now)
        .execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        return None  # purged meanwhile (a second run) or reopened
    windows = select(orm.WindowRow.id).where(orm.WindowRow.case_id == case_id)
    chats = select(orm.CaseChat.id).where(orm.CaseChat.case_id == case_id)
    for statement in (
        delete(orm.DeadlineRow).where(orm.DeadlineRow.window_id.in_(windows)),
        delete(orm.WindowRow).where(orm.WindowRow.case_id == case_id),
        delete(orm.TimelineRow).where(orm.TimelineRow.case_id == case_id),
        delete(orm.ReflectionRow).where(orm.ReflectionRow.case_id == case_id),
        delete(orm.TrajectoryEvaluationRow).where(
            orm.TrajectoryEvaluationRow.case_id == case_id),
        delete(orm.TrajectoryRow).where(orm.TrajectoryRow.case_id == case_id),
        # the nuisance file: its evidence, attachments, releases and the log of its exports
        # (the access log keeps that they happened), and exports still waiting to go out
        delete(orm.OutboxDocument).where(orm.OutboxDocument.outbox_id.in_(
            select(orm.OutboxRow.id).where(orm.OutboxRow.case_id == case_id))),
        delete(orm.AttachmentRow).where(orm.AttachmentRow.case_id == case_id),
        delete(orm.EvidenceRow).where(orm.EvidenceRow.case_id == case_id),
        delete(orm.JudgeRelease).where(orm.JudgeRelease.case_id == case_id),
        delete(orm.DossierExport).where(orm.DossierExport.case_id == case_id),
        delete(orm.OutboxRow).where(orm.OutboxRow.case_id == case_id),
        delete(orm.SignalRow).where(orm.SignalRow.case_id == case_id),
        delete(orm.PatternProposal).where(orm.PatternProposal.case_id == case_id),
        delete(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id.in_(chats)),
        delete(orm.CaseChat).where(orm.CaseChat.case_id == case_id),
        delete(orm.Invitation).where(orm.Invitation.case_id == case_id),
        delete(orm.Membership).where(orm.Membership.case_id == case_id),
    ):
        await uow.session.execute(statement.execution_options(synchronize_session=False))
    uow.deadlines_changed = True
    code: str = (await uow.session.execute(
        select(orm.Case.code).where(orm.Case.id == case_id))).scalar_one()
    return code


async def prune_access_log(uow: UnitOfWork, now: datetime, ctx: ServiceContext) -> int:
    """Delete access-log rows older than their retention period; how many."""
    result = await uow.session.execute(
        delete(orm.AccessLogRow)
        .where(orm.AccessLogRow.at < now - ctx.retention.access_log_after)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_caseless_messages(uow: UnitOfWork, now: datetime, ctx: ServiceContext) -> int:
    """Delete messages of no case (answers, previews, digests) older than their period, once
    delivered or given up; how many. A message still pending stays, and so does one that a
    later message edits (its edit needs it until that edit is done)."""
    edited = select(orm.OutboxRow.edit_of).where(orm.OutboxRow.edit_of.is_not(None),
                                                 orm.OutboxRow.status == "pending")
    result = await uow.session.execute(
        delete(orm.OutboxRow)
        .where(orm.OutboxRow.case_id.is_(None),
               orm.OutboxRow.status.in_(("sent", "failed")),
               orm.OutboxRow.created_at < now - ctx.retention.caseless_messages_after,
               orm.OutboxRow.id.not_in(edited))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_due(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> Purged:
    """Purge every closed case whose period has passed (one transaction each), then prune
    the access log. Safe to run twice, or in two processes at once."""
    now = ctx.clock.now()
    async with new_uow() as uow:
        due = await due_for_purge(uow, now, ctx)
    purged: list[str] = []
    for case_id in due:
        async with new_uow() as uow:
            code = await purge_case(uow, case_id, now)
            await uow.commit()
        if code is not None:
            purged.append(code)
    async with new_uow() as uow:
        pruned = await prune_access_log(uow, now, ctx)
        await uow.conversations.drop_expired(now)  # their answers are free text
        messages = await prune_caseless_messages(uow, now, ctx)
        await uow.commit()
    if purged or pruned or messages:
        log.info("retention: purged %d closed case(s), %d access-log row(s), %d message(s) "
                 "of no case", len(purged), pruned, messages)
    return Purged(cases=purged, access_log_rows=pruned, caseless_messages=messages)
