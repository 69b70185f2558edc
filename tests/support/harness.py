"""Drives the whole bot through its console transport, in-process, with an injected clock.

Lines are typed exactly as a person would; what the bot prints is read back per recipient.
A restart stops the bot and builds a new one on the same database, as a new process would.
"""

from __future__ import annotations

import io
import re
import tempfile
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.persistence import orm

AMS = ZoneInfo("Europe/Amsterdam")
CASE = re.compile(r"\bZ-[2-9A-HJKMNP-Z]{4}\b")
INVITE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b")


def local(*args: int) -> datetime:
    """A moment given in Amsterdam's local time, as UTC."""
    return datetime(*args, tzinfo=AMS).astimezone(UTC)  # type: ignore[misc]


class ConsoleHarness:
    def __init__(self, database_url: str, clock: ManualClock,
                 sections: dict[str, Any] | None = None, **norms: Any) -> None:
        self.clock = clock
        self.database_url = database_url
        self._documents = tempfile.mkdtemp(prefix="kortelijn-documents-")
        self.configure(sections or {}, **norms)
        self.out = io.StringIO()
        self.app: KorteLijn | None = None
        self._read_upto = 0

    def configure(self, sections: dict[str, Any], **norms: Any) -> None:
        """The settings for the next start (as a changed configuration file would be)."""
        # a document sent to a console person is written to a folder of this harness
        sections = {"dossier": {"console_dir": self._documents}} | sections
        self.settings = Settings.model_validate({
            **sections,
            "database": {"url": self.database_url},
            "norms": norms,
            "console": {"coordinator": "Coordinator"},
        })

    async def start(self) -> KorteLijn:
        self.app = KorteLijn(self.settings, clock=self.clock, console=True,
                             stdin=io.StringIO(""), stdout=self.out)
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def type(self, line: str) -> list[str]:
        """Type one line as the console's current person; return the new output lines."""
        assert self.app is not None
        assert self.app.console is not None
        await self.app.console.feed(line, self.app.dispatcher.handle)
        return self.new_output()

    async def advance(self, delta: timedelta) -> list[str]:
        """Let time pass, and do what the scheduler's wake-up would do at that moment."""
        return await self.advance_to(self.clock.now() + delta)

    async def advance_to(self, moment: datetime) -> list[str]:
        """Let time pass to ``moment``, waking wherever the scheduler is armed on the way
        (as APScheduler would) and delivering what falls due, in order."""
        assert self.app is not None
        while True:
            await self.app.scheduler.run_due()
            await self.app.delivery.deliver_due()
            armed = self.app.scheduler.armed_for
            retry = await self._next_delivery()
            wake = min((m for m in (armed, retry) if m is not None), default=None)
            if wake is None or wake > moment or wake <= self.clock.now():
                break
            self.clock.set(max(wake, self.clock.now()))
        self.clock.set(moment)
        await self.app.scheduler.run_due()
        await self.app.delivery.deliver_due()
        return self.new_output()

    async def _next_delivery(self) -> datetime | None:
        assert self.app is not None
        async with self.app.new_uow() as uow:
            value: datetime | None = (await uow.session.execute(
                select(func.min(orm.OutboxRow.next_attempt_at))
                .where(orm.OutboxRow.status == "pending"))).scalar_one_or_none()
        return value

    def new_output(self) -> list[str]:
        text = self.out.getvalue()
        new = text[self._read_upto:]
        self._read_upto = len(text)
        return [line for line in new.splitlines() if line]

    @staticmethod
    def to(name: str, lines: list[str]) -> list[str]:
        """The lines a person received."""
        prefix = f"[{name}] "
        return [line[len(prefix):] for line in lines if line.startswith(prefix)]

    @staticmethod
    def to_all(name: str, lines: list[str]) -> list[str]:
        """The lines a person received, with their name."""
        return [line for line in lines if line.startswith(f"[{name}] ")]

    @staticmethod
    def find(pattern: re.Pattern[str], lines: list[str]) -> str:
        for line in lines:
            match = pattern.search(line)
            if match:
                return match.group(0)
        raise AssertionError(f"no {pattern.pattern} in {lines}")

    async def new_case(self) -> str:
        await self.type("/als Coordinator")
        return self.find(CASE, await self.type("/nieuwezaak"))

    async def join(self, name: str, case: str, role: str) -> None:
        await self.type("/als Coordinator")
        code = self.find(INVITE, await self.type(f"/uitnodigen {case} {role}"))
        await self.type(f"/als {name}")
        lines = await self.type(f"/start {code}")
        assert any("Welkom" in line or "Welcome" in line for line in self.to(name, lines)), lines
