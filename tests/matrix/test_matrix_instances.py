"""Two instances with one Matrix account on one PostgreSQL database, on a real Synapse: one
sync per device. The instance holding the account's lock (a `kortelijn run` process) syncs;
the other neither logs in nor syncs while it holds it, however often it tries for the lock.
The first is killed with SIGKILL: the second takes the account over within the takeover time
(its login and sync position come from the database, the device's keys from the shared
store), and carries on in the same encrypted room, handling nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.app import KorteLijn
from bot.config import ClusterSettings
from bot.persistence import orm
from bot.persistence.database import create_engine, session_factory
from bot.persistence.uow import UnitOfWork
from bot.transports.matrix import MatrixTransport
from tests.conftest import PG_URL
from tests.matrix.test_matrix_resilience import _bot_environment, _new
from tests.matrix.test_matrix_scenario import direct_with_bot
from tests.support.matrix_harness import CASE, MatrixBot, Person, until
from tests.support.polling import until as until_async
from tests.support.synapse import Synapse

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")]

#: [cluster] takeover in this test
TAKEOVER_S = 1.5
#: [delivery] lease: the answer the first had in flight when it was killed (sent, its mark
#: not yet committed) is the second's to send again after it (Synapse knows its transaction
#: id: it shows once), and the answers behind it wait for it
LEASE = "3s"


async def test_one_sync_per_device_and_a_takeover_when_the_first_dies(
        synapse: Synapse, tmp_path: Path) -> None:
    coco = Person(synapse, tmp_path, "coco")
    await coco.start()
    engine = create_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    sessions = session_factory(engine)

    async def count(model: type[orm.Case]) -> int:
        async with UnitOfWork(sessions) as uow:
            return int((await uow.session.execute(
                select(func.count()).select_from(model))).scalar_one())

    bot = MatrixBot(synapse, tmp_path, PG_URL, coordinator=coco.user_id)  # its account
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path,
        env={**os.environ, **_bot_environment(bot),
             "KORTELIJN_CLUSTER__TAKEOVER": f"{TAKEOVER_S}s",
             "KORTELIJN_CLUSTER__INSTANCE": "first", "KORTELIJN_DELIVERY__LEASE": LEASE},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second: KorteLijn | None = None
    try:
        async def logged_in() -> bool:
            try:
                async with UnitOfWork(sessions) as uow:
                    return bool((await uow.session.execute(
                        select(func.count()).select_from(orm.TransportState)
                        .where(orm.TransportState.kind == "login"))).scalar_one())
            except Exception:
                return False  # not migrated yet

        await until_async(logged_in, within=120, what="the first instance's login")
        room = await direct_with_bot(coco, bot, encrypted=True)
        await coco.say(room, "/nieuwezaak")
        await coco.expect(bot.user_id, "is aangemaakt", within=60)

        settings = bot.settings.model_copy(update={
            "cluster": ClusterSettings(takeover=f"{TAKEOVER_S}s",  # type: ignore[arg-type]
                                       instance="second"),
            "delivery": bot.settings.delivery.model_copy(update={"lease": timedelta(
                seconds=float(LEASE.removesuffix("s")))})})
        second = KorteLijn(settings, clock=bot.clock, console=False)
        await second.start()
        transport = second.transports["matrix"]
        assert isinstance(transport, MatrixTransport)
        lock = second.receivers["matrix"]
        # while the first holds the account, the second tries for it and neither logs in
        # nor syncs (two syncs of one device, on one key store, would break its keys)
        for _ in range(3):
            assert await lock.check() == "follower"
        assert not second.receiving("matrix")
        assert transport._client is None
        assert transport._task is None
        seen = len(coco.from_bot(bot.user_id))
        await coco.say(room, "/zaken")  # the first still answers
        await coco.expect(bot.user_id, CASE.pattern, after=seen, within=60)
        assert transport._client is None

        loop = asyncio.get_running_loop()
        first.send_signal(signal.SIGKILL)
        killed_at = loop.time()
        assert await asyncio.wait_for(first.wait(), 30) == -signal.SIGKILL
        await until(lambda: second.receiving("matrix"), within=TAKEOVER_S + 5,
                    what="the second taking the account over")
        took = loop.time() - killed_at
        assert await transport.wait_ready(60), "the second's first sync did not come"
        assert took < TAKEOVER_S + 2, took  # within the setting (plus a loaded machine)

        seen = len(coco.from_bot(bot.user_id))
        await coco.say(room, "/zaken")  # in the same encrypted room, to the second
        answer = await coco.expect(bot.user_id, CASE.pattern, after=seen, within=60)
        assert answer.encrypted
        assert await count(orm.Case) == 1  # nothing the first handled was handled again
        assert len(_new(coco.from_bot(bot.user_id), "is aangemaakt")) == 1
        assert len(_new(coco.from_bot(bot.user_id), "Alle zaken")) == 2  # none twice
        assert coco.undecrypted == 0
        print(f"\nMatrix account taken over {took:.2f} s after the first instance was killed")
    finally:
        if first.returncode is None:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        if second is not None:
            await second.stop()
        await coco.stop()
        await engine.dispose()
