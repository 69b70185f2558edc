"""The Telegram transport's pacing on a clock the test moves: the overall limit handed out by
priority (an urgent message does not wait behind bulk queued before it), requests in flight
counted until their answer, and the polling back-off bounded, with jitter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.transports.base import NotYet, Outgoing
from bot.transports.telegram import (
    BULK,
    NORMAL,
    URGENT,
    Limits,
    Pacer,
    backoff_delay,
    priority_of,
)
from tests.support.seconds import FakeClock


class HeldSleep:
    """A sleep that returns only when the test lets time pass (then the clock moves)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.asked: list[float] = []
        self._go = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self._go.wait()
        self.clock.advance(seconds)

    def let_time_pass(self) -> None:
        self._go.set()


async def until(condition: Callable[[], bool], turns: int = 1000) -> None:
    """Let the other tasks run until ``condition`` holds (a bounded number of turns)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def fill(pacer: Pacer, count: int) -> None:
    for chat in range(1000, 1000 + count):
        async with pacer.paced(chat):
            pass


async def test_urgent_goes_before_bulk_that_waited_longer() -> None:
    clock = FakeClock()
    sleep = HeldSleep(clock)
    pacer = Pacer(Limits(overall=2), clock=clock, sleep=sleep)
    await fill(pacer, 2)  # the overall window is full for a second
    admitted: list[str] = []

    async def send(name: str, chat: int, priority: int) -> None:
        async with pacer.paced(chat, priority=priority):
            admitted.append(name)

    tasks = [asyncio.create_task(send("digest 1", 1, BULK)),
             asyncio.create_task(send("digest 2", 2, BULK))]
    await until(lambda: pacer.waiting == 2)
    tasks.append(asyncio.create_task(send("answer", 3, NORMAL)))
    tasks.append(asyncio.create_task(send("reminder", 4, URGENT)))
    await until(lambda: pacer.waiting == 4)
    assert admitted == []
    sleep.let_time_pass()
    await asyncio.gather(*tasks)
    assert admitted == ["reminder", "answer", "digest 1", "digest 2"]


async def test_within_one_priority_first_come_first_served() -> None:
    clock = FakeClock()
    sleep = HeldSleep(clock)
    pacer = Pacer(Limits(overall=1), clock=clock, sleep=sleep)
    await fill(pacer, 1)
    admitted: list[int] = []

    async def send(chat: int) -> None:
        async with pacer.paced(chat, priority=BULK):
            admitted.append(chat)

    tasks = []
    for count, chat in enumerate((5, 3, 9, 1), start=1):
        tasks.append(asyncio.create_task(send(chat)))
        await until(lambda n=count: pacer.waiting == n)
    sleep.let_time_pass()
    await asyncio.gather(*tasks)
    assert admitted == [5, 3, 9, 1]


async def test_a_request_in_flight_counts_until_its_answer() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(overall=1), clock=clock, sleep=clock.pass_time)
    answered = asyncio.Event()
    order: list[str] = []

    async def slow() -> None:
        async with pacer.paced(1):
            order.append("slow sent")
            await answered.wait()
            clock.advance(5.0)  # the answer takes five seconds
        order.append("slow answered")

    async def next_one() -> None:
        async with pacer.paced(2):
            order.append("next sent")

    first = asyncio.create_task(slow())
    await until(lambda: order == ["slow sent"])
    second = asyncio.create_task(next_one())
    await until(lambda: pacer.waiting == 1)
    assert order == ["slow sent"]  # however long ago the request went out
    answered.set()
    await asyncio.gather(first, second)
    assert order == ["slow sent", "slow answered", "next sent"]
    # counted from its answer: the next one waited a whole window after it
    assert clock.slept == [pytest.approx(1.0)]


async def test_a_chat_with_a_request_in_flight_is_held_back_not_waited_for() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.pass_time)
    release = asyncio.Event()

    async def hanging() -> None:
        async with pacer.paced(7):
            await release.wait()

    task = asyncio.create_task(hanging())
    await until(lambda: pacer.chat_wait(7) > 0)
    with pytest.raises(NotYet):
        async with pacer.paced(7):
            pass
    async with pacer.paced(8):  # another chat goes on meanwhile
        pass
    release.set()
    await task


def test_priority_of_a_message() -> None:
    assert priority_of(Outgoing(chat_id="1", text="x", urgent=True)) == URGENT
    assert priority_of(Outgoing(chat_id="1", text="x")) == NORMAL
    assert priority_of(Outgoing(chat_id="1", text="x", bulk=True)) == BULK
    assert URGENT < NORMAL < BULK


@given(failures=st.integers(min_value=1, max_value=10_000),
       first=st.floats(min_value=0.01, max_value=5), cap=st.floats(min_value=5, max_value=300),
       share=st.floats(min_value=0, max_value=1))
def test_the_back_off_grows_with_jitter_and_stays_bounded(failures: int, first: float,
                                                          cap: float, share: float) -> None:
    def uniform(low: float, high: float) -> float:
        return low + (high - low) * share

    delay = backoff_delay(failures, first, cap, uniform)
    full = min(cap, first * 2 ** (failures - 1)) if failures < 60 else cap
    assert full / 2 - 1e-9 <= delay <= full + 1e-9
    assert delay <= cap
    if failures > 1 and full < cap:  # it grows: twice the previous one's full delay
        assert backoff_delay(failures - 1, first, cap, lambda lo, hi: hi) == pytest.approx(
            full / 2)


def test_the_back_off_really_varies() -> None:
    delays = {backoff_delay(3, 1.0, 30.0) for _ in range(50)}
    assert len(delays) > 1
    assert all(2.0 <= d <= 4.0 for d in delays)
