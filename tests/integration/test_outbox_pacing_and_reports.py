"""The delivery loop with a transport that paces itself (``NotYet``: a chat not ready holds
only that chat, and costs no attempt) and the coordinator told, facts only, when a message
cannot be delivered — once, and never about such a report itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.config import DeliverySettings
from bot.domain.clock import ManualClock
from bot.domain.model import SignalKind
from bot.outbox import DeliveryLoop
from bot.transports.base import NotYet, PermanentFailure, RetryLater
from tests.integration.test_outbox_and_deadlines import World
from tests.support.recording import RecordingTransport


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    w = World(database_url, clock)
    await w.setup()
    yield w
    await w.engine.dispose()


@pytest.fixture
async def transport(world: World) -> RecordingTransport:
    recording = RecordingTransport()
    await DeliveryLoop(world.uow, {"console": recording}, world.clock).deliver_due()
    recording.sent.clear()
    recording.attempts = 0
    return recording


async def test_a_chat_not_ready_is_held_without_an_attempt_and_others_go_on(
        world: World, transport: RecordingTransport) -> None:
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock)
    first = await world.post(SignalKind.NOISE)  # to the coach
    await world.post(SignalKind.VISITORS, by=world.coach)  # to the landlord
    second = await world.post(SignalKind.NOISE)  # to the coach, behind the first
    transport.failures.append(NotYet("paced", 0.5))
    next_at = await loop.deliver_due()
    assert transport.texts("l")  # another chat went on
    assert transport.texts("b") == []  # the coach's chat waits, in order
    held = [r for r in await world.outbox() if r.status == "pending"]
    assert len(held) == 2
    assert held[0].attempts == 0
    assert held[0].last_error is None
    assert held[0].next_attempt_at == world.clock.now() + timedelta(seconds=0.5)
    assert next_at == held[0].next_attempt_at
    world.clock.advance(timedelta(seconds=0.5))
    await loop.deliver_due()
    to_coach = transport.texts("b")
    assert len(to_coach) == 2
    assert f"#{first}" in to_coach[0]
    assert f"#{second}" in to_coach[1]


async def test_a_permanent_failure_is_reported_once_per_chat_facts_only(
        world: World, transport: RecordingTransport) -> None:
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock)
    await world.post(SignalKind.NOISE)
    await world.post(SignalKind.SMELL)
    transport.failures.extend([PermanentFailure("Forbidden: bot was blocked by the user",
                                                "blocked"),
                               PermanentFailure("Forbidden: bot was blocked by the user",
                                                "blocked")])
    await loop.deliver_due()
    reports = transport.texts("c")
    assert reports == ["Een bericht aan B via Console kon niet worden afgeleverd "
                       "(de ontvanger heeft de bot geblokkeerd)."]
    assert "private note" not in reports[0]
    statuses = [r.status for r in await world.outbox()]
    assert statuses.count("failed") == 2
    # the report is recognised by its stored kind, not by its text
    assert [r.address for r in await world.outbox() if r.kind == "delivery_failed"] == ["c"]

    # a message gets through again; the next failure is reported again
    await world.post(SignalKind.MAILBOX_FULL)
    await loop.deliver_due()
    await world.post(SignalKind.POLLUTION)
    transport.failures.append(PermanentFailure("Forbidden", "blocked"))
    await loop.deliver_due()
    assert len(transport.texts("c")) == 2


async def test_a_report_that_cannot_be_delivered_causes_no_other(
        world: World, transport: RecordingTransport) -> None:
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock)
    await world.post(SignalKind.NOISE)
    transport.failures.extend([PermanentFailure("chat not found", "chat_not_found"),
                               PermanentFailure("chat not found", "chat_not_found")])
    await loop.deliver_due()
    world.clock.advance(timedelta(days=1))
    await loop.deliver_due()
    rows = await world.outbox()
    assert [r.status for r in rows].count("failed") == 2
    assert transport.attempts == 2
    assert transport.sent == []


async def test_a_message_given_up_is_reported(world: World,
                                              transport: RecordingTransport) -> None:
    loop = DeliveryLoop(world.uow, {"console": transport}, world.clock,
                        DeliverySettings(max_attempts=2))
    await world.post(SignalKind.NOISE)
    for _ in range(2):
        transport.failures.append(RetryLater("network: NetworkError"))
        await loop.deliver_due()
        world.clock.advance(timedelta(hours=1))
    assert transport.texts("c") == ["Een bericht aan B via Console kon niet worden "
                                    "afgeleverd (opgegeven na 2 pogingen)."]
