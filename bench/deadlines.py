"""Benchmark: many open deadlines (100,000 in SQLite by default; a national deployment's
1,000,000 on PostgreSQL with ``--database``).

Reports how fast windows are armed, how long the bot takes to start with them all open, its
resident memory, and the latency from a deadline's moment to its outbox row while the real
scheduler (APScheduler on the system clock) runs. Targets: start-up under 3 s, lapse p99 under
0.1 s, memory under 200 MB. The start-up reads no window and no step into memory: the
scheduler asks the index for the earliest pending step only (``windows.next_due``) and carries
out what is due in batches. The last line is one JSON object of the figures.

Beyond a sample armed one by one, the windows are armed in bulk (multi-row inserts, 5,000
windows a transaction, as for every case's yearly evaluation).

    make bench-deadlines
    make bench-deadlines ARGS="--database postgresql+asyncpg://…/kortelijn_bench --windows 1000000"

The database named with ``--database`` is EMPTIED first.
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

from sqlalchemy import func, select, text

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.domain.commands import CreateCase, InviteToRole, RedeemInvitation
from bot.domain.model import Norm, Role
from bot.persistence import orm
from bot.persistence.database import create_engine
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


async def arm_copy(app: KorteLijn, case_ids: list[int], count: int,
                   norm: Norm = Norm.N12_YEARLY_EVALUATION) -> float:
    """PostgreSQL: bulk-load ``count`` open windows with their steps through COPY (as a
    migration from another system would), each window as ``open_windows`` arms it, their due
    moments spread over a day. Returns windows per second."""
    started = time.perf_counter()
    policy = app.ctx.policies[norm]
    now = app.clock.now()
    due = policy.due(now, app.ctx.policies.calendar)
    planned = windows.planned_steps(policy, app.ctx, now, due)
    responsible = ",".join(r.value for r in policy.shape.responsible)
    async with app.engine.connect() as conn:
        first = int((await conn.execute(
            text("SELECT coalesce(max(id), 0) + 1 FROM windows"))).scalar_one())
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        chunk = 100_000
        for begin in range(0, count, chunk):
            size = min(chunk, count - begin)
            ids = range(first + begin, first + begin + size)
            shift = [timedelta(seconds=(begin + i) * 86_400 / count) for i in range(size)]
            await raw.copy_records_to_table(
                "windows", columns=["id", "case_id", "norm", "responsible", "opened_at",
                                    "base_due_at", "due_at", "status", "policy", "period"],
                records=[(window_id, case_ids[(begin + i) % len(case_ids)], norm.value,
                          responsible, now, due + shift[i], due + shift[i], "open",
                          policy.signature, 1) for i, window_id in enumerate(ids)])
            await raw.copy_records_to_table(
                "deadlines", columns=["window_id", "step", "seq", "notify", "urgent", "due_at",
                                      "late"],
                records=[(window_id, p.kind.value, p.seq, ",".join(p.notify), p.urgent,
                          p.due_at + shift[i], False)
                         for i, window_id in enumerate(ids) for p in planned])
        await conn.execute(text("SELECT setval(pg_get_serial_sequence('windows', 'id'), "
                                "(SELECT max(id) FROM windows))"))
        await conn.commit()
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


async def empty(url: str) -> None:
    """A PostgreSQL database named for the benchmark starts empty."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def main(total: int, soon: int, within_s: float, database: str | None
               ) -> dict[str, object]:
    if database:
        url = database
        await empty(url)
    else:
        folder = Path(tempfile.mkdtemp(prefix="kortelijn-bench-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"

    app = new_app(url)
    await app.start()
    case_ids = await populate(app, 200)
    sample = min(2_000, total)
    single = await arm(app, case_ids, sample)
    print(f"arming one by one, a transaction each: {single:,.0f} windows/s "
          f"({sample:,} windows)")
    bulk = min(total - sample, 20_000)
    batched = await arm_bulk(app, case_ids, bulk, per_transaction=5000)
    print(f"arming in bulk, 5,000 windows per transaction: {batched:,.0f} windows/s "
          f"({bulk:,} windows)")
    rest = total - sample - bulk
    if rest and app.engine.dialect.name == "postgresql":
        copied = await arm_copy(app, case_ids, rest)
        print(f"loading through COPY: {copied:,.0f} windows/s ({rest:,} windows)")
    elif rest:
        more = await arm_bulk(app, case_ids, rest, per_transaction=5000)
        print(f"arming in bulk: {more:,.0f} windows/s ({rest:,} windows)")
    if app.engine.dialect.name == "postgresql":
        async with app.engine.begin() as conn:  # as autovacuum would, after a bulk load
            await conn.execute(text("ANALYZE"))
    await app.stop()

    begin = time.perf_counter()
    app = new_app(url)
    await app.start()
    startup = time.perf_counter() - begin
    memory = rss_mb()
    async with app.new_uow() as uow:
        open_steps = (await uow.session.execute(
            select(func.count(orm.DeadlineRow.id))
            .where(orm.DeadlineRow.done_at.is_(None)))).scalar_one()
    print(f"start-up with {total:,} open windows ({open_steps:,} pending steps, "
          f"{app.engine.dialect.name}): {startup:.2f} s")
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
        raise SystemExit(f"only {len(rows)} of {soon} lapses were carried out in time")
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"lapse latency over {soon:,} deadlines in {within_s:.0f} s: "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    verdict = {"startup < 3 s": startup < 3, "p99 < 0.1 s": p99 < 0.1, "memory < 200 MB":
               memory < 200}
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items()))
    return {"windows": total, "database": app.engine.dialect.name,
            "startup_s": round(startup, 3), "rss_mb": round(memory, 1),
            "arm_per_s": round(batched, 1), "arm_single_per_s": round(single, 1),
            "lapse_p50_s": round(p50, 4), "lapse_p99_s": round(p99, 4)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=100_000, help="open windows to arm")
    parser.add_argument("--due", type=int, default=2_000,
                        help="deadlines falling due while the scheduler runs")
    parser.add_argument("--within", type=float, default=20.0,
                        help="seconds over which those deadlines fall due")
    parser.add_argument("--database", default=None,
                        help="SQLAlchemy URL of a database to use (EMPTIED first), e.g. "
                             "postgresql+asyncpg://postgres@127.0.0.1:5432/kortelijn_bench; "
                             "default: a new SQLite file")
    options = parser.parse_args()
    figures = asyncio.run(main(options.windows, options.due, options.within,
                               options.database))
    print(json.dumps(figures))
