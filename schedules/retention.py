"""Retention on time: a daily APScheduler job (``[retention] run_at``, local time) purges the
closed cases whose period has passed and prunes the access log. The database says what is
due, so a run that was missed (the bot was down) is made up at the next start or run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.retention import Purged, purge_due

log = logging.getLogger(__name__)

JOB_ID = "kortelijn-retention"


class RetentionScheduler:
    def __init__(self, new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                 timezone: str = "Europe/Amsterdam",
                 after_run: Callable[[], None] | None = None) -> None:
        self._new_uow = new_uow
        self._ctx = ctx
        self._tz = ZoneInfo(timezone)
        self._after_run = after_run or (lambda: None)
        self._scheduler = AsyncIOScheduler(timezone=self._tz)
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Make up for a run missed while the bot was down, then run daily."""
        at = self._ctx.retention.run_at
        self._scheduler.add_job(self.run, CronTrigger(hour=at.hour, minute=at.minute,
                                                      timezone=self._tz),
                                id=JOB_ID, coalesce=True, max_instances=1,
                                misfire_grace_time=None, replace_existing=True)
        self._scheduler.start()
        await self.run()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def run(self) -> Purged | None:
        async with self._lock:
            try:
                purged = await purge_due(self._new_uow, self._ctx)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention run failed; it runs again tomorrow")
                return None
        if purged.cases:
            self._after_run()
        return purged
