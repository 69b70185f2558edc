"""Rooms on a real Synapse: the bot joins a direct room when invited and tells a stranger only
how to get an invitation, leaves that room when no code is redeemed in time, joins a shared
room only when the coordinator or a care-team member invites it, links it with /koppel and
knows who is in it; it opens a direct room itself when it must reach someone first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.matrix.test_matrix_scenario import direct_with_bot, enrol
from tests.support.matrix_harness import CASE, MatrixBot, OffsetClock, Person, until
from tests.support.synapse import Synapse


@pytest.fixture
async def crowd(synapse: Synapse, tmp_path: Path) -> AsyncIterator[dict[str, Person]]:
    people = {name: Person(synapse, tmp_path, name)
              for name in ("coco", "bram", "lotte", "stranger")}
    for person in people.values():
        await person.start()
    yield people
    for person in people.values():
        await person.stop()


@pytest.fixture
async def bot(synapse: Synapse, tmp_path: Path, crowd: dict[str, Person]
              ) -> AsyncIterator[MatrixBot]:
    kortelijn = MatrixBot(synapse, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
                          coordinator=crowd["coco"].user_id, clock=OffsetClock(),
                          matrix={"unredeemed_room_after": "1d"})
    await kortelijn.start()
    yield kortelijn
    await kortelijn.stop()


async def test_a_stranger_learns_only_how_to_get_an_invitation(
        bot: MatrixBot, crowd: dict[str, Person]) -> None:
    coco, stranger = crowd["coco"], crowd["stranger"]
    coco_room = await direct_with_bot(coco, bot, encrypted=True)
    await coco.say(coco_room, "/nieuwezaak")
    created = await coco.expect(bot.user_id, CASE.pattern)
    case = CASE.search(created.body)
    assert case is not None

    room = await direct_with_bot(stranger, bot, encrypted=True)
    for attempt in (f"/status {case[0]}", f"/signaal {case[0]} huurachterstand",
                    "/zaken", "hallo", "/start ABCD-EFGH-JKMN"):
        await stranger.say(room, attempt)
    answers = await until(lambda: len(stranger.from_bot(bot.user_id)) >= 5 and
                          stranger.from_bot(bot.user_id), what="five answers")
    for answer in answers[:4]:
        assert "uitnodigingscode" in answer.body, answer.body
        assert case[0] not in answer.body
    assert case[0] not in answers[4].body

    # invited by a stranger into a shared room: the bot does not join
    group = await stranger.open_group([bot.user_id], encrypted=False)
    await coco.say(coco_room, "/zaken")  # something for the bot to answer after that sync
    await coco.expect(bot.user_id, case[0], after=1)
    await until(lambda: bot.user_id not in stranger.client.rooms[group].invited_users,
                what="the invitation declined")
    assert bot.user_id not in stranger.client.rooms[group].users

    # no code redeemed within the configured time: the bot leaves the stranger's room,
    # but stays in the coordinator's
    bot.clock.advance(timedelta(days=1, minutes=1))
    await bot.transport.leave_unredeemed()
    await until(lambda: bot.user_id not in stranger.client.rooms[room].users,
                what="the bot left the stranger's room")
    assert bot.user_id in coco.client.rooms[coco_room].users

    # the leave is persisted: after a restart nothing is pending for that room any more, and
    # the coordinator's room still works
    await bot.restart()
    await coco.say(coco_room, "/zaken")
    await coco.expect(bot.user_id, case[0], after=2)


async def test_group_room_linked_by_the_coordinator_lists_its_members(
        bot: MatrixBot, crowd: dict[str, Person]) -> None:
    coco, bram, stranger = crowd["coco"], crowd["bram"], crowd["stranger"]
    coco_room = await direct_with_bot(coco, bot, encrypted=False)
    await coco.say(coco_room, "/nieuwezaak")
    created = await coco.expect(bot.user_id, CASE.pattern)
    case = CASE.search(created.body)
    assert case is not None
    await enrol(coco, coco_room, bram, bot, case[0], "begeleider", encrypted=False)

    group = await coco.open_group([bot.user_id, bram.user_id, stranger.user_id],
                                  encrypted=True)
    await until(lambda: bot.user_id in coco.client.rooms[group].users
                and bot.user_id not in coco.client.rooms[group].invited_users,
                what="the bot joined the group")
    command = await coco.say(group, f"/koppel {case[0]}")
    linked = await coco.expect(bot.user_id, case[0], room_id=group)
    assert linked.content["m.relates_to"]["m.in_reply_to"]["event_id"] == command

    # the audience is every joined member, the silent one too (the stranger joined at
    # once and never wrote), never the bot
    await until(lambda: stranger.user_id in coco.client.rooms[group].users
                and stranger.user_id not in coco.client.rooms[group].invited_users,
                what="the stranger joined")
    audience = await bot.transport.audience(group)
    assert audience.member_ids == {coco.user_id, bram.user_id, stranger.user_id}
    assert audience.total == 3
    await stranger.leave(group)
    await until(lambda: stranger.user_id not in coco.client.rooms[group].users,
                what="the stranger left")
    audience = await bot.transport.audience(group)
    assert audience.member_ids == {coco.user_id, bram.user_id}
    assert audience.total == 2


async def test_the_bot_opens_a_direct_room_when_it_must_reach_someone_first(
        bot: MatrixBot, crowd: dict[str, Person]) -> None:
    coco, bram, lotte = crowd["coco"], crowd["bram"], crowd["lotte"]
    coco_room = await direct_with_bot(coco, bot, encrypted=True)
    await coco.say(coco_room, "/nieuwezaak")
    created = await coco.expect(bot.user_id, CASE.pattern)
    case = CASE.search(created.body)
    assert case is not None
    lotte_room = await enrol(coco, coco_room, lotte, bot, case[0], "verhuurder",
                             encrypted=True)
    bram_room = await enrol(coco, coco_room, bram, bot, case[0], "begeleider", encrypted=True)
    # Bram leaves his direct room; the bot leaves it too and forgets it
    await bram.leave(bram_room)
    await until(lambda: bram_room not in bot.transport._direct.values(),
                what="the bot forgot the room Bram left")
    # Lotte's signal must reach Bram: the bot opens a new, encrypted direct room
    await lotte.say(lotte_room, f"/signaal {case[0]} huurachterstand")
    notice = await bram.expect(bot.user_id, "Nieuw signaal", within=60)
    assert notice.room_id != bram_room
    assert notice.encrypted
    assert bram.client.rooms[notice.room_id].encrypted
    assert bram.undecrypted == 0


async def test_what_was_said_before_the_bot_first_started_is_never_handled(
        synapse: Synapse, tmp_path: Path, crowd: dict[str, Person]) -> None:
    coco = crowd["coco"]
    bot = MatrixBot(synapse, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'first.db'}",
                    coordinator=coco.user_id)
    # the coordinator invites the bot and writes before the bot ever ran
    room = await coco.open_direct(bot.user_id, encrypted=False)
    await coco.say(room, "/nieuwezaak")
    await bot.start()
    try:
        await until(lambda: bot.user_id in coco.client.rooms[room].users
                    and bot.user_id not in coco.client.rooms[room].invited_users,
                    what="the bot joined")
        await coco.say(room, "/help")
        await coco.expect(bot.user_id, "/nieuwezaak", room_id=room)
        assert not [r for r in coco.from_bot(bot.user_id) if CASE.search(r.body)
                    and "aangemaakt" in r.body]
    finally:
        await bot.stop()


async def test_a_direct_room_someone_else_joins_is_never_written_to_again(
        bot: MatrixBot, crowd: dict[str, Person]) -> None:
    coco, bram, lotte, stranger = (crowd[n] for n in ("coco", "bram", "lotte", "stranger"))
    coco_room = await direct_with_bot(coco, bot, encrypted=True)
    await coco.say(coco_room, "/nieuwezaak")
    created = await coco.expect(bot.user_id, CASE.pattern)
    case = CASE.search(created.body)
    assert case is not None
    lotte_room = await enrol(coco, coco_room, lotte, bot, case[0], "verhuurder",
                             encrypted=True)
    bram_room = await enrol(coco, coco_room, bram, bot, case[0], "begeleider", encrypted=True)
    # Bram brings someone into his direct room with the bot
    await bram.client.room_invite(bram_room, stranger.user_id)
    await until(lambda: bram_room in stranger.client.rooms
                and stranger.user_id in stranger.client.rooms[bram_room].users,
                what="the stranger joined Bram's room")
    await until(lambda: stranger.user_id in bot.transport._client.rooms[bram_room].users,  # type: ignore[union-attr]
                what="the bot saw the stranger join")
    await lotte.say(lotte_room, f"/signaal {case[0]} huurachterstand")
    notice = await bram.expect(bot.user_id, "Nieuw signaal", within=60)
    assert notice.room_id != bram_room
    # what the stranger says there is not taken as Bram's, and gets no answer
    await stranger.say(bram_room, f"/status {case[0]}")
    await bram.say(notice.room_id, "/zaken")
    await bram.expect(bot.user_id, case[0], room_id=notice.room_id, after=1)
    assert stranger.from_bot(bot.user_id) == []
