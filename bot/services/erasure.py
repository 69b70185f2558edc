"""Erasure on request (AVG art. 17): a person can have the bot forget them. Their name, chat
identities, roles, absences, settings and unfinished conversations go; what they contributed to
a case's file (signals, acknowledgements) stays with the case under its own retention, now
attributed to a name that is no name in any language (:data:`ERASED`); the access log keeps its
rows (its legal basis is accountability)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update

from bot.domain.events import Event
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext

#: the name an erased person is shown by, to readers of every language
ERASED = "—"


async def forget_person(uow: UnitOfWork, ctx: ServiceContext, person_id: int) -> list[int]:
    """Erase a person; returns the ids of the cases they were in."""
    now = ctx.clock.now()
    case_ids = sorted({case.id for case, _ in await uow.cases.cases_of(person_id)})
    session = uow.session
    person = await uow.persons.get(person_id)
    identities = [(str(t), str(a)) for t, a in (await session.execute(
        select(orm.Identity.transport, orm.Identity.address)
        .where(orm.Identity.person_id == person_id))).all()]
    await _erase_messages(uow, person_id, identities,
                          person.display_name if person is not None else None)
    for table, column in ((orm.Identity, orm.Identity.person_id),
                          (orm.Membership, orm.Membership.person_id),
                          (orm.Absence, orm.Absence.person_id),
                          (orm.Conversation, orm.Conversation.person_id),
                          (orm.CaseChatMember, orm.CaseChatMember.person_id)):
        await session.execute(delete(table).where(column == person_id)
                              .execution_options(synchronize_session=False))
    await session.execute(update(orm.Absence).where(orm.Absence.backup_id == person_id)
                          .values(backup_id=None).execution_options(synchronize_session=False))
    await session.execute(update(orm.WindowRow).where(orm.WindowRow.waiting_person_id ==
                                                      person_id)
                          .values(waiting_person_id=None)
                          .execution_options(synchronize_session=False))
    # messages not yet delivered to them will never be
    await session.execute(update(orm.OutboxRow)
                          .where(orm.OutboxRow.person_id == person_id,
                                 orm.OutboxRow.status == "pending")
                          .values(status="failed", text="", last_error="erased")
                          .execution_options(synchronize_session=False))
    if person is not None:
        person.display_name = ERASED
        person.is_coordinator = False
        person.quiet_start = person.quiet_end = person.digest_time = None
    for case_id in case_ids:
        uow.timeline.record(case_id=case_id, at=now, event=Event.PERSON_ERASED)
    await session.flush()
    return case_ids


#: what an erased chat address is replaced by in the messages once sent to it
ERASED_ADDRESS = "-"


async def _erase_messages(uow: UnitOfWork, person_id: int,
                          identities: list[tuple[str, str]], name: str | None) -> None:
    """The outbox forgets the person too: every message to them or to their chats, delivered
    or not, loses its address and text; their name goes from the texts (and choices) still
    stored for other people (a message kept for an edit, one not yet delivered)."""
    session = uow.session
    theirs = or_(orm.OutboxRow.person_id == person_id,
                 *((orm.OutboxRow.transport == transport) & (orm.OutboxRow.address == address)
                   for transport, address in identities))
    # an export waiting for them goes with them (it would go nowhere)
    await session.execute(delete(orm.OutboxDocument).where(
        orm.OutboxDocument.outbox_id.in_(select(orm.OutboxRow.id).where(theirs)))
        .execution_options(synchronize_session=False))
    # their choices first: the address that finds their rows goes next
    await session.execute(delete(orm.OutboxChoice).where(
        orm.OutboxChoice.outbox_id.in_(select(orm.OutboxRow.id).where(theirs)))
        .execution_options(synchronize_session=False))
    await session.execute(update(orm.OutboxRow).where(theirs)
                          .values(address=ERASED_ADDRESS, text="")
                          .execution_options(synchronize_session=False))
    if not name or len(name.strip()) < 2:
        return
    # every stored message (a delivered one keeps its choices: a button resolves through
    # them); erasure is rare, so reading them all is affordable
    stored = (await session.execute(
        select(orm.OutboxRow).execution_options(populate_existing=True))).scalars()
    for row in stored:
        if name in row.text:
            row.text = row.text.replace(name, ERASED)
        for choice in row.choices:
            if name in choice.label:
                choice.label = choice.label.replace(name, ERASED)
