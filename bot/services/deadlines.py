"""Carrying out the deadlines that fell due, in due order, each step in its own transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from bot.domain.model import Step
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.windows import run_step

BATCH = 200


async def process_due(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                      missed_before: datetime | None = None, concurrency: int = 1) -> int:
    """Carry out every step due by now, in due order; return how many were carried out.

    Each step is claimed in its own transaction (``run_step``): another instance carrying
    out the same step at the same time finds it claimed and does nothing. Steps due before
    ``missed_before`` (they fell due while no instance led) are marked late.

    With ``concurrency`` above 1 (PostgreSQL), the steps of that many cases are carried out
    at once, each case's in due order, so that a backlog (after a takeover) is not worked
    off one database round trip at a time."""
    done = 0
    while True:
        now = ctx.clock.now()
        async with new_uow() as uow:
            steps = await uow.windows.due(now, BATCH)
            cases = (await uow.windows.case_ids({s.window_id for s in steps})
                     if concurrency > 1 and len(steps) > 1 else {})
        if not steps:
            return done
        # per case, in due order; the cases side by side
        queues: dict[int, list[Step]] = {}
        for step in steps:
            queues.setdefault(cases.get(step.window_id, 0), []).append(step)
        gate = asyncio.Semaphore(max(1, concurrency))

        async def run_queue(queue: list[Step], gate: asyncio.Semaphore = gate) -> int:
            ran = 0
            async with gate:
                for step in queue:
                    async with new_uow() as uow:
                        missed = missed_before is not None and step.due_at < missed_before
                        if await run_step(step, uow, ctx, missed=missed):
                            ran += 1
                        await uow.commit()
            return ran

        done += sum(await asyncio.gather(*(run_queue(q) for q in queues.values())))
        if len(steps) < BATCH:
            return done


__all__ = ["process_due", "run_step"]
