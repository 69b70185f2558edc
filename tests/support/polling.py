"""Waiting for a condition that another process decides (a database server, a bot process):
poll it until it holds, with a deadline. No event can tell us, so this is no hidden sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

INTERVAL_S = 0.05


async def until(condition: Callable[[], Awaitable[object]], *, within: float = 10.0,
                what: str = "the condition") -> None:
    """Return as soon as ``await condition()`` is true; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {within}s")
        await asyncio.sleep(INTERVAL_S)
