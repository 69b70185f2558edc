"""APScheduler wiring: one job, re-armed for the earliest pending deadline in the database.

The database is the source of truth; the scheduler only wakes the bot. One job re-armed per
change (rather than one stored job per deadline) keeps arming as cheap as an indexed look-up, so
100,000 open windows cost no start-up time, and a restart loses nothing: at start the bot first
carries out every deadline that passed while it was down, then arms the job for the next.

Several instances: only the leader's scheduler is active (``start``); a follower's is
paused (``pause``: no wake-up armed, changes ignored) until it becomes the leader, and then
its first run carries out what fell due while there was none, marked late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.deadlines import process_due

log = logging.getLogger(__name__)

JOB_ID = "kortelijn-deadlines"


class DeadlineScheduler:
    def __init__(self, new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                 after_run: Callable[[], None] | None = None,
                 scheduler: AsyncIOScheduler | None = None) -> None:
        self._new_uow = new_uow
        self._ctx = ctx
        self._after_run = after_run or (lambda: None)
        #: the bot's shared APScheduler, or one of its own (started and stopped here)
        self._scheduler = scheduler or AsyncIOScheduler(timezone="UTC")
        self._lock = asyncio.Lock()
        self.armed_for: datetime | None = None
        #: set each time a run has finished (tests wait on it instead of on time)
        self.ran = asyncio.Event()
        self._tasks: set[asyncio.Task[object]] = set()
        #: this instance does the timed work (the leader; always with one instance)
        self.active = False
        #: steps due before this moment are marked late when carried out (they fell due while
        #: no instance led); set when a follower takes over
        self._missed_before: datetime | None = None
        #: the cases whose due steps are carried out at once (PostgreSQL: several)
        self.concurrency = 1

    async def start(self, *, missed_before: datetime | None = None) -> None:
        """Catch up on everything that fell due while the bot was down (or, taking over,
        while no instance led: ``missed_before``), then arm."""
        if not self._scheduler.running:
            self._scheduler.start()
        self.active = True
        self._missed_before = missed_before
        await self.run_due()
        self._missed_before = None

    async def pause(self) -> None:
        """This instance no longer leads: nothing is armed and changes are ignored."""
        self.active = False
        async with self._lock:
            if self._scheduler.running and self._scheduler.get_job(JOB_ID) is not None:
                self._scheduler.remove_job(JOB_ID)
            self.armed_for = None

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.active = False

    async def run_due(self) -> int:
        """Carry out every due step now and arm the job for the next one."""
        async with self._lock:
            try:
                done = await process_due(self._new_uow, self._ctx,
                                         missed_before=self._missed_before,
                                         concurrency=self.concurrency)
            except Exception:
                log.exception("carrying out deadlines failed; will try again")
                done = 0
            if done:
                log.info("carried out %d deadline step(s)", done)
                self._after_run()
            if self.active:
                await self._arm()
        self.ran.set()
        return done

    def poke(self) -> None:
        """Deadlines changed: re-arm for the earliest one (soon, on the event loop)."""
        if self.active:
            self._spawn(self._rearm())

    def changed(self, earliest_added: datetime | None) -> None:
        """A committed unit of work changed deadlines; ``earliest_added`` is the earliest step
        it added (steps are only ever made earlier by adding them; ending or removing steps
        can only make the next one later). While the armed wake-up is no later than that,
        it stands: no look-up (one fewer statement for every posted signal). A wake-up that
        then comes too early finds nothing due and re-arms. During a run or a re-arm its
        look-up may predate the commit, so then the re-arm is done again."""
        if (self.armed_for is not None and not self._lock.locked()
                and (earliest_added is None or earliest_added >= self.armed_for)
                and self._scheduler.get_job(JOB_ID) is not None):
            return
        self.poke()

    async def _wake(self) -> None:
        if self.active:
            self._spawn(self.run_due())

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _rearm(self) -> None:
        async with self._lock:
            if self.active:
                await self._arm()

    async def _arm(self) -> None:
        async with self._new_uow() as uow:
            next_due = await uow.windows.next_due()
        if next_due == self.armed_for and self._scheduler.get_job(JOB_ID) is not None:
            return
        self.armed_for = next_due
        if next_due is None:
            if self._scheduler.get_job(JOB_ID) is not None:
                self._scheduler.remove_job(JOB_ID)
            return
        # misfire_grace_time=None: a wake-up that comes late still runs; coalesce: once.
        # The job only starts a run and returns: a job still running when the next wake-up
        # falls due would make APScheduler skip that one (max_instances), and a skipped
        # one-shot job never comes back.
        self._scheduler.add_job(self._wake, DateTrigger(run_date=next_due), id=JOB_ID,
                                replace_existing=True, misfire_grace_time=None, coalesce=True)
        log.debug("armed for %s", next_due.isoformat(timespec="seconds"))
