"""The core scenario on a real Synapse, with three people as nio clients: the coordinator
invites a landlord and a coach, the landlord posts a signal, the coach acknowledges it by
reacting; in unencrypted and in encrypted rooms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.matrix_harness import CASE, INVITE, MatrixBot, Person, until
from tests.support.synapse import Synapse


@pytest.fixture
async def people(synapse: Synapse, tmp_path: Path) -> AsyncIterator[dict[str, Person]]:
    crowd = {name: Person(synapse, tmp_path, name) for name in ("coco", "lotte", "bram")}
    for person in crowd.values():
        await person.start()
    yield crowd
    for person in crowd.values():
        await person.stop()


async def direct_with_bot(person: Person, bot: MatrixBot, *, encrypted: bool) -> str:
    room_id = await person.open_direct(bot.user_id, encrypted=encrypted)
    await until(lambda: bot.user_id in person.client.rooms[room_id].users
                and bot.user_id not in person.client.rooms[room_id].invited_users,
                what="the bot joined the direct room")
    return room_id


async def enrol(coco: Person, coco_room: str, person: Person, bot: MatrixBot, case: str,
                role: str, *, encrypted: bool) -> str:
    seen = len(coco.from_bot(bot.user_id))
    await coco.say(coco_room, f"/uitnodigen {case} {role}")
    invitation = await coco.expect(bot.user_id, INVITE.pattern, after=seen)
    assert f"https://matrix.to/#/{bot.user_id}" in invitation.body
    match = INVITE.search(invitation.body)
    assert match is not None
    room_id = await direct_with_bot(person, bot, encrypted=encrypted)
    await person.say(room_id, f"/start {match[0]}")
    await person.expect(bot.user_id, "Welkom", room_id=room_id)
    return room_id


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_core_scenario(synapse: Synapse, tmp_path: Path, people: dict[str, Person],
                             encrypted: bool) -> None:
    coco, lotte, bram = people["coco"], people["lotte"], people["bram"]
    bot = MatrixBot(synapse, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
                    coordinator=coco.user_id)
    await bot.start()
    try:
        coco_room = await direct_with_bot(coco, bot, encrypted=encrypted)
        command = await coco.say(coco_room, "/nieuwezaak")
        created = await coco.expect(bot.user_id, CASE.pattern)
        # an answer is a reply, with HTML beside a plain body, as m.text
        assert created.content["m.relates_to"]["m.in_reply_to"]["event_id"] == command
        assert created.content["format"] == "org.matrix.custom.html"
        assert created.content["msgtype"] == "m.text"
        assert created.encrypted is encrypted
        case_match = CASE.search(created.body)
        assert case_match is not None
        case = case_match[0]

        lotte_room = await enrol(coco, coco_room, lotte, bot, case, "verhuurder",
                                 encrypted=encrypted)
        bram_room = await enrol(coco, coco_room, bram, bot, case, "begeleider",
                                encrypted=encrypted)

        await lotte.say(lotte_room, f"/signaal {case} huurachterstand")
        notice = await bram.expect(bot.user_id, r"Nieuw signaal #1", room_id=bram_room)
        # the bot's own message is a notice; the choice a numbered list with its emoji
        assert notice.content["msgtype"] == "m.notice"
        assert "1. \u2705" in notice.body
        assert "<ol>" in notice.content["formatted_body"]
        assert notice.encrypted is encrypted

        # acknowledged by reacting (✅ with the variation selector in one run, without in
        # the other); encrypted rooms get an encrypted reaction
        await bram.react(bram_room, notice.event_id, "\u2705\ufe0f" if encrypted else "\u2705")
        await lotte.expect(bot.user_id, r"bevestigd door begeleider", room_id=lotte_room)
        # the notice is edited: its choice is visibly gone
        edit = await until(lambda: next(
            (r for r in bram.from_bot(bot.user_id, bram_room)
             if r.content.get("m.relates_to", {}).get("rel_type") == "m.replace"
             and r.content["m.relates_to"]["event_id"] == notice.event_id), None),
            what="the edit of the notice")
        new = edit.content["m.new_content"]
        assert "\u2705" not in new["body"]
        assert "Bevestigd door begeleider" in new["body"]
        # a second reaction is refused: the choice was used once
        seen = len(bram.from_bot(bot.user_id, bram_room))
        await bram.react(bram_room, notice.event_id, "\u2705" if encrypted else "\u2705\ufe0f")
        await bram.expect(bot.user_id, "al een keuze", room_id=bram_room, after=seen)
        # a note waits for its poster's go; she picks "send" by its number (typed bare in
        # one run, as a reply to the preview in the other)
        await lotte.say(lotte_room, f"/signaal {case} geluid Buren klagen over muziek")
        preview = await lotte.expect(bot.user_id, "gaat naar", room_id=lotte_room)
        assert "1. 1\ufe0f\u20e3" in preview.body
        await lotte.say(lotte_room, "1", reply_to=preview.event_id if encrypted else None)
        await bram.expect(bot.user_id, "Buren klagen over muziek", room_id=bram_room)
        assert bram.undecrypted == 0
    finally:
        await bot.stop()
