"""Carrying out the deadlines that fell due, in due order, each step in its own transaction."""

from __future__ import annotations

from collections.abc import Callable

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.windows import run_step

BATCH = 200


async def process_due(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> int:
    """Carry out every step due by now, in due order; return how many were carried out."""
    done = 0
    while True:
        now = ctx.clock.now()
        async with new_uow() as uow:
            steps = await uow.windows.due(now, BATCH)
        if not steps:
            return done
        for step in steps:
            async with new_uow() as uow:
                if await run_step(step, uow, ctx):
                    done += 1
                await uow.commit()
        if len(steps) < BATCH:
            return done


__all__ = ["process_due", "run_step"]
