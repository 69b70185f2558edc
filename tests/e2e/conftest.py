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


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """The end-to-end tests' database, of each kind, at the newest migration (copied or
    emptied, not migrated for each test): the bot's start finds its schema current, as on
    every start after the first. A test of the first start asks for ``empty_database_url``."""
    return migrated_database_url
