"""Benchmark: how long a signal takes on Matrix, from the moment one person posts it until
every recipient has received it, through the whole KorteLijn (transport, dispatcher, services,
outbox, delivery loop) on a real Synapse on 127.0.0.1; and, in the same run on the same
Synapse, the same for a forward-only relay bot (a nio client that only forwards each message
to the recipients' rooms). A signal is two hops (poster → bot → recipient) for any bot, so
the relay is the floor; the target is KorteLijn's median at most 1.5 × the relay's.

KorteLijn runs in the benchmark's own event loop, beside the people's clients and the relay
(there its commits' waits for the disk, inline in the SQLite driver, also hold up the clients
that take the times); ``--process`` runs it as a process of its own, as deployed. On a loaded
machine the two differ by less than the noise between runs.

Signals are posted one at a time (each waits until it has arrived everywhere, or 30 s), so
the figures are latencies, not throughput. ``lost`` counts signals some recipient never
received; ``duplicates`` messages a recipient received more than once (edits not counted).
The last line is one JSON object of the figures.

    make bench-matrix     (or: python -m bench.matrix_latency --signals 40 --encrypted)
                          (or: python -m bench.matrix_latency --process)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import nio

from bot import crypto
from tests.support.matrix_harness import (
    CASE,
    INVITE,
    MatrixBot,
    MatrixBotProcess,
    Person,
    Received,
    until,
)
from tests.support.synapse import Synapse

WAIT = 30.0


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


class Relay:
    """A forward-only bot: every text from the poster goes, unchanged, to each recipient's
    room, one after the other (as the outbox delivers)."""

    def __init__(self, synapse: Synapse, folder: Path) -> None:
        self.person = Person(synapse, folder, "relay")
        self.user_id = self.person.user_id
        self.poster: str | None = None
        self.targets: list[str] = []

    async def start(self) -> None:
        await self.person.start()
        self.person.client.add_event_callback(self._forward, nio.RoomMessageText)

    async def _forward(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        if event.sender != self.poster:
            return
        for target in self.targets:
            await self.person.client.room_send(
                target, "m.room.message", {"msgtype": "m.notice", "body": event.body},
                ignore_unverified_devices=True)


async def _direct(person: Person, bot_id: str, *, encrypted: bool) -> str:
    room_id = await person.open_direct(bot_id, encrypted=encrypted)
    await until(lambda: bot_id in person.client.rooms[room_id].users
                and bot_id not in person.client.rooms[room_id].invited_users,
                what="joined", within=WAIT)
    return room_id


async def _enrol(coco: Person, coco_room: str, person: Person,
                 bot: MatrixBot | MatrixBotProcess, case: str,
                 role: str, *, encrypted: bool) -> str:
    seen = len(coco.from_bot(bot.user_id))
    await coco.say(coco_room, f"/uitnodigen {case} {role}")
    invitation = await coco.expect(bot.user_id, INVITE.pattern, after=seen)
    code = INVITE.search(invitation.body)
    assert code is not None
    room_id = await _direct(person, bot.user_id, encrypted=encrypted)
    await person.say(room_id, f"/start {code[0]}")
    await person.expect(bot.user_id, "Welkom", room_id=room_id)
    return room_id


def _arrivals(person: Person, sender: str, marker: str, after: int) -> list[Received]:
    return [r for r in person.from_bot(sender)[after:]
            if marker in r.body and r.content.get("m.relates_to", {}).get("rel_type")
            != "m.replace"]


async def _post(poster: Person, room_id: str, recipients: list[Person], sender: str,
                text: str, marker: str) -> float | None:
    """Post one text; the seconds until every recipient has a message with its marker
    (``None`` when someone did not get it within the wait)."""
    starts = {r.user_id: len(r.from_bot(sender)) for r in recipients}
    posted = time.perf_counter()
    await poster.say(room_id, text)
    try:
        await until(lambda: all(_arrivals(r, sender, marker, starts[r.user_id])
                                for r in recipients), within=WAIT, what=marker)
    except AssertionError:
        return None
    return max(_arrivals(r, sender, marker, starts[r.user_id])[0].at
               for r in recipients) - posted


def _duplicates(recipients: list[Person], sender: str, markers: list[str]) -> int:
    duplicates = 0
    for recipient in recipients:
        counts = Counter(marker for marker in markers
                         for _ in _arrivals(recipient, sender, marker, 0))
        duplicates += sum(n - 1 for n in counts.values() if n > 1)
    return duplicates


async def run(signals: int, encrypted: bool, in_process: bool = True) -> dict[str, Any]:
    crypto.install(crypto.Keyring([crypto.parse_key(crypto.generate_key())]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        synapse = Synapse(folder / "synapse")
        synapse.start()
        people = [Person(synapse, folder, name) for name in ("coco", "lotte", "bram", "tess")]
        coco, lotte, bram, tess = people
        relay = Relay(synapse, folder)
        bot: MatrixBot | MatrixBotProcess = (
            MatrixBot(synapse, folder, f"sqlite+aiosqlite:///{folder / 'bench.db'}",
                      coordinator=coco.user_id, encryption=True) if in_process
            else MatrixBotProcess(synapse, folder, coordinator=coco.user_id, encryption=True))
        try:
            for person in people:
                await person.start()
            await relay.start()
            await bot.start()
            coco_room = await _direct(coco, bot.user_id, encrypted=encrypted)
            await coco.say(coco_room, "/nieuwezaak")
            created = await coco.expect(bot.user_id, CASE.pattern)
            case_match = CASE.search(created.body)
            assert case_match is not None
            case = case_match[0]
            lotte_room = await _enrol(coco, coco_room, lotte, bot, case, "verhuurder",
                                      encrypted=encrypted)
            await _enrol(coco, coco_room, bram, bot, case, "begeleider", encrypted=encrypted)
            await _enrol(coco, coco_room, tess, bot, case, "begeleider", encrypted=encrypted)
            recipients = [bram, tess]  # two coaches: the addressees of a signal

            # the relay: the poster's room with it, and a room with each recipient
            relay.poster = lotte.user_id
            relay_room = await _direct(lotte, relay.user_id, encrypted=encrypted)
            for recipient in recipients:
                room = await recipient.open_direct(relay.user_id, encrypted=encrypted)
                await until(lambda r=room: r in relay.person.client.rooms, within=WAIT)
                relay.targets.append(room)

            # warm-up (the first send in an encrypted room shares its keys): not counted
            await _post(lotte, lotte_room, recipients, bot.user_id,
                        f"/signaal {case} huurachterstand", "Nieuw signaal #1 ")
            await _post(lotte, relay_room, recipients, relay.user_id, "warm-up", "warm-up")

            # the bot and the relay take turns, so that a change in the machine's load
            # falls on both alike
            bot_lat: list[float] = []
            relay_lat: list[float] = []
            bot_lost = relay_lost = 0
            for n in range(1, signals + 1):
                took = await _post(lotte, lotte_room, recipients, bot.user_id,
                                   f"/signaal {case} geluid", f"Nieuw signaal #{n + 1} ")
                bot_lat.extend([took] if took is not None else [])
                bot_lost += took is None
                took = await _post(lotte, relay_room, recipients, relay.user_id,
                                   f"relay signal {n} .", f"relay signal {n} .")
                relay_lat.extend([took] if took is not None else [])
                relay_lost += took is None
            await asyncio.sleep(1.0)  # let late copies arrive before they are counted
            bot_dup = _duplicates(recipients, bot.user_id,
                                  [f"Nieuw signaal #{n + 1} " for n in range(signals + 1)])
            relay_dup = _duplicates(recipients, relay.user_id,
                                    [f"relay signal {n} ." for n in range(1, signals + 1)])
        finally:
            await bot.stop()
            for person in (*people, relay.person):
                await person.stop()
            synapse.stop()
    bot_median = statistics.median(bot_lat) if bot_lat else float("nan")
    relay_median = statistics.median(relay_lat) if relay_lat else float("nan")
    return {
        "signals": signals, "recipients": len(recipients), "encrypted": encrypted,
        "bot_process": not in_process,
        "bot_median_s": round(bot_median, 4),
        "bot_p90_s": round(p90(bot_lat), 4) if bot_lat else None,
        "relay_median_s": round(relay_median, 4),
        "relay_p90_s": round(p90(relay_lat), 4) if relay_lat else None,
        "ratio": round(bot_median / relay_median, 3) if relay_lat and bot_lat else None,
        "lost": bot_lost + relay_lost, "duplicates": bot_dup + relay_dup,
        "bot_lost": bot_lost, "relay_lost": relay_lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=30)
    parser.add_argument("--encrypted", action="store_true",
                        help="encrypted rooms (the bot's own default); plain rooms otherwise")
    parser.add_argument("--process", action="store_true",
                        help="run KorteLijn as a process of its own (as deployed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    figures = asyncio.run(run(args.signals, args.encrypted, not args.process))
    rooms = "encrypted" if args.encrypted else "unencrypted"
    where = "as a process of its own" if args.process else "in the benchmark's process"
    print(f"{args.signals} signals by one person to {figures['recipients']} recipients, "
          f"{rooms} rooms, on Synapse at 127.0.0.1; KorteLijn {where}")
    print(f"KorteLijn: median {figures['bot_median_s']}s, p90 {figures['bot_p90_s']}s "
          f"(posted → every recipient has it)")
    print(f"relay bot: median {figures['relay_median_s']}s, p90 {figures['relay_p90_s']}s")
    ratio = figures["ratio"]
    verdict = "meets" if ratio is not None and ratio <= 1.5 else "misses"
    print(f"ratio {ratio} ({verdict} the target of at most 1.5)")
    print(f"lost: {figures['lost']}, duplicates: {figures['duplicates']} (must be none)")
    print(json.dumps({key: figures[key] for key in
                      ("bot_median_s", "bot_p90_s", "relay_median_s", "ratio", "lost",
                       "duplicates")}))


if __name__ == "__main__":
    main()
