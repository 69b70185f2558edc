"""Carrying out the deadlines that fell due, in due order, each step in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.windows import run_step

BATCH = 200


async def process_due(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                      missed_before: datetime | None = None) -> int:
    """Carry out every step due by now, in due order; return how many were carried out.

    Each step is claimed in its own transaction (``run_step``): another instance carrying
    out the same step at the same time finds it claimed and does nothing. Steps due before
    ``missed_before`` (they fell due while no instance led) are marked late."""
    done = 0
    while True:
        now = ctx.clock.now()
        async with new_uow() as uow:
            steps = await uow.windows.due(now, BATCH)
        if not steps:
            return done
        for step in steps:
            async with new_uow() as uow:
                missed = missed_before is not None and step.due_at < missed_before
                if await run_step(step, uow, ctx, missed=missed):
                    done += 1
                await uow.commit()
        if len(steps) < BATCH:
            return done


__all__ = ["process_due", "run_step"]
