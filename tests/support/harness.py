"""Drives the whole bot through its console transport, in-process, with an injected clock.

Lines are typed exactly as a person would; what the bot prints is read back per recipient.
A restart stops the bot and builds a new one on the same database, as a new process would.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import ManualClock

CASE = re.compile(r"\bZ-[2-9A-HJKMNP-Z]{4}\b")
INVITE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b")


class ConsoleHarness:
    def __init__(self, database_url: str, clock: ManualClock, **norms: Any) -> None:
        self.clock = clock
        self.settings = Settings.model_validate({
            "database": {"url": database_url},
            "norms": norms,
            "console": {"coordinator": "Coordinator"},
        })
        self.out = io.StringIO()
        self.app: KorteLijn | None = None
        self._read_upto = 0

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
        assert self.app is not None
        self.clock.advance(delta)
        await self.app.scheduler.run_due()
        await self.app.delivery.deliver_due()
        return self.new_output()

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
