"""Benchmark: a digest to 1,500 private chats and 100 groups on Telegram, through the real
outbox, delivery loop and Telegram transport, against the Bot API stand-in on 127.0.0.1 with
its real clock and Telegram's limits enforced (30 messages a second overall, 1 a second per
chat, 20 a minute per group). While the digest goes out, an urgent message (a reminder) is
written to 50 of those chats at random moments, as the deadline scheduler would.

Reports the messages per second achieved against the 30/s limit (target: at least 90 % of
it, for the digest alone too), how long the urgent messages took from their commit to
Telegram's acceptance (``urgent_p99_s``; target: under 2 s, however much bulk is queued), the
429 answers received (target: none) and the messages lost (must be none). The last line is
one JSON object of the figures.

The rate is the messages accepted divided by the time from the start of delivery to the last
one; Telegram's limit is a sliding window, so the first second's full window puts a short
run's average a little above 30.

    make bench-telegram     (or: python -m bench.telegram_fanout --private 1500 --groups 100
                             --urgent 50)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot import crypto, notify
from bot.config import DeliverySettings, TelegramSettings
from bot.domain.clock import SystemClock
from bot.outbox import DeliveryLoop
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.uow import UnitOfWork
from bot.transports.base import Incoming
from bot.transports.telegram import TelegramTransport
from tests.support.fake_bot_api import FakeBotApi

FIRST_GROUP = -1_001_000_000_000
DIGEST = ("Weekoverzicht zaak Z-7K3M: 2 signalen, 1 open termijn (tot wo 25 nov 09:00). "
          "Bekijk de stand met /status Z-7K3M.")
URGENT = ("Herinnering: signaal #{n} in zaak Z-7K3M wacht op jou; de termijn loopt af om "
          "09:00. Bevestig met /ok {n}.")


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)] if ordered else 0.0


async def _ignore(incoming: Incoming) -> None:
    return None


async def run(private: int, groups: int, urgent: int, database_url: str | None
              ) -> dict[str, float | int]:
    rng = random.Random(13)  # the moments and chats of a benchmark, the same each run
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        # names, chat ids and texts are encrypted at rest: a throwaway key for this run
        crypto.install(crypto.Keyring([crypto.parse_key(crypto.generate_key())]))
        engine = create_engine(url)
        await migrate(engine)
        sessions = session_factory(engine)

        def new_uow() -> UnitOfWork:
            return UnitOfWork(sessions)

        clock = SystemClock()
        async with FakeBotApi() as api:  # real clock, limits enforced
            private_chats = list(range(1, private + 1))
            group_chats = [FIRST_GROUP - i for i in range(groups)]
            person_of: dict[int, int] = {}
            async with new_uow() as uow:
                now = clock.now()
                for user in private_chats:
                    api.add_user(user, first_name=f"P{user}")
                    person = await uow.persons.add(
                        display_name=f"P{user}", language="nl", transport="telegram",
                        address=str(user), now=now)
                    person_of[user] = person.id
                    await notify.to_person(uow, person.id, lambda lang: DIGEST, now,
                                           priority=notify.Priority.BULK)
                for group in group_chats:
                    api.add_group(group, title=f"Team {group}")
                    await notify.to_chat(uow, "telegram", str(group), DIGEST, now,
                                         priority=notify.Priority.BULK)
                await uow.commit()
            total = private + groups

            transport = TelegramTransport(TelegramSettings.model_validate(
                {"token": api.token, "base_url": api.base_url}))
            await transport.start(_ignore)
            loop = DeliveryLoop(new_uow, {"telegram": transport}, clock, DeliverySettings())
            # the urgent messages: at random moments while the digest goes out
            span = total / api.limits.overall * 0.9
            moments = sorted(rng.uniform(0.5, span) for _ in range(urgent))
            chats = rng.sample(private_chats, urgent)
            written: dict[str, float] = {}

            async def reminders() -> None:
                for n, (moment, chat) in enumerate(zip(moments, chats, strict=True), 1):
                    await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
                    text = URGENT.format(n=n)
                    async with new_uow() as uow:
                        await notify.to_person(uow, person_of[chat], lambda lang, t=text: t,
                                               clock.now(), priority=notify.Priority.URGENT)
                        await uow.commit()
                    written[text] = time.monotonic()
                    loop.poke()

            started = time.monotonic()
            await loop.start()
            loop.poke()
            writer = asyncio.create_task(reminders())
            try:
                await api.wait_for(lambda: api.stats.messages_sent >= total + urgent,
                                   within=total / 30 * 3 + 30)
            finally:
                writer.cancel()
                await loop.stop()
                await transport.stop()
            sends = [c for c in api.calls("sendMessage") if c.status == 200]
            elapsed = sends[-1].at - started
            digest_sends = [c for c in sends if c.params.get("text") == DIGEST]
            digest_elapsed = digest_sends[-1].at - started
            delays = [c.at - written[str(c.params.get("text"))] for c in sends
                      if str(c.params.get("text")) in written]

            async with new_uow() as uow:
                statuses: dict[str, int] = dict((await uow.session.execute(
                    select(orm.OutboxRow.status, func.count(orm.OutboxRow.id))
                    .group_by(orm.OutboxRow.status))).all())
        await engine.dispose()

    received = Counter(m.chat_id for m in api.sent() if m.text == DIGEST)
    expected = [*private_chats, *group_chats]
    lost = sum(1 for chat in expected if received[chat] == 0)
    duplicates = sum(max(received[chat] - 1, 0) for chat in expected)
    urgent_received = Counter(m.text for m in api.sent() if m.text in written)
    lost += urgent - len(urgent_received)
    duplicates += sum(max(count - 1, 0) for count in urgent_received.values())
    return {
        "messages": total + urgent,
        "sent": len(sends),
        "elapsed_s": round(elapsed, 2),
        "msgs_per_s": round(len(sends) / elapsed, 2),
        "digest_msgs_per_s": round(len(digest_sends) / digest_elapsed, 2),
        "limit_per_s": api.limits.overall,
        "urgent": len(delays),
        "urgent_p50_s": round(sorted(delays)[len(delays) // 2], 3) if delays else 0.0,
        "urgent_p99_s": round(p99(delays), 3),
        "urgent_max_s": round(max(delays, default=0.0), 3),
        "http_429": api.stats.http_429,
        "lost": lost,
        "duplicates": duplicates,
        "outbox_sent": int(statuses.get("sent", 0)),
        "outbox_failed": int(statuses.get("failed", 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--private", type=int, default=1500, help="private chats (1500)")
    parser.add_argument("--groups", type=int, default=100, help="groups (100)")
    parser.add_argument("--urgent", type=int, default=50,
                        help="urgent messages during the digest (50)")
    parser.add_argument("--database-url", help="an SQLAlchemy URL (default: a fresh SQLite)")
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    logging.basicConfig(level=logging.ERROR)
    print(f"Digest to {args.private} private chats and {args.groups} groups through the "
          "outbox, the delivery loop and the Telegram transport, against the Bot API "
          f"stand-in (limits enforced), with {args.urgent} urgent messages meanwhile …",
          flush=True)
    figures = asyncio.run(run(args.private, args.groups, args.urgent, args.database_url))
    share = figures["msgs_per_s"] / figures["limit_per_s"]
    digest_share = figures["digest_msgs_per_s"] / figures["limit_per_s"]
    print(f"sent {figures['sent']} of {figures['messages']} messages in "
          f"{figures['elapsed_s']} s")
    print(f"rate: {figures['msgs_per_s']} msg/s against the limit of "
          f"{figures['limit_per_s']}/s ({share:.0%}; target at least 90 %): "
          f"{'ok' if share >= 0.9 else 'BELOW TARGET'}")
    print(f"digest alone: {figures['digest_msgs_per_s']} msg/s ({digest_share:.0%}; target "
          f"at least 90 %): {'ok' if digest_share >= 0.9 else 'BELOW TARGET'}")
    print(f"urgent messages: {figures['urgent']}, from commit to Telegram p50 "
          f"{figures['urgent_p50_s']} s, p99 {figures['urgent_p99_s']} s, max "
          f"{figures['urgent_max_s']} s (target p99 under 2 s): "
          f"{'ok' if figures['urgent_p99_s'] < 2 else 'NOT OK'}")
    print(f"429 answers: {figures['http_429']} (target: none): "
          f"{'ok' if figures['http_429'] == 0 else 'NOT OK'}")
    print(f"lost: {figures['lost']}, sent twice: {figures['duplicates']} (must be none): "
          f"{'ok' if figures['lost'] == 0 and figures['duplicates'] == 0 else 'NOT OK'}")
    print(json.dumps({key: figures[key]
                      for key in ("msgs_per_s", "digest_msgs_per_s", "limit_per_s",
                                  "urgent_p99_s", "http_429", "lost", "duplicates")}))


if __name__ == "__main__":
    main()
