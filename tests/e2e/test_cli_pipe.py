"""The real entry point: `kortelijn run` as a process, typed into through a pipe, on a fresh
database of each kind (an SQLite file; PostgreSQL, where the process is also the leader),
configured by a TOML file and the environment."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from tests.support.harness import CASE, INVITE


class Process:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def expect(self, pattern: str, limit_s: float = 20) -> str:
        """Read output until a line matches (a deadline, not a sleep)."""
        assert self.proc.stdout is not None
        regex = re.compile(pattern)
        async with asyncio.timeout(limit_s):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"output ended before {pattern!r}: {self.lines}")
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if regex.search(line):
                    return line


async def test_a_case_played_through_a_pipe(tmp_path: Path, empty_database_url: str) -> None:
    """The bot's first start, as a process: it migrates the empty database itself."""
    database_url = empty_database_url
    config = tmp_path / "kortelijn.toml"
    config.write_text('[console]\ncoordinator = "Coco"\n')
    env = {**os.environ, "KORTELIJN_DATABASE__URL": database_url,
           "KORTELIJN_CONFIG": str(config)}
    env.pop("KORTELIJN_TEST_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    bot = Process(proc)
    try:
        await bot.say("/nieuwezaak")
        case = CASE.search(await bot.expect(r"^\[Coco\] Zaak Z-"))
        assert case is not None
        await bot.say(f"/uitnodigen {case.group(0)} verhuurder")
        landlord_code = INVITE.search(await bot.expect(r"^\[Coco\] Uitnodiging"))
        await bot.say(f"/invite {case.group(0)} coach")
        coach_code = INVITE.search(await bot.expect(r"^\[Coco\] Uitnodiging"))
        assert landlord_code is not None
        assert coach_code is not None
        await bot.say("/als Lotte")
        await bot.say(f"/start {landlord_code.group(0)}")
        await bot.expect(r"^\[Lotte\] Welkom")
        await bot.say("/as Bram")
        await bot.say(f"/start {coach_code.group(0)}")
        await bot.expect(r"^\[Bram\] Welkom")
        await bot.say("/als Lotte")
        await bot.say(f"/signaal {case.group(0)} brievenbus")
        await bot.expect(r"^\[Bram\] Nieuw signaal #1")
        await bot.expect(r"^\[Lotte\] Signaal #1 .* doorgegeven aan: begeleider \(Bram\)")
        await bot.say("/als Bram")
        await bot.say("1")  # the first choice of the last message to Bram: acknowledge
        await bot.expect(r"^\[Lotte\] Je signaal #1 .* bevestigd door begeleider \(Bram\)")
        assert proc.stdin is not None
        proc.stdin.close()
        async with asyncio.timeout(20):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stderr is not None
    errors = (await proc.stderr.read()).decode()
    assert "Traceback" not in errors
    # nothing from the case reaches the log
    assert "Lotte" not in errors
    assert "Bram" not in errors
