"""Benchmark: the nuisance file of a case with two years of history (issue 11, item 10).

The case has 2,000 timeline entries (100 signals posted through the service, each with its
window and timeline events, the rest window events spread over two years), 50 letters and
100 items of evidence. The letters come from a stand-in provider registered here (the
complaint procedure's letter tables are another branch's): each a letter of about 1,200
characters with its facts (date, kind, registered, signed "voor gezien"), as the complaints
provider will list them. The evidence is recorded through ``/bewijs``'s use case, in its own
table.

Timed, each from the database to the finished document, for the care file (the largest
copy: every entry in full): ``contents`` (every provider asked, every entry filtered through
the policy) plus the PDF (fpdf2, DejaVu Sans, page numbers and headers), and the same plus
the Markdown. Peak memory is the process's maximum resident set size (``ru_maxrss``).

Target: each under 2 s, and under 200 MB. The time is wall-clock (the best of ``--rounds``);
the CPU time of the same run (``pdf_cpu_s``, ``md_cpu_s``: ``time.process_time``) tells what
it costs on a machine that other work keeps busy. The last line is one JSON object: ``pdf_s``,
``md_s``, ``rss_mb``, ``pages``, ``entries``, ``pdf_bytes``, ``md_bytes``, ``rss_before_mb``
(the peak before the first export: the bot itself, having made the case).

    make bench-dossier          (or: python -m bench.dossier --timeline 2000 --letters 50)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.commands import CreateCase, InviteToRole, PostSignal, RedeemInvitation
from bot.domain.dossier import PROVIDERS, DossierEntry, EntryKind
from bot.domain.events import Event
from bot.domain.evidence import RecordEvidence
from bot.domain.model import Role, SignalKind
from bot.privacy import Info
from bot.services import cases, dossier, evidence, signals

MEMBERS = (("Lotte Landlord", Role.LANDLORD), ("Bram Coach", Role.COACH),
           ("Wout Wijkagent", Role.POLICE))
START = datetime(2024, 12, 1, 9, 0, tzinfo=UTC)
TWO_YEARS = timedelta(days=730)
LETTER = ("Geachte heer/mevrouw, wij hebben opnieuw meldingen ontvangen van geluidsoverlast "
          "in de avonduren, onder meer op vrijdag en zaterdag na 22:00 uur. In het gesprek "
          "van vorige week is afgesproken dat u de muziek zachter zet en dat uw begeleider "
          "u helpt bij het contact met de buren. ") * 4


def new_app(url: str, clock: ManualClock) -> KorteLijn:
    settings = Settings.model_validate({"database": {"url": url},
                                        "console": {"coordinator": "Coordinator"}})
    return KorteLijn(settings, clock=clock, transports=[], console=False)


async def populate(app: KorteLijn, clock: ManualClock, timeline: int, items: int
                   ) -> tuple[str, int, int]:
    """The case: members, 100 signals, evidence, and window events up to ``timeline``
    timeline rows over two years; returns its code, its id and the coach's id."""
    ctx = app.ctx
    ids: dict[Role, int] = {}
    async with app.new_uow() as uow:
        now = clock.now()
        coordinator = await uow.persons.add(display_name="Coordinator", language="nl",
                                            transport="console", address="coordinator",
                                            now=now, is_coordinator=True)
        code = await cases.create_case(CreateCase(coordinator.id), uow, ctx)
        for name, role in MEMBERS:
            person = await uow.persons.add(display_name=name, language="nl",
                                           transport="console",
                                           address=name.lower().replace(" ", ""), now=now)
            issued = await cases.invite(InviteToRole(coordinator.id, code, role), uow, ctx)
            await cases.redeem(RedeemInvitation(person.id, issued.code), uow, ctx)
            ids[role] = person.id
        await uow.commit()
    posts = 100
    step = TWO_YEARS / (posts + items)
    for n in range(posts):
        clock.set(START + step * n)
        async with app.new_uow() as uow:
            signal = (SignalKind.NOISE, SignalKind.MAILBOX_FULL, SignalKind.CARE_CONCERN)[n % 3]
            poster = (ids[Role.COACH] if signal is SignalKind.CARE_CONCERN
                      else ids[Role.LANDLORD])
            await signals.post_signal(PostSignal(person_id=poster, case_code=code, kind=signal,
                                                 note=f"Melding {n}: muziek tot laat"),
                                      uow, ctx)
            await uow.commit()
    for n in range(items):
        clock.set(START + step * (posts + n))
        async with app.new_uow() as uow:
            kind = (EntryKind.NEIGHBOUR_STATEMENT, EntryKind.PHONE_NOTE,
                    EntryKind.MEASUREMENT, EntryKind.ATMOSPHERE_REPORT)[n % 4]
            who = ids[Role.POLICE] if kind is EntryKind.ATMOSPHERE_REPORT else ids[Role.LANDLORD]
            await evidence.record_evidence(RecordEvidence(
                person_id=who, case_code=code, kind=kind,
                text=f"Stuk {n}: buurman meldt harde bassen tot 02:00, opgenomen 54 dB(A)."
                     * 3, source="buurvrouw nr. 12" if n % 8 == 0 else None), uow, ctx)
            await uow.commit()
    async with app.new_uow() as uow:
        case = await uow.cases.by_code(code)
        assert case is not None
        have = len(await uow.timeline.of_case(case.id))
        windows = [w.id for w in await uow.windows.running(case_id=case.id)] or [1]
        events = (Event.REMINDER_SENT, Event.WINDOW_PAUSED, Event.WINDOW_RESUMED,
                  Event.WINDOW_EXTENDED, Event.ESCALATED, Event.NOTE_SENT)
        missing = max(0, timeline - have)
        for n in range(missing):
            uow.timeline.record(case_id=case.id, at=START + TWO_YEARS * n / max(missing, 1),
                                event=events[n % len(events)], actor_id=ids[Role.COACH],
                                actor_role=Role.COACH, signal_id=None,
                                window=windows[n % len(windows)])
        await uow.commit()
        total = have + missing
    return code, case.id, total


def letters_provider(count: int) -> None:
    """The stand-in for the complaint procedure's letters: ``count`` ladder letters."""
    kinds = ("waarschuwingsbrief", "tweede waarschuwing", "sommatiebrief (aangetekend)")

    async def provide(uow: object, case_id: int) -> list[DossierEntry]:
        return [DossierEntry(
            kind=EntryKind.LETTER, at=START + TWO_YEARS * n / count, info=Info.LETTER,
            supplied_by=Role.LANDLORD, title=kinds[n % 3], text=LETTER,
            facts=(f"verstuurd op {(START + TWO_YEARS * n / count).date().isoformat()}",
                   "aangetekend" if n % 3 == 2 else "gewone post",
                   "getekend voor gezien" if n % 3 == 2 else "kopie in zorgdossier"),
            ref=f"letter:{n + 1}") for n in range(count)]

    PROVIDERS["bench_letters"] = provide


async def run(options: argparse.Namespace) -> dict[str, float | int]:
    folder = Path(tempfile.mkdtemp(prefix="kortelijn-bench-dossier-"))
    clock = ManualClock(START)
    app = new_app(f"sqlite:///{folder / 'bench.db'}", clock)
    await app.start()
    await app.delivery.stop()
    try:
        code, case_id, timeline = await populate(app, clock, options.timeline, options.items)
        letters_provider(options.letters)
        clock.set(START + TWO_YEARS)
        figures: dict[str, float | int] = {}
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for fmt in (dossier.Format.PDF, dossier.Format.MARKDOWN):
            best, cpu = float("inf"), float("inf")
            for _ in range(options.rounds):
                async with app.new_uow() as uow:
                    case = await uow.cases.get(case_id)
                    assert case is not None
                    began, began_cpu = time.perf_counter(), time.process_time()
                    file = await dossier.contents(uow, app.ctx, case, dossier.Copy.CARE,
                                                  [Role.COACH], "nl")
                    assembled = time.perf_counter() - began
                    data, pages = dossier.render(file, fmt)
                    cpu = min(cpu, time.process_time() - began_cpu)
                    if time.perf_counter() - began < best:
                        best = time.perf_counter() - began
                        figures["contents_s"] = round(assembled, 3)
            key = "pdf" if fmt is dossier.Format.PDF else "md"
            figures[f"{key}_s"] = round(best, 3)
            figures[f"{key}_cpu_s"] = round(cpu, 3)
            figures[f"{key}_bytes"] = len(data)
            if fmt is dossier.Format.PDF:
                figures["pages"] = pages
                figures["entries"] = len(file.items)
        figures["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(f"case {code}: {timeline} timeline rows, {options.letters} letters, "
              f"{options.items} items of evidence; {figures['entries']} entries in the care "
              f"file")
        print(f"assembling the entries (every provider, the policy): "
              f"{figures['contents_s']:.3f} s of each")
        print(f"PDF:      {figures['pdf_s']:.3f} s ({figures['pdf_cpu_s']:.3f} s of CPU), "
              f"{figures['pages']} pages, {figures['pdf_bytes'] / 1e6:.2f} MB")
        print(f"Markdown: {figures['md_s']:.3f} s ({figures['md_cpu_s']:.3f} s of CPU), "
              f"{figures['md_bytes'] / 1e6:.2f} MB")
        figures["rss_before_mb"] = round(base, 1)
        print(f"peak memory: {figures['rss_mb']} MB (the bot with the case made, before the "
              f"first export: {figures['rss_before_mb']} MB)")
        met = (float(figures["pdf_s"]) < 2 and float(figures["md_s"]) < 2
               and float(figures["rss_mb"]) < 200)
        on_cpu = (float(figures["pdf_cpu_s"]) < 2 and float(figures["md_cpu_s"]) < 2
                  and float(figures["rss_mb"]) < 200)
        print(f"target: under 2 s each and 200 MB: {'met' if met else 'MISSED'} "
              f"(in CPU time: {'met' if on_cpu else 'MISSED'})")
        return figures
    finally:
        PROVIDERS.pop("bench_letters", None)
        await app.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeline", type=int, default=2_000, help="timeline rows")
    parser.add_argument("--letters", type=int, default=50, help="letters")
    parser.add_argument("--items", type=int, default=100, help="items of evidence")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; the best counts")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))
