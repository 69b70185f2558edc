"""The records of incoming updates already handled: kept for ``[retention]
processed_updates_after`` (long enough that an update the network delivers again is still
recognised), then pruned."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext

log = logging.getLogger(__name__)


async def prune_processed(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> int:
    """Delete the records older than the period; return how many went."""
    before = ctx.clock.now() - ctx.retention.processed_updates_after
    async with new_uow() as uow:
        pruned = await uow.updates.prune(before)
        await uow.commit()
    if pruned:
        log.info("pruned %d record(s) of handled updates", pruned)
    return pruned
