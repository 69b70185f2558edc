"""The end-to-end tests' bot: the whole KorteLijn on one database, driven through its console
with an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.clock import ManualClock
from tests.support.harness import ConsoleHarness


@pytest.fixture
async def bot(database_url: str, clock: ManualClock) -> AsyncIterator[ConsoleHarness]:
    harness = ConsoleHarness(database_url, clock)
    await harness.start()
    yield harness
    await harness.stop()
