"""Bad input, by brute force: every command of the dispatcher's table, typed by every role
(and by the coordinator and a stranger), with arbitrary arguments: huge and negative numbers,
digits of other scripts, dates past the calendar's range, durations of a billion weeks, empty,
control characters, very long strings.

Two things must hold for every one of them:

- the unexpected-error path of the dispatcher (``error.internal``, "something went wrong", a
  logged traceback) is never taken: every refusal is a sentence that says what is accepted;
- a refused command leaves the database exactly as it was (nothing half-written): only the
  answer goes into the outbox.

The examples run through the real :class:`~handlers.dispatch.Dispatcher`, on SQLite and on
PostgreSQL. ``HYPOTHESIS_PROFILE=thorough`` runs many more of them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from bot import i18n
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.transports.base import Attachment, Incoming
from bot.transports.console import console_address
from handlers.dispatch import COMMANDS
from tests.support.harness import ConsoleHarness
from tests.support.profiles import examples

#: the people of the case, by name and the role word they join with
PEOPLE = (("Lotte", "verhuurder"), ("Bram", "begeleider"), ("Bea", "begeleider"),
          ("Tara", "teamleider"), ("Wout", "wijkagent"), ("Gert", "gemeente"),
          ("Mia", "bemiddelaar"), ("Pim", "procesmonitor"), ("Dirk", "deelnemer"),
          ("Sanne", "schuldhulp"), ("Kees", "crisisteam"))
SENDERS = ("Coordinator", *(name for name, _ in PEOPLE), "Vreemde")
GROUP = "groep-fuzz"

#: arguments that broke (or could break) a parser; ``{case}`` is the case's own code
NASTY = (
    "١٢", "١", "１２", "１", "²", "߁", "𝟙𝟚", "0", "00", "-1", "+3", "1.5", "1,5", "1e9",
    "00000000000000000001", str(2**31 - 1), str(2**31), str(2**63), str(10**30),
    "T1", "T0", "T99999999999", "T١٢", "t１", "#1", "#99999999999", "#-1",
    "99999999999w", "99999999999wd", "9999999999d", "99999999999h", "999999999mo",
    "P99999999999Y", "PT99999999999H", "P0D", "1.5wd", "0s", "-3d", "2w", "1wd", "3mo",
    "31-12-9999", "9999-12-31", "0001-01-01", "29-02-2027", "1-13", "32-1", "1-12-99999",
    "10000-01-01", "0-0", "1-12", "01/12", "2026-12-01",
    "24:00-25:00", "99:99", "22:00-07:30", "２２:００-０７:００", "٢٢:٠٠-٠٧:٠٠", "7", "07:45",
    "\x00", "a\x00b", "\u202e", "\ufeff", "\x1b[2J", "\t", "\r", "\n",
    "Z-AAAA", "z-2345", "{case}", "{case}", "{case}",
    "verstuur", "zorgteam", "niet", "bevestig", "uit", "nl", "en", "de",
    "verhuurder", "begeleider", "deelnemer", "gemeente", "coach", "landlord",
    "geluid", "huur", "zorg", "harassed_tenant", "N3", "n5", "N7", "N99", "Bea", "bea",
    # trajectories, rent arrears, the evaluation report
    "laatstekans", "doorbraak", "start", "erkend", "goed", "bijsturen", "niet_nagekomen",
    "positief", "negatief", "schuldhulp", "crisisteam", "2026", "1999", "99999", "٢٠٢٦",
    # the nuisance file: kinds of evidence, refs, copies and formats, dates of evidence
    "verklaring", "sfeerrapportage", "gedragsaanwijzing", "foto", "meting", "evidence:1",
    "bewijs:1", "evidence:99999999999", "timeline:1", "letter:12", "test:x", ":", "evidence:",
    "rechter", "verhuurder", "md", "pdf", "28-11", "bron: buurvrouw", "anoniem", "< /etc/passwd",
)

arguments = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2000),
)


@dataclass
class World:
    bot: ConsoleHarness
    case: str = ""
    logged: list[logging.LogRecord] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    updates: int = 0


class _Errors(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


async def everyone(bot: ConsoleHarness) -> str:
    case = await bot.new_case()
    for name, role in PEOPLE:
        await bot.join(name, case, role)
    return case


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    w = World(bot)
    w.case = await everyone(bot)
    assert bot.app is not None
    dispatcher = bot.app.dispatcher
    original = dispatcher._answer_alone

    async def refusing(incoming: Incoming, text: str, person_id: int | None) -> None:
        w.refused.append(text)
        await original(incoming, text, person_id)

    dispatcher._answer_alone = refusing  # type: ignore[method-assign]
    handler = _Errors(w.logged)
    logging.getLogger().addHandler(handler)
    # a linked shared chat, so that the group commands have something to act on
    await send(w, "Bram", f"/koppel {w.case}", group=True)
    try:
        yield w
    finally:
        logging.getLogger().removeHandler(handler)
        await bot.stop()


async def send(w: World, name: str, line: str, *, group: bool = False,
               attachments: tuple[Attachment, ...] = ()) -> None:
    app = w.bot.app
    assert app is not None
    address = console_address(name)
    w.updates += 1
    await app.dispatcher.handle(Incoming(
        transport="console", chat_id=GROUP if group else address, sender_id=address,
        sender_name=name, text=line, is_group=group, update_key=f"fuzz-{w.updates}",
        attachments=attachments))
    await app.delivery.deliver_due()


#: columns that background jobs write whenever they run (not part of any command)
BOOKKEEPING = frozenset({"last_daily_digest", "last_weekly_digest"})


async def snapshot(w: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the outbox (raw: cipher texts compare as stored)."""
    app = w.bot.app
    assert app is not None
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with app.engine.connect() as conn:
        for table in orm.Base.metadata.sorted_tables:
            if table.name in ("outbox", "processed_updates"):
                continue
            # the digest job keeps its own bookkeeping on persons, on its own schedule
            columns = ", ".join(c.name for c in table.columns if c.name not in BOOKKEEPING)
            rows = await conn.execute(text(
                f"SELECT {columns} FROM {table.name} ORDER BY id"))  # noqa: S608
            tables[table.name] = [tuple(r) for r in rows]
    return tables


async def outbox_count(w: World) -> int:
    app = w.bot.app
    assert app is not None
    async with app.new_uow() as uow:
        return int((await uow.session.execute(select(func.count(orm.OutboxRow.id))))
                   .scalar_one())


INTERNAL = {i18n.t(lang, "error.internal") for lang in i18n.LANGUAGES}


async def check_one(w: World, sender: str, word: str, args: list[str], group: bool,
                    attachments: tuple[Attachment, ...] = ()) -> None:
    if await _case_closed(w):
        w.case = await everyone(w.bot)  # a closed case refuses everything: start another
    line = " ".join(["/" + word, *(a.replace("{case}", w.case) for a in args)])
    before, messages = await snapshot(w), await outbox_count(w)
    w.refused.clear()
    w.logged.clear()
    await send(w, sender, line, group=group, attachments=attachments)
    assert not w.logged, (line, [r.getMessage() for r in w.logged],
                          [r.exc_info for r in w.logged])
    assert not INTERNAL & set(w.refused), line
    if w.refused:
        assert await snapshot(w) == before, f"{line!r} was refused but wrote"
        assert await outbox_count(w) <= messages + 1, line


async def _case_closed(w: World) -> bool:
    app = w.bot.app
    assert app is not None
    async with app.new_uow() as uow:
        case = await uow.cases.by_code(w.case)
        return case is None or case.closed_at is not None


@settings(max_examples=examples(120), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sender=st.sampled_from(SENDERS), word=st.sampled_from(sorted(COMMANDS)),
       args=st.lists(arguments, max_size=4), group=st.booleans())
async def test_no_argument_makes_a_command_crash(world: World, sender: str, word: str,
                                                 args: list[str], group: bool) -> None:
    await check_one(world, sender, word, args, group)


#: the arguments every command meets in every run (no sampling: a regression shows each time)
WORST = ("١٢", "１٢", "²", str(2**31), "-1", "T99999999999", "99999999999w", "31-12-9999",
         "a\x00b", "x" * 5000, "{case}")
#: each command once, by its Dutch name (the aliases call the same handler)
DISTINCT = sorted({handler: word for word, handler in reversed(COMMANDS.items())}.values())


async def test_every_command_with_the_worst_arguments(world: World) -> None:
    assert set(DISTINCT) >= {"ok", "verleng", "afwezig", "vergeetmij", "koppel"}
    for word in DISTINCT:
        for nasty in WORST:
            await check_one(world, "Bram", word, [nasty], False)
        await check_one(world, "Bram", word, ["{case}", "99999999999wd", "reden"], False)
        await check_one(world, "Lotte", word, ["T1", "P99999999999Y", "x" * 600], False)


async def test_the_trajectory_commands_in_every_role(world: World) -> None:
    """The trajectory's commands, in their order and out of it, by every role, with the
    words they take and with nonsense: a clear answer each time, nothing half-written."""
    lines = (["{case}", "laatstekans"], ["{case}", "erkend"], ["{case}", "x" * 3000],
             ["{case}", "\x00 afspraak"], ["{case}", "start"], ["{case}", "goed", "x" * 3000],
             ["{case}", "bijsturen", "a\x00b"], ["{case}", "positief"], ["{case}", "negatief"],
             ["{case}"], ["١٢"], ["{case}", "99999"])
    words = ("traject", "instemming", "afspraak", "huurcontract", "evaluatie",
             "trajectsluiten", "reflectie", "vonnis", "evaluatierapport")
    for word in words:  # the coach tries every line, in order
        for args in lines:
            await check_one(world, "Bram", word, list(args), False)
    for i, sender in enumerate(s for s in SENDERS if s != "Bram"):  # everyone else, in turn
        for j, word in enumerate(words):
            await check_one(world, sender, word, list(lines[(i + j) % len(lines)]), False)


# --- the complaint procedure (handlers/complaints.py): its forms with '|' and its words --------

#: pieces of the complaint procedure's commands, near the valid and beyond it
COMPLAINT_PIECES = st.one_of(
    st.sampled_from(("geluid", "stank", "huur", "zorg", "nu", "vandaag", "gisteren 22:30",
                     "28-11 25:61", "31-02", "anoniem", "klager: Jansen", "klager:", "K1",
                     "K0", "K99999999999", "k١", "bewust", "onbewust", "terecht",
                     "onterecht", "3", "4", "5", "6", "7", "juridisch", "kopieen",
                     "overleg:politie,gemeente", "overleg:", "overleg:xyz", "deelnemer",
                     "klager", "geen", "nieuw", "opgelost", "niet_opgelost", "|", "||")),
    arguments,
)
COMPLAINT_WORDS = ("klacht", "klachten", "aanpak", "klagercontact", "beoordeling",
                   "geluidsmeting", "navraag", "antwoord", "opgelost", "brief", "interventie",
                   "bemiddeling", "taken", "taakgedaan")


@settings(max_examples=examples(80), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sender=st.sampled_from(SENDERS), word=st.sampled_from(COMPLAINT_WORDS),
       pieces=st.lists(COMPLAINT_PIECES, max_size=7), with_case=st.booleans(),
       piped=st.booleans())
async def test_the_complaint_commands_survive_any_arguments(
        world: World, sender: str, word: str, pieces: list[str], with_case: bool,
        piped: bool) -> None:
    """Every role, every complaint command, arguments built from the procedure's own words
    (a complaint on record first, so numbers can name one): a clear refusal that writes
    nothing, or a success; never a crash."""
    if not world.refused and not await _has_complaint(world):
        await send(world, "Lotte", f"/klacht {world.case} geluid | gisteren 22:00 | nu | "
                                   "anoniem | Lawaai")
    args = (["{case}"] if with_case else []) + pieces
    if piped and len(args) > 1:
        args = [" | ".join(args)]
    await check_one(world, sender, word, args, False)


async def _has_complaint(w: World) -> bool:
    app = w.bot.app
    assert app is not None
    async with app.new_uow() as uow:
        return bool(await uow.complaints.of_case(
            (await uow.cases.by_code(w.case)).id))  # type: ignore[union-attr]

#: the first bytes of files the nuisance file accepts, and of some it does not
MAGIC = (b"", b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"OggS",
         b"RIFF\x00\x00\x00\x00WAVE", b"\x00\x00\x00\x18ftypqt  ", b"MZ", b"<html>")

attachments = st.builds(
    lambda magic, body, size, name, fetched: Attachment(
        filename=name, mime=None, size=size if not fetched else len(magic + body),
        data=magic + body if fetched else None),
    st.sampled_from(MAGIC), st.binary(max_size=200), st.integers(0, 2**40),
    st.text(max_size=300), st.booleans())


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sender=st.sampled_from(SENDERS), word=st.sampled_from(["bijlage", "attach", "bewijs"]),
       args=st.lists(arguments, max_size=3), files=st.lists(attachments, max_size=2))
async def test_files_with_a_command_never_make_it_crash(world: World, sender: str, word: str,
                                                        args: list[str],
                                                        files: list[Attachment]) -> None:
    """/bijlage with any file (any type, size, name, or one not fetched as too large)."""
    await check_one(world, sender, word, ["{case}", *args], False, tuple(files))
