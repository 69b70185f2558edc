"""/healthz, /readyz and /metrics over real HTTP on 127.0.0.1 (an ephemeral port), for a bot
on Telegram (the Bot API stand-in) on each database: the gauges follow the database (open and
lapsed windows, the outbox, steps run late), the counters follow what happened (deliveries,
failures, 429s, updates), and readiness follows the database, the schema and the transport."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import MetricsSettings
from bot.domain.clock import ManualClock
from bot.health import HealthServer
from bot.persistence.database import create_engine, downgrade, head_revision, migrate
from tests.support.polling import until
from tests.support.telegram_harness import TelegramHarness

COCO, LOTTE, BRAM = 1, 2, 3


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


@pytest.fixture
async def tg(database_url: str, clock: ManualClock) -> AsyncIterator[TelegramHarness]:
    harness = TelegramHarness(database_url, clock, coordinator=COCO)
    await harness.start()
    yield harness
    await harness.stop()


@pytest.fixture
async def health(tg: TelegramHarness) -> AsyncIterator[HealthServer]:
    assert tg.app is not None
    server = HealthServer("127.0.0.1:0", tg.app.engine, tg.clock, tg.app.transports)
    await server.start()
    yield server
    await server.stop()


async def get(server: HealthServer, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{server.port}{path}") as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def scrape(server: HealthServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = await get(server, "/metrics")
    assert status == 200
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def case_with_signal(tg: TelegramHarness) -> str:
    tg.says(COCO, "/nieuwezaak", "Coco")
    await tg.until(lambda: tg.has(COCO, "is aangemaakt"))
    case = re.search(r"Z-\w{4}", tg.last_with(COCO, "is aangemaakt").text)
    assert case is not None
    for user, name, role in ((LOTTE, "Lotte", "verhuurder"), (BRAM, "Bram", "begeleider")):
        before = len(tg.chat(COCO))
        tg.says(COCO, f"/uitnodigen {case.group(0)} {role}", "Coco")
        await tg.until(lambda before=before: len(tg.chat(COCO)) > before)
        code = re.search(r"start=([\w-]+)", tg.chat(COCO)[-1].text)
        assert code is not None
        tg.says(user, f"/start {code.group(1)}", name)
        await tg.until(lambda user=user: tg.has(user, "Welkom bij KorteLijn"))
    tg.says(LOTTE, f"/signaal {case.group(0)} brievenbus", "Lotte")
    await tg.until(lambda: tg.has(BRAM, "Nieuw signaal #1"))
    return case.group(0)


async def test_alive_and_ready(health: HealthServer) -> None:
    assert await get(health, "/healthz") == (200, {"status": "alive"})
    status, body = await get(health, "/readyz")
    assert status == 200
    assert body == {"status": "ready", "database": "reachable",
                    "migrations": f"current ({head_revision()})",
                    "transports": {"telegram": "connected"}, "role": "leader",
                    "receiving": ["telegram"]}


async def test_not_ready_when_the_transport_is_gone(tg: TelegramHarness,
                                                   health: HealthServer) -> None:
    assert tg.app is not None
    await tg.app.transports["telegram"].stop()
    status, body = await get(health, "/readyz")
    assert status == 503
    assert body["status"] == "not ready"
    assert body["transports"] == {"telegram": "disconnected"}
    assert value(await scrape(health), "kortelijn_transport_connected",
                 transport="telegram") == 0


async def test_not_ready_when_the_schema_is_behind(tg: TelegramHarness,
                                                  health: HealthServer) -> None:
    assert tg.app is not None
    await downgrade(tg.app.engine, "0004")
    try:
        status, body = await get(health, "/readyz")
        assert status == 503
        assert body["migrations"] == f"behind: at 0004, needs {head_revision()}"
    finally:
        await migrate(tg.app.engine)
    assert (await get(health, "/readyz"))[0] == 200


async def test_not_ready_without_a_database(clock: ManualClock) -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    server = HealthServer("127.0.0.1:0", engine, clock, {})
    await server.start()
    try:
        status, body = await get(server, "/readyz")
        assert status == 503
        assert body["database"].startswith("unreachable")
        assert "migrations" not in body
        samples = await scrape(server)
        assert value(samples, "kortelijn_database_up") == 0
        assert not any(name == "kortelijn_windows_open" for name, _ in samples)
        assert (await get(server, "/healthz"))[0] == 200  # alive all the same
    finally:
        await server.stop()
        await engine.dispose()


async def test_the_gauges_follow_the_database(tg: TelegramHarness,
                                             health: HealthServer) -> None:
    before = await scrape(health)
    assert value(before, "kortelijn_windows_open", norm="N1") == 0
    assert value(before, "kortelijn_leader") == 1
    assert value(before, "kortelijn_database_up") == 1
    await case_with_signal(tg)
    after = await scrape(health)
    assert value(after, "kortelijn_windows_open", norm="N1") == 1
    assert value(after, "kortelijn_outbox_pending", transport="telegram") == 0
    # messages went out through Telegram, and updates came in
    assert (value(after, "kortelijn_deliveries_total", transport="telegram")
            - value(before, "kortelijn_deliveries_total", transport="telegram")) >= 6
    assert (value(after, "kortelijn_updates_handled_total", transport="telegram",
                  outcome="handled")
            - value(before, "kortelijn_updates_handled_total", transport="telegram",
                    outcome="handled")) >= 6
    # the window lapses: two days on, the scheduler runs what fell due
    assert tg.app is not None
    tg.clock.advance(timedelta(hours=49))
    await tg.app.scheduler.run_due()
    lapsed = await scrape(health)
    assert value(lapsed, "kortelijn_windows_open", norm="N1") == 0
    assert value(lapsed, "kortelijn_windows_lapsed", norm="N1") == 1


async def test_a_message_that_cannot_go_out_ages(tg: TelegramHarness,
                                                 health: HealthServer) -> None:
    assert tg.app is not None
    before = await scrape(health)
    tg.api.fail_next("sendMessage", 1, status=429, retry_after=30)
    tg.api.fail_next("sendMessage", 50, status=502)
    tg.says(COCO, "/nieuwezaak", "Coco")
    await tg.api.wait_for(lambda: tg.api.stats.http_429 >= 1, within=10)
    await tg.app.delivery.deliver_due()  # the round that met the 429 has rescheduled it
    tg.clock.advance(timedelta(seconds=31))  # Telegram said: retry after 30 s
    await tg.app.delivery.deliver_due()
    assert tg.api.stats.by_status[502] >= 1
    tg.clock.advance(timedelta(minutes=11))
    samples = await scrape(health)
    assert value(samples, "kortelijn_outbox_pending", transport="telegram") == 1
    assert value(samples, "kortelijn_outbox_oldest_pending_age_seconds") >= 11 * 60
    assert (value(samples, "kortelijn_rate_limited_total", transport="telegram")
            - value(before, "kortelijn_rate_limited_total", transport="telegram")) == 1
    assert (value(samples, "kortelijn_delivery_failures_total", transport="telegram",
                  reason="temporary")
            - value(before, "kortelijn_delivery_failures_total", transport="telegram",
                    reason="temporary")) >= 1
    assert (value(samples, "kortelijn_retry_wait_seconds_count", transport="telegram",
                  reason="rate_limited")
            - value(before, "kortelijn_retry_wait_seconds_count", transport="telegram",
                    reason="rate_limited")) == 1


async def test_no_person_or_case_in_a_label(tg: TelegramHarness, health: HealthServer) -> None:
    case = await case_with_signal(tg)
    status, body = await get(health, "/metrics")
    assert status == 200
    names = {line.split("{")[0].split(" ")[0] for line in body.splitlines()
             if line and not line.startswith("#")}
    assert names
    assert all(name.startswith("kortelijn_") for name in names), names
    for secret in (case, "Lotte", "Bram"):
        assert secret not in body
    labels = set(re.findall(r"(\w+)=\"", body))
    assert labels <= {"transport", "norm", "reason", "outcome", "le"}, labels


def test_the_address_setting() -> None:
    assert MetricsSettings().address == "127.0.0.1:9464"
    assert MetricsSettings(address="[::1]:9000").address == "[::1]:9000"
    assert MetricsSettings(address="").address == ""
    for wrong in ("9464", "localhost:", "host:99999", "a b:1"):
        with pytest.raises(ValueError, match="host:port"):
            MetricsSettings(address=wrong)


async def test_kortelijn_run_serves_health(tmp_path: Path) -> None:
    """The real entry point, as a process: health on the address from the environment."""
    env = {**os.environ, "KORTELIJN_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/k.db",
           "KORTELIJN_METRICS__ADDRESS": "127.0.0.1:0"}
    env.pop("KORTELIJN_CONFIG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--log-level", "INFO", "run",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env=env)
    try:
        assert proc.stderr is not None
        port = None
        async with asyncio.timeout(30):
            while port is None:
                line = (await proc.stderr.readline()).decode()
                assert line, "the bot ended before serving health"
                found = re.search(r"health and metrics on 127\.0\.0\.1:(\d+)", line)
                port = int(found.group(1)) if found else None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            body: dict[str, Any] = {}

            async def ready() -> bool:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    body.update(await response.json())
                    return response.status == 200

            await until(ready, within=30, what="the bot ready")  # it migrates first
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert "kortelijn_windows_open" in await response.text()
        assert body["transports"] == {"console": "connected"}
        assert body["migrations"] == f"current ({head_revision()})"
        assert proc.stdin is not None
        proc.stdin.close()
        async with asyncio.timeout(20):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


class Offline:
    """A transport that is not started here (another instance holds its account)."""

    name = "matrix"
    connected = False


async def test_a_follower_without_the_account_shows_the_transport_on_standby_and_ready(
        tmp_path: Path, clock: ManualClock) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    await migrate(engine)
    receiving = {"matrix": False}
    server = HealthServer("127.0.0.1:0", engine, clock, {"matrix": Offline()},
                          role=lambda: "follower", receiving=lambda name: receiving[name])
    await server.start()
    try:
        status, body = await get(server, "/readyz")
        assert status == 200
        assert (body["role"], body["transports"], body["receiving"]) == \
            ("follower", {"matrix": "standby"}, [])
        receiving["matrix"] = True  # it took the account over, and has not connected (yet)
        status, body = await get(server, "/readyz")
        assert status == 503
        assert (body["transports"], body["receiving"]) == ({"matrix": "disconnected"},
                                                           ["matrix"])
    finally:
        await server.stop()
        await engine.dispose()
