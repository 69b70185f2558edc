"""A shared case chat on Telegram is sent only what everyone in it may see: the bot counts its
members (getChatMemberCount), follows joins and leaves where it is an administrator
(chat_member updates), and while anyone is unaccounted for the chat hears only that there is
news. Over the Bot API stand-in on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.clock import ManualClock
from tests.e2e.test_telegram_scenario import BRAM, COCO, EVE, GROUP, LOTTE, join, new_case
from tests.support.telegram_harness import TelegramHarness

GROUP_CHAT = {"chat_id": GROUP, "chat_type": "supergroup", "title": "Team Zuid"}


@pytest.fixture
async def tg(database_url: str, clock: ManualClock) -> AsyncIterator[TelegramHarness]:
    harness = TelegramHarness(database_url, clock, coordinator=COCO)
    await harness.start()
    yield harness
    await harness.stop()


async def group_shows(tg: TelegramHarness, count: int) -> list[str]:
    await tg.until(lambda: len(tg.chat(GROUP)) >= count)
    return tg.texts(GROUP)


async def settled(tg: TelegramHarness) -> None:
    """Every queued update handled (polling is asynchronous) and its messages out."""
    await tg.api.wait_for(lambda: not tg.api.pending_updates)
    await tg.api.wait_for(lambda: tg.api.waiting_polls > 0)
    assert tg.app is not None
    await tg.app.delivery.deliver_due()


async def test_a_group_is_sent_no_more_than_everyone_in_it_may_see(
        tg: TelegramHarness) -> None:
    case = await new_case(tg)
    await join(tg, LOTTE, "Lotte", case, "verhuurder")
    await join(tg, BRAM, "Bram", case, "begeleider")
    tg.says(BRAM, f"/koppel@KorteLijnTestBot {case}", "Bram", **GROUP_CHAT)
    await group_shows(tg, 1)
    await tg.api.wait_for(lambda: tg.api.calls("getChatMemberCount"))

    # the bot is no administrator: it is not told who joins, so it assumes a stranger
    tg.api.member_joins(GROUP, EVE, first_name="Eve")
    tg.says(LOTTE, f"/signaal {case} brievenbus", "Lotte")
    shown = await group_shows(tg, 2)
    assert shown[-1].startswith("Er is nieuws in zaak")
    assert "brievenbus" not in shown[-1]

    # made an administrator: it counts again, and hears of joins and leaves from now on
    tg.api.member_leaves(GROUP, EVE)
    tg.api.promote_bot(GROUP, by=BRAM)
    await settled(tg)
    tg.says(LOTTE, f"/signaal {case} geluid", "Lotte")
    shown = await group_shows(tg, 3)
    assert "geluid" in shown[-1]  # Bram alone in it: the coach may see the facts
    assert "Lotte" in shown[-1]

    # a stranger joins: the count is more than the members the bot knows
    tg.api.member_joins(GROUP, EVE, first_name="Eve")
    await settled(tg)
    tg.says(LOTTE, f"/signaal {case} stank", "Lotte")
    shown = await group_shows(tg, 4)
    assert shown[-1].startswith("Er is nieuws in zaak")
    assert "stank" not in shown[-1]

    # she leaves; the landlord joins: the chat's audience is the coach and the landlord
    tg.api.member_leaves(GROUP, EVE)
    tg.api.member_joins(GROUP, LOTTE, first_name="Lotte")
    await settled(tg)
    before, answers = len(tg.chat(GROUP)), len(tg.chat(BRAM))
    tg.says(BRAM, f"/signaal {case} zorgsignaal", "Bram")
    await tg.until(lambda: len(tg.chat(BRAM)) > answers)
    await settled(tg)
    assert len(tg.chat(GROUP)) == before  # a care concern: the landlord may not know of it
    tg.says(LOTTE, f"/signaal {case} vervuiling", "Lotte")
    shown = await group_shows(tg, before + 1)
    assert "vervuiling" in shown[-1]
    assert tg.app is not None
    async with tg.app.new_uow() as uow:
        chat = await uow.case_chats.of_chat("telegram", str(GROUP))
        assert chat is not None
        assert chat.member_total == 2
        assert chat.follows_members
        assert len(await uow.case_chats.members(chat.id)) == 2
