"""Choices and guided conversations are core state in the database: typed into the console,
they work the same after a restart (a new bot on the same database, with nothing in memory); a
choice is used once; a number outside a list is answered with the numbers that are valid; a
person can be in two conversations at once, one per case, and cancel either."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.persistence import orm
from bot.services.retention import purge_due
from bot.transports.base import Incoming
from tests.support.harness import ConsoleHarness


async def tenant_in(bot: ConsoleHarness, *cases: str) -> None:
    for case in cases:
        await bot.join("Bram", case, "begeleider")
        await bot.join("Dirk", case, "deelnemer")
    await bot.type("/als Dirk")


async def restart(bot: ConsoleHarness, name: str) -> None:
    """A new bot on the same database; the console types as ``name`` again."""
    await bot.restart()
    await bot.type(f"/als {name}")


async def outbox_to(bot: ConsoleHarness, name: str) -> list[orm.OutboxRow]:
    """The messages to a console person, oldest first."""
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        rows = (await uow.session.execute(select(orm.OutboxRow).order_by(orm.OutboxRow.id))
                ).scalars().all()
        return [r for r in rows if r.transport == "console" and r.address == name.lower()]


async def signals(bot: ConsoleHarness) -> list[orm.SignalRow]:
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        return list((await uow.session.execute(select(orm.SignalRow).order_by(
            orm.SignalRow.id))).scalars())


async def test_a_report_survives_a_restart_in_every_state(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await tenant_in(bot, case)
    prompt = bot.to("Dirk", await bot.type("/melden"))
    assert prompt[0] == "Waar gaat je melding over?"
    assert prompt[1:] == ["  1) Ik word lastiggevallen door buren",
                          "  2) Er is onterecht over mij geklaagd"]  # no hidden commands
    # every restart is a new process on the same database: the console remembers nothing
    await restart(bot, "Dirk")
    assert "Wat is er gebeurd" in bot.to("Dirk", await bot.type("1"))[0]
    await restart(bot, "Dirk")
    assert "Wanneer" in bot.to("Dirk", await bot.type("Buurman schopt tegen mijn deur"))[0]
    await restart(bot, "Dirk")
    assert "Waar" in bot.to("Dirk", await bot.type("gisteravond 23:00"))[0]
    await restart(bot, "Dirk")
    # a number typed where free text is asked is an answer, not a pick
    preview = bot.to("Dirk", await bot.type("12"))
    assert "begeleider (Bram)" in preview[0]
    await restart(bot, "Dirk")
    lines = await bot.type("1")  # Versturen, picked on the preview shown before the restart
    assert any("is verstuurd" in line for line in bot.to("Dirk", lines)), lines
    (report,) = await signals(bot)
    assert report.kind == "harassed_tenant"
    assert report.note is not None
    assert "Waar: 12" in report.note
    assert "Buurman schopt" in report.note
    # the conversation is over: the next text is no answer to anything
    assert bot.to("Dirk", await bot.type("nog iets")) == [
        "Stuur een commando, bijvoorbeeld /help."]


async def test_a_pick_is_used_once_and_a_number_outside_the_list_says_what_is_valid(
        bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} huurachterstand Huur oktober niet betaald")
    for wrong in ("7", "0", "99999999999999999999"):
        answer = bot.to("Lotte", await bot.type(wrong))
        assert answer == ["Dat nummer staat niet in de lijst. Kies 1–3."], answer
    await restart(bot, "Lotte")
    assert bot.to("Lotte", await bot.type("4")) == [
        "Dat nummer staat niet in de lijst. Kies 1–3."]
    lines = await bot.type("2")  # care team only
    assert any("Huur oktober" in line for line in bot.to("Bram", lines))
    # the list is closed: another number on it is refused, nothing is sent again
    for again in ("1", "3"):
        lines = await bot.type(again)
        assert bot.to("Lotte", lines) == ["Je had hier al een keuze gemaakt."], lines
        assert bot.to("Bram", lines) == []
    await restart(bot, "Lotte")
    assert bot.to("Lotte", await bot.type("3")) == ["Je had hier al een keuze gemaakt."]
    (signal,) = await signals(bot)
    assert signal.note_status == "sent"
    # the pick is stored with the message, and the choices with what they do as data
    (preview,) = [r for r in await outbox_to(bot, "Lotte") if len(r.choices) == 3]
    assert preview.picked_index == 1
    assert [(c.action, c.subject_id, c.value) for c in preview.choices] == [
        ("note", signal.id, "verstuur"), ("note", signal.id, "zorgteam"),
        ("note", signal.id, "niet")]


async def test_a_single_button_is_used_once_too(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    await bot.type("/als Bram")
    assert bot.to("Bram", await bot.type("2")) == [
        "Dat nummer staat niet in de lijst. Kies 1."]
    await restart(bot, "Bram")
    lines = await bot.type("1")
    assert any("bevestigd door begeleider (Bram)" in line for line in bot.to("Lotte", lines))
    # the notice was edited (its button is gone); a number typed at it is refused
    assert bot.to("Bram", await bot.type("1")) == ["Je had hier al een keuze gemaakt."]


async def test_two_conversations_in_two_cases_each_cancellable(bot: ConsoleHarness) -> None:
    first, second = await bot.new_case(), await bot.new_case()
    await tenant_in(bot, first, second)
    which = bot.to("Dirk", await bot.type("/melden"))
    assert which == ["Over welke zaak gaat het?", f"  1) {first}  (/melden {first})",
                     f"  2) {second}  (/melden {second})"]
    assert bot.to("Dirk", await bot.type("1"))[0] == "Waar gaat je melding over?"
    await bot.type("1")  # harassed, in the first case
    # a second conversation in the other case: it names its case, as there are two now
    prompt = bot.to("Dirk", await bot.type(f"/melden {second}"))
    assert prompt[0] == f"(Zaak {second}) Waar gaat je melding over?"
    assert "Wat is er gebeurd" in bot.to("Dirk", await bot.type("2"))[0]
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        running = (await uow.session.execute(select(orm.Conversation))).scalars().all()
        assert sorted(r.state for r in running) == ["what", "what"]
    # typed text answers the conversation that asked last: the second
    await bot.type("Ik speel geen harde muziek")
    await bot.type("vorige week")
    preview = bot.to("Dirk", await bot.type("thuis"))
    assert f"(Zaak {second})" in preview[0]
    preview_row = (await outbox_to(bot, "Dirk"))[-1]
    # cancel it with /annuleer (the one that asked last)
    assert bot.to("Dirk", await bot.type("/annuleer")) == ["Je melding is niet verstuurd."]
    # its preview's buttons no longer answer anything (a stale screen after a restart)
    await restart(bot, "Dirk")
    assert bot.app is not None
    await bot.app.dispatcher.handle(Incoming(
        transport="console", chat_id="dirk", sender_id="dirk", sender_name="Dirk", text="1",
        is_choice=True, choice_index=0, choice_outbox_id=preview_row.id))
    await bot.app.delivery.deliver_due()
    assert bot.to("Dirk", bot.new_output()) == [
        "Die vraag staat niet meer open. Begin opnieuw als je wilt."]
    # a reference to no message of this chat (forged, or beyond any row id) picks nothing
    someone_elses = (await outbox_to(bot, "Coordinator"))[-1].id
    for forged in (someone_elses, 2**40):
        await bot.app.dispatcher.handle(Incoming(
            transport="console", chat_id="dirk", sender_id="dirk", sender_name="Dirk",
            text="", is_choice=True, choice_index=0, choice_outbox_id=forged))
    await bot.app.delivery.deliver_due()
    assert bot.to("Dirk", bot.new_output()) == [
        "Die keuze is er niet meer. Typ het commando of vraag het opnieuw op."] * 2
    # the first case's conversation runs on where it was
    assert "Wanneer" in bot.to("Dirk", await bot.type("De buurman scheldt"))[0]
    await bot.type("vanochtend")
    preview = bot.to("Dirk", await bot.type("in de lift"))
    assert "(Zaak" not in preview[0]  # one conversation again
    assert any("is verstuurd" in line for line in bot.to("Dirk", await bot.type("1")))
    (report,) = await signals(bot)
    async with bot.app.new_uow() as uow:
        case = await uow.cases.get(report.case_id)
        assert case is not None
        assert case.code == first
        assert (await uow.session.execute(select(orm.Conversation))).first() is None
    assert "Er loopt geen gesprek" in bot.to("Dirk", await bot.type("/annuleer"))[0]


async def test_cancel_with_its_button_and_answers_that_do_not_fit(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await tenant_in(bot, case)
    await bot.type("/melden")
    # text where a pick is asked: the answer says how to choose
    assert bot.to("Dirk", await bot.type("lastig")) == [
        "Kies een van de 2 mogelijkheden: tik op een knop of typ het nummer. "
        "Stoppen: /annuleer."]
    assert bot.to("Dirk", await bot.type("3")) == ["Dat nummer staat niet in de lijst. Kies 1–2."]
    await bot.type("1")
    too_long = bot.to("Dirk", await bot.type("x" * 1001))
    assert too_long == ["Dat is te lang (ten hoogste 1000 tekens). Probeer het korter."]
    assert "Wanneer" in bot.to("Dirk", await bot.type("x" * 1000))[0]  # the state held
    await bot.type("gisteren")
    await bot.type("trappenhuis")
    assert bot.to("Dirk", await bot.type("3")) == ["Je melding is niet verstuurd."]  # Annuleren
    assert await signals(bot) == []
    # the old commands behind the buttons are gone
    assert "/melden_soort" in bot.to("Dirk", await bot.type("/melden_soort harassed_tenant"))[0]
    assert bot.to("Bram", bot.new_output()) == []


async def test_a_conversation_left_alone_ends_by_itself(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await tenant_in(bot, case)
    await bot.type("/melden")
    await bot.type("1")
    bot.clock.advance(timedelta(hours=23, minutes=59))
    assert "Wanneer" in bot.to("Dirk", await bot.type("Geschreeuw"))[0]  # each answer renews
    bot.clock.advance(timedelta(hours=24))
    assert bot.to("Dirk", await bot.type("gisteren")) == [
        "Stuur een commando, bijvoorbeeld /help."]
    assert bot.app is not None
    # its answers (free text) are deleted by the daily retention run
    await purge_due(bot.app.new_uow, bot.app.ctx)
    async with bot.app.new_uow() as uow:
        assert (await uow.session.execute(select(orm.Conversation))).first() is None
