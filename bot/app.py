"""Wiring: the database, the dispatcher, the delivery loop, the scheduler and the transports,
all on one event loop.

Several instances on one PostgreSQL database (docs/OPERATIONS.md): every instance delivers;
the timed work (deadlines, digests, retention, pruning, moving windows to changed norms) runs
only on the leader (``bot/leader.py``), and each chat account's updates are taken by the one
instance that holds that account's lock. Losing either role stops the work at once; gaining
it (a takeover, within ``[cluster] takeover``) starts it, and the new leader first carries
out what fell due while there was none, marked late. SQLite: one instance, always the
leader and always receiving.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import crypto, i18n
from bot.config import ConfigError, Settings
from bot.domain.clock import Clock, SystemClock
from bot.leader import LEADER_LOCK, Leadership, account_lock
from bot.outbox import DeliveryLoop
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.privacy import Policy
from bot.services.context import ServiceContext
from bot.services.policies import build_policies
from bot.services.transport_state import TransportHost
from bot.services.windows import reconcile
from bot.transports.base import Audience, Transport
from bot.transports.console import ConsoleTransport, console_address
from bot.transports.telegram import TelegramTransport
from handlers.dispatch import Dispatcher
from handlers.menu import command_menus
from schedules.jobs import (
    digest_job,
    processed_updates_job,
    retention_job,
    yearly_evaluation_job,
)
from schedules.wakeup import DeadlineScheduler

log = logging.getLogger(__name__)

#: PostgreSQL: the cases whose due steps are carried out at once
STEP_CONCURRENCY = 4
#: on a clean stop, how long the queue may still be delivered before the transports stop
STOP_FLUSH_SECONDS = 5.0


def coordinator_identities(settings: Settings) -> set[tuple[str, str]]:
    identities = {("console", console_address(settings.console.coordinator))}
    for entry in settings.bot.coordinators:
        transport, sep, address = entry.partition(":")
        if not sep or not address:
            raise ConfigError(f"bot.coordinators: write 'transport:id', not {entry!r}")
        identities.add((transport.strip(), address.strip()))
    return identities


class KorteLijn:
    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 transports: list[Transport] | None = None, console: bool | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 migrate_on_start: bool = True) -> None:
        self.settings = settings
        # free text and identities are encrypted at rest: the column types use the process's
        # keyring (production refuses to start without a key: ConfigError)
        crypto.install(crypto.keyring_from_settings(settings))
        # every moment shown, every working day and quiet hour in the deployment's local time
        i18n.use_timezone(settings.bot.timezone)
        self.clock = clock or SystemClock()
        self.engine = create_engine(settings.database.url,
                                    sqlite_synchronous=settings.database.sqlite_synchronous)
        self.sessions = session_factory(self.engine)
        try:
            privacy = Policy.tightened(settings.privacy.hide, settings.privacy.redact)
        except ValueError as error:
            raise ConfigError(f"privacy: {error}") from None
        self.ctx = ServiceContext(clock=self.clock, norms=settings.norms,
                                  policies=build_policies(settings), privacy=privacy,
                                  patterns=settings.patterns, digests=settings.digests,
                                  chat_language=settings.bot.default_language,
                                  retention=settings.retention,
                                  reports_dir=settings.reports.directory,
                                  complaints=settings.complaints,
                                  dossier=settings.dossier)
        self.stopped = asyncio.Event()
        self._migrate = migrate_on_start
        self._tasks: set[asyncio.Task[object]] = set()
        self.transports: dict[str, Transport] = {t.name: t for t in transports or []}
        if settings.telegram.token is not None and "telegram" not in self.transports:
            self.transports["telegram"] = TelegramTransport(
                settings.telegram, commands=command_menus(),
                default_language=settings.bot.default_language,
                attachment_limit=settings.dossier.attachment_limit)
        if "matrix" in settings.chat_accounts and "matrix" not in self.transports:
            # matrix-nio is heavy to import: only where a Matrix account is configured
            from bot.transports.matrix import MatrixTransport  # noqa: PLC0415

            matrix = MatrixTransport(
                settings.matrix, TransportHost(self.new_uow, "matrix", self.clock,
                                               coordinators=coordinator_identities(settings)),
                clock=self.clock, language=settings.bot.default_language)
            matrix.attachment_limit = settings.dossier.attachment_limit
            self.transports["matrix"] = matrix
        for transport in self.transports.values():
            link = getattr(transport, "invite_link", None)
            if callable(link):  # invitations also as a link (Telegram's deep links)
                self.ctx.invite_links[transport.name] = link
        use_console = console if console is not None else (
            settings.console.enabled or not (self.transports or settings.chat_accounts))
        self.console: ConsoleTransport | None = None
        if use_console:
            self.console = ConsoleTransport(
                settings.console.coordinator, stdin=stdin, stdout=stdout,
                language=settings.bot.default_language, on_eof=self.stopped.set,
                after_line=self._settle, documents_dir=settings.dossier.console_dir,
                attachment_limit=settings.dossier.attachment_limit)
            self.transports["console"] = self.console
        #: other instances may share this database (PostgreSQL): leader election, per-account
        #: receiving, claimed messages
        self.shared = self.engine.dialect.name == "postgresql"
        self.instance = settings.cluster.instance or f"{socket.gethostname()}-{os.getpid()}"
        check_every = settings.cluster.takeover.total_seconds() / 3
        self.leadership: Leadership | None = None
        #: per transport whose account only one instance may receive: its lock
        self.receivers: dict[str, Leadership] = {}
        if self.shared:
            self.leadership = Leadership(self.engine, check_every=check_every,
                                         on_change=self._role_changed, key=LEADER_LOCK)
            for name in self.transports:
                account = self._account(name)
                if account is not None:
                    # a transport that runs whole or not at all (Matrix) starts one check
                    # after taking the lock: an instance that lost it has stopped by then
                    whole = not callable(getattr(self.transports[name], "set_receiving", None))
                    self.receivers[name] = Leadership(
                        self.engine, check_every=check_every, key=account_lock(name, account),
                        on_change=functools.partial(self._account_changed, name),
                        settle=whole)
        #: the timed work runs here now (and the transports receiving)
        self._leading = False
        self._receiving: set[str] = set()
        self._role_lock = asyncio.Lock()
        self._receive_lock = asyncio.Lock()
        self._started = False
        # a transport gets messages once it is up (``start``), and the loop is woken then
        self.delivery = DeliveryLoop(self.new_uow, self.transports, self.clock,
                                     settings.delivery, ready=(), instance=self.instance,
                                     shared=self.shared)
        #: one APScheduler for all the bot's timed work
        self.jobs = AsyncIOScheduler(timezone="UTC")
        self.scheduler = DeadlineScheduler(self.new_uow, self.ctx, after_run=self.delivery.poke,
                                           scheduler=self.jobs)
        if self.shared:  # a backlog of steps is worked off several cases at a time
            self.scheduler.concurrency = STEP_CONCURRENCY
        self.digests = digest_job(self.new_uow, self.ctx, after_run=self.delivery.poke)
        # purged cases lose their deadlines: the deadline scheduler re-arms after a purge
        self.retention = retention_job(self.new_uow, self.ctx, settings.bot.timezone,
                                       after_run=self.scheduler.poke)
        self.pruning = processed_updates_job(self.new_uow, self.ctx)
        # N12: the coordinators' yearly reminder with the evaluation report
        self.yearly = yearly_evaluation_job(self.new_uow, self.ctx, settings.bot.timezone,
                                            settings.reports.yearly_check_at,
                                            after_run=self.delivery.poke)
        self.dispatcher = Dispatcher(
            self.new_uow, self.ctx, coordinators=coordinator_identities(settings),
            default_language=settings.bot.default_language, on_committed=self._committed,
            audience=self._audience)

    async def _audience(self, transport: str, chat_id: str) -> Audience | None:
        """Who is in a group, asked of its transport (``Counts``); ``None`` if it cannot say."""
        ask = getattr(self.transports.get(transport), "audience", None)
        if not callable(ask):
            return None
        found: Audience | None = await ask(chat_id)
        return found

    def _account(self, transport: str) -> str | None:
        """The chat account whose updates only one instance may take, if any."""
        if transport == "telegram" and self.settings.telegram.token is not None:
            return self.settings.telegram.token.get_secret_value().split(":", 1)[0]
        if transport == "matrix" and self.settings.matrix.user_id:
            return self.settings.matrix.user_id
        return None

    @property
    def role(self) -> str:
        """``leader`` (the timed work runs here; always so with one instance) or
        ``follower`` (for /readyz and the metrics)."""
        return "leader" if self.leadership is None or self.leadership.is_leader \
            else "follower"

    def receiving(self, transport: str) -> bool:
        """This instance takes ``transport``'s updates (always with one instance)."""
        lock = self.receivers.get(transport)
        return lock is None or lock.is_leader

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _account_changed(self, name: str, _role: str) -> None:
        self._spawn(self._retrying(functools.partial(self._receive, name)))

    def _role_changed(self, _role: str) -> None:
        if self._started:
            self._spawn(self._retrying(self._apply_role))

    async def _retrying(self, change: Callable[[], Awaitable[None]]) -> None:
        """Apply a change of role; one that fails (the database or the network is away) is
        tried again after a takeover check's time, until it holds or the role changes."""
        wait = self.settings.cluster.takeover.total_seconds() / 3
        while self._started:
            try:
                await change()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("changing this instance's role failed; trying again")
                await asyncio.sleep(wait)

    async def _apply_role(self) -> None:
        """Start or stop the timed work to match the role (one change at a time)."""
        async with self._role_lock:
            if self.role == "leader" and not self._leading:
                await self._lead(took_over=self._started)
            elif self.role != "leader" and self._leading:
                await self._follow()
            elif self.role == "leader" and not self.scheduler.active:
                await self._lead(took_over=True)  # an earlier start of the work failed

    async def _lead(self, *, took_over: bool) -> None:
        """Become the one doing the timed work: first what fell due meanwhile (marked late
        after a takeover: no instance led then), then arm."""
        self._leading = True
        missed_before: datetime | None = self.clock.now() if took_over else None
        if took_over:
            log.warning("this instance took over the timed work")
        # a changed norm moves the windows that are open, before anything falls due
        await reconcile(self.new_uow, self.ctx)
        # catch up first: deadlines that passed while the bot was down, marked late
        await self.scheduler.start(missed_before=missed_before)
        self.digests.schedule(self.jobs)
        self.retention.schedule(self.jobs)
        self.pruning.schedule(self.jobs)
        self.yearly.schedule(self.jobs)
        await self.retention.run()  # make up for a day missed while the bot was down
        await self.pruning.run()

    async def _follow(self) -> None:
        """Another instance leads: the timed work stops here."""
        self._leading = False
        log.warning("this instance no longer leads: the timed work stops here")
        await self.scheduler.pause()
        for job in (self.digests, self.retention, self.pruning, self.yearly):
            if self.jobs.running and self.jobs.get_job(job.job_id) is not None:
                self.jobs.remove_job(job.job_id)

    async def _receive(self, name: str) -> None:
        """Take ``name``'s updates here, or stop, as its account's lock says."""
        if not self._started:
            return
        async with self._receive_lock:
            transport = self.transports[name]
            wanted = self.receiving(name)
            if wanted == (name in self._receiving):
                return
            switch = getattr(transport, "set_receiving", None)
            if callable(switch):  # sends either way; receives only with the lock
                await switch(wanted)
            elif wanted:  # all or nothing (Matrix: one device, one sync, its own keys)
                await transport.start(self.dispatcher.handle)
                self.delivery.set_ready(name)
            else:
                self.delivery.set_ready(name, False)
                with contextlib.suppress(Exception):
                    await transport.stop()
            if wanted:
                self._receiving.add(name)
            else:
                self._receiving.discard(name)

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def _committed(self, uow: UnitOfWork) -> None:
        if uow.outbox_written:
            self.delivery.poke()
        if uow.deadlines_changed or uow.earliest_new_deadline is not None:
            self.scheduler.changed(uow.earliest_new_deadline)

    async def _settle(self) -> None:
        """After a console line: deliver what it caused before reading the next one."""
        await self.delivery.deliver_due()

    async def start(self) -> None:
        if self._migrate:
            await migrate(self.engine)
        # delivery runs from the start, and sends to each transport as soon as it is up
        await self.delivery.start()
        if self.leadership is not None:
            await self.leadership.start()  # the first check: leader or follower now
        async with self._role_lock:
            if self.role == "leader":
                await self._lead(took_over=False)
        if self.console is not None:
            self.console.announce(i18n.t(self.settings.bot.default_language, "console.banner",
                                         name=self.settings.console.coordinator))
        for name, lock in self.receivers.items():
            await lock.start()
            switch = getattr(self.transports[name], "set_receiving", None)
            if callable(switch):
                await switch(lock.is_leader)
        for transport in self.transports.values():
            if not self.receiving(transport.name) and \
                    not callable(getattr(transport, "set_receiving", None)):
                continue  # started when this instance gets the account's lock
            await transport.start(self.dispatcher.handle)
            if self.receiving(transport.name):
                self._receiving.add(transport.name)
            self.delivery.set_ready(transport.name)  # wakes delivery: the queue goes now
        self._started = True
        # a role that changed during the start is applied now
        self._spawn(self._retrying(self._apply_role))
        for name in self.receivers:
            self._spawn(self._retrying(functools.partial(self._receive, name)))
        if self.console is not None:
            # in the terminal, what was queued shows before the first line is typed
            await self.delivery.deliver_due()
        # what start-up made (modules, catalogues, settings, the engine) lives as long as the
        # process: kept out of the collector's full passes, which otherwise walk all of it
        # every few seconds under load and hold the event loop (and a due step) for 150 ms
        gc.collect()
        gc.freeze()
        log.info("KorteLijn runs with %s", ", ".join(sorted(self.transports)))

    async def stop(self) -> None:
        self._started = False
        gc.unfreeze()  # what this instance made may be collected again once it is gone
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.scheduler.stop()
        with contextlib.suppress(Exception):
            # what is due goes out while the transports are still up, for a few seconds
            await asyncio.wait_for(self.delivery.deliver_due(), STOP_FLUSH_SECONDS)
        await self.delivery.stop()  # the requests in flight finish
        for transport in self.transports.values():
            self.delivery.set_ready(transport.name, False)
            with contextlib.suppress(Exception):
                await transport.stop()
        # the locks go last: another instance takes over once this one has stopped
        for lock in [*self.receivers.values(),
                     *([self.leadership] if self.leadership is not None else [])]:
            with contextlib.suppress(Exception):
                await lock.stop()
        await self.engine.dispose()

    async def run(self) -> None:
        """Run until the console's input ends or the process is told to stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stopped.set)
        await self.start()
        try:
            await self.stopped.wait()
        finally:
            await self.stop()
