"""Wiring: the database, the dispatcher, the delivery loop, the scheduler and the transports,
all on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import crypto, i18n
from bot.config import ConfigError, Settings
from bot.domain.clock import Clock, SystemClock
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
from bot.transports.matrix import MatrixTransport
from bot.transports.telegram import TelegramTransport
from handlers.dispatch import Dispatcher
from handlers.menu import command_menus
from schedules.jobs import digest_job, processed_updates_job, retention_job
from schedules.wakeup import DeadlineScheduler

log = logging.getLogger(__name__)

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
        # a transport gets messages once it is up (``start``), and the loop is woken then
        self.delivery = DeliveryLoop(self.new_uow, self.transports, self.clock,
                                     settings.delivery, ready=())
        #: one APScheduler for all the bot's timed work
        self.jobs = AsyncIOScheduler(timezone="UTC")
        self.scheduler = DeadlineScheduler(self.new_uow, self.ctx, after_run=self.delivery.poke,
                                           scheduler=self.jobs)
        self.digests = digest_job(self.new_uow, self.ctx, after_run=self.delivery.poke)
        # purged cases lose their deadlines: the deadline scheduler re-arms after a purge
        self.retention = retention_job(self.new_uow, self.ctx, settings.bot.timezone,
                                       after_run=self.scheduler.poke)
        self.pruning = processed_updates_job(self.new_uow, self.ctx)
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
        # a changed norm moves the windows that are open, before anything falls due
        await reconcile(self.new_uow, self.ctx)
        # delivery runs from the start, and sends to each transport as soon as it is up
        await self.delivery.start()
        # catch up first: deadlines that passed while the bot was down, marked late
        await self.scheduler.start()
        self.digests.schedule(self.jobs)
        self.retention.schedule(self.jobs)
        self.pruning.schedule(self.jobs)
        await self.retention.run()  # make up for a day missed while the bot was down
        await self.pruning.run()
        if self.console is not None:
            self.console.announce(i18n.t(self.settings.bot.default_language, "console.banner",
                                         name=self.settings.console.coordinator))
        for transport in self.transports.values():
            await transport.start(self.dispatcher.handle)
            self.delivery.set_ready(transport.name)  # wakes delivery: the queue goes now
        if self.console is not None:
            # in the terminal, what was queued shows before the first line is typed
            await self.delivery.deliver_due()
        log.info("KorteLijn runs with %s", ", ".join(sorted(self.transports)))

    async def stop(self) -> None:
        await self.scheduler.stop()
        with contextlib.suppress(Exception):
            # what is due goes out while the transports are still up, for a few seconds
            await asyncio.wait_for(self.delivery.deliver_due(), STOP_FLUSH_SECONDS)
        await self.delivery.stop()  # the requests in flight finish
        for transport in self.transports.values():
            self.delivery.set_ready(transport.name, False)
            with contextlib.suppress(Exception):
                await transport.stop()
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
