"""The bot's periodic work on one shared APScheduler: the digests every minute (each person's
daily digest at their time, the weekly one on its day), the retention purge daily and the
pruning of the records of handled updates hourly. The
database says what is due and what was done, so a restart neither repeats nor skips a run.

(The deadlines have their own one-shot wake-up, re-armed for the earliest deadline:
``schedules/wakeup.py``.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import time
from functools import partial
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.evaluation_report import remind_yearly
from bot.services.retention import Purged, purge_due
from bot.services.summaries import send_digests
from bot.services.updates import prune_processed

log = logging.getLogger(__name__)

T = TypeVar("T")


class RepeatingJob(Generic[T]):
    """Periodic work: one run at a time; a failure is logged and tried again next time; when
    a run did something (``did``), ``after_run`` is called (to wake delivery, say)."""

    def __init__(self, job_id: str, trigger: BaseTrigger, work: Callable[[], Awaitable[T]], *,
                 did: Callable[[T], bool] = bool,
                 after_run: Callable[[], None] | None = None) -> None:
        self.job_id = job_id
        self._trigger = trigger
        self._work = work
        self._did = did
        self._after_run = after_run or (lambda: None)
        self._lock = asyncio.Lock()

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        # coalesce and no grace time: a run missed while busy or asleep happens once, late
        scheduler.add_job(self.run, self._trigger, id=self.job_id, coalesce=True,
                          max_instances=1, misfire_grace_time=None, replace_existing=True)

    async def run(self) -> T | None:
        async with self._lock:
            try:
                result = await self._work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; it runs again next time", self.job_id)
                return None
        if self._did(result):
            self._after_run()
        return result


def digest_job(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext,
               after_run: Callable[[], None]) -> RepeatingJob[int]:
    return RepeatingJob("kortelijn-digests", IntervalTrigger(minutes=1),
                        partial(send_digests, new_uow, ctx), after_run=after_run)


def retention_job(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, timezone: str,
                  after_run: Callable[[], None]) -> RepeatingJob[Purged]:
    """The daily purge of closed cases past their retention period (``[retention] run_at``,
    local time); the bot also runs it once at start-up to make up for a missed day."""
    at = ctx.retention.run_at
    trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(timezone))
    return RepeatingJob("kortelijn-retention", trigger, partial(purge_due, new_uow, ctx),
                        did=lambda purged: bool(purged.cases), after_run=after_run)


def processed_updates_job(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext
                          ) -> RepeatingJob[int]:
    """Hourly: forget the updates handled longer ago than ``[retention]
    processed_updates_after``."""
    return RepeatingJob("kortelijn-processed-updates", IntervalTrigger(hours=1),
                        partial(prune_processed, new_uow, ctx), did=lambda _n: False)


def yearly_evaluation_job(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, timezone: str,
                          at: time, after_run: Callable[[], None]) -> RepeatingJob[int]:
    """Daily at ``[reports] yearly_check_at`` local: when a year has passed since the last
    yearly evaluation report (or the first case), the coordinators get the reminder to
    evaluate the cooperation, with the report (N12)."""
    trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(timezone))
    return RepeatingJob("kortelijn-yearly-evaluation", trigger,
                        partial(remind_yearly, new_uow, ctx), after_run=after_run)
