"""The evaluation of the cooperation (N12, the guideline's "Onderhoud samenwerking"): a report
that holds NO case content, made yearly (the coordinator's reminder, timed work like the
digests: ``schedules/jobs.py``) or on demand (``/evaluatierapport``).

What it counts, over a period: per norm, the windows opened, met in time, lapsed, and the
median and 90th percentile time to act (from opening to meeting); per kind of partner (the
role that had to act) the same; complaints by the outcome of their assessment and by how far
up the ladder (actions 3-6) they went; one bar chart per norm. No case code, no name, no
free text: only counts and durations. Made as a PDF (fpdf2, the bundled DejaVu font, in each
reader's language) and a CSV, and delivered as two DOCUMENTS through the outbox (like the
nuisance file's export: ``outbox_documents``, encrypted, purged once delivered) to the chat
that asked, or to every coordinator with the yearly reminder. ``[reports] directory``, when
set, also keeps a copy of both files on the server.

The complaint tables come through a small query interface (:class:`ComplaintFigures`): the
complaint procedure registers its own (``register_complaint_figures``, in
``bot/services/complaints.py``); without it, the complaints are counted from the nuisance
signals (every one "not assessed", with no letter).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot import i18n, notify
from bot.domain import errors
from bot.domain.choices import MessageKind
from bot.domain.model import Norm, Role, SignalKind, WindowStatus
from bot.i18n.keys import N_
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.cases import require_coordinator
from bot.services.context import ServiceContext

log = logging.getLogger(__name__)

YEARLY, ON_DEMAND = "yearly", "on_demand"

_KEYS = (N_("report.eval.title"), N_("report.eval.period"), N_("report.eval.made"),
         N_("report.eval.per_norm"), N_("report.eval.per_partner"),
         N_("report.eval.complaints_assessment"), N_("report.eval.complaints_ladder"),
         N_("report.eval.col.opened"), N_("report.eval.col.met"),
         N_("report.eval.col.lapsed"), N_("report.eval.col.median"),
         N_("report.eval.col.p90"), N_("report.eval.col.count"),
         N_("report.eval.chart"), N_("report.eval.no_content"), N_("report.eval.page"),
         N_("report.eval.assessment.not_assessed"), N_("report.eval.ladder.none"),
         N_("report.eval.assessment.conscious_justified"),
         N_("report.eval.assessment.conscious_disputed"),
         N_("report.eval.assessment.unconscious_justified"),
         N_("report.eval.assessment.unjustified"),
         N_("report.eval.ladder.action_3"), N_("report.eval.ladder.action_4"),
         N_("report.eval.ladder.action_5"), N_("report.eval.ladder.action_6"))


# --- the figures ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """Windows of one norm, or of one kind of partner: how many opened, were met in time,
    lapsed (also those met only after their moment), and the time to act of those met."""

    opened: int = 0
    met_in_time: int = 0
    lapsed: int = 0
    #: hours from opening to meeting, of every met window
    hours: tuple[float, ...] = ()

    @property
    def median(self) -> float | None:
        return percentile(self.hours, 50)

    @property
    def p90(self) -> float | None:
        return percentile(self.hours, 90)


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The ``pct``-th percentile by linear interpolation between closest ranks (the median
    at 50); ``None`` of nothing."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    made_at: datetime
    per_norm: dict[Norm, Figures]
    per_partner: dict[Role, Figures]
    #: the assessment's outcome (a key of the complaint procedure) → complaints
    by_assessment: dict[str, int]
    #: the highest letter of the ladder that followed (``none``, ``action_3`` … ``action_6``)
    #: → complaints
    by_ladder: dict[str, int]


class ComplaintFigures:
    """The complaint tables' query interface. The complaint procedure registers its own; this
    default counts the nuisance complaints among the signals, none of them assessed."""

    async def by_assessment(self, uow: UnitOfWork, start: datetime, end: datetime
                            ) -> dict[str, int]:
        return {"not_assessed": await _complaint_signals(uow, start, end)}

    async def by_ladder(self, uow: UnitOfWork, start: datetime, end: datetime
                        ) -> dict[str, int]:
        return {"none": await _complaint_signals(uow, start, end)}


async def _complaint_signals(uow: UnitOfWork, start: datetime, end: datetime) -> int:
    from bot.privacy import DEFAULT  # noqa: PLC0415

    kinds = [k.value for k in SignalKind if DEFAULT.is_complaint(k)]
    count = (await uow.session.execute(
        select(func.count()).select_from(orm.SignalRow)
        .where(orm.SignalRow.kind.in_(kinds), orm.SignalRow.posted_at >= start,
               orm.SignalRow.posted_at < end))).scalar_one()
    return int(count)


_FIGURES: list[ComplaintFigures] = [ComplaintFigures()]


def register_complaint_figures(source: ComplaintFigures) -> None:
    """The complaint procedure's own tables replace the default."""
    _FIGURES[0] = source


def _window_figures(rows: Iterable[orm.WindowRow]) -> Figures:
    opened = met = lapsed = 0
    hours: list[float] = []
    for row in rows:
        opened += 1
        if row.status == WindowStatus.MET.value and row.closed_at is not None:
            acted = max(row.closed_at - row.opened_at, timedelta(0))
            hours.append(acted.total_seconds() / 3600)
            if row.closed_at <= row.due_at:
                met += 1
            else:
                lapsed += 1
        elif row.status == WindowStatus.LAPSED.value:
            lapsed += 1
    return Figures(opened, met, lapsed, tuple(hours))


async def build(uow: UnitOfWork, start: datetime, end: datetime, now: datetime) -> Report:
    """Count the windows opened in ``[start, end)`` and the complaints of that period."""
    rows = list((await uow.session.execute(
        select(orm.WindowRow).where(orm.WindowRow.opened_at >= start,
                                    orm.WindowRow.opened_at < end)
        .order_by(orm.WindowRow.id))).scalars())
    by_norm: dict[Norm, list[orm.WindowRow]] = defaultdict(list)
    by_partner: dict[Role, list[orm.WindowRow]] = defaultdict(list)
    for row in rows:
        by_norm[Norm(row.norm)].append(row)
        first = row.responsible.split(",")[0]
        by_partner[Role(first)].append(row)
    source = _FIGURES[0]
    return Report(
        start=start, end=end, made_at=now,
        per_norm={n: _window_figures(by_norm.get(n, [])) for n in Norm},
        per_partner={r: _window_figures(by_partner[r]) for r in Role if r in by_partner},
        by_assessment=await source.by_assessment(uow, start, end),
        by_ladder=await source.by_ladder(uow, start, end))


# --- rendering: CSV and PDF ------------------------------------------------------------------

def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def to_csv(report: Report) -> str:
    """One row per norm, per kind of partner, per assessment outcome and ladder step."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "opened", "met_in_time", "lapsed", "median_hours",
                     "p90_hours", "count"])
    for norm, fig in report.per_norm.items():
        writer.writerow(["norm", norm.value, fig.opened, fig.met_in_time, fig.lapsed,
                         _hours(fig.median), _hours(fig.p90), ""])
    for role, fig in report.per_partner.items():
        writer.writerow(["partner", role.value, fig.opened, fig.met_in_time, fig.lapsed,
                         _hours(fig.median), _hours(fig.p90), ""])
    for key, count in sorted(report.by_assessment.items()):
        writer.writerow(["complaints_assessment", key, "", "", "", "", "", count])
    for key, count in sorted(report.by_ladder.items()):
        writer.writerow(["complaints_ladder", key, "", "", "", "", "", count])
    return out.getvalue()


def _label(lang: str, prefix: str, key: str) -> str:
    full = f"{prefix}.{key}"
    return i18n.t(lang, full) if full in i18n.MESSAGES else key


def to_pdf(report: Report, lang: str) -> bytes:
    """The report as a PDF: tables per norm, per partner and of the complaints, then one bar
    chart per norm (opened, met in time, lapsed), drawn with fpdf2's primitives."""
    from fpdf import FPDF  # noqa: PLC0415 - loaded only when a report is made

    from bot.assets import SANS, SANS_BOLD  # noqa: PLC0415

    title = i18n.t(lang, "report.eval.title")
    page_word = i18n.t(lang, "report.eval.page")

    class _Pdf(FPDF):
        def header(self) -> None:
            self.set_font("Sans", "B", 9)
            self.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Sans", "", 8)
            self.cell(0, 6, f"{page_word} {self.page_no()}/{{nb}}", align="C")

    pdf = _Pdf(format="A4")
    pdf.add_font("Sans", "", str(SANS))
    pdf.add_font("Sans", "B", str(SANS_BOLD))
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Sans", "B", 14)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 10)
    pdf.cell(0, 6, i18n.t(lang, "report.eval.period", start=i18n.when(lang, report.start),
                          end=i18n.when(lang, report.end)), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, i18n.t(lang, "report.eval.made", when=i18n.when(lang, report.made_at)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, i18n.t(lang, "report.eval.no_content"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    columns = [i18n.t(lang, f"report.eval.col.{c}") for c in
               ("opened", "met", "lapsed", "median", "p90")]

    def table(heading: str, rows: list[tuple[str, Figures]]) -> None:
        pdf.set_font("Sans", "B", 11)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Sans", "B", 8)
        pdf.cell(60, 6, "", border=1)
        for col in columns:
            pdf.cell(26, 6, col, border=1, align="C")
        pdf.ln()
        pdf.set_font("Sans", "", 8)
        for name, fig in rows:
            pdf.cell(60, 6, name[:40], border=1)
            for value in (str(fig.opened), str(fig.met_in_time), str(fig.lapsed),
                          _hours(fig.median) or "—", _hours(fig.p90) or "—"):
                pdf.cell(26, 6, value, border=1, align="R")
            pdf.ln()
        pdf.ln(3)

    table(i18n.t(lang, "report.eval.per_norm"),
          [(f"{n.value} {i18n.t(lang, f'norm.{n.value}')}", f)
           for n, f in report.per_norm.items()])
    table(i18n.t(lang, "report.eval.per_partner"),
          [(i18n.role_name(lang, r), f) for r, f in report.per_partner.items()])

    def counts(heading: str, prefix: str, values: dict[str, int]) -> None:
        pdf.set_font("Sans", "B", 11)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Sans", "", 8)
        for key, count in sorted(values.items()):
            pdf.cell(150, 6, _label(lang, prefix, key)[:95], border=1)
            pdf.cell(26, 6, str(count), border=1, align="R")
            pdf.ln()
        pdf.ln(3)

    counts(i18n.t(lang, "report.eval.complaints_assessment"), "report.eval.assessment",
           report.by_assessment)
    counts(i18n.t(lang, "report.eval.complaints_ladder"), "report.eval.ladder",
           report.by_ladder)

    # one chart per norm: three bars (opened, met in time, lapsed), scaled to the largest
    bars = (("opened", (90, 110, 160)), ("met", (70, 150, 90)), ("lapsed", (200, 80, 70)))
    for norm, fig in report.per_norm.items():
        if pdf.get_y() > 230:
            pdf.add_page()
        pdf.set_font("Sans", "B", 10)
        pdf.cell(0, 7, i18n.t(lang, "report.eval.chart", norm=norm.value,
                              name=i18n.t(lang, f"norm.{norm.value}")),
                 new_x="LMARGIN", new_y="NEXT")
        top = pdf.get_y()
        values = (fig.opened, fig.met_in_time, fig.lapsed)
        biggest = max(*values, 1)
        pdf.set_font("Sans", "", 7)
        for i, ((key, colour), value) in enumerate(zip(bars, values, strict=True)):
            y = top + i * 7
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(30, 5, i18n.t(lang, f"report.eval.col.{key}"))
            width = 120 * value / biggest
            pdf.set_fill_color(*colour)
            if width > 0:
                pdf.rect(pdf.l_margin + 32, y + 0.5, width, 4, style="F")
            pdf.set_xy(pdf.l_margin + 34 + width, y)
            pdf.cell(15, 5, str(value))
        pdf.set_xy(pdf.l_margin, top + 23)
    return bytes(pdf.output())


# --- the use cases ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MakeEvaluationReport:
    person_id: int
    #: a calendar year as typed; ``None``: the last twelve months
    year_text: str | None = None
    #: where the documents go: the chat the command came from
    transport: str = "console"
    chat_id: str = ""


class BadYear(errors.DomainError):
    key = "report.eval.bad_year"


@dataclass
class ReportMade:
    report: Report
    csv: str
    #: the copies written under ``[reports] directory`` (none when it is not set)
    files: list[Path] = field(default_factory=list)
    #: the documents queued in the outbox (a PDF and a CSV per recipient)
    documents: int = 0
    #: the PDF per language it was made in (each reader gets it in their own)
    pdfs: dict[str, bytes] = field(default_factory=dict)

    def pdf(self, lang: str) -> bytes:
        if lang not in self.pdfs:
            self.pdfs[lang] = to_pdf(self.report, lang)
        return self.pdfs[lang]

    def filename(self, ext: str) -> str:
        """``evaluatierapport-<first day>-<last day>.<ext>``: local days, no case in it."""
        first = self.report.start.astimezone(i18n.LOCAL).date().isoformat()
        last = (self.report.end - timedelta(microseconds=1)).astimezone(i18n.LOCAL).date()
        return f"evaluatierapport-{first}-{last.isoformat()}.{ext}"


def _period(ctx: ServiceContext, now: datetime, year_text: str | None
            ) -> tuple[datetime, datetime]:
    if year_text is None:
        return now - timedelta(days=365), now
    text = year_text.strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise BadYear(given=year_text)
    year = int(text)
    if not 2000 <= year <= now.year:
        raise BadYear(given=year_text)
    tz = ctx.policies.calendar.tz
    return (datetime(year, 1, 1, tzinfo=tz), min(datetime(year + 1, 1, 1, tzinfo=tz), now))


def _copy(ctx: ServiceContext, made: ReportMade, reason: str, lang: str) -> list[Path]:
    """The optional copy on the server, under ``[reports] directory``."""
    folder = ctx.reports_dir
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"evaluation-{reason}-{made.report.made_at.strftime('%Y%m%dT%H%M%S')}"
    pdf_path, csv_path = folder / f"{stem}.pdf", folder / f"{stem}.csv"
    pdf_path.write_bytes(made.pdf(lang))
    csv_path.write_text(made.csv, encoding="utf-8")
    return [pdf_path, csv_path]


async def _make(uow: UnitOfWork, ctx: ServiceContext, start: datetime, end: datetime,
                reason: str, by: int | None, lang: str) -> ReportMade:
    now = ctx.clock.now()
    report = await build(uow, start, end, now)
    made = ReportMade(report, to_csv(report))
    made.files = _copy(ctx, made, reason, lang)
    uow.session.add(orm.EvaluationReportRow(made_at=now, reason=reason, period_start=start,
                                            period_end=end, made_by=by))
    log.info("evaluation report made (%s)", reason)
    return made


async def _send(uow: UnitOfWork, made: ReportMade, lang: str, caption: str, *,
                transport: str, address: str, person_id: int | None,
                priority: notify.Priority) -> None:
    """Queue the PDF (with ``caption``) and the CSV as two documents to one chat; each waits
    encrypted in ``outbox_documents`` until delivered (``bot/outbox.py`` purges it then)."""
    now = made.report.made_at
    with i18n.as_of(now):
        csv_caption = i18n.t(lang, "report.eval.csv_caption")
    for text, name, mime, data in (
            (caption, made.filename("pdf"), "application/pdf", made.pdf(lang)),
            (csv_caption, made.filename("csv"), "text/csv", made.csv.encode())):
        row = await uow.outbox.add(transport=transport, address=address, text=text, now=now,
                                   person_id=person_id, with_id=True,
                                   kind=MessageKind.DOCUMENT, priority=priority)
        uow.session.add(orm.OutboxDocument(outbox_id=row.id, filename=name, mime=mime,
                                           content=data))
        made.documents += 1


async def make_on_demand(cmd: MakeEvaluationReport, uow: UnitOfWork, ctx: ServiceContext
                         ) -> ReportMade:
    """``/evaluatierapport [jaar]``: the coordinator asks for the report; it comes as two
    documents to the chat the command came from."""
    person = await require_coordinator(uow, cmd.person_id)
    start, end = _period(ctx, ctx.clock.now(), cmd.year_text)
    made = await _make(uow, ctx, start, end, ON_DEMAND, person.id, person.language)
    with i18n.as_of(made.report.made_at):
        caption = summary_text(person.language, made)
    await _send(uow, made, person.language, caption, transport=cmd.transport,
                address=cmd.chat_id, person_id=person.id, priority=notify.Priority.NORMAL)
    await uow.session.flush()
    return made


def summary_text(lang: str, made: ReportMade) -> str:
    """The PDF's caption: the figures per norm in a few lines."""
    lines = [i18n.t(lang, "report.eval.summary", start=i18n.when(lang, made.report.start),
                    end=i18n.when(lang, made.report.end))]
    for norm, fig in made.report.per_norm.items():
        if fig.opened:
            lines.append(i18n.t(lang, "report.eval.summary_norm", norm=norm.value,
                                opened=fig.opened, met=fig.met_in_time, lapsed=fig.lapsed,
                                median=_hours(fig.median) or "—"))
    return "\n".join(lines)


async def yearly_due(uow: UnitOfWork, ctx: ServiceContext, now: datetime) -> datetime | None:
    """The start of the period a yearly report is due for now, or ``None``: a year (N12's
    span) after the last yearly report, or after the first case was opened."""
    last = (await uow.session.execute(
        select(func.max(orm.EvaluationReportRow.made_at))
        .where(orm.EvaluationReportRow.reason == YEARLY))).scalar_one_or_none()
    since = last or (await uow.session.execute(
        select(func.min(orm.Case.created_at)))).scalar_one_or_none()
    if since is None:
        return None
    policy = ctx.policies[Norm.N12_YEARLY_EVALUATION]
    return since if policy.due(since, ctx.policies.calendar) <= now else None


async def remind_yearly(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> int:
    """The coordinators' yearly reminder to evaluate the cooperation with the partners, with
    the report; once a year (the database says when the last one was made). Returns how
    many coordinators were reminded."""
    now = ctx.clock.now()
    async with new_uow() as uow:
        since = await yearly_due(uow, ctx, now)
        if since is None:
            return 0
        coordinators = await uow.persons.coordinators()
        first = await uow.persons.get(coordinators[0]) if coordinators else None
        made = await _make(uow, ctx, since, now, YEARLY, None,
                           first.language if first else i18n.DEFAULT_LANGUAGE)
        for person_id in coordinators:
            person = await uow.persons.get(person_id)
            identity = await uow.persons.identity_of(person_id)
            if person is None or identity is None:
                log.warning("no chat identity for coordinator %s; report not sent", person_id)
                continue
            with i18n.as_of(now):
                caption = (i18n.t(person.language, "report.eval.reminder") + "\n"
                           + summary_text(person.language, made))
            await _send(uow, made, person.language, caption, transport=identity.transport,
                        address=identity.address, person_id=person_id,
                        priority=notify.Priority.BULK)
        await uow.commit()
    return len(coordinators)


#: the reminder as periodic work: ``schedules/jobs.py`` runs it daily
YearlyWork = Callable[[], Awaitable[int]]
