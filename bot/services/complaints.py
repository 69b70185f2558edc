"""The complaint procedure's use cases: one function per step of the guideline.

- intake by the landlord (``record_complaint``; also as a guided conversation,
  ``bot/services/complaints_intake.py``): N2 runs from the landlord's receipt and is met when
  the team has the information (now); N3 (one working day) opens for the team; N5 (four weeks)
  and N7 (three months, from the first complaint of a nuisance) open; the landlord is reminded,
  at an interval, to let the complainant know (``N7c``), first of all to confirm receipt;
- action 1 (``record_handling``): the coach says how it will be handled: N3 met, the landlord
  gets the feedback; ``record_contact``: the landlord let the complainant know;
- action 2 (``assess``): after the hearing; the cell of the table yields its follow-ups as
  tasks; unconscious and justified opens N6; a new, similar, justified complaint within the
  ladder's period proposes action 3; ``request_noise_measurement``;
- the checks: ``ask_for_new_reports`` (N5: landlord, police, nuisance desk at once; met when
  all have answered), ``ask_whether_resolved`` (N6), ``answer_check``;
- ``mark_resolved``: N7 is met when the landlord and the team have both marked it;
- the ladder: ``record_letter`` (actions 3-6; legal advice required at 4-6; action 6 shows the
  three conditions for a court), ``record_intervention`` (1-4), ``refer_to_mediation``
  (both parties' consent);
- tasks: ``list_tasks``, ``complete_task``.

Every window opens and closes here, through ``bot/services/windows.py``: nobody types
``/termijn`` for the complaint's norms. Every text is made per reader in
``bot/services/complaints_render.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from sqlalchemy import select

from bot import i18n, notify
from bot.domain import arguments, dossier, errors
from bot.domain import complaint as rules
from bot.domain.choices import Option
from bot.domain.complaint import (
    COMPLAINT_KINDS,
    FOLLOW_UPS,
    Cell,
    Complaint,
    ComplaintStatus,
    Condition,
    FollowUp,
    Letter,
    Side,
)
from bot.domain.complaint_commands import (
    AnswerCheck,
    AskForNewReports,
    AskWhetherResolved,
    AssessComplaint,
    CompleteTask,
    MarkNuisanceResolved,
    RecordComplainantContact,
    RecordComplaint,
    RecordHandling,
    RecordIntervention,
    RecordLetter,
    ReferToMediation,
    RequestNoiseMeasurement,
)
from bot.domain.events import Event
from bot.domain.model import CARE_TEAM, Norm, Role, Window, WindowStatus, parse_signal_kind
from bot.persistence import orm
from bot.persistence.complaints import Task
from bot.persistence.uow import UnitOfWork
from bot.privacy import Info
from bot.services import complaints_render as show
from bot.services import evaluation_report, windows
from bot.services.context import ServiceContext


class LandlordOnly(errors.DomainError):
    key = "complaint.error.landlord_only"


class TeamOnly(errors.DomainError):
    key = "complaint.error.team_only"


class NotYourTask(errors.DomainError):
    key = "complaint.error.task"


class NothingToAsk(errors.DomainError):
    key = "complaint.error.nothing_to_ask"


class AlreadyAsked(errors.DomainError):
    key = "complaint.error.already_asked"


class NotAsked(errors.DomainError):
    key = "complaint.error.not_asked"


class NoSixWeekCheck(errors.DomainError):
    key = "complaint.error.no_six_weeks"


class NotNoise(errors.DomainError):
    key = "complaint.error.not_noise"


class NoOpenComplaint(errors.DomainError):
    key = "complaint.error.none_open"


class UnknownAction(errors.DomainError):
    key = "complaint.error.action"


class UnknownIntervention(errors.DomainError):
    key = "complaint.error.intervention"


class EmptyText(errors.DomainError):
    key = "complaint.error.empty"


#: the partners asked at the four-week check (the municipality is the nuisance desk)
FOUR_WEEK_ROLES = (Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY)
FOUR_WEEK_ANSWERS = ("none", "new")
SIX_WEEK_ANSWERS = ("resolved", "unresolved")


# --- helpers ---------------------------------------------------------------------------------

def _text(text: str | None, ctx: ServiceContext, *, required: bool) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise EmptyText()
        return None
    return arguments.text(cleaned, ctx.complaints.text_limit)


async def _case(uow: UnitOfWork, person_id: int, code: str) -> tuple[orm.Case, list[Role]]:
    from bot.services.signals import case_of_member  # noqa: PLC0415 - signals imports windows

    case, roles = await case_of_member(uow, person_id, code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    return case, roles


async def _complaint(uow: UnitOfWork, ctx: ServiceContext, person_id: int, number: int
                     ) -> tuple[Complaint, orm.Case, list[Role]]:
    """A complaint the person may know of; anyone else hears there is no such complaint."""
    complaint = await uow.complaints.get(number)
    roles = await uow.cases.roles_of(complaint.case_id, person_id) if complaint else []
    case = await uow.cases.get(complaint.case_id) if complaint else None
    if complaint is None or case is None or not show.knows_complaint(ctx.privacy, roles):
        raise rules.UnknownComplaint(number=number)
    return complaint, case, roles


def _care(roles: list[Role]) -> Role:
    role = next((r for r in roles if r in CARE_TEAM), None)
    if role is None:
        raise TeamOnly()
    return role


def _landlord(roles: list[Role]) -> Role:
    if Role.LANDLORD not in roles:
        raise LandlordOnly()
    return Role.LANDLORD


async def _store(uow: UnitOfWork, before: Complaint, after: Complaint) -> None:
    if not await uow.complaints.save(after, was=before.status):
        raise rules.ComplaintResolved(number=before.id)


async def _people(uow: UnitOfWork, case_id: int, roles: tuple[Role, ...],
                  exclude: int | None = None) -> list[int]:
    return list(dict.fromkeys(m.person_id for m in await uow.cases.members(case_id, roles)
                              if m.person_id != exclude))


async def _tell(uow: UnitOfWork, ctx: ServiceContext, case_id: int, person_ids: list[int],
                render: Callable[[str, list[Role]], str],
                choices: Callable[[str], list[Option]] | None = None) -> None:
    """One message per person, made for that person's roles in the case."""
    now = ctx.clock.now()
    for person_id in person_ids:
        roles = await uow.cases.roles_of(case_id, person_id)
        if not roles:
            continue
        await notify.to_person(uow, person_id, _for(render, roles), now, case_id=case_id,
                               choices=choices)


def _for(render: Callable[[str, list[Role]], str], roles: list[Role]
         ) -> Callable[[str], str]:
    def text(lang: str) -> str:
        return render(lang, roles)

    return text


async def _meet(uow: UnitOfWork, ctx: ServiceContext, window_id: int | None,
                actor_id: int | None, role: Role | None, *,
                stop: bool = False) -> Window | None:
    """Meet (or stop) a window the procedure ties to a step, if it still runs: its chain ends
    and the timeline says so. Returns the window as it was."""
    if window_id is None:
        return None
    window = await uow.windows.get(window_id)
    if window is None or window.status not in (WindowStatus.OPEN, WindowStatus.PAUSED,
                                                WindowStatus.LAPSED):
        return None
    now = ctx.clock.now()
    changed, _ = window.stop(now) if stop else window.complete(now)
    if not await uow.windows.save(changed, was=window.status):
        return None
    await uow.windows.skip_pending(window.id, now, changed.status.value)
    uow.deadlines_changed = True
    if not stop:
        uow.timeline.record(case_id=window.case_id, at=now, event=Event.WINDOW_MET,
                            actor_id=actor_id, actor_role=role, window=window.id,
                            norm=window.norm.value)
    return window


async def _add_task(uow: UnitOfWork, ctx: ServiceContext, case_id: int, complaint_id: int,
                    follow_up: FollowUp, person_id: int) -> Task:
    """A follow-up as a task; one with a clock gets a window of norm ``T`` due then, whose
    lapse nudges the task's owner (the deadline machinery, so it survives a restart)."""
    now = ctx.clock.now()
    window_id = None
    if follow_up.within is not None:
        clock = await windows.open_window(uow, ctx, case_id=case_id, norm=Norm.TASK_DUE,
                                          opened_by=person_id, responsible=(follow_up.owner,),
                                          due=now + follow_up.within)
        window_id = clock.id
    return await uow.complaints.add_task(
        case_id=case_id, complaint_id=complaint_id, kind=follow_up.kind, owner=follow_up.owner,
        due_at=now + follow_up.within if follow_up.within else None, now=now,
        window_id=window_id)


@windows.on_met(Norm.TASK_DUE)
async def task_clock_met(uow: UnitOfWork, ctx: ServiceContext, met: Window,
                         person_id: int) -> None:
    """The owner marked a task's clock met (/gedaan, as the nudge offers): the task is done."""
    task = await uow.complaints.task_of_window(met.id)
    if task is None or task.done_at is not None:
        return
    now = ctx.clock.now()
    if await uow.complaints.finish_task(task.id, person_id, now):
        uow.timeline.record(case_id=task.case_id, at=now, event=Event.TASK_DONE,
                            actor_id=person_id, actor_role=task.owner, task=task.id,
                            kind=task.kind)


async def _finish_tasks(uow: UnitOfWork, ctx: ServiceContext, complaint_id: int,
                        kinds: tuple[str, ...], person_id: int, role: Role | None) -> None:
    """A step did these tasks: done, and their clocks met."""
    for task in await uow.complaints.finish_tasks(complaint_id, kinds, person_id,
                                                  ctx.clock.now()):
        await _meet(uow, ctx, task.window_id, person_id, role)


def _running(window: Window | None) -> bool:
    return window is not None and window.status in (WindowStatus.OPEN, WindowStatus.PAUSED)


async def _contact_window(uow: UnitOfWork, case_id: int) -> int | None:
    """The case's reminder to let the complainant know (``N7c``) that runs, if one does (one
    per case, however many complaints are open; also one a ``/gedaan`` opened)."""
    found = [w for w in await uow.windows.running(case_id=case_id)
             if w.norm is Norm.N7_COMPLAINANT_CONTACT]
    # the interval that runs first, then one that lapsed (re-armed or not)
    found.sort(key=lambda w: (w.status is WindowStatus.LAPSED, w.due_at, w.id))
    return found[0].id if found else None


@windows.on_lapse(Norm.N7_COMPLAINANT_CONTACT)
async def rearm_contact_reminder(uow: UnitOfWork, ctx: ServiceContext, lapsed: Window) -> None:
    """The reminder to let the complainant know lapsed (the landlord was told): while a
    complaint of the case is open, its next interval starts now, so the landlord keeps being
    reminded; the open complaints follow the new window."""
    open_ones = [c for c in await uow.complaints.of_case(lapsed.case_id) if c.is_open]
    if not open_ones or any(
            w.norm is Norm.N7_COMPLAINANT_CONTACT and w.id != lapsed.id
            for w in await uow.windows.running(case_id=lapsed.case_id,
                                               statuses=(WindowStatus.OPEN,
                                                         WindowStatus.PAUSED))):
        return
    following = await windows.open_window(
        uow, ctx, case_id=lapsed.case_id, norm=Norm.N7_COMPLAINANT_CONTACT, opened_by=None,
        responsible=lapsed.responsible, period=lapsed.period + 1)
    for complaint in open_ones:
        await _store(uow, complaint, complaint.with_window("contact", following.id))


async def _running_of(uow: UnitOfWork, complaints: list[Complaint], name: str) -> int | None:
    """The window of this name that one of these complaints shares and that still runs."""
    for complaint in complaints:
        window_id = complaint.window(name)
        if window_id is not None and _running(await uow.windows.get(window_id)):
            return window_id
    return None


# --- intake ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComplaintRecorded:
    complaint: Complaint
    case_code: str
    n2: Window
    n3: Window
    n5: Window
    n7: Window
    #: the N7 window was opened by this complaint (the first of a nuisance)
    first: bool
    #: who heard of it (roles), for the reply
    told: list[Role]


async def record_complaint(cmd: RecordComplaint, uow: UnitOfWork, ctx: ServiceContext
                           ) -> ComplaintRecorded:
    """The landlord records a complaint: the team has the landlord's information now."""
    case, roles = await _case(uow, cmd.person_id, cmd.case_code)
    _landlord(roles)
    kind = parse_signal_kind(cmd.kind_text)
    if kind not in COMPLAINT_KINDS:
        raise rules.NotANuisanceKind(given=cmd.kind_text, choices=COMPLAINT_KINDS)
    now = ctx.clock.now()
    calendar = ctx.policies.calendar
    happened = rules.past_moment(cmd.happened_text, now, calendar)
    received = rules.past_moment(cmd.received_text, now, calendar)
    if received < happened:
        raise rules.ReceivedBeforeHappened()
    description = _text(cmd.description, ctx, required=True)
    assert description is not None  # noqa: S101
    complainant = rules.complainant_of(cmd.complainant_text)
    complaint = await uow.complaints.add(
        case_id=case.id, kind=kind, happened_at=happened, received_at=received,
        recorded_by=cmd.person_id, now=now, description=description, complainant=complainant)
    uow.timeline.record(case_id=case.id, at=now, event=Event.COMPLAINT_RECORDED,
                        actor_id=cmd.person_id, actor_role=Role.LANDLORD,
                        complaint=complaint.id, kind=kind.value,
                        anonymous=complainant is None)
    # N2 ran from the landlord's receipt; the team has the information now
    n2 = await windows.open_window(uow, ctx, case_id=case.id,
                                   norm=Norm.N2_COMPLAINT_INFORMATION,
                                   opened_by=cmd.person_id, start=received)
    await _meet(uow, ctx, n2.id, cmd.person_id, Role.LANDLORD)
    # N3: one working day from forwarding, the team says how it will be handled
    n3 = await windows.open_window(uow, ctx, case_id=case.id, norm=Norm.N3_COMPLAINT_START,
                                   opened_by=cmd.person_id, waiting_person_id=cmd.person_id)
    n5 = await windows.open_window(uow, ctx, case_id=case.id, norm=Norm.N5_FOUR_WEEK_CHECK,
                                   opened_by=cmd.person_id, start=received)
    earlier = [c for c in await uow.complaints.of_case(case.id)
               if c.id != complaint.id and c.is_open]
    n7_id = await _running_of(uow, earlier, "N7")
    contact_id = await _contact_window(uow, case.id)
    first = n7_id is None
    if n7_id is None:
        n7 = await windows.open_window(uow, ctx, case_id=case.id, norm=Norm.N7_RESOLUTION,
                                       opened_by=cmd.person_id,
                                       waiting_person_id=cmd.person_id, start=received)
    else:
        found = await uow.windows.get(n7_id)
        assert found is not None  # noqa: S101
        n7 = found
    if contact_id is None:
        contact = await windows.open_window(uow, ctx, case_id=case.id,
                                            norm=Norm.N7_COMPLAINANT_CONTACT,
                                            opened_by=cmd.person_id)
        contact_id = contact.id
    linked = (complaint.with_window("N2", n2.id).with_window("N3", n3.id)
              .with_window("N5", n5.id).with_window("N7", n7.id)
              .with_window("contact", contact_id))
    await _store(uow, complaint, linked)
    await uow.complaints.add_task(case_id=case.id, complaint_id=complaint.id,
                                  kind="confirm_receipt", owner=Role.LANDLORD, due_at=None,
                                  now=now)
    await uow.complaints.add_task(case_id=case.id, complaint_id=complaint.id, kind="hearing",
                                  owner=Role.COACH, due_at=None, now=now)
    team = await _people(uow, case.id, (Role.COACH, Role.TEAM_LEAD), exclude=cmd.person_id)
    code = case.code
    await _tell(uow, ctx, case.id, team, lambda lang, their: show.intake_notice(
        lang, ctx.privacy, their, linked, code, n3.id, i18n.when(lang, n3.due_at)))
    told: list[Role] = []
    for person_id in team:
        told += [r for r in await uow.cases.roles_of(case.id, person_id)
                 if r in CARE_TEAM and r not in told]
    return ComplaintRecorded(complaint=linked, case_code=code, n2=n2, n3=n3, n5=n5, n7=n7,
                             first=first, told=told)


# --- action 1 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Done:
    """A step was recorded; ``complaint`` as it stands now."""

    complaint: Complaint
    case_code: str
    lines: tuple[str, ...] = ()


async def record_handling(cmd: RecordHandling, uow: UnitOfWork, ctx: ServiceContext) -> Done:
    """Action 1: the coach says how the complaint will be handled: N3 is met and the landlord
    receives the feedback."""
    complaint, case, roles = await _complaint(uow, ctx, cmd.person_id, cmd.complaint_id)
    role = _care(roles)
    text = _text(cmd.text, ctx, required=True)
    assert text is not None  # noqa: S101
    now = ctx.clock.now()
    handled, _ = complaint.record_handling(text, now)
    await _store(uow, complaint, handled)
    await _meet(uow, ctx, complaint.window("N3"), cmd.person_id, role)
    uow.timeline.record(case_id=case.id, at=now, event=Event.COMPLAINT_HANDLING,
                        actor_id=cmd.person_id, actor_role=role, complaint=complaint.id)
    landlords = await _people(uow, case.id, (Role.LANDLORD,), exclude=cmd.person_id)
    code = case.code
    await _tell(uow, ctx, case.id, landlords, lambda lang, their: show.handling_notice(
        lang, ctx.privacy, their, handled, code, handled.window("contact")))
    return Done(handled, code)


async def record_contact(cmd: RecordComplainantContact, uow: UnitOfWork,
                         ctx: ServiceContext) -> Done:
    """The landlord let the complainant know that work is being done: on the timeline; the
    reminder's next interval starts now."""
    complaint, case, roles = await _complaint(uow, ctx, cmd.person_id, cmd.complaint_id)
    _landlord(roles)
    now = ctx.clock.now()
    contacted, _ = complaint.record_contact(now)
    await _store(uow, complaint, contacted)
    uow.timeline.record(case_id=case.id, at=now, event=Event.COMPLAINANT_CONTACTED,
                        actor_id=cmd.person_id, actor_role=Role.LANDLORD,
                        complaint=complaint.id)
    await _finish_tasks(uow, ctx, complaint.id, ("confirm_receipt",), cmd.person_id,
                        Role.LANDLORD)
    met = await _meet(uow, ctx, await _contact_window(uow, case.id), cmd.person_id,
                      Role.LANDLORD)
    if met is not None:
        following = await windows.open_window(
            uow, ctx, case_id=case.id, norm=Norm.N7_COMPLAINANT_CONTACT,
            opened_by=cmd.person_id, period=met.period + 1)
        for other in await uow.complaints.of_case(case.id):
            if other.is_open and other.window("contact") != following.id:
                await _store(uow, other, other.with_window("contact", following.id))
        contacted = contacted.with_window("contact", following.id)
    return Done(contacted, case.code)


# --- action 2 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessed:
    complaint: Complaint
    case_code: str
    cell: Cell
    tasks: list[Task]
    n6: Window | None
    #: an earlier similar, justified complaint: action 3 was proposed
    ladder_after: Complaint | None


async def assess(cmd: AssessComplaint, uow: UnitOfWork, ctx: ServiceContext) -> Assessed:
    """Action 2: the coach's assessment after the hearing; the table's follow-ups become
    tasks; unconscious and justified opens N6; a repeat proposes action 3."""
    complaint, case, roles = await _complaint(uow, ctx, cmd.person_id, cmd.complaint_id)
    role = _care(roles)
    note = _text(cmd.note, ctx, required=False)
    now = ctx.clock.now()
    assessed, event = complaint.assess(
        conscious=cmd.conscious, tenant_justified=cmd.tenant_justified,
        coach_justified=cmd.coach_justified, note=note, by=cmd.person_id, at=now)
    tasks = [await _add_task(uow, ctx, case.id, complaint.id, f, cmd.person_id)
             for f in FOLLOW_UPS[event.cell]]
    await _finish_tasks(uow, ctx, complaint.id, ("hearing",), cmd.person_id, role)
    n6 = None
    if event.cell is Cell.UNCONSCIOUS_JUSTIFIED:
        n6 = await windows.open_window(uow, ctx, case_id=case.id, norm=Norm.N6_SIX_WEEK_CHECK,
                                       opened_by=cmd.person_id,
                                       waiting_person_id=complaint.recorded_by)
        assessed = assessed.with_window("N6", n6.id)
    await _store(uow, complaint, assessed)
    uow.timeline.record(case_id=case.id, at=now, event=Event.COMPLAINT_ASSESSED,
                        actor_id=cmd.person_id, actor_role=role, complaint=complaint.id,
                        cell=event.cell.value)
    code = case.code
    landlords = await _people(uow, case.id, (Role.LANDLORD,), exclude=cmd.person_id)
    await _tell(uow, ctx, case.id, landlords, lambda lang, their: show.assessment_notice(
        lang, ctx.privacy, their, assessed, code, tasks))
    before = rules.similar_justified_before(
        assessed, [c for c in await uow.complaints.of_case(case.id) if c.id != complaint.id],
        ctx.complaints.ladder_period)
    if before is not None:
        await _propose_warning(uow, ctx, case, assessed, before, cmd.person_id)
    return Assessed(assessed, code, event.cell, tasks, n6, before)


async def _propose_warning(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case,
                           complaint: Complaint, before: Complaint, actor_id: int) -> None:
    """Action 3 (N8): a new, similar, justified complaint: landlord and team align; the
    landlord sends a warning letter; the team discusses it with the tenant."""
    now = ctx.clock.now()
    uow.timeline.record(case_id=case.id, at=now, event=Event.LADDER_PROPOSED,
                        actor_id=None, complaint=complaint.id, earlier=before.id, action=3)
    code = case.code
    people = await _people(uow, case.id, (Role.LANDLORD, Role.COACH, Role.TEAM_LEAD))

    def choices(lang: str) -> list[Option]:
        return [Option(label=i18n.t(lang, "button.letter_warning"),
                       command=i18n.t(lang, "command.letter_warning", code=code),
                       label_key="button.letter_warning"),
                Option(label=i18n.t(lang, "button.tasks"),
                       command=i18n.t(lang, "command.tasks", code=code),
                       label_key="button.tasks")]

    await _tell(uow, ctx, case.id, people, lambda lang, their: i18n.t(
        lang, "ladder.propose", code=code, number=complaint.id, earlier=before.id,
        kind=i18n.kind_name(lang, complaint.kind)), choices)


async def request_noise_measurement(cmd: RequestNoiseMeasurement, uow: UnitOfWork,
                                    ctx: ServiceContext) -> Task:
    """The coach asks the landlord for a noise measurement (noise complaints)."""
    complaint, case, roles = await _complaint(uow, ctx, cmd.person_id, cmd.complaint_id)
    role = _care(roles)
    if complaint.kind.value != "noise":
        raise NotNoise(number=complaint.id)
    now = ctx.clock.now()
    task = await uow.complaints.add_task(case_id=case.id, complaint_id=complaint.id,
                                         kind="noise_measurement", owner=Role.LANDLORD,
                                         due_at=None, now=now)
    uow.timeline.record(case_id=case.id, at=now, event=Event.NOISE_MEASUREMENT_ASKED,
                        actor_id=cmd.person_id, actor_role=role, complaint=complaint.id)
    code = case.code
    landlords = await _people(uow, case.id, (Role.LANDLORD,), exclude=cmd.person_id)
    await _tell(uow, ctx, case.id, landlords, lambda lang, their: i18n.t(
        lang, "complaint.noise_asked", number=complaint.id, code=code, task=task.id))
    return task


# --- the checks (N5, N6) ---------------------------------------------------------------------

@dataclass(frozen=True)
class Asked:
    complaint: Complaint
    case_code: str
    roles: list[Role]


async def ask_for_new_reports(cmd: AskForNewReports, uow: UnitOfWork, ctx: ServiceContext
                              ) -> Asked:
    """N5, in one action: the landlord, the police and the nuisance desk are asked whether
    new reports came in; each answers with a choice."""
    complaint, case, roles = await _complaint(uow, ctx, cmd.person_id, cmd.complaint_id)
    role = _care(roles)
    if await uow.complaints.checks(complaint.id, "N5"):
        raise AlreadyAsked(number=complaint.id)
    asked = [r for r in FOUR_WEEK_ROLES if await uow.cases.members(case.id, (r,))]
    if not asked:
        raise NothingToAsk(roles=FOUR_WEEK_ROLES)
    await _ask(uow, ctx, case, complaint, "N5", asked, cmd.person_id, role)
    return Asked(complaint, case.code, asked)


async def ask_whether_resolved(cmd: AskWhetherResolved, uow: UnitOfWork, ctx: ServiceContext
                               ) -> Asked:
    """N6: the coach asks the landlord (who asks the complainant) whether it is resolved."""
    complaint, case, roles = await _complaint(uow, ctx, cmd.person_id, cmd.complaint_id)
    role = _care(roles)
    if complaint.window("N6") is None:
        raise NoSixWeekCheck(number=complaint.id)
    if await uow.complaints.checks(complaint.id, "N6"):
        raise AlreadyAsked(number=complaint.id)
    if not await uow.cases.members(case.id, (Role.LANDLORD,)):
        raise NothingToAsk(roles=(Role.LANDLORD,))
    await _ask(uow, ctx, case, complaint, "N6", [Role.LANDLORD], cmd.person_id, role)
    await _finish_tasks(uow, ctx, complaint.id, ("six_week_ask_landlord",), cmd.person_id,
                        role)
    return Asked(complaint, case.code, [Role.LANDLORD])


async def _ask(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case, complaint: Complaint,
               norm: str, asked: list[Role], actor_id: int, role: Role) -> None:
    now = ctx.clock.now()
    code = case.code
    answers = FOUR_WEEK_ANSWERS if norm == "N5" else SIX_WEEK_ANSWERS
    for asked_role in asked:
        await uow.complaints.ask(case_id=case.id, complaint_id=complaint.id, norm=norm,
                                 role=asked_role, asked_by=actor_id, now=now)

        def choices(lang: str) -> list[Option]:
            return [Option(label=show.answer_name(lang, a),
                           command=i18n.t(lang, f"command.answer_{a}", number=complaint.id),
                           label_key=f"check.answer.{a}") for a in answers]

        people = await _people(uow, case.id, (asked_role,), exclude=actor_id)
        await _tell(uow, ctx, case.id, people, _question(ctx, complaint, code, norm,
                                                         asked_role), choices)
    uow.timeline.record(case_id=case.id, at=now, event=Event.CHECK_ASKED, actor_id=actor_id,
                        actor_role=role, complaint=complaint.id, norm=norm,
                        asked=",".join(r.value for r in asked))


def _question(ctx: ServiceContext, complaint: Complaint, code: str, norm: str, role: Role
              ) -> Callable[[str, list[Role]], str]:
    def text(lang: str, _their: list[Role]) -> str:
        return show.check_question(lang, complaint, code, norm, role, ctx.privacy)

    return text


@dataclass(frozen=True)
class Answered:
    complaint: Complaint
    case_code: str
    norm: str
    #: every partner asked has answered: the window was met
    complete: bool


async def answer_check(cmd: AnswerCheck, uow: UnitOfWork, ctx: ServiceContext) -> Answered:
    """A partner answers the four- or six-week question; the answer comes into the case and
    the team hears it; the window is met when all asked have answered."""
    complaint = await uow.complaints.get(cmd.complaint_id)
    roles = await uow.cases.roles_of(complaint.case_id, cmd.person_id) if complaint else []
    norm = "N5" if cmd.answer in FOUR_WEEK_ANSWERS else "N6"
    checks = await uow.complaints.checks(complaint.id, norm) if complaint and roles else []
    mine = [c for c in checks if c.answered_at is None and Role(c.role) in roles]
    case = await uow.cases.get(complaint.case_id) if complaint else None
    if complaint is None or case is None or not roles:
        raise rules.UnknownComplaint(number=cmd.complaint_id)
    if not mine:
        # only someone who knows of the complaint (by the policy, or by having been asked
        # about it) hears that they were not asked; anyone else, that there is no such one
        asked = {Role(c.role) for c in await uow.complaints.checks(complaint.id, "N5")} | {
            Role(c.role) for c in await uow.complaints.checks(complaint.id, "N6")}
        if not show.knows_complaint(ctx.privacy, roles) and not asked & set(roles):
            raise rules.UnknownComplaint(number=cmd.complaint_id)
        raise NotAsked(number=complaint.id)
    now = ctx.clock.now()
    row = mine[0]
    row.answered_at, row.answered_by, row.answer = now, cmd.person_id, cmd.answer
    await uow.flush()
    answered_role = Role(row.role)
    uow.timeline.record(case_id=case.id, at=now, event=Event.CHECK_ANSWERED,
                        actor_id=cmd.person_id, actor_role=answered_role,
                        complaint=complaint.id, norm=norm, answer=cmd.answer)
    complete = all(c.answered_at is not None for c in checks)
    if complete:
        window = await uow.windows.get(complaint.window(norm) or 0)
        if window is not None and window.status is WindowStatus.OPEN:
            await _meet(uow, ctx, window.id, cmd.person_id, answered_role)
    if norm == "N6":
        await _finish_tasks(uow, ctx, complaint.id, ("six_week_ask_complainant",),
                            cmd.person_id, answered_role)
    code = case.code
    team = await _people(uow, case.id, (Role.COACH, Role.TEAM_LEAD), exclude=cmd.person_id)
    await _tell(uow, ctx, case.id, team, lambda lang, their: i18n.t(
        lang, "check.answered", role=i18n.role_name(lang, answered_role), number=complaint.id,
        code=code, answer=show.answer_name(lang, cmd.answer),
        norm=i18n.t(lang, f"norm.{norm}")) + (
        i18n.t(lang, "check.all_answered") if complete else ""))
    return Answered(complaint, code, norm, complete)


# --- N7: resolved --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResolvedMarked:
    case_code: str
    side: Side
    #: both sides have marked it: N7 met, the complaints resolved
    resolved: bool
    complaints: list[int]


async def mark_resolved(cmd: MarkNuisanceResolved, uow: UnitOfWork, ctx: ServiceContext
                        ) -> ResolvedMarked:
    """The landlord or the team marks the nuisance resolved; when both have, N7 is met, the
    open complaints are resolved and the reminders to contact the complainant stop."""
    case, roles = await _case(uow, cmd.person_id, cmd.case_code)
    if Role.LANDLORD in roles:
        side, role = Side.LANDLORD, Role.LANDLORD
    elif any(r in CARE_TEAM for r in roles):
        side, role = Side.TEAM, _care(roles)
    else:
        raise errors.NotAllowed()
    now = ctx.clock.now()
    open_ones = [c for c in await uow.complaints.of_case(case.id) if c.is_open]
    if not open_ones:
        raise NoOpenComplaint(code=case.code)
    resolved = False
    marked_any = False
    for complaint in open_ones:
        try:
            marked, event = complaint.mark_resolved(side, now)
        except rules.AlreadyMarked:
            continue
        marked_any = True
        resolved = resolved or event.resolved
        await _store(uow, complaint, marked)
    if not marked_any:
        raise rules.AlreadyMarked(number=open_ones[0].id)
    uow.timeline.record(case_id=case.id, at=now, event=Event.NUISANCE_RESOLVED,
                        actor_id=cmd.person_id, actor_role=role, side=side.value,
                        resolved=resolved)
    if resolved:
        for complaint in await uow.complaints.of_case(case.id):
            if complaint.status is not ComplaintStatus.RESOLVED and complaint.is_open:
                await _store(uow, complaint, complaint.close_as_resolved())
        for window_id in dict.fromkeys(c.window("N7") for c in open_ones):
            await _meet(uow, ctx, window_id, cmd.person_id, role)
        while (contact := await _contact_window(uow, case.id)) is not None:
            if await _meet(uow, ctx, contact, cmd.person_id, role, stop=True) is None:
                break
    code = case.code
    other = (Role.COACH, Role.TEAM_LEAD) if side is Side.LANDLORD else (Role.LANDLORD,)
    people = await _people(uow, case.id, other, exclude=cmd.person_id)
    key = "resolved.both" if resolved else "resolved.one"
    await _tell(uow, ctx, case.id, people, lambda lang, their: i18n.t(
        lang, key, code=code, role=i18n.role_name(lang, role)))
    return ResolvedMarked(code, side, resolved, [c.id for c in open_ones])


# --- the ladder (actions 3-6) --------------------------------------------------------------------

@dataclass(frozen=True)
class LetterRecorded:
    letter: Letter
    case_code: str
    #: action 6: which of the three conditions for a court the file shows
    conditions: dict[Condition, bool] | None


async def record_letter(cmd: RecordLetter, uow: UnitOfWork, ctx: ServiceContext
                        ) -> LetterRecorded:
    """A letter of the ladder, with its date, kind, registered or not, signed 'voor gezien',
    the copies, the mark of legal advice (required at actions 4-6), who was consulted and
    the advice given to the complainant."""
    case, roles = await _case(uow, cmd.person_id, cmd.case_code)
    role = Role.LANDLORD if Role.LANDLORD in roles else _care(roles)
    if cmd.action not in rules.LADDER:
        raise UnknownAction(given=str(cmd.action))
    rung = rules.check_letter(cmd.action, legal_advice=cmd.legal_advice)
    now = ctx.clock.now()
    sent = rules.past_moment(cmd.sent_text, now, ctx.policies.calendar)
    note = _text(cmd.note, ctx, required=False)
    letter = await uow.complaints.add_letter(
        case_id=case.id, action=cmd.action, kind=rung.kind,
        sent_on=sent.astimezone(ctx.policies.calendar.tz).date(), registered=cmd.registered,
        signed_seen=cmd.signed_seen, copy_landlord_file=cmd.copy_landlord_file,
        copy_care_file=cmd.copy_care_file, legal_advice=cmd.legal_advice,
        consulted=cmd.consulted, advice_police=cmd.advice_police,
        advice_on_call=cmd.advice_on_call, agreements_broken=cmd.agreements_broken,
        note=note, recorded_by=cmd.person_id, now=now)
    uow.timeline.record(case_id=case.id, at=now, event=Event.LETTER_RECORDED,
                        actor_id=cmd.person_id, actor_role=role, letter=letter.id,
                        action=cmd.action, kind=rung.kind.value)
    if cmd.action in (3, 4, 5):
        await uow.complaints.add_task(case_id=case.id, complaint_id=None,
                                      kind="discuss_letter", owner=Role.COACH, due_at=None,
                                      now=now)
    conditions = None
    if cmd.action == 6:
        conditions = await court_file(uow, case.id)
    code = case.code
    other = (Role.COACH, Role.TEAM_LEAD) if role is Role.LANDLORD else (Role.LANDLORD,)
    people = await _people(uow, case.id, other, exclude=cmd.person_id)

    def text(lang: str, their: list[Role]) -> str:
        out = i18n.t(lang, "letter.notice", code=code, role=i18n.role_name(lang, role)) + \
            "\n" + show.letter_line(lang, ctx.privacy, their, letter)
        if conditions is not None:
            out += "\n" + show.court_conditions(lang, conditions)
        return out

    await _tell(uow, ctx, case.id, people, text)
    return LetterRecorded(letter, code, conditions)


async def court_file(uow: UnitOfWork, case_id: int) -> dict[Condition, bool]:
    """Which of action 6's three conditions the file shows."""
    return rules.court_conditions(
        complaints=len(await uow.complaints.of_case(case_id)),
        letters={letter.action for letter in await uow.complaints.letters(case_id)},
        interventions=len([i for i in await uow.complaints.interventions(case_id)
                           if i.kind != "mediation"]),
        agreements_broken=await uow.complaints.agreements_broken(case_id))


@dataclass(frozen=True)
class InterventionRecorded:
    id: int
    kind: str
    case_code: str


async def record_intervention(cmd: RecordIntervention, uow: UnitOfWork, ctx: ServiceContext
                              ) -> InterventionRecorded:
    """Interventions 1-4 on the timeline (the care team's)."""
    case, roles = await _case(uow, cmd.person_id, cmd.case_code)
    role = _care(roles)
    if cmd.kind not in rules.INTERVENTIONS or cmd.kind == "mediation":
        raise UnknownIntervention(given=cmd.kind)
    note = _text(cmd.note, ctx, required=False)
    now = ctx.clock.now()
    row = await uow.complaints.add_intervention(
        case_id=case.id, kind=cmd.kind, at=now, recorded_by=cmd.person_id, note=note,
        tenant_consent=False, complainant_consent=False)
    uow.timeline.record(case_id=case.id, at=now, event=Event.INTERVENTION_RECORDED,
                        actor_id=cmd.person_id, actor_role=role, intervention=row.id,
                        kind=cmd.kind)
    return InterventionRecorded(row.id, cmd.kind, case.code)


async def refer_to_mediation(cmd: ReferToMediation, uow: UnitOfWork, ctx: ServiceContext
                             ) -> InterventionRecorded:
    """A referral to neighbour mediation, only with both parties' consent (recorded)."""
    case, roles = await _case(uow, cmd.person_id, cmd.case_code)
    role = _care(roles)
    if not (cmd.tenant_consent and cmd.complainant_consent):
        raise rules.ConsentRequired()
    note = _text(cmd.note, ctx, required=False)
    now = ctx.clock.now()
    row = await uow.complaints.add_intervention(
        case_id=case.id, kind="mediation", at=now, recorded_by=cmd.person_id, note=note,
        tenant_consent=True, complainant_consent=True)
    uow.timeline.record(case_id=case.id, at=now, event=Event.MEDIATION_REFERRED,
                        actor_id=cmd.person_id, actor_role=role, intervention=row.id)
    code = case.code
    mediators = await _people(uow, case.id, (Role.MEDIATOR,), exclude=cmd.person_id)
    await _tell(uow, ctx, case.id, mediators,
                lambda lang, their: i18n.t(lang, "mediation.referral", code=code))
    return InterventionRecorded(row.id, "mediation", code)


# --- tasks ---------------------------------------------------------------------------------------

def _owns(task: Task, roles: list[Role]) -> bool:
    """A task is its owner role's; the team lead may do the coach's."""
    return task.owner in roles or (task.owner is Role.COACH and Role.TEAM_LEAD in roles)


@dataclass(frozen=True)
class Tasks:
    lines: list[str]
    case_code: str | None


async def list_tasks(person_id: int, case_code: str | None, uow: UnitOfWork,
                     ctx: ServiceContext) -> Tasks:
    """My open tasks (of the roles I hold), in one case or all of mine."""
    from bot.services import access  # noqa: PLC0415

    person = await uow.persons.get(person_id)
    lang = person.language if person else i18n.DEFAULT_LANGUAGE
    held: dict[int, list[Role]] = {}
    codes: dict[int, str] = {}
    if case_code is not None:
        case, roles = await _case(uow, person_id, case_code)
        held[case.id], codes[case.id] = roles, case.code
    else:
        for case, role in await uow.cases.cases_of(person_id):
            held.setdefault(case.id, []).append(role)
            codes[case.id] = case.code
    lines = [show.task_line(lang, t, codes[t.case_id])
             for t in await uow.complaints.tasks(list(held)) if _owns(t, held[t.case_id])]
    now = ctx.clock.now()
    for case_id in sorted(held):
        access.record(uow, person_id=person_id, role=held[case_id], case_id=case_id,
                      what="tasks", purpose="/taken", at=now)
    return Tasks(lines, codes[next(iter(codes))] if case_code is not None and codes else None)


async def complete_task(cmd: CompleteTask, uow: UnitOfWork, ctx: ServiceContext) -> Task:
    task = await uow.complaints.task(cmd.task_id)
    roles = await uow.cases.roles_of(task.case_id, cmd.person_id) if task else []
    if task is None or not roles or not _owns(task, roles):
        raise NotYourTask(number=cmd.task_id)
    now = ctx.clock.now()
    if not await uow.complaints.finish_task(task.id, cmd.person_id, now):
        raise NotYourTask(number=cmd.task_id)
    await _meet(uow, ctx, task.window_id, cmd.person_id,
                task.owner if task.owner in roles else roles[0])
    uow.timeline.record(case_id=task.case_id, at=now, event=Event.TASK_DONE,
                        actor_id=cmd.person_id,
                        actor_role=task.owner if task.owner in roles else roles[0],
                        task=task.id, kind=task.kind)
    return task


async def list_complaints(person_id: int, case_code: str, uow: UnitOfWork,
                          ctx: ServiceContext) -> tuple[str, list[str]]:
    """The complaints of a case, one line each, for a reader who may know of them."""
    case, roles = await _case(uow, person_id, case_code)
    if not show.knows_complaint(ctx.privacy, roles):
        raise errors.NotAllowed()
    person = await uow.persons.get(person_id)
    lang = person.language if person else i18n.DEFAULT_LANGUAGE
    lines = [show.complaint_line(lang, c, case.code)
             for c in await uow.complaints.of_case(case.id)]
    lines += [show.letter_line(lang, ctx.privacy, roles, letter)
              for letter in await uow.complaints.letters(case.id)]
    from bot.services import access  # noqa: PLC0415

    access.record(uow, person_id=person_id, role=roles, case_id=case.id, what="complaints",
                  purpose="/klachten", at=ctx.clock.now())
    return case.code, lines


# --- the nuisance file: this procedure's entries (bot/domain/dossier.py) ----------------------

def _noon(day: date, ctx_tz: tzinfo) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=ctx_tz).astimezone(UTC)


@dossier.provider("complaints")
async def dossier_entries(uow: UnitOfWork, case_id: int) -> list[dossier.DossierEntry]:
    """Every complaint (each its own entry), the team's handling and assessment of each, every
    letter, intervention and mediation referral, and each partner's answer at the checks,
    typed, dated, with the supplying role and information class. Unfiltered: the exporter
    asks the policy."""
    tz = i18n.LOCAL  # the deployment's local time: a letter's day is a local day
    entries: list[dossier.DossierEntry] = []
    for c in await uow.complaints.of_case(case_id):
        entries.append(dossier.DossierEntry(
            kind=dossier.EntryKind.COMPLAINT, at=c.received_at, info=Info.COMPLAINT,
            supplied_by=Role.LANDLORD, title=f"K{c.id}", text=c.description,
            facts=(f"kind={c.kind.value}", f"happened={c.happened_at.isoformat()}",
                   f"received={c.received_at.isoformat()}", f"status={c.status.value}",
                   f"complainant={'anonymous' if c.anonymous else 'known_to_landlord'}"),
            ref=f"complaint:{c.id}",
            extra={"kind": c.kind.value, "status": c.status.value,
                   "anonymous": str(c.anonymous).lower()}))
        if c.handling is not None and c.handled_at is not None:
            entries.append(dossier.DossierEntry(
                kind=dossier.EntryKind.ACTION, at=c.handled_at, info=Info.ASSESSMENT,
                supplied_by=Role.COACH, title=f"K{c.id}", text=c.handling,
                facts=("step=action_1",), ref=f"handling:{c.id}"))
        cell = c.cell
        if cell is not None and c.assessed_at is not None:
            entries.append(dossier.DossierEntry(
                kind=dossier.EntryKind.ASSESSMENT, at=c.assessed_at, info=Info.ASSESSMENT,
                supplied_by=Role.COACH, title=f"K{c.id}", text=c.assessment_note or "",
                facts=(f"cell={cell.value}", f"conscious={str(c.conscious).lower()}",
                       f"tenant_justified={str(c.tenant_justified).lower()}",
                       f"coach_justified={str(c.coach_justified).lower()}"),
                ref=f"assessment:{c.id}", extra={"cell": cell.value}))
    for letter in await uow.complaints.letters(case_id):
        roles = await uow.cases.roles_of(case_id, letter.recorded_by) \
            if letter.recorded_by is not None else []
        marks = ("registered", "signed_seen", "copy_landlord_file", "copy_care_file",
                 "legal_advice", "advice_police", "advice_on_call")
        entries.append(dossier.DossierEntry(
            kind=dossier.EntryKind.LETTER, at=_noon(letter.sent_on, tz), info=Info.LETTER,
            supplied_by=Role.LANDLORD if Role.LANDLORD in roles or not roles else roles[0],
            title=f"B{letter.id}", text=letter.note or "",
            facts=(f"action={letter.action}", f"kind={letter.kind.value}",
                   f"sent_on={letter.sent_on.isoformat()}",
                   *(f"{m}={str(getattr(letter, m)).lower()}" for m in marks),
                   f"consulted={','.join(r.value for r in letter.consulted)}"),
            ref=f"letter:{letter.id}",
            extra={"action": str(letter.action), "kind": letter.kind.value}))
    for row in await uow.complaints.interventions(case_id):
        mediation = row.kind == "mediation"
        entries.append(dossier.DossierEntry(
            kind=dossier.EntryKind.INTERVENTION, at=row.at,
            # an intervention's note is a care detail; a mediation referral is a fact of the
            # file (its note stays out of it, as care)
            info=Info.FACTS if mediation else Info.CARE, supplied_by=Role.COACH,
            title=f"I{row.id}", text="" if mediation else (row.note or ""),
            facts=(f"intervention={row.kind}",
                   *((f"tenant_consent={str(row.tenant_consent).lower()}",
                      f"complainant_consent={str(row.complainant_consent).lower()}")
                     if mediation else ())),
            ref=f"intervention:{row.id}", extra={"intervention": row.kind}))
    for check in await uow.complaints.checks_of_case(case_id):
        if check.answered_at is None:
            continue
        entries.append(dossier.DossierEntry(
            kind=dossier.EntryKind.CORRESPONDENCE, at=check.answered_at, info=Info.FACTS,
            supplied_by=Role(check.role), title=f"K{check.complaint_id}",
            facts=(f"check={check.norm}", f"answer={check.answer}",
                   f"asked={check.asked_at.isoformat()}"),
            ref=f"check:{check.id}", extra={"check": check.norm, "answer": check.answer or ""}))
    return entries


# --- the evaluation report: this procedure's figures (bot/services/evaluation_report.py) ------

class ComplaintTables(evaluation_report.ComplaintFigures):
    """The complaints received in the report's period, counted from the complaint tables: by
    the cell of the assessment's table (or not assessed) and by the highest letter of the
    ladder that followed them. Only states, flags, ids and dates are read: no case content.

    A letter follows the complaint of its case that came in last by the letter's day (the
    letter answers it); a complaint's step is the highest letter that followed it."""

    async def _complaints(self, uow: UnitOfWork, start: datetime, end: datetime
                          ) -> list[tuple[int, int, datetime, Cell | None]]:
        rows = (await uow.session.execute(
            select(orm.ComplaintRow.id, orm.ComplaintRow.case_id, orm.ComplaintRow.received_at,
                   orm.ComplaintRow.conscious, orm.ComplaintRow.tenant_justified,
                   orm.ComplaintRow.coach_justified)
            .where(orm.ComplaintRow.received_at >= start, orm.ComplaintRow.received_at < end)
            .order_by(orm.ComplaintRow.id))).all()
        return [(id_, case_id, received,
                 None if None in (conscious, tenant, coach)
                 else rules.cell_of(bool(conscious), bool(tenant), bool(coach)))
                for id_, case_id, received, conscious, tenant, coach in rows]

    async def by_assessment(self, uow: UnitOfWork, start: datetime, end: datetime
                            ) -> dict[str, int]:
        counts = dict.fromkeys([c.value for c in Cell] + ["not_assessed"], 0)
        for *_, cell in await self._complaints(uow, start, end):
            counts[cell.value if cell is not None else "not_assessed"] += 1
        return counts

    async def by_ladder(self, uow: UnitOfWork, start: datetime, end: datetime
                        ) -> dict[str, int]:
        counts = dict.fromkeys(["none", *(f"action_{a}" for a in sorted(rules.LADDER))], 0)
        mine = await self._complaints(uow, start, end)
        cases = {case_id for _, case_id, *_ in mine}
        # every complaint of these cases (also before the period: a letter may follow one)
        days: dict[int, list[tuple[date, datetime, int]]] = {}
        for id_, case_id, received in (await uow.session.execute(
                select(orm.ComplaintRow.id, orm.ComplaintRow.case_id,
                       orm.ComplaintRow.received_at)
                .where(orm.ComplaintRow.case_id.in_(cases)))).all():
            days.setdefault(case_id, []).append(
                (_as_utc(received).astimezone(i18n.LOCAL).date(), _as_utc(received), id_))
        highest: dict[int, int] = {}
        for case_id, action, sent_on in (await uow.session.execute(
                select(orm.LetterRow.case_id, orm.LetterRow.action, orm.LetterRow.sent_on)
                .where(orm.LetterRow.case_id.in_(cases)))).all():
            before = [c for c in days.get(case_id, []) if c[0] <= sent_on]
            if before:
                followed = max(before)[2]
                highest[followed] = max(highest.get(followed, 0), action)
        for id_, *_ in mine:
            step = highest.get(id_)
            counts["none" if step is None else f"action_{step}"] += 1
        return counts


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


evaluation_report.register_complaint_figures(ComplaintTables())
