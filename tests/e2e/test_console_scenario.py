"""The core scenario, typed into the console: a coordinator creates a case and invites a
landlord and a coach; the landlord posts a missed-rent signal; the coach acknowledges it. And
when nobody acknowledges, the reminder and the lapse come on time, across restarts."""

from __future__ import annotations

from datetime import timedelta

from tests.support.harness import ConsoleHarness


async def test_signal_is_received_and_acknowledged(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")

    await bot.type("/als Lotte")
    lines = await bot.type(f"/signaal {case} huurachterstand Huur oktober niet betaald")
    to_lotte, to_bram = bot.to("Lotte", lines), bot.to("Bram", lines)
    assert any("#1" in line and "begeleider (Bram)" in line for line in to_lotte), lines
    assert any("Nieuw signaal #1" in line and case in line for line in to_bram), lines
    assert any("/ok 1" in line for line in to_bram)
    # the note waits until Lotte has seen who will read it
    assert not any("Huur oktober niet betaald" in line for line in to_bram), lines
    assert any("gaat naar: begeleider (Bram)" in line for line in to_lotte), lines
    lines = await bot.type("1")  # Versturen
    assert any("Huur oktober niet betaald" in line for line in bot.to("Bram", lines)), lines
    assert any("verstuurd aan: begeleider (Bram)" in line for line in bot.to("Lotte", lines))

    await bot.type("/als Bram")
    lines = await bot.type("/ok 1")
    assert any("bevestigd" in line for line in bot.to("Bram", lines)), lines
    assert any("bevestigd door begeleider (Bram)" in line for line in bot.to("Lotte", lines))

    # nothing more comes when the window would have lapsed
    later = await bot.advance(timedelta(hours=49))
    assert later == []
    lines = await bot.type("/ok 1")
    assert any("al bevestigd" in line for line in bot.to("Bram", lines)), lines


async def test_reminder_and_lapse_on_time(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "landlord")
    await bot.join("Bram", case, "coach")
    await bot.type("/als Lotte")
    bot.clock.advance(timedelta(hours=5))  # Monday 14:00: the reminder falls at 10:00, by day
    await bot.type(f"/signaal {case} missed_rent")

    assert await bot.advance(timedelta(hours=43, minutes=59)) == []
    lines = await bot.advance(timedelta(minutes=1))  # 4 hours before the 48-hour deadline
    reminder = bot.to("Bram", lines)
    assert any("Herinnering" in line and "#1" in line for line in reminder), lines
    assert not any("te laat" in line for line in reminder)
    assert bot.to("Lotte", lines) == []

    assert await bot.advance(timedelta(hours=3, minutes=59)) == []
    lines = await bot.advance(timedelta(minutes=1))
    assert any("Termijn verlopen" in line for line in bot.to("Bram", lines)), lines
    assert any("Termijn verlopen" in line for line in bot.to("Lotte", lines)), lines
    # no team lead in this case: after 72 hours the coordinator hears of it, without content
    later = await bot.advance(timedelta(days=3))
    assert later == bot.to_all("Coordinator", later)
    assert len(later) == 1
    assert "Escalatie" in later[0]
    assert "huur" not in later[0]
    assert await bot.advance(timedelta(days=30)) == []


async def test_restart_while_window_open_then_while_it_lapses(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "landlord")
    await bot.join("Bram", case, "coach")
    await bot.type("/als Lotte")
    bot.clock.advance(timedelta(hours=5))
    await bot.type(f"/signaal {case} mailbox_full")

    # restart while the window is open: the reminder still comes on time, not late
    await bot.restart()
    assert bot.app is not None
    assert bot.app.scheduler.armed_for == bot.clock.now() + timedelta(hours=44)
    lines = await bot.advance(timedelta(hours=44))
    assert any("Herinnering" in line for line in bot.to("Bram", lines)), lines
    assert not any("te laat" in line for line in lines)

    # down while it lapses: at start-up the lapse is carried out at once, marked late
    await bot.stop()
    bot.clock.advance(timedelta(hours=6))
    await bot.start()
    lines = bot.new_output()
    lapsed_bram = [line for line in bot.to("Bram", lines) if "Termijn verlopen" in line]
    lapsed_lotte = [line for line in bot.to("Lotte", lines) if "Termijn verlopen" in line]
    assert len(lapsed_bram) == 1, lines
    assert len(lapsed_lotte) == 1, lines
    assert any("te laat" in line for line in bot.to("Bram", lines))

    # and never again, also not after another restart
    await bot.restart()
    assert not any("Termijn verlopen" in line for line in bot.new_output())


async def test_stranger_learns_nothing(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.type("/als Eve")
    for line in (f"/status {case}", f"/signaal {case} geluid", "/zaken", "/ok 1", "hallo",
                 "/start AAAA-BBBB-CCCC"):
        answer = bot.to("Eve", await bot.type(line))
        assert len(answer) == 1, answer
        assert case not in answer[0]
    # an invited person asking about a case they are not in hears the same as for no case
    await bot.join("Lotte", case, "landlord")
    other = await bot.new_case()
    await bot.type("/als Lotte")
    real = bot.to("Lotte", await bot.type(f"/status {other}"))
    fake = bot.to("Lotte", await bot.type("/status Z-2222"))
    assert real == [fake[0].replace("Z-2222", other)]
