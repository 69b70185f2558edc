"""Benchmark: two instances on one PostgreSQL database under a steady load, then the leader
killed.

Two `kortelijn run` processes share the database at ``KORTELIJN_BENCH_DATABASE_URL`` (EMPTIED
first; default ``postgresql+asyncpg://postgres@127.0.0.1:5432/kortelijn_bench``) and one
Telegram account on the Bot API stand-in (127.0.0.1, Telegram's flood limits enforced: 30
messages a second per token, one a second per chat). 2,000 cases, each with a partner and a
coach; for 60 s partners post signals at a steady rate, and each signal's follow-up window
reminds and lapses within seconds (messages to the coach and the poster). Then the leader
(the instance whose /readyz says so) is killed with SIGKILL and the load stops; the other
takes over and the queue and the deadlines are drained.

Figures: messages delivered per second under load, p99 from a message's commit to its
delivery (under load), the takeover time (kill → the other's /readyz says leader), messages
and steps lost (never delivered or carried out), duplicates (messages shown twice). The last
line is one JSON object: ``msgs_per_s``, ``p99_s``, ``takeover_s``, ``lost``, ``duplicates``.

    make bench-instances            (or: python -m bench.instances --seconds 60 --rate 5)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, select, text

from bot import crypto
from bot.domain.model import Role
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from tests.support.fake_bot_api import FakeBotApi

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/kortelijn_bench"
COORDINATOR = 1
CASE_LETTERS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TAKEOVER = "3s"


def case_codes(count: int) -> list[str]:
    return ["Z-" + "".join(chars) for chars in
            itertools.islice(itertools.product(CASE_LETTERS, repeat=4), count)]


def partner_of(case: int) -> int:
    return 100_000 + case


def coach_of(case: int) -> int:
    return 200_000 + case


async def empty_and_seed(url: str, codes: list[str]) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await migrate(engine)
    now = datetime.now(UTC)
    async with UnitOfWork(session_factory(engine)) as uow:
        coordinator = await uow.persons.add(display_name="Coco", language="nl",
                                            transport="telegram", address=str(COORDINATOR),
                                            now=now, is_coordinator=True)
        for index, code in enumerate(codes):
            case = await uow.cases.add(code, coordinator.id, now)
            for user, role in ((partner_of(index), Role.LANDLORD),
                               (coach_of(index), Role.COACH)):
                person = await uow.persons.add(display_name=f"P{user}", language="nl",
                                               transport="telegram", address=str(user),
                                               now=now)
                # today's and this week's digests count as sent: the load is signals
                person.last_daily_digest = person.last_weekly_digest = now
                await uow.cases.add_member(case.id, person.id, role, None, now)
        await uow.commit()
    await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    def __init__(self, name: str, config: Path, folder: Path, key: str) -> None:
        self.name = name
        self.config = config
        self.folder = folder
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KORTELIJN_")}
        self.env.update(KORTELIJN_SECURITY__KEY=key, KORTELIJN_CLUSTER__INSTANCE=name,
                        KORTELIJN_METRICS__ADDRESS=f"127.0.0.1:{self.port}")
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with (self.folder / f"{self.name}.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "--config", str(self.config),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=log, env=self.env, cwd=self.folder)

    async def role(self, http: aiohttp.ClientSession) -> str | None:
        if self.proc is None or self.proc.returncode is not None:
            return None
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/readyz",
                                timeout=aiohttp.ClientTimeout(total=2)) as response:
                body = await response.json()
                return str(body.get("role")) if response.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def until_leader(instances: list[Instance], http: aiohttp.ClientSession,
                       within: float) -> Instance:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for instance in instances:
            if await instance.role(http) == "leader":
                return instance
        await asyncio.sleep(0.05)  # a benchmark on the real clock
    raise SystemExit("no instance leads")


async def answering(instance: Instance, http: aiohttp.ClientSession, within: float) -> None:
    deadline = time.monotonic() + within
    while await instance.role(http) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"instance {instance.name} does not answer")
        await asyncio.sleep(0.1)  # a benchmark on the real clock


async def drained(url: str, within: float) -> datetime:
    """Wait until every step due so far is carried out and no message waits (one in flight
    is pending too); the moment that was seen (steps falling due after it, while the instances are
    stopped, are not lost)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            moment = datetime.now(UTC)
            async with UnitOfWork(sessions) as uow:
                steps = (await uow.session.execute(
                    select(func.count()).select_from(orm.DeadlineRow)
                    .where(orm.DeadlineRow.done_at.is_(None),
                           orm.DeadlineRow.due_at <= moment))).scalar_one()
                queued = (await uow.session.execute(
                    select(func.count()).select_from(orm.OutboxRow)
                    .where(orm.OutboxRow.status == "pending"))).scalar_one()
            if steps == 0 and queued == 0:
                return moment
            await asyncio.sleep(0.5)  # a benchmark on the real clock
    finally:
        await engine.dispose()
    return datetime.now(UTC)  # not drained in time: what is left counts as lost


async def figures(url: str, began_at: datetime, killed_at: datetime, drained_at: datetime
                  ) -> dict[str, object]:
    engine = create_engine(url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            rows = (await uow.session.execute(
                select(orm.OutboxRow.status, orm.OutboxRow.created_at, orm.OutboxRow.sent_at)
                .where(orm.OutboxRow.edit_of.is_(None)))).all()
            signals = (await uow.session.execute(
                select(func.count()).select_from(orm.SignalRow))).scalar_one()
            # the steps that fell due while the instances ran and were not carried out
            # (escalations lie far ahead)
            steps_left = (await uow.session.execute(
                select(func.count()).select_from(orm.DeadlineRow)
                .where(orm.DeadlineRow.done_at.is_(None),
                       orm.DeadlineRow.due_at <= drained_at))).scalar_one()
            late = (await uow.session.execute(
                select(func.count()).select_from(orm.DeadlineRow)
                .where(orm.DeadlineRow.late.is_(True)))).scalar_one()
            resends = (await uow.session.execute(
                select(func.coalesce(func.sum(orm.OutboxRow.resends), 0)))).scalar_one()
    finally:
        await engine.dispose()
    sent = [(created, at) for status, created, at in rows if status == "sent" and at]
    steady = sorted((at - created).total_seconds() for created, at in sent
                    if created < killed_at)
    # delivered while the load ran (both instances up)
    under_load = [at for _, at in sent if began_at <= at < killed_at]
    span = (killed_at - began_at).total_seconds()
    return {"sent": len(sent), "not_sent": len(rows) - len(sent), "signals": signals,
            "steps_left": steps_left, "late": late, "resends": int(resends),
            "steady": steady, "msgs_per_s": len(under_load) / max(span, 1e-9)}


async def main(seconds: float, rate: float, cases: int) -> dict[str, object]:
    url = os.environ.get("KORTELIJN_BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgresql"):
        raise SystemExit("bench-instances needs PostgreSQL (KORTELIJN_BENCH_DATABASE_URL)")
    key = crypto.generate_key()
    crypto.install(crypto.Keyring([crypto.parse_key(key)]))
    codes = case_codes(cases)
    print(f"seeding {cases:,} cases …", flush=True)
    await empty_and_seed(url, codes)
    folder = Path(tempfile.mkdtemp(prefix="kortelijn-instances-"))
    async with FakeBotApi() as api, aiohttp.ClientSession() as http:
        api.add_user(COORDINATOR, first_name="Coco")
        for index in range(cases):
            api.add_user(partner_of(index), first_name="P")
            api.add_user(coach_of(index), first_name="C")
        config = folder / "kortelijn.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n\n[bot]\ncoordinators = ["telegram:{COORDINATOR}"]\n\n'
            '[norms]\nsignal_follow_up = "6s"\nsignal_follow_up_reminder = "3s"\n\n'
            '[escalation]\nteam_lead_after = "30d"\ncoordinator_after = "30d"\n\n'
            '[quiet_hours]\nstart = "00:00"\nend = "00:00"\n\n'
            '[delivery]\nconcurrency = 16\nlease = "10s"\n\n'
            f'[cluster]\ntakeover = "{TAKEOVER}"\n\n'
            f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
            'request_timeout = "5s"\npoll_timeout = "2s"\n')
        instances = [Instance(name, config, folder, key) for name in ("a", "b")]
        try:
            for instance in instances:
                await instance.start()
            leader = await until_leader(instances, http, within=60)
            for instance in instances:
                await answering(instance, http, within=60)
            print(f"two instances up; {leader.name} leads; {seconds:.0f} s of load at "
                  f"{rate:g} signals/s …", flush=True)
            posted = 0
            began_at = datetime.now(UTC)
            begin = time.monotonic()
            while (elapsed := time.monotonic() - begin) < seconds:
                due = int(elapsed * rate) + 1
                while posted < due:
                    case = posted % cases
                    api.user_sends(partner_of(case), f"/signaal {codes[case]} geluid")
                    posted += 1
                await asyncio.sleep(max(0.0, posted / rate - (time.monotonic() - begin)))
            assert leader.proc is not None
            leader.proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            killed_at = datetime.now(UTC)
            await leader.proc.wait()
            others = [i for i in instances if i is not leader]
            await until_leader(others, http, within=60)
            takeover = time.monotonic() - killed
            print(f"leader {leader.name} killed; {others[0].name} led after {takeover:.2f} s; "
                  "draining …", flush=True)
            drained_at = await drained(url, within=120)
            for instance in instances:
                await instance.stop()
        finally:
            for instance in instances:
                if instance.proc is not None and instance.proc.returncode is None:
                    instance.proc.kill()
                    await instance.proc.wait()
        shown = len(api.sent())
    found = await figures(url, began_at, killed_at, drained_at)
    steady = found["steady"]
    assert isinstance(steady, list)
    p50 = statistics.median(steady) if steady else float("nan")
    p99 = steady[max(0, int(len(steady) * 0.99) - 1)] if steady else float("nan")
    sent = found["sent"]
    assert isinstance(sent, int)
    lost = int(found["not_sent"]) + int(found["steps_left"]) + (  # type: ignore[call-overload]
        posted - int(found["signals"]))  # type: ignore[call-overload]
    duplicates = shown - sent
    print(f"{posted:,} signals posted, {found['signals']:,} handled; {sent:,} messages "
          f"delivered, {found['msgs_per_s']:.1f}/s under load; commit→delivery p50 "
          f"{p50:.3f} s, p99 {p99:.3f} s; takeover {takeover:.2f} s; {found['late']} step(s) "
          f"late; lost {lost}, duplicates {duplicates} ({found['resends']} resend(s) counted)")
    return {"msgs_per_s": round(float(found["msgs_per_s"]), 1),  # type: ignore[arg-type]
            "p99_s": round(p99, 3), "p50_s": round(p50, 3), "takeover_s": round(takeover, 2),
            "lost": lost, "duplicates": duplicates, "signals": posted,
            "resends": found["resends"], "late_steps": found["late"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=5.0, help="signals posted per second")
    parser.add_argument("--cases", type=int, default=2_000, help="cases")
    options = parser.parse_args()
    print(json.dumps(asyncio.run(main(options.seconds, options.rate, options.cases))))
