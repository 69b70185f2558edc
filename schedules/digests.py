"""The digests on time: a light APScheduler job every minute sends the digests whose moment
has come (each person's daily digest at their time, the weekly one on its day). The database
says what was sent, so a restart neither repeats nor skips one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.summaries import send_digests

log = logging.getLogger(__name__)


class DigestScheduler:
    def __init__(self, new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                 after_run: Callable[[], None] | None = None) -> None:
        self._new_uow = new_uow
        self._ctx = ctx
        self._after_run = after_run or (lambda: None)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._scheduler.add_job(self.run, IntervalTrigger(minutes=1), id="kortelijn-digests",
                                coalesce=True, max_instances=1, misfire_grace_time=None)
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def run(self) -> int:
        async with self._lock:
            try:
                sent = await send_digests(self._new_uow, self._ctx)
            except Exception:
                log.exception("sending digests failed; will try again")
                return 0
        if sent:
            self._after_run()
        return sent
