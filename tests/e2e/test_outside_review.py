"""What an outside reviewer typing into the console found: the README's transcript replays as
written; a refusal shows its whole usage line; who takes part in a case is told only as far as
the reader's role may know; a refusal names roles in the reader's language."""

from __future__ import annotations

import re
from pathlib import Path

from bot.domain.clock import ManualClock
from tests.support.harness import CASE, INVITE, ConsoleHarness, local

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN = re.compile(f"{CASE.pattern}|{INVITE.pattern}")


def _transcript() -> list[tuple[list[str], str | None]]:
    """The README's console session: (the lines printed, then the line typed), in order."""
    text = README.read_text()
    block = text.split("```text\n$ make run\n", 1)[1].split("```", 1)[0].splitlines()
    steps: list[tuple[list[str], str | None]] = []
    printed: list[str] = []
    for line in block:
        typed = re.match(r"^\w+> (.*)$", line)
        if typed:
            steps.append((printed, typed.group(1)))
            printed = []
        else:
            printed.append(line)
    steps.append((printed, None))
    return steps


def _swap(codes: dict[str, str], line: str) -> str:
    """A line with its case and invitation codes swapped by ``codes``."""
    return TOKEN.sub(lambda m: codes.get(m.group(0), m.group(0)), line)


async def test_readme_transcript_replays_exactly(database_url: str) -> None:
    # the README's session starts on Monday 23 November at 13:06
    bot = ConsoleHarness(database_url, ManualClock(local(2026, 11, 23, 13, 6)))
    await bot.start()
    try:
        printed = bot.new_output()
        theirs: dict[str, str] = {}  # the README's codes → this run's
        for expected, typed in _transcript():
            for want, got in zip(expected, printed, strict=False):
                for a, b in zip(TOKEN.findall(want), TOKEN.findall(got), strict=False):
                    theirs.setdefault(a, b)
            ours = {b: a for a, b in theirs.items()}
            shown = [_swap(ours, line) for line in printed]
            assert shown == expected, (typed, shown, expected)
            if typed is None:
                break
            printed = await bot.type(_swap(theirs, typed))
    finally:
        await bot.stop()


async def test_a_refusal_shows_the_whole_usage(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Lotte")
    await bot.type(f"/klacht {case} geluid | 22-11 | 23-11 | anoniem | Harde muziek")
    await bot.type("/als Bram")
    await bot.type("/aanpak K1 Gesprek met de deelnemer")
    # the coach's view is missing: the note's first word is read in its place
    lines = bot.to("Bram", await bot.type("/beoordeling K1 onbewust terecht Muziek te hard"))
    assert lines == ["Gebruik: /beoordeling K<nr> bewust|onbewust terecht|onterecht "
                     "terecht|onterecht [toelichting] (gedrag; volgens de deelnemer; "
                     "volgens de begeleider)"], lines
    await bot.type("/taal en")
    lines = bot.to("Bram", await bot.type("/assess K1 unconscious justified"))
    assert lines == ["Usage: /assess K<no> conscious|unconscious justified|unjustified "
                     "justified|unjustified [comment] (behaviour; per the tenant; per the "
                     "coach)"], lines
    # English says "no", as everywhere else
    assert not [line for line in bot.to("Bram", await bot.type("/help")) if "<nr>" in line]


async def test_who_takes_part_is_told_as_the_role_may_know(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    people = (("Lotte", "verhuurder"), ("Bram", "begeleider"), ("Wout", "wijkagent"),
              ("Gert", "gemeente"), ("Mia", "buurtbemiddeling"), ("Pim", "procesmonitor"),
              ("Dirk", "deelnemer"), ("Sanne", "schuldhulp"))
    for name, role in people:
        await bot.join(name, case, role)

    async def members(name: str) -> str:
        await bot.type(f"/als {name}")
        lines = bot.to(name, await bot.type(f"/status {case}"))
        return next(line for line in lines if line.startswith("Betrokken:"))

    everyone = ("begeleider", "verhuurder", "wijkagent", "gemeente", "buurtbemiddeling",
                "procesmonitor", "deelnemer", "schuldhulp")
    for name in ("Bram", "Lotte"):
        listed = await members(name)
        assert all(role in listed for role in everyone), listed
    # the police know of no money trouble and no trajectory
    police = await members("Wout")
    assert "schuldhulp" not in police, police
    assert "procesmonitor" not in police, police
    assert "verhuurder" in police, police
    assert "begeleider" in police, police
    # debt help knows of rent arrears only: not of the police, nor of a trajectory
    debt = await members("Sanne")
    assert "wijkagent" not in debt, debt
    assert "procesmonitor" not in debt, debt
    assert "verhuurder" in debt, debt
    assert "schuldhulp" in debt, debt
    # the mediator learns nothing of the case beyond the referral: only their own role
    assert await members("Mia") == "Betrokken: 1× buurtbemiddeling"
    # the same in the case's timeline
    await bot.type("/als Mia")
    file = bot.to("Mia", await bot.type(f"/dossier {case}"))
    assert not [line for line in file if "begeleider" in line or "verhuurder" in line], file
    await bot.type("/als Wout")
    file = bot.to("Wout", await bot.type(f"/dossier {case}"))
    assert not [line for line in file if "schuldhulp" in line or "procesmonitor" in line]
    assert [line for line in file if "verhuurder doet mee" in line], file


async def test_a_refusal_names_roles_in_the_readers_language(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.type("/als Lotte")
    lines = bot.to("Lotte", await bot.type(f"/bewijs {case} politierapport 20-11 rapport"))
    assert lines == ["Een politierapport leg je niet vast in jouw rol; dat doet: wijkagent."]
    await bot.type("/taal en")
    lines = bot.to("Lotte", await bot.type(f"/evidence {case} politierapport 20-11 report"))
    assert len(lines) == 1, lines
    assert "police" in lines[0], lines
    assert "wijkagent" not in lines[0], lines


async def test_a_refused_moment_or_kind_says_in_full_what_is_accepted(
        bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.type("/als Lotte")
    await bot.type("/taal en")
    # Monday 23 November: the examples are of the day before, in English words
    lines = bot.to("Lotte", await bot.type(f"/letter {case} 3 tomorrow"))
    assert lines == ["'tomorrow' is no moment now or in the past year. For example: now, "
                     "yesterday 22:30, 22-11 22:30, 2026-11-22."], lines
    lines = bot.to("Lotte", await bot.type(f"/evidence {case} foo 22-11 x"))
    assert len(lines) == 1, lines
    assert "…" not in lines[0], lines
    assert lines[0].endswith("police_report, atmosphere_report, behaviour_directive."), lines
    assert "verklaring" not in lines[0], lines
    await bot.type("/taal nl")
    lines = bot.to("Lotte", await bot.type(f"/brief {case} 3 morgen"))
    assert lines == ["'morgen' is geen moment nu of in het afgelopen jaar. Bijvoorbeeld: nu, "
                     "gisteren 22:30, 22-11 22:30, 2026-11-22."], lines


async def test_a_reflection_in_an_open_case_does_not_call_it_closed(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    await bot.join("Lotte", case, "verhuurder")
    await bot.join("Bram", case, "begeleider")
    await bot.type("/als Lotte")
    await bot.type(f"/vonnis {case}")
    await bot.type("/als Bram")
    lines = bot.to("Bram", await bot.type(f"/reflectie {case}"))
    assert lines[0].startswith(f"Zaak {case}: reflectie op de zaak, na een ontruimingsvonnis."), \
        lines
    assert not [line for line in lines if "gesloten" in line], lines
    await bot.type("/annuleer")
    await bot.type("/taal en")
    lines = bot.to("Bram", await bot.type(f"/reflect {case}"))
    assert lines[0].startswith(f"Case {case}: reflection on the case, after an eviction"), lines


async def test_who_may_not_know_a_complaint_is_not_told_it_exists(bot: ConsoleHarness) -> None:
    case = await bot.new_case()
    for name, role in (("Lotte", "verhuurder"), ("Bram", "begeleider"), ("Pim", "procesmonitor"),
                       ("Dirk", "deelnemer"), ("Mia", "buurtbemiddeling"), ("Wout", "wijkagent")):
        await bot.join(name, case, role)
    await bot.type("/als Lotte")
    await bot.type(f"/klacht {case} geluid | gisteren | nu | anoniem | Harde muziek")
    for name in ("Pim", "Dirk", "Mia"):
        await bot.type(f"/als {name}")
        there = bot.to(name, await bot.type("/antwoord K1 geen"))
        nowhere = bot.to(name, await bot.type("/antwoord K2 geen"))
        assert there == [line.replace("K2", "K1") for line in nowhere], (name, there, nowhere)
        assert there == ["Er is geen klacht K1 die jij kunt zien."], there
    # the police may know of it, and are told they were not asked (yet)
    await bot.type("/als Wout")
    assert bot.to("Wout", await bot.type("/antwoord K1 geen")) == [
        "Jou is over klacht K1 (nog) niets gevraagd."]
