"""Kill it anywhere, lose nothing: `kortelijn run` as a child process on an SQLite file, against
the Bot API stand-in on 127.0.0.1 (served by this test process, so it outlives every bot).

Partners post signals through the stand-in; after each post the bot is killed with SIGKILL at
a moment spread over the first 500 ms (a dozen of them within the first 30 ms, where an update
is fetched but not yet handled), then started again. In the end every signal exists exactly
once, every expected message arrived, a message shows twice only where the bot counted a
resend of one in flight (at most ``[delivery] concurrency`` a crash), and after each restart
what was queued went out within 2 s of the transport being up.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bot.domain.model import Role
from bot.outbox import resend_count
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from tests.conftest import START
from tests.support.fake_bot_api import Call, FakeBotApi

COORDINATOR = 1
COACH = 21
#: partner → (name, role word, signal word)
PARTNERS = {11: ("Lotte", Role.LANDLORD, "geluid"), 12: ("Wout", Role.POLICE, "bezoek"),
            13: ("Gert", Role.MUNICIPALITY, "stank")}
CASE = "Z-7K3M"
CONCURRENCY = 16

#: SIGKILL this long after each post: 12 within the first 30 ms, the rest up to 500 ms
KILL_AFTER_S = [0.0, 0.002, 0.004, 0.006, 0.008, 0.010, 0.012, 0.015, 0.018, 0.021, 0.025,
                0.029, 0.045, 0.070, 0.095, 0.120, 0.150, 0.180, 0.210, 0.240, 0.270, 0.300,
                0.330, 0.360, 0.390, 0.420, 0.450, 0.475, 0.490, 0.500]

#: after a restart, a queued message goes out within this long of the moment it could
RESTART_DELIVERS_WITHIN = 2.0

IN_FLIGHT = re.compile(r"outbox \d+ (was in flight when the bot stopped|may have been sent)")


@dataclass
class Bot:
    """The bot as a child process, started and killed as often as the test likes."""

    config: Path
    logs: Path
    env: dict[str, str]
    runs: int = 0
    proc: asyncio.subprocess.Process | None = None
    stderr_files: list[Path] = field(default_factory=list)

    async def start(self) -> None:
        self.runs += 1
        log = self.logs / f"run-{self.runs}.log"
        self.stderr_files.append(log)
        with log.open("wb") as stderr:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--log-level", os.environ.get(
                    "KORTELIJN_TEST_KILL_LOG_LEVEL", "WARNING"), "run", "--config",
                str(self.config),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr, env=self.env, cwd=self.logs)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def exited(self, within: float = 10.0) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), within)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await self.exited(20.0)
            except TimeoutError:
                self.kill()
                await self.exited()

    def log(self, run: int) -> str:
        return self.stderr_files[run - 1].read_text(errors="replace")


async def seed(url: str) -> None:
    """The people and the case, as the coordinator and the invitations would have made them."""
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    async with UnitOfWork(sessions) as uow:
        coordinator = await uow.persons.add(display_name="Coco", language="nl",
                                            transport="telegram", address=str(COORDINATOR),
                                            now=START, is_coordinator=True)
        case = await uow.cases.add(CASE, coordinator.id, START)
        coach = await uow.persons.add(display_name="Bram", language="nl",
                                      transport="telegram", address=str(COACH), now=START)
        await uow.cases.add_member(case.id, coach.id, Role.COACH, None, START)
        for user, (name, role, _) in PARTNERS.items():
            person = await uow.persons.add(display_name=name, language="nl",
                                           transport="telegram", address=str(user), now=START)
            await uow.cases.add_member(case.id, person.id, role, None, START)
        await uow.commit()
    await engine.dispose()


async def state(url: str) -> tuple[Counter[int], int, int]:
    """Signals per poster's chat id, all signals, and the resends the outbox counted."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with UnitOfWork(sessions) as uow:
            rows = (await uow.session.execute(
                select(orm.Identity.address, func.count(orm.SignalRow.id))
                .join(orm.Identity, orm.Identity.person_id == orm.SignalRow.posted_by)
                .group_by(orm.Identity.address))).all()
            total = (await uow.session.execute(
                select(func.count(orm.SignalRow.id)))).scalar_one()
            resends = await resend_count(uow)
    finally:
        await engine.dispose()
    return Counter({int(address): count for address, count in rows}), int(total), resends


async def settled(url: str, within: float = 20.0) -> None:
    """Wait (polling the database, with a deadline) until the bot has nothing queued and
    nothing in flight: the next post then finds it idle, as a partner's usually does."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with asyncio.timeout(within):
            while True:
                async with UnitOfWork(sessions) as uow:
                    busy = (await uow.session.execute(
                        select(func.count(orm.OutboxRow.id))
                        .where(orm.OutboxRow.status == "pending"))).scalar_one()
                if busy == 0:
                    return
                await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


def held_back(calls: list[Call], since: int, ready_at: float) -> list[tuple[int, float]]:
    """The messages sent after a restart (calls from ``since`` on) that went out more than
    2 s after they could: after the transport was up, and after Telegram's limit of one
    message a second allowed their chat another one. (chat, seconds late) for each."""
    last: dict[int, float] = {}
    late = []
    for index, call in enumerate(calls):
        if call.status != 200:
            continue
        chat = int(call.params["chat_id"])
        allowed = max(ready_at, last.get(chat, -1.0) + 1.0)
        if index >= since and call.at - allowed > RESTART_DELIVERS_WITHIN:
            late.append((chat, round(call.at - allowed, 3)))
        last[chat] = call.at
    return late


def arrived(api: FakeBotApi, chat: int, fragment: str) -> bool:
    return any(fragment in m.text for m in api.sent(chat))


async def test_sigkill_at_any_moment_loses_no_signal_and_no_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kortelijn.db'}"
    await seed(url)
    async with FakeBotApi() as api:  # real clock, Telegram's limits enforced
        api.add_user(COORDINATOR, first_name="Coco")
        api.add_user(COACH, first_name="Bram")
        for user, (name, _, _) in PARTNERS.items():
            api.add_user(user, first_name=name)
        config = tmp_path / "kortelijn.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n\n[bot]\ncoordinators = ["telegram:{COORDINATOR}"]\n\n'
            f'[delivery]\nconcurrency = {CONCURRENCY}\n\n'
            f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
            'request_timeout = "3s"\npoll_timeout = "2s"\n')
        env = {key: value for key, value in os.environ.items()
               if key not in ("KORTELIJN_TEST_DATABASE_URL", "KORTELIJN_CONFIG")}
        bot = Bot(config=config, logs=tmp_path, env=env)
        loop = asyncio.get_running_loop()
        partners = list(PARTNERS)
        unconfirmed_at_kill = 0
        late: list[tuple[int, int, float]] = []
        try:
            await bot.start()
            hooks = len(api.calls("deleteWebhook"))
            await api.wait_for(lambda: len(api.calls("deleteWebhook")) > hooks, within=30)
            for number, kill_after in enumerate(KILL_AFTER_S, start=1):
                poster = partners[(number - 1) % len(partners)]
                _, _, word = PARTNERS[poster]
                await settled(url)
                update = api.user_sends(poster, f"/signaal {CASE} {word}")
                assert update is not None
                posted = loop.time()
                loop.call_at(posted + kill_after, bot.kill)
                assert await bot.exited() == -signal.SIGKILL
                if any(u["update_id"] == update["update_id"] for u in api.pending_updates):
                    unconfirmed_at_kill += 1
                sends_before = len(api.calls("sendMessage"))
                hooks = len(api.calls("deleteWebhook"))
                await bot.start()
                # the transport is up once it has cleared any webhook; polling starts then
                await api.wait_for(lambda h=hooks: len(api.calls("deleteWebhook")) > h,
                                   within=30)
                ready_at = api.calls("deleteWebhook")[-1].at
                await api.wait_for(
                    lambda n=number, p=poster: arrived(api, p, f"Signaal #{n} ")
                    and all(arrived(api, COACH, f"Nieuw signaal #{k} ")
                            for k in range(1, n + 1)), within=20)
                late.extend((number, *slow) for slow in
                            held_back(api.calls("sendMessage"), sends_before, ready_at))
            await bot.stop()
        finally:
            bot.kill()
            if bot.proc is not None:
                await bot.proc.wait()

        # every signal exists exactly once, from the partner who posted it
        per_poster, total, resends = await state(url)
        posts = len(KILL_AFTER_S)
        assert total == posts
        assert per_poster == Counter(partners[(n - 1) % len(partners)]
                                     for n in range(1, posts + 1))
        # every expected message arrived: the notice to the coach and the poster's receipt
        for number in range(1, posts + 1):
            poster = partners[(number - 1) % len(partners)]
            assert arrived(api, COACH, f"Nieuw signaal #{number} "), number
            assert arrived(api, poster, f"Signaal #{number} "), number
        # a message shows twice only where a resend of one in flight was counted, and no
        # more were in flight at a crash than the delivery's bound
        shown = Counter((m.chat_id, m.text) for m in api.sent())
        doubled = sum(count - 1 for count in shown.values())
        logged = [len(IN_FLIGHT.findall(bot.log(run))) for run in range(1, bot.runs + 1)]
        assert doubled <= resends == sum(logged)
        assert max(logged) <= CONCURRENCY
        # after every restart, what was queued went out within 2 s of the transport being up
        # (a second chat message within 2 s of Telegram's per-chat limit allowing it)
        assert late == []
        # the kills did land between fetching an update and handling it
        assert unconfirmed_at_kill >= 1
        for run in range(1, bot.runs + 1):
            text = bot.log(run)
            assert "Traceback" not in text, text
            assert api.token.split(":", 1)[1] not in text
            assert not any(name in text for name, _, _ in PARTNERS.values())
    print(f"\n{posts} kills, {unconfirmed_at_kill} before the update was confirmed; "
          f"{resends} resend(s), {doubled} message(s) shown twice")
