"""Carrying out the deadlines that fell due, in due order: the steps due together claimed in
one statement and carried out in one transaction (a few side by side for a backlog)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime

from bot.domain.model import Step
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.windows import carry_out, is_late, run_step

log = logging.getLogger(__name__)

#: the due steps read at a time
BATCH = 200
#: the most steps carried out in one transaction (the steps of one case stay together)
GROUP = 25
#: a batch is spread over several transactions side by side (``concurrency``) only when
#: each would still carry out at least this many steps: few steps go fastest in one
MIN_GROUP = 8


async def process_due(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                      missed_before: datetime | None = None, concurrency: int = 1) -> int:
    """Carry out every step due by now, in due order; return how many were carried out.

    The steps due together are claimed in one statement (``claim_steps``: each once; another
    instance carrying out the same steps at the same time finds them claimed and does
    nothing) and carried out in that same transaction, so their messages, timeline events
    and claims commit together or not at all, in a handful of statements rather than a dozen
    a step. Should that transaction fail, its steps are carried out again one at a time, each
    in its own transaction (``run_step``), so that one failing step holds back no other.
    Steps due before ``missed_before`` (they fell due while no instance led) are marked late.

    With ``concurrency`` above 1 (PostgreSQL), a large batch (a backlog after a takeover) is
    spread over that many transactions at once, each case's steps in one of them in due
    order, so that it is not worked off one database round trip at a time."""
    done = 0
    while True:
        now = ctx.clock.now()
        async with new_uow() as uow:
            due = await uow.windows.due_by_case(now, BATCH)
        if not due:
            return done
        groups = _groups(due, concurrency)
        if concurrency <= 1:
            # in due order, and no further after a failure: a window's escalation never goes
            # before its lapse was carried out
            for group in groups:
                done += await _run_group(new_uow, ctx, group, missed_before)
        else:
            gate = asyncio.Semaphore(concurrency)

            async def run(group: list[Step], gate: asyncio.Semaphore = gate) -> int:
                async with gate:
                    return await _run_group(new_uow, ctx, group, missed_before)

            # each case's steps in one group: the other cases' go on when one fails, and
            # every group has ended before this returns or raises
            results = await asyncio.gather(*(run(g) for g in groups), return_exceptions=True)
            done += sum(r for r in results if isinstance(r, int))
            failed = next((r for r in results if isinstance(r, BaseException)), None)
            if failed is not None:
                raise failed
        if len(due) < BATCH:
            return done


def _groups(due: list[tuple[Step, int]], concurrency: int) -> list[list[Step]]:
    """The due steps in transactions, each in due order. One at a time (``concurrency`` 1):
    ``GROUP`` after ``GROUP`` in due order. Side by side: each case's steps in one, the cases
    spread evenly (as few transactions as ``GROUP`` and ``concurrency`` allow)."""
    if concurrency <= 1:
        return [[step for step, _ in due[begin:begin + GROUP]]
                for begin in range(0, len(due), GROUP)]
    by_case: dict[int, list[Step]] = {}
    for step, case_id in due:
        by_case.setdefault(case_id, []).append(step)
    count = max(1, min(len(by_case), max(math.ceil(len(due) / GROUP),
                                         min(concurrency, len(due) // MIN_GROUP))))
    groups: list[list[Step]] = [[] for _ in range(count)]
    for steps in by_case.values():  # in the order of each case's first due step
        min(groups, key=len).extend(steps)
    for group in groups:
        group.sort(key=lambda s: (s.due_at, s.id))
    return [group for group in groups if group]


async def _run_group(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext,
                     steps: list[Step], missed_before: datetime | None) -> int:
    try:
        async with new_uow() as uow:
            ran = await _together(uow, ctx, steps, missed_before)
            await uow.commit()
        return ran
    except asyncio.CancelledError:
        raise
    except Exception as error:
        if len(steps) == 1:
            raise
        log.warning("carrying out %d due steps together failed (%s); one at a time now",
                    len(steps), type(error).__name__)
    ran = 0
    for step in steps:
        async with new_uow() as uow:
            missed = missed_before is not None and step.due_at < missed_before
            if await run_step(step, uow, ctx, missed=missed):
                ran += 1
            await uow.commit()
    return ran


async def _together(uow: UnitOfWork, ctx: ServiceContext, steps: list[Step],
                    missed_before: datetime | None) -> int:
    """Claim ``steps`` in this unit of work and carry out those it got, in due order."""
    now = ctx.clock.now()
    late = {s.id: is_late(s, ctx, now, missed=missed_before is not None
                          and s.due_at < missed_before) for s in steps}
    claimed = await uow.windows.claim_steps(late, now)
    mine = [s for s in steps if s.id in claimed]
    if not mine:
        return 0
    # read after the claim, as each step would: the windows, their cases, the cases'
    # members and those members' absences in a statement each (the rows held here, so that
    # the steps find them in the session)
    rows = await uow.windows.load({s.window_id for s in mine})
    case_ids = {r.case_id for r in rows}
    cases = await uow.cases.load(case_ids)
    await uow.cases.load_rosters(case_ids)
    await uow.absences.load({m.person_id for case_id in case_ids
                             for m in await uow.cases.roster(case_id)}, now)
    ran = 0
    for step in mine:
        if await carry_out(step, uow, ctx, now=ctx.clock.now(), late=late[step.id]):
            ran += 1
    log.debug("carried out %d of %d claimed steps of %d windows in %d cases", ran, len(mine),
              len(rows), len(cases))
    return ran


__all__ = ["process_due", "run_step"]
