"""Benchmark: 100,000 open deadlines in SQLite.

Reports how fast windows are armed, how long the bot takes to start with them all open, its
resident memory, and the latency from a deadline's moment to its outbox row while the real
scheduler (APScheduler on the system clock) runs. Targets: start-up under 3 s, p99 under 1 s,
memory under 200 MB. The last line is one JSON object of the figures.

    make bench-deadlines            (or: python -m bench.deadlines --windows 100000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.domain.commands import CreateCase, InviteToRole, RedeemInvitation
from bot.domain.model import Norm, Role
from bot.persistence import orm
from bot.services import cases, windows
from bot.transports.base import IncomingHandler, Outgoing


class NullTransport:
    """Accepts every message at once (delivery is not what is measured here)."""

    name = "console"

    def __init__(self) -> None:
        self.sent = 0

    async def start(self, on_incoming: IncomingHandler) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, message: Outgoing) -> str:
        self.sent += 1
        return str(self.sent)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def populate(app: KorteLijn, n_cases: int) -> list[int]:
    """Cases with a coordinator, a landlord and a coach each."""
    ctx = app.ctx
    case_ids = []
    async with app.new_uow() as uow:
        now = ctx.clock.now()
        coordinator = await uow.persons.add(display_name="C", language="nl",
                                            transport="console", address="c", now=now,
                                            is_coordinator=True)
        coach = await uow.persons.add(display_name="B", language="nl", transport="console",
                                      address="b", now=now)
        landlord = await uow.persons.add(display_name="L", language="nl", transport="console",
                                         address="l", now=now)
        for _ in range(n_cases):
            code = await cases.create_case(CreateCase(coordinator.id), uow, ctx)
            for person, role in ((coach, Role.COACH), (landlord, Role.LANDLORD)):
                issued = await cases.invite(InviteToRole(coordinator.id, code, role), uow, ctx)
                await cases.redeem(RedeemInvitation(person.id, issued.code), uow, ctx)
            case = await uow.cases.by_code(code)
            assert case is not None
            case_ids.append(case.id)
        await uow.commit()
    return case_ids


async def arm(app: KorteLijn, case_ids: list[int], count: int,
              norm: Norm = Norm.N5_FOUR_WEEK_CHECK) -> float:
    """Open ``count`` windows one by one, each in its own transaction, as people do."""
    started = time.perf_counter()
    for done in range(count):
        async with app.new_uow() as uow:
            await windows.open_window(uow, app.ctx, case_id=case_ids[done % len(case_ids)],
                                      norm=norm, opened_by=None)
            await uow.commit()
    return count / (time.perf_counter() - started)


async def arm_bulk(app: KorteLijn, case_ids: list[int], count: int, per_transaction: int,
                   norm: Norm = Norm.N12_YEARLY_EVALUATION) -> float:
    """Open ``count`` windows in bulk (as for every case's yearly evaluation)."""
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(per_transaction, count - done)
        async with app.new_uow() as uow:
            await windows.open_windows(uow, app.ctx, norm,
                                       [case_ids[(done + i) % len(case_ids)]
                                        for i in range(size)])
            await uow.commit()
        done += size
    return count / (time.perf_counter() - started)


async def due_soon(app: KorteLijn, case_ids: list[int], count: int, within_s: float
                   ) -> list[int]:
    """Windows whose lapse falls in the next ``within_s`` seconds, spread evenly."""
    now = app.clock.now()
    ids = []
    async with app.new_uow() as uow:
        for i in range(count):
            due = now + timedelta(seconds=3 + within_s * i / count)
            policy = app.ctx.policies[Norm.N5_FOUR_WEEK_CHECK]
            window = await uow.windows.open(
                case_id=case_ids[i % len(case_ids)], norm=Norm.N5_FOUR_WEEK_CHECK,
                signal_id=None, responsible=(Role.COACH,), waiting_person_id=None,
                opened_at=now - timedelta(weeks=4), due_at=due,
                steps=windows.planned_steps(policy, app.ctx, now, due)[-3:-2],  # the lapse
                policy=policy.signature)
            ids.append(window.id)
        await uow.commit()
    return ids


def new_app(url: str) -> KorteLijn:
    settings = Settings.model_validate({"database": {"url": url},
                                        "quiet_hours": {"start": "00:00", "end": "00:00"}})
    return KorteLijn(settings, clock=SystemClock(), transports=[NullTransport()],
                     console=False)


async def main(total: int, soon: int, within_s: float) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="kortelijn-bench-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"

    app = new_app(url)
    await app.start()
    case_ids = await populate(app, 200)
    sample = min(2_000, total)
    single = await arm(app, case_ids, sample)
    print(f"arming one by one, a transaction each: {single:,.0f} windows/s "
          f"({sample:,} windows)")
    batched = await arm_bulk(app, case_ids, total - sample, per_transaction=1000)
    print(f"arming in bulk, 1,000 windows per transaction: {batched:,.0f} windows/s "
          f"({total - sample:,} windows)")
    await app.stop()

    begin = time.perf_counter()
    app = new_app(url)
    await app.start()
    startup = time.perf_counter() - begin
    async with app.new_uow() as uow:
        open_steps = len(list((await uow.session.execute(
            select(orm.DeadlineRow.id).where(orm.DeadlineRow.done_at.is_(None)))).scalars()))
    print(f"start-up with {total:,} open windows ({open_steps:,} pending steps): "
          f"{startup:.2f} s")
    memory = rss_mb()
    print(f"resident memory after start-up: {memory:.0f} MB")

    ids = await due_soon(app, case_ids, soon, within_s)
    app.scheduler.poke()
    # the figures are read once the deadlines have passed, so reading does not load the bot
    await asyncio.sleep(within_s + 3)  # a benchmark on the real clock, not a test
    deadline = time.monotonic() + 30
    latencies: list[float] = []
    while time.monotonic() < deadline:
        async with app.new_uow() as uow:
            # the timeline's details are encrypted at rest: matched to windows here, not in SQL
            due_at = dict((await uow.session.execute(
                select(orm.WindowRow.id, orm.WindowRow.due_at)
                .where(orm.WindowRow.id.in_(ids)))).all())
            lapsed = (await uow.session.execute(
                select(orm.TimelineRow.at, orm.TimelineRow.data)
                .where(orm.TimelineRow.event == "window_lapsed"))).all()
            rows = [(at, due_at[data["window"]]) for at, data in lapsed
                    if data.get("window") in due_at]
        if len(rows) >= soon:
            latencies = [(at - due).total_seconds() for at, due in rows]
            break
        await asyncio.sleep(0.5)  # a benchmark on the real clock, not a test
    await app.stop()
    if len(latencies) < soon:
        raise SystemExit(f"only {len(latencies)} of {soon} lapses were carried out")
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"lapse latency over {soon:,} deadlines in {within_s:.0f} s: "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    verdict = {"startup < 3 s": startup < 3, "p99 < 1 s": p99 < 1, "memory < 200 MB":
               memory < 200}
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items()))
    return {"startup_s": round(startup, 3), "rss_mb": round(memory, 1),
            "arm_per_s": round(batched, 1), "arm_single_per_s": round(single, 1),
            "lapse_p50_s": round(p50, 4), "lapse_p99_s": round(p99, 4)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=100_000, help="open windows to arm")
    parser.add_argument("--due", type=int, default=2_000,
                        help="deadlines falling due while the scheduler runs")
    parser.add_argument("--within", type=float, default=20.0,
                        help="seconds over which those deadlines fall due")
    options = parser.parse_args()
    figures = asyncio.run(main(options.windows, options.due, options.within))
    print(json.dumps(figures))
