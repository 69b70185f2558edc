"""Response windows: open one for a norm, carry out its chain (remind, lapse, escalate), meet,
pause, resume or extend it, and move open ones when the configuration changes.

Each step is carried out once, in the transaction that claims it, with its messages (the steps
due together in one: ``bot/services/deadlines.py``): a step claimed twice (a job fired twice,
two processes) does nothing the second time. A step carried out well after its moment (the
bot was down) says in its message that it is late. Nudges wait for the end of
the recipient's quiet hours unless the step is urgent; the window itself keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from bot import i18n, notify, render
from bot.domain import arguments, errors
from bot.domain.calendar import Span
from bot.domain.choices import Action, Option, option
from bot.domain.commands import (
    AcknowledgeSignal,
    CompleteWindow,
    ExtendWindow,
    PauseWindow,
    ResumeWindow,
    ShareReason,
    StartWindow,
)
from bot.domain.events import Event
from bot.domain.model import (
    CARE_TEAM,
    Norm,
    PlannedStep,
    Role,
    Signal,
    Step,
    StepKind,
    Window,
    WindowStatus,
)
from bot.domain.norms import NORMS, SHAPES, NormPolicy, StepRole, Target, parse_norm
from bot.domain.quiet import quiet_length, quiet_until
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext

log = logging.getLogger(__name__)

#: what a norm's owner does when one of its windows lapses by itself, after the lapse is
#: told (``await hook(uow, ctx, lapsed)``); registered with ``on_lapse`` by the module that
#: owns the norm (the complaint procedure re-arms the complainant-contact reminder)
LapseHook = Callable[[UnitOfWork, "ServiceContext", Window], Awaitable[None]]
LAPSE_HOOKS: dict[Norm, LapseHook] = {}


#: the same when a person marks one of the norm's windows met with /gedaan
#: (``await hook(uow, ctx, met, person_id)``): a task's clock marks its task done
MetHook = Callable[[UnitOfWork, "ServiceContext", Window, int], Awaitable[None]]
MET_HOOKS: dict[Norm, MetHook] = {}


def on_met(norm: Norm) -> Callable[[MetHook], MetHook]:
    def register(fn: MetHook) -> MetHook:
        MET_HOOKS[norm] = fn
        return fn

    return register


def on_lapse(norm: Norm) -> Callable[[LapseHook], LapseHook]:
    def register(fn: LapseHook) -> LapseHook:
        LAPSE_HOOKS[norm] = fn
        return fn

    return register



class UnknownWindow(errors.DomainError):
    key = "error.unknown_window"


WindowNotOpen = errors.WindowNotOpen
WindowNotPaused = errors.WindowNotPaused


def planned_steps(policy: NormPolicy, ctx: ServiceContext, opened_at: datetime, due: datetime,
                  *, status: WindowStatus = WindowStatus.OPEN, skip: set[int] | None = None,
                  redo_after: datetime | None = None) -> list[PlannedStep]:
    """The chain's steps to store for a window. Steps already carried out (``skip``) are left
    out, unless they now fall after ``redo_after`` (a window moved later reminds again). A
    lapsed window keeps only its escalations."""
    skip = skip or set()
    steps = []
    for step, moment in policy.steps(opened_at, due, ctx.policies.calendar):
        if status is WindowStatus.LAPSED and step.role is not StepRole.ESCALATION:
            continue
        if step.seq in skip and not (redo_after is not None and moment > redo_after):
            continue
        steps.append(PlannedStep(seq=step.seq, kind=step.role, due_at=moment,
                                 notify=tuple(step.targets), urgent=step.urgent))
    return steps


async def open_window(uow: UnitOfWork, ctx: ServiceContext, *, case_id: int, norm: Norm,
                      opened_by: int | None, responsible: tuple[Role, ...] | None = None,
                      waiting_person_id: int | None = None, signal_id: int | None = None,
                      start: datetime | None = None, period: int = 1,
                      due: datetime | None = None) -> Window:
    """Open a window of ``norm`` in a case, its due moment from the configured span (or
    ``due``: a task's own clock)."""
    policy = ctx.policies[norm]
    now = ctx.clock.now()
    start = start or now
    due = due or policy.due(start, ctx.policies.calendar)
    # a window that starts in the past (a complaint received days ago) has steps whose
    # moment has passed already: they fall due now, when they can first be carried out, not
    # in the past, where they would count as late, as if the bot had been down
    steps = [step if step.due_at >= now else replace(step, due_at=now)
             for step in planned_steps(policy, ctx, start, due)]
    window = await uow.windows.open(
        case_id=case_id, norm=norm, signal_id=signal_id,
        responsible=responsible or policy.shape.responsible,
        waiting_person_id=waiting_person_id, opened_at=start, due_at=due,
        steps=steps, policy=policy.signature, period=period)
    uow.deadlines_changed = True
    uow.timeline.record(case_id=case_id, at=now, event=Event.WINDOW_OPENED, actor_id=opened_by,
                        signal_id=signal_id, window=window.id, norm=norm.value,
                        due=due.isoformat())
    return window


async def open_windows(uow: UnitOfWork, ctx: ServiceContext, norm: Norm,
                       case_ids: list[int], *, start: datetime | None = None) -> list[int]:
    """Open a window of ``norm`` in each of many cases at once (e.g. the yearly evaluation
    for every case): two statements however many windows."""
    policy = ctx.policies[norm]
    now = ctx.clock.now()
    start = start or now
    due = policy.due(start, ctx.policies.calendar)
    steps = planned_steps(policy, ctx, start, due)
    values = {"norm": norm.value, "signal_id": None,
              "responsible": ",".join(r.value for r in policy.shape.responsible),
              "waiting_person_id": None, "opened_at": start, "due_at": due,
              "policy": policy.signature, "period": 1}
    ids = await uow.windows.open_many([({**values, "case_id": case_id}, steps)
                                       for case_id in case_ids])
    uow.deadlines_changed = True
    await uow.timeline.record_many([
        {"case_id": case_id, "at": now, "event": Event.WINDOW_OPENED.value,
         "data": {"window": window_id, "norm": norm.value, "due": due.isoformat()}}
        for case_id, window_id in zip(case_ids, ids, strict=True)])
    return ids


async def rebuild(uow: UnitOfWork, ctx: ServiceContext, row: orm.WindowRow | Window,
                  now: datetime, *, redo: bool) -> None:
    """Replace a window's pending steps after its due moment or its chain changed."""
    await uow.windows.delete_pending(row.id)
    if row.status == WindowStatus.PAUSED.value:
        return
    policy = ctx.policies[Norm(row.norm)]
    done = await uow.windows.done_seqs(row.id)
    uow.windows.add_steps(row.id, planned_steps(
        policy, ctx, row.opened_at, row.due_at, status=WindowStatus(row.status), skip=done,
        redo_after=now if redo else None))
    uow.deadlines_changed = True


async def reconcile(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> int:
    """At start-up: windows armed under another span or chain than now configured move with
    the configuration (their extensions and pauses kept). Returns how many moved."""
    moved = 0
    now = ctx.clock.now()
    for norm, policy in ctx.policies.by_norm.items():
        async with new_uow() as uow:
            rows = await uow.windows.with_other_policy(norm, policy.signature)
            for row in rows:
                new_base = policy.due(row.opened_at, ctx.policies.calendar)
                base = row.base_due_at or row.due_at
                if row.status != WindowStatus.LAPSED.value:
                    row.due_at = row.due_at + (new_base - base)
                row.base_due_at = new_base
                row.policy = policy.signature
                await uow.flush()
                await rebuild(uow, ctx, row, now, redo=False)
                uow.timeline.record(case_id=row.case_id, at=now, event=Event.WINDOW_MOVED,
                                    window=row.id, norm=norm.value, due=row.due_at.isoformat())
                moved += 1
            await uow.commit()
    if moved:
        log.info("moved %d open window(s) to the configured norms", moved)
    return moved


# --- who is told -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int
    target: Target
    #: set when this person stands in for an absent one
    on_behalf_of: int | None = None


async def _stand_in(uow: UnitOfWork, ctx: ServiceContext, case_id: int, person_id: int,
                    now: datetime) -> tuple[int, int | None]:
    """The person who receives ``person_id``'s nudges now: a backup while they are away, if
    the policy lets the backup stand in in THIS case (their own roles here see at least what
    the absent person's do); otherwise a team lead of the case who may."""
    absence = await uow.absences.current(person_id, now)
    if absence is None:
        return person_id, None
    absent_roles = await uow.cases.roles_of(case_id, person_id)
    if absence.backup_id is not None and ctx.privacy.may_stand_in(
            absent_roles, await uow.cases.roles_of(case_id, absence.backup_id)):
        return absence.backup_id, person_id
    for lead in await uow.cases.members(case_id, (Role.TEAM_LEAD,)):
        if lead.person_id != person_id and await uow.absences.current(
                lead.person_id, now) is None and ctx.privacy.may_stand_in(
                absent_roles, await uow.cases.roles_of(case_id, lead.person_id)):
            return lead.person_id, person_id
    return person_id, None


async def holders(uow: UnitOfWork, case_id: int, responsible: tuple[Role, ...],
                  exclude: int | None) -> tuple[Role | None, list[int]]:
    """The people who must act: holders of the first of the ``responsible`` roles the case
    has (without ``exclude``, the signal's poster)."""
    for role in responsible:
        people = [m.person_id for m in await uow.cases.members(case_id, (role,))
                  if m.person_id != exclude]
        if people:
            return role, people
    return None, []


async def responsible_people(uow: UnitOfWork, window: Window, exclude: int | None
                             ) -> tuple[Role | None, list[int]]:
    """The people a window waits for."""
    return await holders(uow, window.case_id, window.responsible, exclude)


async def recipients(uow: UnitOfWork, ctx: ServiceContext, window: Window,
                     targets: tuple[str, ...], now: datetime, exclude: int | None
                     ) -> list[Recipient]:
    out: list[Recipient] = []
    seen: set[int] = set()

    async def add(person_id: int, target: Target, substitute: bool) -> None:
        on_behalf = None
        if substitute:
            person_id, on_behalf = await _stand_in(uow, ctx, window.case_id, person_id, now)
        if person_id not in seen:
            seen.add(person_id)
            out.append(Recipient(person_id, target, on_behalf))

    for name in targets:
        target = Target(name)
        if target is Target.RESPONSIBLE:
            for person_id in (await responsible_people(uow, window, exclude))[1]:
                await add(person_id, target, True)
        elif target is Target.WAITING:
            waiting = [window.waiting_person_id] if window.waiting_person_id else []
            role = SHAPES[window.norm].waiting_role
            if not waiting and role is not None:
                waiting = [m.person_id for m in await uow.cases.members(window.case_id, (role,))]
            for person_id in waiting:
                await add(person_id, target, False)
        elif target is Target.TEAM_LEAD:
            for member in await uow.cases.members(window.case_id, (Role.TEAM_LEAD,)):
                await add(member.person_id, target, True)
        else:
            for person_id in await uow.persons.coordinators():
                await add(person_id, target, False)
    return out


async def deliver_after_quiet(uow: UnitOfWork, ctx: ServiceContext, person_id: int,
                              now: datetime, urgent: bool, window: Window) -> datetime | None:
    """When a nudge to this person may go out: at the end of their quiet hours, if now is in
    them and the nudge can wait. It cannot when it is urgent, or when its whole window is
    shorter than the night it would wait out (a window agreed in minutes or hours is urgent
    by nature)."""
    if urgent:
        return None
    person = await uow.persons.get(person_id)
    start, end = ctx.policies.quiet_start, ctx.policies.quiet_end
    if person is not None and person.quiet_start and person.quiet_end:
        start, end = time.fromisoformat(person.quiet_start), time.fromisoformat(person.quiet_end)
    until = quiet_until(now, start, end, ctx.policies.calendar.tz)
    if until is None or window.due_at - window.opened_at < quiet_length(start, end):
        return None
    return until


# --- texts -------------------------------------------------------------------------------

async def subject_renderer(uow: UnitOfWork, window: Window) -> Callable[[str], str]:
    if window.signal_id is not None:
        signal = await uow.signals.get(window.signal_id)
        if signal is not None:
            return lambda lang: i18n.t(lang, "window.subject_signal", number=signal.id,
                                       kind=i18n.kind_name(lang, signal.kind))
    return lambda lang: i18n.t(lang, "window.subject_norm", number=window.id,
                               norm=i18n.t(lang, f"norm.{window.norm.value}"))


def action_text(lang: str, window: Window) -> str:
    if window.norm is Norm.N1_SIGNAL_FOLLOW_UP and window.signal_id is not None:
        return i18n.t(lang, "window.action_ack", number=window.signal_id)
    if window.norm is Norm.N10_EVALUATION:
        # a trajectory's evaluation is met by recording it (bot/services/trajectories.py)
        return i18n.t(lang, "window.action_evaluate")
    return i18n.t(lang, "window.action_done", number=window.id)


def action_choices(lang: str, window: Window) -> list[Option]:
    if window.norm is Norm.N10_EVALUATION:
        return []  # recorded with its outcome (/evaluatie), not ticked off
    if window.norm is Norm.N1_SIGNAL_FOLLOW_UP and window.signal_id is not None:
        return [option(Action.ACKNOWLEDGE, window.signal_id, i18n.t(lang, "button.ack"),
                       label_key="button.ack",
                       command=i18n.t(lang, "command.ack", number=window.signal_id))]
    return [option(Action.COMPLETE, window.id, i18n.t(lang, "button.done"),
                   label_key="button.done",
                   command=i18n.t(lang, "command.done", number=window.id))]


# --- carrying out a step -----------------------------------------------------------------

async def run_step(step: Step, uow: UnitOfWork, ctx: ServiceContext, *,
                   missed: bool = False) -> bool:
    """Carry out one step of a window's chain, once; ``missed``: it fell due while no
    instance did the timed work (a takeover), so it is late whatever the delay."""
    now = ctx.clock.now()
    late = is_late(step, ctx, now, missed=missed)
    if not await uow.windows.claim_step(step.id, now, late):
        return False
    return await carry_out(step, uow, ctx, now=now, late=late)


def is_late(step: Step, ctx: ServiceContext, now: datetime, *, missed: bool = False) -> bool:
    """A step carried out ``now`` is late: it fell due while no instance did the timed work
    (``missed``), or longer ago than ``[norms] late_after``."""
    return missed or now - step.due_at > ctx.norms.late_after


async def carry_out(step: Step, uow: UnitOfWork, ctx: ServiceContext, *, now: datetime,
                    late: bool) -> bool:
    """Carry out a step this unit of work has claimed (``claim_step`` or ``claim_steps``):
    its messages, its timeline event, the window's lapse; ``False`` when the window no
    longer waits for it (met, cancelled, gone) and nothing was sent."""
    uow.deadlines_changed = True
    window = await uow.windows.get(step.window_id)
    if window is None:
        return False
    if step.kind is StepKind.ESCALATION:
        if window.status is not WindowStatus.LAPSED:
            return False
    elif window.status is not WindowStatus.OPEN:
        return False
    if step.kind is StepKind.REMINDER and now >= window.due_at:
        # carried out only after the window's moment (the bot was down): a reminder that it
        # "expires … ago" helps nobody; the lapse that follows says it
        log.info("window %s: reminder skipped, the window's moment has passed", window.id)
        return True  # carried out (claimed once), by sending nothing
    case = await uow.cases.get(window.case_id)
    case_code = case.code if case else "?"
    signal = await uow.signals.get(window.signal_id) if window.signal_id else None
    poster = signal.posted_by if signal else None
    if step.kind is StepKind.LAPSE:
        # the aggregate says what lapsing is; its escalations stay planned
        lapsed, _ = window.lapse(now)
        if not await uow.windows.save(lapsed, was=WindowStatus.OPEN):
            return False
    role, _ = await responsible_people(uow, window, exclude=poster)
    subject = await subject_renderer(uow, window)

    def facts(lang: str) -> dict[str, object]:
        return {"subject": subject(lang), "code": case_code,
                "due": i18n.when(lang, window.due_at),
                "left": i18n.time_left(lang, window.due_at, now),
                "roles": i18n.role_name(lang, role or window.responsible[0]),
                "norm": i18n.t(lang, f"norm.{window.norm.value}"),
                "action": action_text(lang, window)}

    def late_note(lang: str) -> str:
        return i18n.t(lang, "deadline.late", due=i18n.when(lang, step.due_at)) if late else ""

    for recipient in await recipients(uow, ctx, window, step.notify, now, exclude=poster):
        behalf_name = None
        if recipient.on_behalf_of is not None:
            absent = await uow.persons.get(recipient.on_behalf_of)
            behalf_name = absent.display_name if absent else "?"
        not_before = await deliver_after_quiet(uow, ctx, recipient.person_id, now, step.urgent,
                                               window)
        await notify.to_person(
            uow, recipient.person_id,
            _renderer(_message_key(step.kind, recipient.target), facts, late_note, behalf_name),
            now, case_id=window.case_id, not_before=not_before,
            choices=(lambda lang: action_choices(lang, window))
            if recipient.target is Target.RESPONSIBLE else None,
            priority=notify.Priority.URGENT)
    event = {StepKind.REMINDER: Event.REMINDER_SENT, StepKind.LAPSE: Event.WINDOW_LAPSED,
             StepKind.ESCALATION: Event.ESCALATED}[step.kind]
    uow.timeline.record(case_id=window.case_id, at=now, event=event, signal_id=window.signal_id,
                        window=window.id, late=late, step=step.seq)
    if step.kind is StepKind.LAPSE and (hook := LAPSE_HOOKS.get(window.norm)) is not None:
        await hook(uow, ctx, lapsed)
    log.info("window %s: %s carried out (late=%s)", window.id, step.kind.value, late)
    return True


def _renderer(key: str, facts: Callable[[str], dict[str, object]],
              late_note: Callable[[str], str], behalf_name: str | None) -> Callable[[str], str]:
    def render(lang: str) -> str:
        text = i18n.t(lang, key, **facts(lang))
        if behalf_name is not None:
            text += i18n.t(lang, "away.on_behalf", name=behalf_name)
        return text + late_note(lang)

    return render


def _message_key(kind: StepKind, target: Target) -> str:
    if target is Target.COORDINATOR:
        return "window.escalation_coordinator"
    if target is Target.TEAM_LEAD and kind is not StepKind.REMINDER:
        return "window.escalation_team_lead"
    if kind is StepKind.REMINDER:
        return "window.reminder"
    if target is Target.WAITING:
        return "window.lapsed_waiting"
    return "window.lapsed_responsible"


# --- acting on a window ------------------------------------------------------------------

async def window_for_actor(uow: UnitOfWork, ctx: ServiceContext, person_id: int,
                           window_id: int) -> tuple[orm.WindowRow, Role]:
    """A window the person may act on: they hold a responsible role (or lead the team) in its
    case. Anyone else hears that there is no such window."""
    row = await uow.windows.row(window_id)
    roles = await uow.cases.roles_of(row.case_id, person_id) if row else []
    if row is None or not roles:
        raise UnknownWindow(number=window_id)
    window = await uow.windows.get(row.id)
    assert window is not None  # noqa: S101
    if window.signal_id is not None:
        signal = await uow.signals.get(window.signal_id)
        if signal is None or not ctx.privacy.may_see_signal(roles, person_id, signal):
            raise UnknownWindow(number=window_id)
    acting = next((r for r in roles if r in window.responsible or r is Role.TEAM_LEAD), None)
    if acting is None:
        raise UnknownWindow(number=window_id)
    return row, acting


async def _aggregate(uow: UnitOfWork, ctx: ServiceContext, person_id: int, window_id: int
                     ) -> tuple[Window, Role]:
    """The window, as its aggregate, that the person may act on."""
    row, role = await window_for_actor(uow, ctx, person_id, window_id)
    window = await uow.windows.get(row.id)
    assert window is not None  # noqa: S101
    return window, role


async def _store(uow: UnitOfWork, before: Window, after: Window) -> None:
    """Save the aggregate's change; a change made meanwhile by someone else wins (the person
    hears that the window no longer stands as it did)."""
    if not await uow.windows.save(after, was=before.status):
        fresh = await uow.windows.get(before.id)
        raise WindowNotOpen(number=before.id,
                            state=fresh.status if fresh else WindowStatus.CANCELLED)
    uow.deadlines_changed = True


async def complete(uow: UnitOfWork, ctx: ServiceContext, person_id: int, window_id: int
                   ) -> tuple[Window, Window | None]:
    """The responsible person marks a window met; a periodic norm opens its next period."""
    window, role = await _aggregate(uow, ctx, person_id, window_id)
    now = ctx.clock.now()
    met, _ = window.complete(now)
    await _store(uow, window, met)
    await uow.windows.skip_pending(window.id, now, WindowStatus.MET.value)
    uow.timeline.record(case_id=window.case_id, at=now, event=Event.WINDOW_MET,
                        actor_id=person_id, actor_role=role, window=window.id)
    if (hook := MET_HOOKS.get(window.norm)) is not None:
        await hook(uow, ctx, met, person_id)
    following = None
    if NORMS[window.norm].periodic:
        start = window.due_at if window.due_at > now else now
        following = await open_window(uow, ctx, case_id=window.case_id, norm=window.norm,
                                      opened_by=person_id, responsible=window.responsible,
                                      waiting_person_id=window.waiting_person_id, start=start,
                                      period=window.period + 1)
    return window, following


async def pause(uow: UnitOfWork, ctx: ServiceContext, person_id: int, window_id: int,
                reason: str) -> tuple[Window, orm.TimelineRow]:
    """Paused: its chain stops; the reason waits for its poster's choice (docs/PRIVACY.md)."""
    window, role = await _aggregate(uow, ctx, person_id, window_id)
    now = ctx.clock.now()
    paused, _ = window.pause(now)
    await _store(uow, window, paused)
    await uow.windows.skip_pending(window.id, now, "paused")
    event = uow.timeline.record(case_id=window.case_id, at=now, event=Event.WINDOW_PAUSED,
                                actor_id=person_id, actor_role=role, window=window.id,
                                reason=reason, reason_status="draft")
    return paused, event


async def resume(uow: UnitOfWork, ctx: ServiceContext, person_id: int, window_id: int
                 ) -> Window:
    """Runs again, its moment moved by the pause; its chain is planned anew."""
    window, role = await _aggregate(uow, ctx, person_id, window_id)
    now = ctx.clock.now()
    resumed, _ = window.resume(now)
    await _store(uow, window, resumed)
    await rebuild(uow, ctx, resumed, now, redo=True)
    uow.timeline.record(case_id=window.case_id, at=now, event=Event.WINDOW_RESUMED,
                        actor_id=person_id, actor_role=role, window=window.id,
                        due=resumed.due_at.isoformat())
    return resumed


async def extend(uow: UnitOfWork, ctx: ServiceContext, person_id: int, window_id: int,
                 span: Span, reason: str) -> tuple[Window, orm.TimelineRow]:
    """Move a window's deadline later by ``span`` (some time, at most ``MAX_EXTENSION``); a
    lapsed one runs again if that is still ahead."""
    window, role = await _aggregate(uow, ctx, person_id, window_id)
    now = ctx.clock.now()
    try:
        due = span.after(window.due_at, ctx.policies.calendar)
    except (ValueError, OverflowError):
        raise ExtensionTooLong(limit=MAX_EXTENSION.days) from None
    extended, _ = window.extend(due, now, at_most=MAX_EXTENSION)
    await _store(uow, window, extended)
    await rebuild(uow, ctx, extended, now, redo=True)
    event = uow.timeline.record(case_id=window.case_id, at=now, event=Event.WINDOW_EXTENDED,
                                actor_id=person_id, actor_role=role, window=window.id,
                                by=str(span), due=extended.due_at.isoformat(), reason=reason,
                                reason_status="draft")
    return extended, event


def may_start(roles: list[Role], norm: Norm) -> bool:
    """Who may start a window by hand: the care team any; others only the norms they must
    act on themselves (the landlord N2). Waiting for a norm (the landlord for N3 and N7,
    which are the team's) gives no right to start it."""
    if any(r in CARE_TEAM for r in roles):
        return True
    return any(r in SHAPES[norm].responsible for r in roles)


# --- the use cases behind /termijn, /gedaan, /pauzeer, /hervat, /verleng, /reden ---------

class UnknownNorm(errors.DomainError):
    key = "error.unknown_norm"


BadSpan = arguments.BadSpan


ExtensionTooLong = errors.ExtensionTooLong


#: the longest a window can be extended by at once
MAX_EXTENSION = timedelta(days=366)


class NoReasonToShare(errors.DomainError):
    key = "error.no_reason_to_share"


@dataclass(frozen=True)
class WindowStarted:
    window: Window
    case_code: str
    responsible_role: Role | None


@dataclass(frozen=True)
class WindowCompleted:
    window: Window
    case_code: str
    #: a periodic norm's next period
    following: Window | None


@dataclass(frozen=True)
class WindowChanged:
    """Paused, resumed or extended; ``reason_readers``: who beyond the care team would read
    the reason once its poster lets it go (the preview, as for a note)."""

    window: Window
    case_code: str
    reason_readers: list[tuple[Role, str]]


async def _case_code(uow: UnitOfWork, case_id: int) -> str:
    case = await uow.cases.get(case_id)
    return case.code if case else "?"


async def _signal_of(uow: UnitOfWork, window: Window) -> Signal | None:
    return await uow.signals.get(window.signal_id) if window.signal_id is not None else None


async def start_window(cmd: StartWindow, uow: UnitOfWork, ctx: ServiceContext
                       ) -> WindowStarted:
    """Start a window of a norm by hand; its responsible people are told."""
    from bot.services.signals import case_of_member  # noqa: PLC0415 - signals imports us

    case, roles = await case_of_member(uow, cmd.person_id, cmd.case_code)
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    norm = parse_norm(cmd.norm_text)
    if norm is None or not NORMS[norm].by_hand:
        raise UnknownNorm(given=cmd.norm_text, choices=tuple(
            n for n, shape in NORMS.items() if shape.by_hand))
    if not may_start(roles, norm):
        raise errors.NotAllowed()
    shape = SHAPES[norm]
    waiting = cmd.person_id if not any(r in shape.responsible for r in roles) else None
    window = await open_window(uow, ctx, case_id=case.id, norm=norm, opened_by=cmd.person_id,
                               waiting_person_id=waiting)
    now = ctx.clock.now()
    role, people = await responsible_people(uow, window, exclude=None)
    for person_id in people:
        if person_id == cmd.person_id:
            continue
        await notify.to_person(
            uow, person_id,
            lambda lang: i18n.t(lang, "window.opened_notice", number=window.id, code=case.code,
                                norm=i18n.t(lang, f"norm.{norm.value}"),
                                due=i18n.when(lang, window.due_at)),
            now, case_id=case.id, choices=lambda lang: action_choices(lang, window))
    return WindowStarted(window=window, case_code=case.code, responsible_role=role)


async def complete_window(cmd: CompleteWindow, uow: UnitOfWork, ctx: ServiceContext
                          ) -> WindowCompleted:
    """The responsible person marks a window met (a signal's window: by acknowledging the
    signal); the others concerned are told."""
    from bot.services import signals  # noqa: PLC0415 - signals imports us

    row, _ = await window_for_actor(uow, ctx, cmd.person_id, cmd.window_id)
    if row.norm == Norm.N1_SIGNAL_FOLLOW_UP.value and row.signal_id is not None:
        await signals.acknowledge(AcknowledgeSignal(cmd.person_id, row.signal_id), uow, ctx)
        window = await uow.windows.get(row.id)
        assert window is not None  # noqa: S101
        return WindowCompleted(window, await _case_code(uow, window.case_id), None)
    window, following = await complete(uow, ctx, cmd.person_id, cmd.window_id)
    code = await _case_code(uow, window.case_id)
    await tell_others(uow, ctx, cmd.person_id, window, "window.met_notice", code=code)
    return WindowCompleted(window, code, following)


def _reason(text: str) -> str:
    reason = text.strip()[:500]
    if not reason:
        raise ReasonNeeded(usage=errors.MessageKey("usage.pause"))
    return reason


class ReasonNeeded(errors.DomainError):
    key = "error.reason_needed"


async def pause_window(cmd: PauseWindow, uow: UnitOfWork, ctx: ServiceContext
                       ) -> WindowChanged:
    reason = _reason(cmd.reason)
    window, event = await pause(uow, ctx, cmd.person_id, cmd.window_id, reason)
    code = await _case_code(uow, window.case_id)
    readers = await tell_others(uow, ctx, cmd.person_id, window, "window.changed_notice",
                                code=code, reason=reason, change="paused")
    _settle_reason(event, readers)
    return WindowChanged(window, code, readers)


async def resume_window(cmd: ResumeWindow, uow: UnitOfWork, ctx: ServiceContext
                        ) -> WindowChanged:
    window = await resume(uow, ctx, cmd.person_id, cmd.window_id)
    code = await _case_code(uow, window.case_id)
    await tell_others(uow, ctx, cmd.person_id, window, "window.changed_notice", code=code,
                      reason="", change="resumed")
    return WindowChanged(window, code, [])


async def extend_window(cmd: ExtendWindow, uow: UnitOfWork, ctx: ServiceContext
                        ) -> WindowChanged:
    try:
        span = arguments.span(cmd.span_text)  # more than zero, at most a year: no overflow
    except arguments.SpanOutOfRange:
        if Span.parse(arguments.clean(cmd.span_text)).is_zero:
            raise BadSpan(given=cmd.span_text) from None
        raise ExtensionTooLong(limit=MAX_EXTENSION.days) from None
    reason = _reason(cmd.reason)
    window, event = await extend(uow, ctx, cmd.person_id, cmd.window_id, span, reason)
    code = await _case_code(uow, window.case_id)
    readers = await tell_others(uow, ctx, cmd.person_id, window, "window.changed_notice",
                                code=code, reason=reason, change="extended")
    _settle_reason(event, readers)
    return WindowChanged(window, code, readers)


def _settle_reason(event: orm.TimelineRow, readers: list[tuple[Role, str]]) -> None:
    """A reason nobody beyond the care team would read needs no decision of its poster."""
    if not readers:
        event.data = {**event.data, "reason_status": "team"}


async def tell_others(uow: UnitOfWork, ctx: ServiceContext, actor_id: int, window: Window,
                      key: str, *, code: str, reason: str | None = None,
                      change: str | None = None) -> list[tuple[Role, str]]:
    """Tell the window's responsible people, the team lead and the one waiting. Each is told
    only of a window the policy lets them know of, and names only where they may see names.
    A reason is free text of the window's class (``Policy.reason_class``): the care team reads
    it at once; anyone else only once its poster lets it go (:func:`share_reason`). Returns
    those others, who would read it, for the poster's preview."""
    now = ctx.clock.now()
    subject = await subject_renderer(uow, window)
    signal = await _signal_of(uow, window)
    people = set((await responsible_people(uow, window, exclude=None))[1])
    if window.waiting_person_id is not None:
        people.add(window.waiting_person_id)
    people.update(m.person_id for m in await uow.cases.members(window.case_id,
                                                                (Role.TEAM_LEAD,)))
    people.discard(actor_id)
    actor = await uow.persons.get(actor_id)
    actor_name = actor.display_name if actor else "?"
    acting = _acting_role(window, await uow.cases.roles_of(window.case_id, actor_id))
    later: list[tuple[Role, str]] = []
    for person_id in sorted(people):
        their_roles = await uow.cases.roles_of(window.case_id, person_id)
        if not their_roles or not ctx.privacy.may_know_window(their_roles, person_id, window,
                                                              signal):
            continue
        at_once = ctx.privacy.reads_reason_at_once(their_roles, signal)
        if reason and not at_once and ctx.privacy.may_read_reason(their_roles, signal):
            person = await uow.persons.get(person_id)
            later.append((_acting_role(window, their_roles),
                          person.display_name if person else "?"))
        names = ctx.privacy.sees_names(their_roles)

        def text(lang: str, at_once: bool = at_once, names: bool = names) -> str:
            who = render.person(lang, acting, actor_name if names else None)
            args = {"number": window.id, "subject": subject(lang), "code": code, "who": who}
            if change is not None:
                args["change"] = i18n.t(lang, f"change.{change}")
                args["reason"] = reason if (at_once and reason) else "—"
            return i18n.t(lang, key, **args)

        await notify.to_person(uow, person_id, text, now, case_id=window.case_id)
    return later


def _acting_role(window: Window, roles: list[Role]) -> Role:
    return next((r for r in roles if r in window.responsible), roles[0] if roles else
                window.responsible[0])


async def share_reason(cmd: ShareReason, uow: UnitOfWork, ctx: ServiceContext
                       ) -> list[tuple[Role, str]]:
    """The poster of the latest pause or extension reason of a window lets it go to the
    others concerned whom the policy lets read it (``send``), or keeps it in the care team
    (``team``, ``withhold``). Returns who received it."""
    row = await uow.windows.row(cmd.window_id)
    event = None
    if row is not None:
        for entry in reversed(await uow.timeline.of_case(row.case_id)):
            data = entry.data or {}
            if entry.actor_id == cmd.person_id and data.get("window") == row.id and \
                    data.get("reason") and entry.event in (Event.WINDOW_PAUSED.value,
                                                           Event.WINDOW_EXTENDED.value):
                event = entry
                break
    if row is None or event is None or (event.data or {}).get("reason_status") != "draft":
        raise NoReasonToShare(number=cmd.window_id)
    window = await uow.windows.get(row.id)
    assert window is not None  # noqa: S101
    data = dict(event.data)
    if cmd.choice != "send":
        data["reason_status"] = "team"
        event.data = data
        return []
    signal = await _signal_of(uow, window)
    code = await _case_code(uow, window.case_id)
    subject = await subject_renderer(uow, window)
    reason = str(data["reason"])
    people = set((await responsible_people(uow, window, exclude=None))[1])
    if window.waiting_person_id is not None:
        people.add(window.waiting_person_id)
    people.discard(cmd.person_id)
    told: list[tuple[Role, str]] = []
    readers: list[str] = []
    now = ctx.clock.now()
    for person_id in sorted(people):
        roles = await uow.cases.roles_of(window.case_id, person_id)
        if not roles or ctx.privacy.reads_reason_at_once(roles, signal) or \
                not ctx.privacy.may_know_window(roles, person_id, window, signal) or \
                not ctx.privacy.may_read_reason(roles, signal):
            continue
        person = await uow.persons.get(person_id)
        told.append((_acting_role(window, roles), person.display_name if person else "?"))
        readers.extend(r.value for r in roles)
        await notify.to_person(
            uow, person_id,
            lambda lang: i18n.t(lang, "window.reason_follows", number=window.id,
                                subject=subject(lang), code=code, reason=reason),
            now, case_id=window.case_id)
    data["reason_status"] = "sent"
    data["reason_readers"] = sorted(set(readers))
    event.data = data
    return told


async def list_deadlines(uow: UnitOfWork, ctx: ServiceContext, person_id: int,
                         case_code: str | None) -> Deadlines:
    """``/termijnen``: the person's open windows, soonest first (each read of a case is
    access-logged)."""
    from bot.services import access  # noqa: PLC0415
    from bot.services.signals import case_of_member  # noqa: PLC0415
    from bot.services.summaries import window_state  # noqa: PLC0415

    person = await uow.persons.get(person_id)
    lang = person.language if person else "nl"
    now = ctx.clock.now()
    roles_in: dict[int, list[Role]] = {}
    codes: dict[int, str] = {}
    if case_code is not None:
        case, roles = await case_of_member(uow, person_id, case_code)
        roles_in[case.id], codes[case.id] = roles, case.code
    else:
        for case, role in await uow.cases.cases_of(person_id):
            roles_in.setdefault(case.id, []).append(role)
            codes[case.id] = case.code
    mine: list[str] = []
    waiting: list[str] = []
    read: set[int] = set()
    for window in await uow.windows.running(case_ids=list(roles_in)):
        roles = roles_in[window.case_id]
        signal = await _signal_of(uow, window)
        if not ctx.privacy.may_know_window(roles, person_id, window, signal):
            continue
        subject = (await subject_renderer(uow, window))(lang)
        line = i18n.t(lang, "deadlines.line", number=window.id, subject=subject,
                      code=codes[window.case_id], state=window_state(lang, window, now))
        responsible = any(r in window.responsible for r in roles) and not (
            signal is not None and signal.posted_by == person_id)
        if case_code is not None or responsible:
            mine.append(line)
        elif window.waiting_person_id == person_id:
            waiting.append(line)
        else:
            continue
        read.add(window.case_id)
    for case_id in sorted(read):
        access.record(uow, person_id=person_id, role=roles_in[case_id], case_id=case_id,
                      what="deadlines", purpose="/termijnen", at=now)
    return Deadlines(case_code=next(iter(codes.values())) if case_code is not None else None,
                     mine=mine, waiting=waiting)


@dataclass(frozen=True)
class Deadlines:
    #: set when one case was asked for
    case_code: str | None
    mine: list[str]
    waiting: list[str]
