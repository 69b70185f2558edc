"""The core scenario on Telegram, end to end over the Bot API stand-in (console off): a
coordinator creates a case and invites a landlord and a coach with deep links; the landlord
posts a missed-rent signal, picking its kind with a button; the coach acknowledges it with the
button, the message is edited and its button is gone, and a second press is harmless; a
button pressed after a restart still works, through the choice stored with its message. A
message to someone who blocked the bot is reported to the coordinator; a group is linked to a
case without the bot chattering in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain.clock import ManualClock
from bot.transports.telegram import parse_choice_data
from tests.support.telegram_harness import CASE, DEEP_LINK, TelegramHarness

COCO, LOTTE, BRAM, EVE = 1, 2, 3, 9
GROUP = -1009876543210


@pytest.fixture
async def tg(database_url: str, clock: ManualClock) -> AsyncIterator[TelegramHarness]:
    harness = TelegramHarness(database_url, clock, coordinator=COCO)
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.api.stats.http_429 == 0  # paced within Telegram's limits throughout


async def new_case(tg: TelegramHarness) -> str:
    tg.says(COCO, "/nieuwezaak", "Coco")
    await tg.until(lambda: tg.has(COCO, "is aangemaakt"))
    match = CASE.search(tg.last_with(COCO, "is aangemaakt").text)
    assert match is not None
    return match.group(0)


async def join(tg: TelegramHarness, user_id: int, name: str, case: str, role: str) -> None:
    """The coordinator invites; the invitee opens the deep link (Telegram sends /start)."""
    before = len(tg.chat(COCO))
    tg.says(COCO, f"/uitnodigen {case} {role}", "Coco")
    await tg.until(lambda: len(tg.chat(COCO)) > before)
    invitation = tg.chat(COCO)[-1].text
    link = DEEP_LINK.search(invitation)
    assert link is not None, invitation
    assert link.group(1) == "KorteLijnTestBot"
    tg.says(user_id, f"/start {link.group(2)}", name)
    await tg.until(lambda: tg.has(user_id, "Welkom bij KorteLijn")
                   and tg.has(COCO, f"{name} is nu {role}"))


async def test_signal_through_buttons_on_three_phones(tg: TelegramHarness) -> None:
    case = await new_case(tg)
    await join(tg, LOTTE, "Lotte", case, "verhuurder")
    await join(tg, BRAM, "Bram", case, "begeleider")
    assert tg.texts(LOTTE) == [
        f"Welkom bij KorteLijn. Je bent nu verhuurder in zaak {case}. "
        "Stuur /help voor wat je kunt doen."]

    # the landlord asks to pass on a signal and picks its kind with a button
    tg.says(LOTTE, "/signaal", "Lotte")
    await tg.until(lambda: tg.has(LOTTE, "Welk soort signaal"))
    choose = tg.last_with(LOTTE, "Welk soort signaal")
    labels = {b["text"]: b["callback_data"] for row in choose.buttons for b in row}
    # a button carries a reference to the choice stored with the message, no command
    assert all(parse_choice_data(data) is not None for data in labels.values())
    assert all(len(data.encode()) <= 64 for data in labels.values())
    press = tg.presses(LOTTE, choose, labels["gemiste huurbetaling"])
    await tg.until(lambda: tg.has(BRAM, "Nieuw signaal #1")
                   and tg.has(LOTTE, "is doorgegeven aan: begeleider (Bram)"))
    assert tg.api.callback_answer(press["callback_query"]["id"]) is not None
    # the pick is final: the list loses its buttons and shows the pick; a double tap is refused
    await tg.until(lambda: tg.api.message(LOTTE, choose.message_id).reply_markup is None)
    assert choose.text.endswith("→ Gekozen: gemiste huurbetaling")
    tg.presses(LOTTE, choose, labels["gemiste huurbetaling"], check_button=False)
    await tg.until(lambda: tg.has(LOTTE, "Je had hier al een keuze gemaakt."))
    assert not tg.has(BRAM, "#2")

    # the coach receives it with a button, and acknowledges with it
    signal = tg.last_with(BRAM, "Nieuw signaal #1")
    assert f"zaak {case}: gemiste huurbetaling, van verhuurder (Lotte)" in signal.text
    (ack,) = signal.callback_data
    assert parse_choice_data(ack) is not None
    assert signal.buttons[0][0]["text"] == "Bevestigen"
    press = tg.presses(BRAM, signal, ack)
    await tg.until(lambda: tg.has(LOTTE, "bevestigd door begeleider (Bram)")
                   and "✓ Bevestigd door begeleider (Bram)" in tg.api.message(
                       BRAM, signal.message_id).text
                   and tg.has(BRAM, "is bevestigd; de melder (verhuurder) krijgt bericht"))
    assert tg.api.callback_answer(press["callback_query"]["id"]) is not None

    # the message was edited in place: same message, its button gone
    edited = tg.api.message(BRAM, signal.message_id)
    assert edited.text.startswith(edited.history[0].text + "\n✓ Bevestigd door begeleider (Bram)")
    assert edited.callback_data == []
    assert edited.reply_markup is None
    assert [v.reply_markup is not None for v in edited.history] == [True]

    # a second press (a stale screen) is harmless: nothing changes, the coach hears why
    lotte_before, versions = len(tg.chat(LOTTE)), len(edited.history)
    bram_before = len(tg.chat(BRAM))
    again = tg.presses(BRAM, edited, ack, check_button=False)
    await tg.until(lambda: len(tg.chat(BRAM)) > bram_before)
    assert tg.chat(BRAM)[-1].text == "Je had hier al een keuze gemaakt."
    assert tg.api.callback_answer(again["callback_query"]["id"]) is not None
    assert len(tg.chat(LOTTE)) == lotte_before
    assert len(tg.api.message(BRAM, signal.message_id).history) == versions

    # what each phone shows, in order
    expected = {
        LOTTE: ["Welkom bij KorteLijn. Je bent nu verhuurder",
                f"Welk soort signaal geef je door in zaak {case}?",
                f"Signaal #1 (gemiste huurbetaling) in zaak {case} is doorgegeven aan: "
                "begeleider (Bram).",
                "Je had hier al een keuze gemaakt.",
                f"Je signaal #1 (gemiste huurbetaling) in zaak {case} is bevestigd door "
                "begeleider (Bram)."],
        BRAM: ["Welkom bij KorteLijn. Je bent nu begeleider",
               f"Nieuw signaal #1 in zaak {case}: gemiste huurbetaling",
               f"Signaal #1 (gemiste huurbetaling) in zaak {case} is bevestigd",
               "Je had hier al een keuze gemaakt."],
    }
    for chat, starts in expected.items():
        texts = tg.texts(chat)
        assert len(texts) == len(starts), texts
        assert all(text.startswith(start) for text, start in zip(texts, starts, strict=True)), \
            texts
    assert not tg.has(COCO, "signaal")  # the coordinator sees no case content


async def test_a_button_pressed_after_a_restart_still_works(tg: TelegramHarness) -> None:
    case = await new_case(tg)
    await join(tg, LOTTE, "Lotte", case, "verhuurder")
    await join(tg, BRAM, "Bram", case, "begeleider")
    tg.says(LOTTE, f"/signaal {case} huurachterstand Huur oktober niet betaald", "Lotte")
    await tg.until(lambda: tg.has(BRAM, "Nieuw signaal #1") and tg.has(LOTTE, "doorgegeven"))
    tg.clock.advance(timedelta(seconds=1))  # one message a second to a chat
    assert tg.app is not None
    await tg.app.delivery.deliver_due()
    await tg.until(lambda: tg.has(LOTTE, "Versturen?"))
    preview = tg.last_with(LOTTE, "Versturen?")
    signal = tg.last_with(BRAM, "Nieuw signaal #1")

    # the bot restarts (a new process on the same database): nothing is kept in memory
    await tg.restart()
    send, team_only, withhold = preview.callback_data
    tg.presses(LOTTE, preview, team_only)
    await tg.until(lambda: tg.has(BRAM, "Huur oktober niet betaald")
                   and tg.api.message(LOTTE, preview.message_id).reply_markup is None)
    assert tg.api.message(LOTTE, preview.message_id).text.endswith(
        "→ Gekozen: Alleen zorgteam")
    # once picked, the other buttons of that message are refused, also after another restart
    await tg.restart()
    tg.presses(LOTTE, preview, withhold, check_button=False)
    await tg.until(lambda: tg.has(LOTTE, "Je had hier al een keuze gemaakt."))
    assert not tg.has(LOTTE, "wordt niet verstuurd")

    # the coach's button too
    (ack,) = signal.callback_data
    tg.presses(BRAM, signal, ack)
    await tg.until(lambda: tg.has(LOTTE, "bevestigd door begeleider (Bram)"))
    # a button of another chat's message, forged into this chat, picks nothing
    bram_before = len(tg.chat(BRAM))
    tg.presses(BRAM, signal, send, check_button=False)
    await tg.until(lambda: len(tg.chat(BRAM)) > bram_before)
    assert tg.chat(BRAM)[-1].text.startswith("Die keuze is er niet meer.")


async def test_the_coordinator_is_told_when_a_message_cannot_be_delivered(
        tg: TelegramHarness) -> None:
    case = await new_case(tg)
    await join(tg, LOTTE, "Lotte", case, "verhuurder")
    await join(tg, BRAM, "Bram", case, "begeleider")
    tg.api.block(BRAM)  # the coach blocks the bot
    tg.says(LOTTE, f"/signaal {case} huurachterstand Huur oktober niet betaald", "Lotte")
    await tg.until(lambda: tg.has(COCO, "kon niet worden afgeleverd"))
    report = tg.last_with(COCO, "kon niet worden afgeleverd").text
    assert report == ("Een bericht aan Bram via Telegram kon niet worden afgeleverd "
                      "(de ontvanger heeft de bot geblokkeerd).")
    assert tg.has(LOTTE, "is doorgegeven aan: begeleider (Bram)")

    # not retried, also not later
    attempts = [c for c in tg.api.calls("sendMessage") if c.params.get("chat_id") == str(BRAM)]
    assert attempts[-1].status == 403
    app = tg.app
    assert app is not None
    tg.clock.advance(timedelta(hours=1))
    await app.delivery.deliver_due()
    assert [c for c in tg.api.calls("sendMessage")
            if c.params.get("chat_id") == str(BRAM)] == attempts


async def test_a_group_is_linked_to_a_case_without_chatter(tg: TelegramHarness) -> None:
    case = await new_case(tg)
    await join(tg, LOTTE, "Lotte", case, "verhuurder")
    await join(tg, BRAM, "Bram", case, "begeleider")
    group = {"chat_id": GROUP, "chat_type": "supergroup", "title": "Team Zuid"}

    # people without the right get no answer at all; nor do other commands in a group
    tg.says(EVE, f"/koppel {case}", "Eve", **group)
    tg.says(LOTTE, f"/koppel {case}", "Lotte", **group)
    tg.says(BRAM, f"/status@KorteLijnTestBot {case}", "Bram", **group)
    tg.says(BRAM, "/koppel Z-2222", "Bram", **group)

    # the coach may: the answer is a reply to the command and names only the case code
    command = tg.says(BRAM, f"/koppel@KorteLijnTestBot {case}", "Bram", **group)
    await tg.until(lambda: tg.chat(GROUP))
    (answer,) = tg.chat(GROUP)
    assert answer.text == f"Deze groep is gekoppeld aan zaak {case}."
    assert answer.reply_to is not None
    assert answer.reply_to.message_id == command["message"]["message_id"]
    app = tg.app
    assert app is not None
    async with app.new_uow() as uow:
        linked = await uow.case_chats.of_chat("telegram", str(GROUP))
        assert linked is not None
        assert (await uow.cases.get(linked.case_id)).code == case  # type: ignore[union-attr]

    # in a private chat the command says where it works
    tg.says(BRAM, f"/koppel {case}", "Bram")
    await tg.until(lambda: tg.has(BRAM, "alleen in een groep"))

    tg.says(COCO, "/ontkoppel", "Coco", **group)
    await tg.until(lambda: len(tg.chat(GROUP)) == 2)
    assert tg.chat(GROUP)[-1].text == f"Deze groep is niet meer gekoppeld aan zaak {case}."
    async with app.new_uow() as uow:
        assert await uow.case_chats.of_chat("telegram", str(GROUP)) is None
