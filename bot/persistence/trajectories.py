"""The repository of trajectories, their evaluations and reflections: hands out the domain's
:class:`~bot.domain.trajectory.Trajectory` and stores its changes."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Role
from bot.domain.trajectory import (
    Closure,
    EvaluationOutcome,
    Trajectory,
    TrajectoryKind,
    TrajectoryStatus,
)
from bot.persistence import orm

_FIELDS = [f.name for f in fields(Trajectory) if f.name != "id"]


def _domain(row: orm.TrajectoryRow) -> Trajectory:
    return Trajectory(
        id=row.id, case_id=row.case_id, kind=TrajectoryKind(row.kind),
        status=TrajectoryStatus(row.status), proposed_at=row.proposed_at,
        proposed_by=row.proposed_by,
        proposed_role=Role(row.proposed_role) if row.proposed_role else None,
        consented_at=row.consented_at, acknowledged=row.acknowledged,
        consent_by_tenant=row.consent_by_tenant, agreement=row.agreement,
        agreement_at=row.agreement_at, lease_ref=row.lease_ref,
        lease_linked_at=row.lease_linked_at, started_at=row.started_at,
        minimum_until=row.minimum_until, evaluations=row.evaluations,
        last_outcome=EvaluationOutcome(row.last_outcome) if row.last_outcome else None,
        closed_at=row.closed_at, closure=Closure(row.closure) if row.closure else None,
        closing_note=row.closing_note)


def _values(trajectory: Trajectory) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(trajectory, name)
        out[name] = value.value if hasattr(value, "value") else value
    return out


class TrajectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, trajectory: Trajectory) -> Trajectory:
        row = orm.TrajectoryRow(**_values(trajectory))
        self.session.add(row)
        await self.session.flush()
        return _domain(row)

    async def get(self, trajectory_id: int) -> Trajectory | None:
        row = await self.session.get(orm.TrajectoryRow, trajectory_id)
        return _domain(row) if row is not None else None

    async def current(self, case_id: int) -> Trajectory | None:
        """The case's trajectory that has not closed (a case has one at a time)."""
        row = (await self.session.execute(
            select(orm.TrajectoryRow)
            .where(orm.TrajectoryRow.case_id == case_id,
                   orm.TrajectoryRow.status != TrajectoryStatus.CLOSED.value)
            .order_by(orm.TrajectoryRow.id.desc()).limit(1))).scalar_one_or_none()
        return _domain(row) if row is not None else None

    async def latest(self, case_id: int) -> Trajectory | None:
        row = (await self.session.execute(
            select(orm.TrajectoryRow).where(orm.TrajectoryRow.case_id == case_id)
            .order_by(orm.TrajectoryRow.id.desc()).limit(1))).scalar_one_or_none()
        return _domain(row) if row is not None else None

    async def of_case(self, case_id: int) -> list[Trajectory]:
        rows = (await self.session.execute(
            select(orm.TrajectoryRow).where(orm.TrajectoryRow.case_id == case_id)
            .order_by(orm.TrajectoryRow.id))).scalars()
        return [_domain(r) for r in rows]

    async def save(self, trajectory: Trajectory, *, was: TrajectoryStatus) -> bool:
        """Store the aggregate's change, only if it still stands as it was read."""
        values = await orm.bound_for_update(self.session, orm.TrajectoryRow, trajectory.id,
                                            _values(trajectory))
        result = await self.session.execute(
            update(orm.TrajectoryRow)
            .where(orm.TrajectoryRow.id == trajectory.id,
                   orm.TrajectoryRow.status == was.value)
            .values(**values).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def window_of(self, trajectory_id: int) -> int | None:
        return (await self.session.execute(
            select(orm.TrajectoryRow.window_id)
            .where(orm.TrajectoryRow.id == trajectory_id))).scalar_one_or_none()

    async def set_window(self, trajectory_id: int, window_id: int | None) -> None:
        await self.session.execute(
            update(orm.TrajectoryRow).where(orm.TrajectoryRow.id == trajectory_id)
            .values(window_id=window_id).execution_options(synchronize_session=False))

    async def by_window(self, window_id: int) -> Trajectory | None:
        row = (await self.session.execute(
            select(orm.TrajectoryRow).where(orm.TrajectoryRow.window_id == window_id)
        )).scalar_one_or_none()
        return _domain(row) if row is not None else None

    # --- evaluations ----------------------------------------------------------------------
    async def add_evaluation(self, *, trajectory: Trajectory, period: int, at: datetime,
                             by: int, role: Role, outcome: EvaluationOutcome,
                             note: str | None, window_id: int | None
                             ) -> orm.TrajectoryEvaluationRow:
        row = orm.TrajectoryEvaluationRow(
            trajectory_id=trajectory.id, case_id=trajectory.case_id, period=period, at=at,
            by=by, role=role.value, outcome=outcome.value, note=note, window_id=window_id)
        self.session.add(row)
        await self.session.flush()
        return row

    async def evaluations(self, trajectory_id: int) -> list[orm.TrajectoryEvaluationRow]:
        return list((await self.session.execute(
            select(orm.TrajectoryEvaluationRow)
            .where(orm.TrajectoryEvaluationRow.trajectory_id == trajectory_id)
            .order_by(orm.TrajectoryEvaluationRow.period))).scalars())

    async def evaluations_of_case(self, case_id: int) -> list[orm.TrajectoryEvaluationRow]:
        return list((await self.session.execute(
            select(orm.TrajectoryEvaluationRow)
            .where(orm.TrajectoryEvaluationRow.case_id == case_id)
            .order_by(orm.TrajectoryEvaluationRow.id))).scalars())

    # --- reflections ----------------------------------------------------------------------
    async def add_reflection(self, *, case_id: int, trajectory_id: int | None, subject: str,
                             after_eviction: bool, at: datetime, by: int, role: Role | None,
                             answers: dict[str, str]) -> orm.ReflectionRow:
        row = orm.ReflectionRow(case_id=case_id, trajectory_id=trajectory_id, subject=subject,
                                after_eviction=after_eviction, at=at, by=by,
                                role=role.value if role else None, answers=answers)
        self.session.add(row)
        await self.session.flush()
        return row

    async def reflections(self, case_id: int) -> list[orm.ReflectionRow]:
        return list((await self.session.execute(
            select(orm.ReflectionRow).where(orm.ReflectionRow.case_id == case_id)
            .order_by(orm.ReflectionRow.id))).scalars())
