"""Need to know, typed into the console: the tenant's guided report end to end, a note that
waits for its poster, summaries and digests per role, the household pattern, and a tightened
policy."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.services.erasure import ERASED
from tests.support.harness import ConsoleHarness, local


async def everyone(bot: ConsoleHarness) -> str:
    case = await bot.new_case()
    for name, role in (("Lotte", "verhuurder"), ("Bram", "begeleider"), ("Tara", "teamleider"),
                       ("Wout", "wijkagent"), ("Gert", "gemeente"), ("Dirk", "deelnemer")):
        await bot.join(name, case, role)
    return case


async def test_the_tenants_report_end_to_end(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Dirk")
    lines = bot.to("Dirk", await bot.type("/melden"))
    assert lines[0] == "Waar gaat je melding over?"
    assert "Wat is er gebeurd" in bot.to("Dirk", await bot.type("1"))[0]  # harassed
    assert "niet verstuurd" in bot.to("Dirk", await bot.type("/annuleer"))[0]
    await bot.type("/melden")
    await bot.type("1")
    assert "Wanneer" in bot.to("Dirk", await bot.type("Buurman schopt tegen mijn deur"))[0]
    assert "Waar" in bot.to("Dirk", await bot.type("gisteravond 23:00"))[0]
    preview = bot.to("Dirk", await bot.type("in het trappenhuis"))
    assert "begeleider (Bram)" in preview[0]
    assert "verhuurder (Lotte)" in preview[0]
    assert "Wout" not in preview[0]  # the police are not told of the tenant's own report
    lines = await bot.type("1")  # send
    assert any("verstuurd" in line for line in bot.to("Dirk", lines))
    # the recipients get a neutral notice: nothing of the report on a lock screen
    to_bram = bot.to("Bram", lines)
    assert to_bram
    assert "schopt" not in to_bram[0]
    assert "/bekijk" in to_bram[0]
    assert bot.to("Wout", lines) == []
    assert bot.to("Gert", lines) == []
    await bot.type("/als Bram")
    shown = "\n".join(bot.to("Bram", await bot.type(f"/bekijk {number(to_bram[0])}")))
    assert "schopt tegen mijn deur" in shown
    assert "trappenhuis" in shown
    # the coach acknowledges: the tenant hears that there is news, neutrally
    lines = await bot.type(f"/ok {number(to_bram[0])}")
    news = bot.to("Dirk", lines)
    assert len(news) == 1
    assert "nieuws" in news[0]
    await bot.type("/als Dirk")
    status = "\n".join(bot.to("Dirk", await bot.type(f"/status {case}")))
    assert "in behandeling" in status or "bevestigd" in status
    # a report by the tenant never counts against the tenant: no pattern, no complaint
    await bot.type("/als Wout")
    assert "#" not in "\n".join(bot.to("Wout", await bot.type(f"/status {case}")))


def number(text: str) -> int:
    found = re.search(r"/bekijk (\d+)", text)
    assert found is not None, text
    return int(found.group(1))


async def test_complaints_reach_the_tenant_only_once_released(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} geluid Harde muziek na middernacht klager: buurvrouw 3")
    await bot.type("1")  # send the note to the default audience
    await bot.type("/als Dirk")
    assert "geluid" not in "\n".join(bot.to("Dirk", await bot.type(f"/status {case}")))
    await bot.type("/als Bram")
    lines = await bot.type("/vrijgeven 1")
    assert any("nieuws" in line for line in bot.to("Dirk", lines))
    await bot.type("/als Dirk")
    status = "\n".join(bot.to("Dirk", await bot.type(f"/status {case}")))
    assert "geluidsoverlast" in status
    assert "muziek" not in status
    assert "buurvrouw" not in status
    # the coach sees the note but not who complained; the police see neither
    await bot.type("/als Bram")
    shown = "\n".join(bot.to("Bram", await bot.type("/bekijk 1")))
    assert "Harde muziek" in shown
    assert "buurvrouw" not in shown
    await bot.type("/als Wout")
    shown = "\n".join(bot.to("Wout", await bot.type("/bekijk 1")))
    assert "buurvrouw" not in shown
    assert "Harde muziek" not in shown
    await bot.type("/als Lotte")
    assert "buurvrouw 3" in "\n".join(bot.to("Lotte", await bot.type("/bekijk 1")))


async def test_a_note_to_the_care_team_only(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} huurachterstand Drie maanden niet betaald")
    lines = await bot.type("2")  # care team only
    assert any("Drie maanden" in line for line in bot.to("Bram", lines))
    assert any("Drie maanden" in line for line in bot.to("Tara", lines))
    assert not any("Drie maanden" in line for line in bot.to("Gert", lines))
    # and a note withheld goes nowhere
    await bot.type(f"/signaal {case} brievenbus Post puilt uit")
    lines = await bot.type("3")
    assert not any("puilt" in line for line in lines if not line.startswith("[Lotte]"))


async def test_summaries_per_role_and_the_meeting_overview(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Bram")
    await bot.type(f"/signaal {case} zorgsignaal Gebruik neemt toe")
    await bot.type("1")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    await bot.type("/als Tara")
    summary = "\n".join(bot.to("Tara", await bot.type(f"/samenvatting {case}")))
    assert "zorgsignaal" in summary
    assert "brievenbus vol" in summary
    await bot.type("/als Wout")
    summary = "\n".join(bot.to("Wout", await bot.type(f"/samenvatting {case}")))
    assert "zorgsignaal" not in summary
    assert "brievenbus vol" in summary
    meeting = "\n".join(bot.to("Wout", await bot.type(f"/overleg {case}")))
    # the tenant is at the table too: nothing that the tenant may not see
    assert "zorgsignaal" not in meeting
    assert "brievenbus" not in meeting


async def test_the_daily_digest_at_a_time_of_ones_own(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    bot.clock.set(local(2026, 11, 23, 10, 0))
    await bot.type("/als Bram")
    assert "07:15" in "\n".join(await bot.type("/overzicht 07:15"))
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    assert bot.app is not None
    bot.clock.set(local(2026, 11, 24, 7, 14))
    await bot.app.digests.run()
    await bot.app.delivery.deliver_due()
    assert not any("Dagoverzicht" in line for line in bot.to("Bram", bot.new_output()))
    bot.clock.set(local(2026, 11, 24, 7, 15))
    await bot.app.digests.run()
    await bot.app.delivery.deliver_due()
    digest = bot.to("Bram", bot.new_output())
    assert any("Dagoverzicht" in line for line in digest)
    assert any("brievenbus vol" in line for line in digest)
    await bot.app.digests.run()  # once a day, however often it runs
    await bot.app.delivery.deliver_due()
    assert not any("Dagoverzicht" in line for line in bot.to("Bram", bot.new_output()))
    # Lotte's weekly digest on Monday: where her signal stands
    bot.clock.set(local(2026, 11, 30, 9, 0))
    await bot.app.digests.run()
    await bot.app.delivery.deliver_due()
    weekly = bot.to("Lotte", bot.new_output())
    assert any("Weekoverzicht" in line for line in weekly)


async def test_a_household_pattern_is_proposed_once(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} huurachterstand")
    await bot.type(f"/signaal {case} brievenbus")
    lines = await bot.type(f"/signaal {case} geluid")
    proposal = [line for line in bot.to("Tara", lines) if "Patroon" in line]
    assert len(proposal) == 1
    bot.clock.advance(timedelta(days=2))
    lines = await bot.type(f"/signaal {case} stank")
    assert not any("Patroon" in line for line in bot.to("Tara", lines))


async def test_a_tightened_policy_hides_more(database_url: str, clock: ManualClock) -> None:
    bot = ConsoleHarness(database_url, clock, {"privacy": {"hide": {"landlord": ["finance"]}}})
    await bot.start()
    try:
        case = await everyone(bot)
        await bot.type("/als Bram")
        await bot.type(f"/signaal {case} huurachterstand Schuldhulp loopt")
        preview = "\n".join(bot.to("Bram", await bot.type("1")))
        assert "verhuurder" not in preview
    finally:
        await bot.stop()


async def test_the_dossier_per_role(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Bram")
    await bot.type(f"/signaal {case} zorgsignaal Slaapt slecht")
    number = re.search(r"T(\d+)", "\n".join(bot.to("Bram", await bot.type(
        f"/termijn {case} N5"))))
    assert number is not None
    await bot.type(f"/pauzeer T{number.group(1)} opname kliniek")
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    await bot.type("/als Tara")
    file = "\n".join(bot.to("Tara", await bot.type(f"/dossier {case}")))
    assert "signaal #1 (zorgsignaal)" in file
    assert "signaal #2 (brievenbus vol)" in file
    assert "opname kliniek" in file  # the reason for the pause, for the care team
    await bot.type("/als Wout")
    file = "\n".join(bot.to("Wout", await bot.type(f"/dossier {case}")))
    assert "zorgsignaal" not in file
    assert "#1" not in file
    assert "opname" not in file
    assert "signaal #2 (brievenbus vol)" in file


async def test_a_person_can_have_the_bot_forget_them(bot: ConsoleHarness) -> None:
    case = await everyone(bot)
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    assert "Weet je het zeker" in "\n".join(bot.to("Lotte", await bot.type("/vergeetmij")))
    assert "gewist" in "\n".join(bot.to("Lotte", await bot.type("1")))
    # Lotte is a stranger now: one sentence on how to get an invitation, nothing else
    answer = bot.to("Lotte", await bot.type("/zaken"))
    assert len(answer) == 1
    assert "uitnodiging" in answer[0]
    # her signal stays with the case, without her name
    await bot.type("/als Bram")
    status = "\n".join(bot.to("Bram", await bot.type(f"/status {case}")))
    assert "brievenbus vol" in status
    assert "Lotte" not in status
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        names = [p.display_name for p in
                 (await uow.session.execute(select(orm.Person))).scalars()]
    assert "Lotte" not in names


async def test_erasure_reaches_the_outbox(bot: ConsoleHarness) -> None:
    """/vergeetmij: no message row keeps the person's chat address (delivered ones too), and
    their name is gone from the message texts still stored for other people."""
    case = await everyone(bot)
    await bot.type("/als Bram")
    await bot.type("/afwezig 3d Tara")  # Tara's notice names Bram; choices name colleagues
    await bot.type("/afwezig 3d")  # a choice list with Tara's name, kept while it may be edited
    await bot.type("/als Lotte")
    await bot.type(f"/signaal {case} brievenbus")
    assert bot.app is not None
    async with bot.app.new_uow() as uow:
        tara = await uow.persons.by_identity("console", "tara")
        assert tara is not None
        # a message to another person that names Tara, not yet delivered
        await uow.outbox.add(transport="console", address="bram", text="Tara belt je terug",
                             now=bot.clock.now(), not_before=bot.clock.now()
                             + timedelta(days=1), choices=[("Tara", "/ok 1")])
        await uow.commit()
        before = (await uow.session.execute(select(func.max(orm.OutboxRow.id)))).scalar_one()
    await bot.type("/als Tara")
    await bot.type("/vergeetmij bevestig")
    async with bot.app.new_uow() as uow:
        # (the answer that says so goes to her chat; it is purged as a message of no case)
        rows = list((await uow.session.execute(
            select(orm.OutboxRow).where(orm.OutboxRow.id <= before))).scalars())
    assert rows
    assert not [r for r in rows if r.address == "tara"]
    assert not [r for r in rows
                if "Tara" in r.text or any("Tara" in c.label for c in r.choices)]
    assert [r for r in rows if f"{ERASED} belt je terug" in r.text]
    assert [r for r in rows if any(c.label == ERASED for c in r.choices)]
