"""The unit of work: one transaction, rolled back unless committed, with the repositories
the services use. Messages to people go into the outbox inside the same transaction."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import crypto
from bot.domain import model
from bot.domain.model import Role, SignalKind, StepKind, WindowStatus
from bot.persistence import orm


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._committed = False
        #: set when a change touched the deadlines, so the scheduler re-arms after commit
        self.deadlines_changed = False
        #: set when outbox rows were written, so the delivery loop wakes after commit
        self.outbox_written = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._committed = False
        self.deadlines_changed = False
        self.outbox_written = False
        self.persons = PersonRepository(self._session)
        self.cases = CaseRepository(self._session)
        self.signals = SignalRepository(self._session)
        self.windows = WindowRepository(self._session)
        self.timeline = TimelineRepository(self._session)
        self.outbox = OutboxRepository(self._session, self)
        self.updates = UpdateRepository(self._session)
        self.case_chats = CaseChatRepository(self._session)
        self.conversations = ConversationRepository(self._session)
        self.absences = AbsenceRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                # detach first, so what was read stays readable after the rollback
                session.expunge_all()
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True

    async def flush(self) -> None:
        await self.session.flush()


class UpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, transport: str, key: str) -> bool:
        stmt = select(orm.ProcessedUpdate.id).where(orm.ProcessedUpdate.transport == transport,
                                                   orm.ProcessedUpdate.update_key == key)
        return (await self.session.execute(stmt)).first() is not None

    def record(self, transport: str, key: str, now: datetime) -> None:
        self.session.add(orm.ProcessedUpdate(transport=transport, update_key=key,
                                             processed_at=now))


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_identity(self, transport: str, address: str) -> orm.Person | None:
        # the address is stored encrypted: find it by its keyed hash, under every configured
        # key (a rotated key still finds identities stored before the rotation)
        stmt = (
            select(orm.Person)
            .join(orm.Identity, orm.Identity.person_id == orm.Person.id)
            .where(orm.Identity.transport == transport,
                   orm.Identity.address_hash.in_(crypto.keyring().lookup_hashes(address)))
            .order_by(orm.Identity.id).limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, person_id: int) -> orm.Person | None:
        return await self.session.get(orm.Person, person_id)

    async def add(self, *, display_name: str, language: str, transport: str, address: str,
                  now: datetime, is_coordinator: bool = False) -> orm.Person:
        person = orm.Person(display_name=display_name, language=language,
                            is_coordinator=is_coordinator, created_at=now)
        self.session.add(person)
        await self.session.flush()
        self.session.add(orm.Identity(person_id=person.id, transport=transport,
                                      address=address, created_at=now))
        await self.session.flush()
        return person

    async def with_roles(self) -> list[orm.Person]:
        """Everyone who holds a role in a case."""
        holders = select(orm.Membership.person_id)
        stmt = select(orm.Person).where(orm.Person.id.in_(holders)).order_by(orm.Person.id)
        return list((await self.session.execute(stmt)).scalars())

    async def coordinators(self) -> list[int]:
        stmt = select(orm.Person.id).where(orm.Person.is_coordinator.is_(True)).order_by(
            orm.Person.id)
        return list((await self.session.execute(stmt)).scalars())

    async def identity_of(self, person_id: int) -> orm.Identity | None:
        """The chat identity the bot reaches a person on (the first one they used)."""
        stmt = (select(orm.Identity).where(orm.Identity.person_id == person_id)
                .order_by(orm.Identity.id).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def organisation(self, name: str) -> orm.Organisation:
        # the name is stored encrypted: found by its keyed hash under every configured key
        stmt = (select(orm.Organisation)
                .where(orm.Organisation.name_hash.in_(crypto.keyring().lookup_hashes(name)))
                .order_by(orm.Organisation.id).limit(1))
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        if found is None:
            found = orm.Organisation(name=name)
            self.session.add(found)
            await self.session.flush()
        return found


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> orm.Case | None:
        stmt = select(orm.Case).where(orm.Case.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, case_id: int) -> orm.Case | None:
        return await self.session.get(orm.Case, case_id)

    async def add(self, code: str, created_by: int, now: datetime) -> orm.Case:
        case = orm.Case(code=code, created_by=created_by, created_at=now, status="open")
        self.session.add(case)
        await self.session.flush()
        return case

    async def all(self) -> list[orm.Case]:
        return list((await self.session.execute(
            select(orm.Case).order_by(orm.Case.id))).scalars())

    async def roles_of(self, case_id: int, person_id: int) -> list[Role]:
        stmt = select(orm.Membership.role).where(
            orm.Membership.case_id == case_id, orm.Membership.person_id == person_id)
        return sorted((Role(r) for r in (await self.session.execute(stmt)).scalars()),
                      key=list(Role).index)

    async def cases_of(self, person_id: int) -> list[tuple[orm.Case, Role]]:
        stmt = (
            select(orm.Case, orm.Membership.role)
            .join(orm.Membership, orm.Membership.case_id == orm.Case.id)
            .where(orm.Membership.person_id == person_id)
            .order_by(orm.Case.id, orm.Membership.id)
        )
        return [(case, Role(role)) for case, role in (await self.session.execute(stmt)).all()]

    async def members(self, case_id: int, roles: tuple[Role, ...] | None = None
                      ) -> list[model.Member]:
        stmt = select(orm.Membership.person_id, orm.Membership.role).where(
            orm.Membership.case_id == case_id).order_by(orm.Membership.id)
        if roles is not None:
            stmt = stmt.where(orm.Membership.role.in_([r.value for r in roles]))
        return [model.Member(person_id=p, role=Role(r))
                for p, r in (await self.session.execute(stmt)).all()]

    async def add_member(self, case_id: int, person_id: int, role: Role,
                         organisation_id: int | None, now: datetime) -> bool:
        """Add the role; ``False`` when the person already holds it in this case."""
        existing = await self.roles_of(case_id, person_id)
        if role in existing:
            return False
        self.session.add(orm.Membership(case_id=case_id, person_id=person_id, role=role.value,
                                        organisation_id=organisation_id, joined_at=now))
        await self.session.flush()
        return True

    async def add_invitation(self, *, case_id: int, role: Role, organisation_id: int | None,
                             code_hash: str, created_by: int, now: datetime,
                             expires_at: datetime) -> orm.Invitation:
        invitation = orm.Invitation(case_id=case_id, role=role.value,
                                    organisation_id=organisation_id, code_hash=code_hash,
                                    created_by=created_by, created_at=now,
                                    expires_at=expires_at)
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def claim_invitation(self, code_hash: str, person_id: int, now: datetime
                               ) -> orm.Invitation | None:
        """Mark the invitation used, once: a second claim (even a concurrent one) gets None."""
        stmt = (
            update(orm.Invitation)
            .where(orm.Invitation.code_hash == code_hash,
                   orm.Invitation.redeemed_at.is_(None),
                   orm.Invitation.expires_at > now)
            .values(redeemed_at=now, redeemed_by=person_id)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        if getattr(result, "rowcount", 0) != 1:
            return None
        found = await self.session.execute(
            select(orm.Invitation).where(orm.Invitation.code_hash == code_hash))
        return found.scalar_one()


class SignalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, case: orm.Case, kind: SignalKind, person_id: int, role: Role,
                  note: str | None, now: datetime, note_status: str = "none",
                  audience: frozenset[Role] | None = None, complainant: str | None = None,
                  report_status: str | None = None) -> model.Signal:
        row = orm.SignalRow(case_id=case.id, kind=kind.value, posted_by=person_id,
                            poster_role=role.value, posted_at=now, note=note,
                            note_status=note_status, complainant=complainant,
                            audience=",".join(sorted(r.value for r in audience))
                            if audience is not None else None,
                            report_status=report_status, released_to_tenant=False)
        self.session.add(row)
        await self.session.flush()
        return _signal(row, case.code)

    async def get(self, signal_id: int) -> model.Signal | None:
        stmt = (select(orm.SignalRow, orm.Case.code)
                .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
                .where(orm.SignalRow.id == signal_id))
        found = (await self.session.execute(stmt)).first()
        return None if found is None else _signal(found[0], found[1])

    async def of_case(self, case_id: int) -> list[model.Signal]:
        stmt = (select(orm.SignalRow, orm.Case.code)
                .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
                .where(orm.SignalRow.case_id == case_id).order_by(orm.SignalRow.id))
        return [_signal(row, code) for row, code in (await self.session.execute(stmt)).all()]

    async def update(self, signal_id: int, **values: object) -> None:
        """Change a signal's note status, audience (comma-separated roles), report status
        or release to the tenant."""
        await self.session.execute(
            update(orm.SignalRow).where(orm.SignalRow.id == signal_id).values(**values)
            .execution_options(synchronize_session=False))

    async def since(self, case_id: int, moment: datetime) -> list[model.Signal]:
        stmt = (select(orm.SignalRow, orm.Case.code)
                .join(orm.Case, orm.Case.id == orm.SignalRow.case_id)
                .where(orm.SignalRow.case_id == case_id, orm.SignalRow.posted_at >= moment)
                .order_by(orm.SignalRow.id))
        return [_signal(row, code) for row, code in (await self.session.execute(stmt)).all()]

    async def acknowledge(self, signal_id: int, person_id: int, role: Role, now: datetime
                          ) -> bool:
        """Record the acknowledgement once; ``False`` when someone was first."""
        stmt = (
            update(orm.SignalRow)
            .where(orm.SignalRow.id == signal_id, orm.SignalRow.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=person_id, acknowledged_role=role.value)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return getattr(result, "rowcount", 0) == 1


def _signal(row: orm.SignalRow, code: str) -> model.Signal:
    return model.Signal(
        id=row.id, case_id=row.case_id, case_code=code, kind=SignalKind(row.kind),
        posted_by=row.posted_by or 0, poster_role=Role(row.poster_role), posted_at=row.posted_at,
        note=row.note, acknowledged_at=row.acknowledged_at, acknowledged_by=row.acknowledged_by,
        acknowledged_role=Role(row.acknowledged_role) if row.acknowledged_role else None,
        audience=frozenset(Role(r) for r in row.audience.split(",") if r)
        if row.audience is not None else None,
        note_status=row.note_status, complainant=row.complainant,
        report_status=row.report_status, released_to_tenant=row.released_to_tenant,
    )


class WindowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(self, *, case_id: int, norm: model.Norm, signal_id: int | None,
                   responsible: tuple[Role, ...], waiting_person_id: int | None,
                   opened_at: datetime, due_at: datetime, steps: list[model.PlannedStep],
                   policy: str | None = None, period: int = 1) -> model.Window:
        # Core statements, not the ORM's unit of work: arming is on the hot path
        values = {"case_id": case_id, "norm": norm.value, "signal_id": signal_id,
                  "responsible": ",".join(r.value for r in responsible),
                  "waiting_person_id": waiting_person_id, "opened_at": opened_at,
                  "base_due_at": due_at, "due_at": due_at, "status": WindowStatus.OPEN.value,
                  "policy": policy, "period": period, "closed_at": None, "paused_at": None}
        window_id = (await self.session.execute(
            insert(orm.WindowRow).values(**values).returning(orm.WindowRow.id))).scalar_one()
        await self.insert_steps(window_id, steps)
        return _window(orm.WindowRow(id=window_id, **values))

    async def open_many(self, windows: list[tuple[dict[str, object], list[model.PlannedStep]]]
                        ) -> list[int]:
        """Open many windows in two statements (bulk arming); returns their ids in order."""
        if not windows:
            return []
        rows = [{**values, "closed_at": None, "paused_at": None, "base_due_at":
                 values["due_at"], "status": WindowStatus.OPEN.value} for values, _ in windows]
        ids = list((await self.session.execute(
            insert(orm.WindowRow).returning(orm.WindowRow.id, sort_by_parameter_order=True),
            rows)).scalars())
        steps = [{"window_id": window_id, "step": s.kind.value, "seq": s.seq,
                  "notify": ",".join(s.notify), "urgent": s.urgent, "due_at": s.due_at,
                  "done_at": None, "outcome": None, "late": False}
                 for window_id, (_, planned) in zip(ids, windows, strict=True) for s in planned]
        if steps:
            await self.session.execute(insert(orm.DeadlineRow), steps)
        return ids

    async def insert_steps(self, window_id: int, steps: list[model.PlannedStep]) -> None:
        if steps:
            await self.session.execute(insert(orm.DeadlineRow), [
                {"window_id": window_id, "step": s.kind.value, "seq": s.seq,
                 "notify": ",".join(s.notify), "urgent": s.urgent, "due_at": s.due_at,
                 "done_at": None, "outcome": None, "late": False} for s in steps])

    def add_steps(self, window_id: int, steps: list[model.PlannedStep]) -> None:
        self.session.add_all(_step_rows(window_id, steps))

    async def get(self, window_id: int) -> model.Window | None:
        row = await self.session.get(orm.WindowRow, window_id)
        return None if row is None else _window(row)

    async def save(self, window: model.Window, *, was: WindowStatus) -> bool:
        """Store a window its aggregate changed, if it is still as it was read (``was``):
        ``False`` when another transaction changed it first."""
        result = await self.session.execute(
            update(orm.WindowRow)
            .where(orm.WindowRow.id == window.id, orm.WindowRow.status == was.value)
            .values(status=window.status.value, due_at=window.due_at,
                    paused_at=window.paused_at, closed_at=window.closed_at)
            .execution_options(synchronize_session="evaluate"))
        return getattr(result, "rowcount", 0) == 1

    async def row(self, window_id: int) -> orm.WindowRow | None:
        return await self.session.get(orm.WindowRow, window_id)

    async def for_signal(self, signal_id: int) -> list[model.Window]:
        stmt = select(orm.WindowRow).where(orm.WindowRow.signal_id == signal_id)
        return [_window(r) for r in (await self.session.execute(stmt)).scalars()]

    async def open_of_case(self, case_id: int) -> list[model.Window]:
        return await self.running(case_id=case_id, statuses=(WindowStatus.OPEN,))

    async def running(self, *, case_id: int | None = None,
                      case_ids: list[int] | None = None,
                      statuses: tuple[WindowStatus, ...] = tuple(model.RUNNING)
                      ) -> list[model.Window]:
        stmt = select(orm.WindowRow).where(
            orm.WindowRow.status.in_([s.value for s in statuses]))
        if case_id is not None:
            stmt = stmt.where(orm.WindowRow.case_id == case_id)
        if case_ids is not None:
            stmt = stmt.where(orm.WindowRow.case_id.in_(case_ids))
        stmt = stmt.order_by(orm.WindowRow.due_at, orm.WindowRow.id)
        return [_window(r) for r in (await self.session.execute(stmt)).scalars()]

    async def with_other_policy(self, norm: model.Norm, signature: str) -> list[orm.WindowRow]:
        """Running windows of a norm armed under another span or chain than now configured."""
        stmt = select(orm.WindowRow).where(
            orm.WindowRow.norm == norm.value,
            orm.WindowRow.status.in_([s.value for s in model.RUNNING]),
            (orm.WindowRow.policy != signature) | orm.WindowRow.policy.is_(None))
        return list((await self.session.execute(stmt)).scalars())

    async def set_status(self, window_id: int, status: WindowStatus, now: datetime,
                         *, expect: tuple[WindowStatus, ...] = (WindowStatus.OPEN,),
                         skip_steps: bool = True) -> bool:
        """Move a window from one of ``expect`` to ``status``; ``False`` if it was in none.
        With ``skip_steps`` its pending steps are dropped (a met or cancelled window stops
        its chain; a lapsed one keeps its escalations)."""
        values: dict[str, object] = {"status": status.value}
        if status in (WindowStatus.MET, WindowStatus.CANCELLED, WindowStatus.LAPSED):
            values["closed_at"] = now
        result = await self.session.execute(
            update(orm.WindowRow)
            .where(orm.WindowRow.id == window_id,
                   orm.WindowRow.status.in_([s.value for s in expect]))
            .values(**values)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) != 1:
            return False
        if skip_steps:
            await self.skip_pending(window_id, now, status.value)
        return True

    async def close(self, window_id: int, status: WindowStatus, now: datetime) -> bool:
        """Meet or cancel a window that still runs, stopping its chain."""
        return await self.set_status(window_id, status, now, expect=tuple(model.RUNNING))

    async def skip_pending(self, window_id: int, now: datetime, outcome: str) -> None:
        await self.session.execute(
            update(orm.DeadlineRow)
            .where(orm.DeadlineRow.window_id == window_id, orm.DeadlineRow.done_at.is_(None))
            .values(done_at=now, outcome=outcome[:16])
            .execution_options(synchronize_session=False))

    async def done_seqs(self, window_id: int) -> set[int]:
        stmt = select(orm.DeadlineRow.seq).where(orm.DeadlineRow.window_id == window_id,
                                                 orm.DeadlineRow.outcome == "done")
        return set((await self.session.execute(stmt)).scalars())

    async def delete_pending(self, window_id: int) -> None:
        await self.session.execute(
            delete(orm.DeadlineRow)
            .where(orm.DeadlineRow.window_id == window_id, orm.DeadlineRow.done_at.is_(None))
            .execution_options(synchronize_session=False))

    async def next_due(self) -> datetime | None:
        """The earliest pending deadline (one indexed look-up)."""
        stmt = select(func.min(orm.DeadlineRow.due_at)).where(orm.DeadlineRow.done_at.is_(None))
        value: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value

    async def due(self, now: datetime, limit: int) -> list[model.Step]:
        stmt = (select(orm.DeadlineRow)
                .where(orm.DeadlineRow.done_at.is_(None), orm.DeadlineRow.due_at <= now)
                .order_by(orm.DeadlineRow.due_at, orm.DeadlineRow.id).limit(limit))
        return [_step(r) for r in (await self.session.execute(stmt)).scalars()]

    async def claim_step(self, step_id: int, now: datetime, late: bool) -> bool:
        """Mark a step done, once: a second claim (a job fired twice) gets ``False``."""
        result = await self.session.execute(
            update(orm.DeadlineRow)
            .where(orm.DeadlineRow.id == step_id, orm.DeadlineRow.done_at.is_(None))
            .values(done_at=now, outcome="done", late=late)
            .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1


def _step_rows(window_id: int, steps: list[model.PlannedStep]) -> list[orm.DeadlineRow]:
    return [orm.DeadlineRow(window_id=window_id, step=s.kind.value, seq=s.seq,
                            notify=",".join(s.notify), urgent=s.urgent, due_at=s.due_at)
            for s in steps]


def _step(row: orm.DeadlineRow) -> model.Step:
    return model.Step(id=row.id, window_id=row.window_id, kind=StepKind(row.step),
                      due_at=row.due_at, seq=row.seq,
                      notify=tuple(t for t in row.notify.split(",") if t), urgent=row.urgent)


def _window(row: orm.WindowRow) -> model.Window:
    return model.Window(
        id=row.id, case_id=row.case_id, norm=model.Norm(row.norm), signal_id=row.signal_id,
        responsible=tuple(Role(r) for r in row.responsible.split(",") if r),
        waiting_person_id=row.waiting_person_id, opened_at=row.opened_at, due_at=row.due_at,
        status=WindowStatus(row.status), base_due_at=row.base_due_at, policy=row.policy,
        paused_at=row.paused_at, period=row.period, closed_at=row.closed_at,
    )


class AbsenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, person_id: int, now: datetime) -> orm.Absence | None:
        stmt = (select(orm.Absence)
                .where(orm.Absence.person_id == person_id, orm.Absence.starts_at <= now,
                       orm.Absence.until > now)
                .order_by(orm.Absence.id.desc()).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set(self, person_id: int, backup_id: int | None, now: datetime,
                  until: datetime) -> None:
        await self.end(person_id, now)
        self.session.add(orm.Absence(person_id=person_id, backup_id=backup_id, starts_at=now,
                                     until=until, created_at=now))
        await self.session.flush()

    async def end(self, person_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(orm.Absence)
            .where(orm.Absence.person_id == person_id, orm.Absence.until > now)
            .values(until=now)
            .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) > 0


class TimelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(self, *, case_id: int, at: datetime, event: str, actor_id: int | None = None,
               actor_role: Role | None = None, signal_id: int | None = None,
               **data: str | int | bool | None) -> orm.TimelineRow:
        row = orm.TimelineRow(
            case_id=case_id, at=at, event=event, actor_id=actor_id,
            actor_role=actor_role.value if actor_role else None, signal_id=signal_id,
            data=dict(data))
        self.session.add(row)
        return row

    async def record_many(self, events: list[dict[str, object]]) -> None:
        """Record many events in one statement (``case_id``, ``at``, ``event``, ``data``)."""
        if events:
            await self.session.execute(insert(orm.TimelineRow), [
                {"actor_id": None, "actor_role": None, "signal_id": None, **e} for e in events])

    async def of_case(self, case_id: int) -> list[orm.TimelineRow]:
        stmt = (select(orm.TimelineRow).where(orm.TimelineRow.case_id == case_id)
                .order_by(orm.TimelineRow.at, orm.TimelineRow.id))
        return list((await self.session.execute(stmt)).scalars())


class OutboxRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self._uow = uow

    async def add(self, *, transport: str, address: str, text: str, now: datetime,
                  person_id: int | None = None, case_id: int | None = None,
                  choices: list[tuple[str, str]] | None = None, edit_of: int | None = None,
                  reply_to: str | None = None, not_before: datetime | None = None
                  ) -> orm.OutboxRow:
        row = orm.OutboxRow(
            transport=transport, address=address, person_id=person_id, case_id=case_id,
            text=text, choices=[list(c) for c in choices or []], edit_of=edit_of,
            reply_to=reply_to, status="pending", attempts=0, created_at=now,
            next_attempt_at=max(now, not_before) if not_before else now)
        self.session.add(row)
        await self.session.flush()
        self._uow.outbox_written = True
        return row

    async def sent_as(self, transport: str, address: str, message_id: str
                      ) -> orm.OutboxRow | None:
        """The message the transport knows by ``message_id`` in that chat."""
        stmt = (select(orm.OutboxRow)
                .where(orm.OutboxRow.transport == transport,
                       orm.OutboxRow.address == address,
                       orm.OutboxRow.transport_message_id == message_id)
                .order_by(orm.OutboxRow.id).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def edited(self, row_id: int) -> bool:
        """Whether an edit of this message has been queued (or sent)."""
        stmt = select(orm.OutboxRow.id).where(orm.OutboxRow.edit_of == row_id).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def offering(self, case_id: int, command: str, limit: int = 500
                       ) -> list[orm.OutboxRow]:
        """The case's messages (newest first) that offered ``command`` as a choice."""
        stmt = (select(orm.OutboxRow)
                .where(orm.OutboxRow.case_id == case_id, orm.OutboxRow.edit_of.is_(None))
                .order_by(orm.OutboxRow.id.desc()).limit(limit))
        return [row for row in (await self.session.execute(stmt)).scalars()
                if any(c[1] == command for c in row.choices)]


class ConversationRepository:
    """Where a person stands in a guided conversation."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: int, now: datetime) -> orm.Conversation | None:
        stmt = select(orm.Conversation).where(orm.Conversation.person_id == person_id)
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        if found is not None and found.expires_at <= now:
            await self.session.delete(found)
            await self.session.flush()
            return None
        return found

    async def save(self, person_id: int, kind: str, step: str, data: str, now: datetime,
                   expires_at: datetime) -> None:
        stmt = select(orm.Conversation).where(orm.Conversation.person_id == person_id)
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        if found is None:
            self.session.add(orm.Conversation(person_id=person_id, kind=kind, step=step,
                                              data=data, updated_at=now,
                                              expires_at=expires_at))
        else:
            found.kind, found.step, found.data = kind, step, data
            found.updated_at, found.expires_at = now, expires_at
        await self.session.flush()

    async def clear(self, person_id: int) -> bool:
        result = await self.session.execute(
            delete(orm.Conversation).where(orm.Conversation.person_id == person_id)
            .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) > 0


class CaseChatRepository:
    """Groups and rooms linked to a case as its shared case chat (one case per chat)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_chat(self, transport: str, address: str) -> orm.CaseChat | None:
        stmt = select(orm.CaseChat).where(orm.CaseChat.transport == transport,
                                          orm.CaseChat.address == address)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_case(self, case_id: int) -> list[orm.CaseChat]:
        stmt = (select(orm.CaseChat).where(orm.CaseChat.case_id == case_id)
                .order_by(orm.CaseChat.id))
        return list((await self.session.execute(stmt)).scalars())

    async def link(self, case_id: int, transport: str, address: str, person_id: int,
                   now: datetime) -> orm.CaseChat:
        """Link the chat to the case; a chat linked to another case moves to this one."""
        chat = await self.of_chat(transport, address)
        if chat is None:
            chat = orm.CaseChat(case_id=case_id, transport=transport, address=address,
                                linked_by=person_id, linked_at=now)
            self.session.add(chat)
        else:
            chat.case_id, chat.linked_by, chat.linked_at = case_id, person_id, now
        await self.session.flush()
        return chat

    async def unlink(self, chat: orm.CaseChat) -> None:
        await self.session.delete(chat)
        await self.session.flush()

    async def seen(self, chat_id: int, person_id: int, now: datetime) -> None:
        """Note that a person writes in the chat (their roles then bound what it shows)."""
        stmt = select(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id == chat_id,
                                                orm.CaseChatMember.person_id == person_id)
        member = (await self.session.execute(stmt)).scalar_one_or_none()
        if member is None:
            self.session.add(orm.CaseChatMember(case_chat_id=chat_id, person_id=person_id,
                                                seen_at=now))
        else:
            member.seen_at = now
        await self.session.flush()

    async def left(self, chat_id: int, person_id: int) -> None:
        """The person left the chat (the network said so)."""
        await self.session.execute(
            delete(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id == chat_id,
                                             orm.CaseChatMember.person_id == person_id))

    async def replace_members(self, chat_id: int, person_ids: list[int], now: datetime
                              ) -> None:
        """The network listed the chat's members: exactly these known people are in it."""
        await self.session.execute(
            delete(orm.CaseChatMember).where(orm.CaseChatMember.case_chat_id == chat_id))
        for person_id in dict.fromkeys(person_ids):
            self.session.add(orm.CaseChatMember(case_chat_id=chat_id, person_id=person_id,
                                                seen_at=now))
        await self.session.flush()

    async def members(self, chat_id: int) -> list[int]:
        stmt = select(orm.CaseChatMember.person_id).where(
            orm.CaseChatMember.case_chat_id == chat_id)
        return list((await self.session.execute(stmt)).scalars())
