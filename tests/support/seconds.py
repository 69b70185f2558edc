"""A monotonic clock in seconds that only moves when the test moves it: the Bot API stand-in's
flood limits and the Telegram transport's pacing both read it."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        #: every wait the code under test asked for
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def pass_time(self, seconds: float) -> None:
        """What a wait does to time (injected where the code would sleep)."""
        self.slept.append(seconds)
        self.now += seconds
