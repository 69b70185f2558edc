"""The repository of the complaint procedure: complaints (as their aggregate), tasks, letters,
interventions and the partners asked at the checks. It hands out domain objects
(``bot/domain/complaint.py``) where there is an aggregate, and stores its changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.complaint import Complaint, ComplaintStatus, Letter, LetterKind
from bot.domain.model import Role, SignalKind
from bot.persistence import orm

#: the complaint's window columns, by the name the aggregate knows them under
_WINDOW_COLUMNS = {"N2": "n2_window_id", "N3": "n3_window_id", "N5": "n5_window_id",
                   "N6": "n6_window_id", "N7": "n7_window_id", "contact": "contact_window_id"}
#: the aggregate's fields stored as they are
_PLAIN = ("status", "handling", "handled_at", "conscious", "tenant_justified",
          "coach_justified", "assessment_note", "assessed_at", "assessed_by",
          "last_contact_at", "resolved_landlord_at", "resolved_team_at")


def _complaint(row: orm.ComplaintRow) -> Complaint:
    windows = {name: getattr(row, column) for name, column in _WINDOW_COLUMNS.items()
               if getattr(row, column) is not None}
    return Complaint(
        id=row.id, case_id=row.case_id, kind=SignalKind(row.kind),
        happened_at=row.happened_at, received_at=row.received_at,
        recorded_by=row.recorded_by, recorded_at=row.recorded_at,
        description=row.description, complainant=row.complainant,
        status=ComplaintStatus(row.status), handling=row.handling, handled_at=row.handled_at,
        conscious=row.conscious, tenant_justified=row.tenant_justified,
        coach_justified=row.coach_justified, assessment_note=row.assessment_note,
        assessed_at=row.assessed_at, assessed_by=row.assessed_by,
        last_contact_at=row.last_contact_at, resolved_landlord_at=row.resolved_landlord_at,
        resolved_team_at=row.resolved_team_at, windows=windows)


def _letter(row: orm.LetterRow) -> Letter:
    return Letter(
        id=row.id, case_id=row.case_id, action=row.action, kind=LetterKind(row.kind),
        sent_on=row.sent_on, registered=row.registered, signed_seen=row.signed_seen,
        copy_landlord_file=row.copy_landlord_file, copy_care_file=row.copy_care_file,
        legal_advice=row.legal_advice,
        consulted=tuple(Role(r) for r in row.consulted.split(",") if r),
        advice_police=row.advice_police, advice_on_call=row.advice_on_call,
        recorded_by=row.recorded_by, recorded_at=row.recorded_at, note=row.note)


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    case_id: int
    complaint_id: int | None
    kind: str
    owner: Role
    due_at: datetime | None
    created_at: datetime
    done_at: datetime | None
    #: the task's clock (norm ``T``), when it has one
    window_id: int | None = None


def _task(row: orm.TaskRow) -> Task:
    return Task(row.id, row.case_id, row.complaint_id, row.kind, Role(row.owner_role),
                row.due_at, row.created_at, row.done_at, row.window_id)


class ComplaintRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- complaints ------------------------------------------------------------------
    async def add(self, *, case_id: int, kind: SignalKind, happened_at: datetime,
                  received_at: datetime, recorded_by: int, now: datetime, description: str,
                  complainant: str | None) -> Complaint:
        row = orm.ComplaintRow(
            case_id=case_id, kind=kind.value, happened_at=happened_at,
            received_at=received_at, recorded_by=recorded_by, recorded_at=now,
            description=description, complainant=complainant,
            status=ComplaintStatus.RECEIVED.value)
        self._session.add(row)
        await self._session.flush()
        return _complaint(row)

    async def get(self, complaint_id: int) -> Complaint | None:
        row = await self._session.get(orm.ComplaintRow, complaint_id)
        return _complaint(row) if row is not None else None

    async def of_case(self, case_id: int) -> list[Complaint]:
        rows = await self._session.execute(
            select(orm.ComplaintRow).where(orm.ComplaintRow.case_id == case_id)
            .order_by(orm.ComplaintRow.id))
        return [_complaint(r) for r in rows.scalars()]

    async def save(self, complaint: Complaint, *, was: ComplaintStatus) -> bool:
        """Store the aggregate's change, only if it still stands as it was read."""
        values: dict[str, object] = {f: getattr(complaint, f) for f in _PLAIN}
        values["status"] = complaint.status.value
        for name, column in _WINDOW_COLUMNS.items():
            values[column] = complaint.window(name)
        values = await orm.bound_for_update(self._session, orm.ComplaintRow, complaint.id,
                                            values)
        result = await self._session.execute(
            update(orm.ComplaintRow)
            .where(orm.ComplaintRow.id == complaint.id, orm.ComplaintRow.status == was.value)
            .values(**values).execution_options(synchronize_session="fetch"))
        return bool(getattr(result, "rowcount", 0))

    async def by_window(self, window_id: int) -> Complaint | None:
        columns = [getattr(orm.ComplaintRow, c) for c in _WINDOW_COLUMNS.values()]
        from sqlalchemy import or_  # noqa: PLC0415

        row = (await self._session.execute(
            select(orm.ComplaintRow).where(or_(*(c == window_id for c in columns)))
            .limit(1))).scalar_one_or_none()
        return _complaint(row) if row is not None else None

    # --- tasks -------------------------------------------------------------------------
    async def add_task(self, *, case_id: int, complaint_id: int | None, kind: str,
                       owner: Role, due_at: datetime | None, now: datetime,
                       window_id: int | None = None) -> Task:
        row = orm.TaskRow(case_id=case_id, complaint_id=complaint_id, kind=kind,
                          owner_role=owner.value, due_at=due_at, created_at=now,
                          window_id=window_id)
        self._session.add(row)
        await self._session.flush()
        return _task(row)

    async def task(self, task_id: int) -> Task | None:
        row = await self._session.get(orm.TaskRow, task_id)
        return _task(row) if row is not None else None

    async def tasks(self, case_ids: list[int], *, open_only: bool = True) -> list[Task]:
        if not case_ids:
            return []
        query = select(orm.TaskRow).where(orm.TaskRow.case_id.in_(case_ids))
        if open_only:
            query = query.where(orm.TaskRow.done_at.is_(None))
        rows = await self._session.execute(query.order_by(orm.TaskRow.id))
        return [_task(r) for r in rows.scalars()]

    async def finish_task(self, task_id: int, person_id: int | None, now: datetime) -> bool:
        result = await self._session.execute(
            update(orm.TaskRow).where(orm.TaskRow.id == task_id, orm.TaskRow.done_at.is_(None))
            .values(done_at=now, done_by=person_id).execution_options(
                synchronize_session="fetch"))
        return bool(getattr(result, "rowcount", 0))

    async def task_of_window(self, window_id: int) -> Task | None:
        """The task whose clock this window is."""
        row = (await self._session.execute(select(orm.TaskRow).where(
            orm.TaskRow.window_id == window_id))).scalars().first()
        return _task(row) if row is not None else None

    async def finish_tasks(self, complaint_id: int, kinds: tuple[str, ...],
                           person_id: int | None, now: datetime) -> list[Task]:
        """Mark a complaint's open tasks of these kinds done (a step did them)."""
        rows = (await self._session.execute(
            select(orm.TaskRow).where(orm.TaskRow.complaint_id == complaint_id,
                                      orm.TaskRow.kind.in_(kinds),
                                      orm.TaskRow.done_at.is_(None)))).scalars().all()
        for row in rows:
            row.done_at, row.done_by = now, person_id
        await self._session.flush()
        return [_task(r) for r in rows]

    # --- letters ---------------------------------------------------------------------
    async def add_letter(self, *, case_id: int, action: int, kind: LetterKind, sent_on: date,
                         registered: bool, signed_seen: bool, copy_landlord_file: bool,
                         copy_care_file: bool, legal_advice: bool,
                         consulted: tuple[Role, ...], advice_police: bool,
                         advice_on_call: bool, agreements_broken: bool, note: str | None,
                         recorded_by: int, now: datetime) -> Letter:
        row = orm.LetterRow(
            case_id=case_id, action=action, kind=kind.value, sent_on=sent_on,
            registered=registered, signed_seen=signed_seen,
            copy_landlord_file=copy_landlord_file, copy_care_file=copy_care_file,
            legal_advice=legal_advice, consulted=",".join(r.value for r in consulted),
            advice_police=advice_police, advice_on_call=advice_on_call,
            agreements_broken=agreements_broken, note=note, recorded_by=recorded_by,
            recorded_at=now)
        self._session.add(row)
        await self._session.flush()
        return _letter(row)

    async def letters(self, case_id: int) -> list[Letter]:
        rows = await self._session.execute(
            select(orm.LetterRow).where(orm.LetterRow.case_id == case_id)
            .order_by(orm.LetterRow.id))
        return [_letter(r) for r in rows.scalars()]

    async def agreements_broken(self, case_id: int) -> bool:
        rows = await self._session.execute(
            select(orm.LetterRow.id).where(orm.LetterRow.case_id == case_id,
                                           orm.LetterRow.agreements_broken.is_(True)))
        return rows.first() is not None

    # --- interventions -----------------------------------------------------------------
    async def add_intervention(self, *, case_id: int, kind: str, at: datetime,
                               recorded_by: int, note: str | None, tenant_consent: bool,
                               complainant_consent: bool) -> orm.InterventionRow:
        row = orm.InterventionRow(case_id=case_id, kind=kind, at=at, recorded_by=recorded_by,
                                  note=note, tenant_consent=tenant_consent,
                                  complainant_consent=complainant_consent)
        self._session.add(row)
        await self._session.flush()
        return row

    async def interventions(self, case_id: int) -> list[orm.InterventionRow]:
        rows = await self._session.execute(
            select(orm.InterventionRow).where(orm.InterventionRow.case_id == case_id)
            .order_by(orm.InterventionRow.id))
        return list(rows.scalars())

    # --- checks ------------------------------------------------------------------------
    async def ask(self, *, case_id: int, complaint_id: int, norm: str, role: Role,
                  asked_by: int, now: datetime) -> orm.CheckRow:
        row = orm.CheckRow(case_id=case_id, complaint_id=complaint_id, norm=norm,
                           role=role.value, asked_at=now, asked_by=asked_by)
        self._session.add(row)
        await self._session.flush()
        return row

    async def checks(self, complaint_id: int, norm: str) -> list[orm.CheckRow]:
        rows = await self._session.execute(
            select(orm.CheckRow).where(orm.CheckRow.complaint_id == complaint_id,
                                       orm.CheckRow.norm == norm).order_by(orm.CheckRow.id))
        return list(rows.scalars())

    async def checks_of_case(self, case_id: int) -> list[orm.CheckRow]:
        rows = await self._session.execute(
            select(orm.CheckRow).where(orm.CheckRow.case_id == case_id)
            .order_by(orm.CheckRow.id))
        return list(rows.scalars())
