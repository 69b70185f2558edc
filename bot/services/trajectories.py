"""Use cases of a trajectory (the last chance, the breakthrough track): propose it, record the
tenant's consent, the support agreement and its lease, start it (by itself, once everything is
there), evaluate it (each evaluation meets the running N10 window, and the next opens by
itself), close it (a reflection follows: ``bot/services/reflection.py``), and read it.

Who is told what is the policy's (``bot/privacy.py``): the agreement and the lease reference
are free text of the class ``agreement``, an evaluation's note and a closing note of the class
``evaluation``. A role that sees the class reads them; a role that sees it redacted learns only
the facts (the kind, the state, the dates); any other role learns nothing of the trajectory.
The process monitor sees the agreements, the evaluations and the deadlines, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot import i18n, notify, render
from bot.domain import errors
from bot.domain.choices import Option
from bot.domain.dossier import DossierEntry, EntryKind, provider
from bot.domain.events import Event
from bot.domain.model import Norm, Role, Window, WindowStatus
from bot.domain.trajectory import (
    AGREEMENT_WRITERS,
    CONSENT_RECORDERS,
    EVALUATORS,
    PROPOSERS,
    CloseTrajectory,
    EvaluateTrajectory,
    LinkLease,
    NoTrajectory,
    ProposeTrajectory,
    RecordAgreement,
    RecordConsent,
    StartTrajectory,
    Trajectory,
    TrajectoryRuns,
    TrajectoryStatus,
)
from bot.i18n.keys import N_
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.privacy import Info, Visibility
from bot.services import access, windows
from bot.services.context import ServiceContext
from bot.services.signals import case_of_member

#: the longest agreement, note or lease reference accepted
TEXT_LIMIT = 2000
LEASE_LIMIT = 300

#: composed at run time: the kinds, states, outcomes and closures, by name
_NAMES = (
    N_("trajectory.kind.last_chance"), N_("trajectory.kind.breakthrough"),
    N_("trajectory.status.proposed"), N_("trajectory.status.active"),
    N_("trajectory.status.closed"),
    N_("trajectory.outcome.on_track"), N_("trajectory.outcome.adjust"),
    N_("trajectory.outcome.breach"),
    N_("trajectory.closure.positive"), N_("trajectory.closure.negative"),
    N_("trajectory.missing.consent"), N_("trajectory.missing.acknowledgement"),
    N_("trajectory.missing.agreement"), N_("trajectory.missing.lease"),
    N_("trajectory.missing.monitor"), N_("accesslog.what.trajectory"),
    N_("trajectory.error.generic"), N_("trajectory.error.none"),
    N_("trajectory.error.runs"), N_("trajectory.error.not_active"),
    N_("trajectory.error.already_active"), N_("trajectory.error.closed"),
    N_("trajectory.error.not_ready"), N_("trajectory.error.too_early"),
    N_("trajectory.error.not_evaluated"),
    # the usage lines handed to the shared argument parsing (handlers/trajectories.py)
    N_("trajectory.usage.trajectory"), N_("trajectory.usage.consent"),
    N_("trajectory.usage.agreement"), N_("trajectory.usage.lease"),
    N_("trajectory.usage.evaluate"), N_("trajectory.usage.close"),
    N_("arrears.usage.judgment"),
    # the timeline's events of trajectories, rent arrears and reflections (the dossier)
    N_("timeline.trajectory_proposed"), N_("timeline.trajectory_consent"),
    N_("timeline.trajectory_agreement"), N_("timeline.trajectory_lease"),
    N_("timeline.trajectory_started"), N_("timeline.trajectory_evaluated"),
    N_("timeline.trajectory_closed"), N_("timeline.eviction_judgment"),
    N_("timeline.reflection_recorded"),
    # i18n.role_name: the municipality's debt help and crisis team (bot/services/rent_arrears.py)
    N_("role.debt_help"), N_("role.crisis_team"),
)


class TextNeeded(errors.DomainError):
    key = "trajectory.error.text_needed"


class TextTooLong(errors.DomainError):
    key = "error.note_too_long"


def kind_name(lang: str, trajectory: Trajectory) -> str:
    return i18n.t(lang, f"trajectory.kind.{trajectory.kind.value}")


def missing_text(lang: str, missing: tuple[str, ...]) -> str:
    return ", ".join(i18n.t(lang, key) for key in missing) or "—"


def _text(given: str | None, limit: int, usage_key: str) -> str:
    text = (given or "").strip()
    if not text:
        raise TextNeeded(usage=errors.MessageKey(usage_key))
    if len(text) > limit:
        raise TextTooLong(limit=limit)
    return text


def _optional(given: str | None, limit: int) -> str | None:
    text = (given or "").strip() or None
    if text is not None and len(text) > limit:
        raise TextTooLong(limit=limit)
    return text


async def _acting(uow: UnitOfWork, person_id: int, code: str, allowed: frozenset[Role]
                  ) -> tuple[orm.Case, list[Role], Role]:
    """The case, the person's roles in it, and the role they act in here; a closed case
    takes nothing new."""
    case, roles = await case_of_member(uow, person_id, code)
    role = next((r for r in roles if r in allowed), None)
    if role is None:
        raise errors.NotAllowed()
    if case.closed_at is not None:
        raise errors.CaseClosed(code=case.code)
    return case, roles, role


async def _current(uow: UnitOfWork, case: orm.Case) -> Trajectory:
    trajectory = await uow.trajectories.current(case.id)
    if trajectory is None:
        raise NoTrajectory(code=case.code)
    return trajectory


async def _store(uow: UnitOfWork, before: Trajectory, after: Trajectory) -> None:
    """Save the change; one made meanwhile by someone else wins."""
    if not await uow.trajectories.save(after, was=before.status):
        raise errors.DomainError()


async def has_monitor(uow: UnitOfWork, case_id: int) -> bool:
    return bool(await uow.cases.members(case_id, (Role.MONITOR,)))


async def tell(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case, actor_id: int | None,
               info: Info, text: Callable[[str, bool, bool], str], *,
               choices: Callable[[str], list[Option]] | None = None) -> list[int]:
    """Tell every member of the case (not the actor) whose roles see ``info`` at all: the
    rendering is given the reader's language, whether they read the class's text (shown, not
    only redacted) and whether they may read names. Returns who was told."""
    told: list[int] = []
    now = ctx.clock.now()
    for person_id in dict.fromkeys(m.person_id for m in await uow.cases.members(case.id)):
        if person_id == actor_id:
            continue
        roles = await uow.cases.roles_of(case.id, person_id)
        level = ctx.privacy.best(roles, info)
        if level is Visibility.HIDDEN:
            continue
        shown, names = level is Visibility.SHOWN, ctx.privacy.sees_names(roles)

        def rendered(lang: str, shown: bool = shown, names: bool = names) -> str:
            return text(lang, shown, names)

        await notify.to_person(uow, person_id, rendered, now, case_id=case.id,
                               choices=choices)
        told.append(person_id)
    return told


async def _who(uow: UnitOfWork, person_id: int, role: Role) -> Callable[[str, bool], str]:
    person = await uow.persons.get(person_id)
    name = person.display_name if person else "?"
    return lambda lang, names: render.person(lang, role, name if names else None)


# --- results ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrajectoryChanged:
    trajectory: Trajectory
    case_code: str
    #: what it still needs before it can start (catalogue keys)
    missing: tuple[str, ...]
    #: set when this change started it: its first evaluation window
    started: Window | None = None


@dataclass(frozen=True)
class TrajectoryEvaluatedResult:
    trajectory: Trajectory
    case_code: str
    period: int
    #: the evaluation window that opened by itself for the next period
    following: Window | None


# --- the use cases ------------------------------------------------------------------------

async def propose_trajectory(cmd: ProposeTrajectory, uow: UnitOfWork, ctx: ServiceContext
                             ) -> TrajectoryChanged:
    """The landlord or the care team proposes (aanmelden) a trajectory for the case; a case has
    one at a time."""
    case, _, role = await _acting(uow, cmd.person_id, cmd.case_code, PROPOSERS)
    if await uow.trajectories.current(case.id) is not None:
        raise TrajectoryRuns(code=case.code)
    now = ctx.clock.now()
    proposed, _ = Trajectory.propose(case.id, cmd.kind, now, by=cmd.person_id, role=role)
    trajectory = await uow.trajectories.add(proposed)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_PROPOSED,
                        actor_id=cmd.person_id, actor_role=role, kind=cmd.kind.value,
                        trajectory=trajectory.id)
    missing = trajectory.missing(has_monitor=await has_monitor(uow, case.id))
    who = await _who(uow, cmd.person_id, role)
    await tell(uow, ctx, case, cmd.person_id, Info.AGREEMENT,
               lambda lang, shown, names: i18n.t(
                   lang, "trajectory.proposed_notice", code=case.code,
                   kind=kind_name(lang, trajectory), who=who(lang, names),
                   missing=missing_text(lang, missing)))
    return TrajectoryChanged(trajectory, case.code, missing)


async def record_consent(cmd: RecordConsent, uow: UnitOfWork, ctx: ServiceContext
                         ) -> TrajectoryChanged:
    """The tenant's consent (and acknowledgement of the nuisance), given by the tenant or
    recorded by the care team; the trajectory starts once everything is there."""
    case, _, role = await _acting(uow, cmd.person_id, cmd.case_code, CONSENT_RECORDERS)
    before = await _current(uow, case)
    now = ctx.clock.now()
    after, event = before.record_consent(now, acknowledged=cmd.acknowledged,
                                         by_tenant=role is Role.TENANT)
    await _store(uow, before, after)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_CONSENT,
                        actor_id=cmd.person_id, actor_role=role, trajectory=after.id,
                        acknowledged=event.acknowledged, by_tenant=event.by_tenant)
    who = await _who(uow, cmd.person_id, role)
    await tell(uow, ctx, case, cmd.person_id, Info.AGREEMENT,
               lambda lang, shown, names: i18n.t(
                   lang, "trajectory.consent_notice", code=case.code,
                   kind=kind_name(lang, after), who=who(lang, names),
                   acknowledged=i18n.t(lang, "trajectory.acknowledged_yes"
                                       if after.acknowledged else "trajectory.acknowledged_no")))
    return await _maybe_start(uow, ctx, case, after, cmd.person_id)


async def record_agreement(cmd: RecordAgreement, uow: UnitOfWork, ctx: ServiceContext
                           ) -> TrajectoryChanged:
    """The support agreement (woonbegeleidingsovereenkomst), or a new version of it."""
    text = _text(cmd.text, TEXT_LIMIT, "trajectory.usage.agreement")
    case, _, role = await _acting(uow, cmd.person_id, cmd.case_code, AGREEMENT_WRITERS)
    before = await _current(uow, case)
    now = ctx.clock.now()
    after, _ = before.record_agreement(text, now)
    await _store(uow, before, after)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_AGREEMENT,
                        actor_id=cmd.person_id, actor_role=role, trajectory=after.id)
    who = await _who(uow, cmd.person_id, role)
    await tell(uow, ctx, case, cmd.person_id, Info.AGREEMENT,
               lambda lang, shown, names: i18n.t(
                   lang, "trajectory.agreement_notice", code=case.code,
                   kind=kind_name(lang, after), who=who(lang, names),
                   text=text if shown else i18n.t(lang, "trajectory.redacted")))
    return await _maybe_start(uow, ctx, case, after, cmd.person_id)


async def link_lease(cmd: LinkLease, uow: UnitOfWork, ctx: ServiceContext
                     ) -> TrajectoryChanged:
    """The support agreement is part of the new lease: which one (a reference)."""
    reference = _text(cmd.reference, LEASE_LIMIT, "trajectory.usage.lease")
    case, _, role = await _acting(uow, cmd.person_id, cmd.case_code, AGREEMENT_WRITERS)
    before = await _current(uow, case)
    now = ctx.clock.now()
    after, _ = before.link_lease(reference, now)
    await _store(uow, before, after)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_LEASE,
                        actor_id=cmd.person_id, actor_role=role, trajectory=after.id)
    who = await _who(uow, cmd.person_id, role)
    await tell(uow, ctx, case, cmd.person_id, Info.AGREEMENT,
               lambda lang, shown, names: i18n.t(
                   lang, "trajectory.lease_notice", code=case.code, who=who(lang, names),
                   lease=reference if shown else i18n.t(lang, "trajectory.redacted")))
    return await _maybe_start(uow, ctx, case, after, cmd.person_id)


async def start_trajectory(cmd: StartTrajectory, uow: UnitOfWork, ctx: ServiceContext
                           ) -> TrajectoryChanged:
    """Start it by hand (it also starts by itself when the last missing piece comes; this is
    for when the process monitor joined last). Says what is missing otherwise."""
    case, _, _ = await _acting(uow, cmd.person_id, cmd.case_code, AGREEMENT_WRITERS)
    before = await _current(uow, case)
    if before.status is TrajectoryStatus.PROPOSED:
        missing = before.missing(has_monitor=await has_monitor(uow, case.id))
        if missing:
            return TrajectoryChanged(before, case.code, missing)  # nothing changes: it says
    return await _start(uow, ctx, case, before, cmd.person_id)


async def _maybe_start(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case,
                       trajectory: Trajectory, actor_id: int) -> TrajectoryChanged:
    monitor = await has_monitor(uow, case.id)
    missing = trajectory.missing(has_monitor=monitor)
    if trajectory.status is not TrajectoryStatus.PROPOSED or missing:
        return TrajectoryChanged(trajectory, case.code, missing)
    return await _start(uow, ctx, case, trajectory, actor_id)


async def _start(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case, before: Trajectory,
                 actor_id: int) -> TrajectoryChanged:
    """It runs: the minimum length (N10, two years) from now, and the first evaluation
    window (N10, every three months), which the monitor (or the coach) must meet."""
    now = ctx.clock.now()
    minimum = ctx.policies[Norm.N10_MINIMUM].due(now, ctx.policies.calendar)
    after, _ = before.start(now, has_monitor=await has_monitor(uow, case.id),
                            minimum_until=minimum)
    await _store(uow, before, after)
    window = await windows.open_window(uow, ctx, case_id=case.id, norm=Norm.N10_EVALUATION,
                                       opened_by=actor_id)
    await uow.trajectories.set_window(after.id, window.id)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_STARTED,
                        actor_id=actor_id, trajectory=after.id, window=window.id,
                        norm=Norm.N10_EVALUATION.value,
                        minimum=after.minimum_until.isoformat() if after.minimum_until else None)
    await tell(uow, ctx, case, None, Info.AGREEMENT,
               lambda lang, shown, names: i18n.t(
                   lang, "trajectory.started_notice", code=case.code,
                   kind=kind_name(lang, after), window=window.id,
                   due=i18n.when(lang, window.due_at),
                   minimum=i18n.when(lang, after.minimum_until) if after.minimum_until
                   else i18n.t(lang, "trajectory.no_minimum")))
    return TrajectoryChanged(after, case.code, (), started=window)


async def _running_evaluation_window(uow: UnitOfWork, case_id: int) -> Window | None:
    running = [w for w in await uow.windows.running(case_id=case_id)
               if w.norm is Norm.N10_EVALUATION]
    return max(running, key=lambda w: w.id) if running else None


async def evaluate_trajectory(cmd: EvaluateTrajectory, uow: UnitOfWork, ctx: ServiceContext
                              ) -> TrajectoryEvaluatedResult:
    """A periodic evaluation with its outcome: it meets the running evaluation window (N10),
    and the next period's window opens by itself, from the moment this one was due."""
    note = _optional(cmd.note, TEXT_LIMIT)
    case, _, role = await _acting(uow, cmd.person_id, cmd.case_code, EVALUATORS)
    before = await _current(uow, case)
    now = ctx.clock.now()
    after, event = before.evaluate(cmd.outcome, now)
    await _store(uow, before, after)
    window = await _running_evaluation_window(uow, case.id)
    following = None
    if window is not None:
        met, _ = window.complete(now)
        if await uow.windows.save(met, was=window.status):
            await uow.windows.skip_pending(window.id, now, WindowStatus.MET.value)
            uow.deadlines_changed = True
            uow.timeline.record(case_id=case.id, at=now, event=Event.WINDOW_MET,
                                actor_id=cmd.person_id, actor_role=role, window=window.id)
        start = window.due_at if window.due_at > now else now
        following = await windows.open_window(
            uow, ctx, case_id=case.id, norm=Norm.N10_EVALUATION, opened_by=cmd.person_id,
            responsible=window.responsible, start=start, period=window.period + 1)
        await uow.trajectories.set_window(after.id, following.id)
    await uow.trajectories.add_evaluation(
        trajectory=after, period=event.period, at=now, by=cmd.person_id, role=role,
        outcome=cmd.outcome, note=note, window_id=window.id if window else None)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_EVALUATED,
                        actor_id=cmd.person_id, actor_role=role, trajectory=after.id,
                        period=event.period, outcome=cmd.outcome.value)
    who = await _who(uow, cmd.person_id, role)

    def text(lang: str, shown: bool, names: bool) -> str:
        out = i18n.t(lang, "trajectory.evaluated_notice", code=case.code,
                     kind=kind_name(lang, after), period=event.period, who=who(lang, names),
                     outcome=i18n.t(lang, f"trajectory.outcome.{cmd.outcome.value}")
                     if shown else i18n.t(lang, "trajectory.redacted"))
        if shown and note:
            out += i18n.t(lang, "trajectory.note", note=note)
        if following is not None:
            out += i18n.t(lang, "trajectory.next_evaluation", window=following.id,
                          due=i18n.when(lang, following.due_at))
        return out

    await tell(uow, ctx, case, cmd.person_id, Info.EVALUATION, text)
    return TrajectoryEvaluatedResult(after, case.code, event.period, following)


@dataclass(frozen=True)
class TrajectoryClosedResult:
    trajectory: Trajectory
    case_code: str
    #: the reflection's first question for the person who closed it (``Said``), if theirs
    reflection: list[object]


async def close_trajectory(cmd: CloseTrajectory, uow: UnitOfWork, ctx: ServiceContext
                           ) -> TrajectoryClosedResult:
    """Closed, positively or negatively; its evaluation windows stop. Then a reflection
    (N12): the one who closed it is asked at once, the other partners are invited."""
    from bot.services import reflection  # noqa: PLC0415 - reflection imports us

    note = _optional(cmd.note, TEXT_LIMIT)
    case, _, role = await _acting(uow, cmd.person_id, cmd.case_code, EVALUATORS)
    before = await _current(uow, case)
    now = ctx.clock.now()
    after, _ = before.close(cmd.closure, now, note)
    await _store(uow, before, after)
    for window in await uow.windows.running(case_id=case.id):
        if window.norm is not Norm.N10_EVALUATION:
            continue
        stopped, _ = window.stop(now)
        if await uow.windows.save(stopped, was=window.status):
            await uow.windows.skip_pending(window.id, now, WindowStatus.CANCELLED.value)
            uow.deadlines_changed = True
    await uow.trajectories.set_window(after.id, None)
    uow.timeline.record(case_id=case.id, at=now, event=Event.TRAJECTORY_CLOSED,
                        actor_id=cmd.person_id, actor_role=role, trajectory=after.id,
                        closure=cmd.closure.value)
    who = await _who(uow, cmd.person_id, role)

    def text(lang: str, shown: bool, names: bool) -> str:
        out = i18n.t(lang, "trajectory.closed_notice", code=case.code,
                     kind=kind_name(lang, after), who=who(lang, names),
                     closure=i18n.t(lang, f"trajectory.closure.{cmd.closure.value}"))
        if shown and note:
            out += i18n.t(lang, "trajectory.note", note=note)
        return out

    await tell(uow, ctx, case, cmd.person_id, Info.EVALUATION, text)
    said = await reflection.ask(uow, ctx, case, cmd.person_id, subject="trajectory")
    return TrajectoryClosedResult(after, case.code, list(said))


# --- reading it ---------------------------------------------------------------------------

async def view_trajectory(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person,
                          given_code: str) -> str:
    """The case's trajectory as the reader may see it: its facts to whoever sees agreements
    at all; the agreement and the lease to who sees them; the evaluations with their outcome
    and notes to who sees evaluations; its deadlines (the next evaluation, the minimum). The
    process monitor reads exactly that, and nothing of the case's care. Access-logged."""
    case, roles = await case_of_member(uow, person.id, given_code)
    lang = person.language
    agreement = ctx.privacy.best(roles, Info.AGREEMENT)
    if agreement is Visibility.HIDDEN:
        raise NoTrajectory(code=case.code)
    trajectory = await uow.trajectories.latest(case.id)
    if trajectory is None:
        raise NoTrajectory(code=case.code)
    now = ctx.clock.now()
    access.record(uow, person_id=person.id, role=roles, case_id=case.id, what="trajectory",
                  purpose="/traject", at=now, subject_id=trajectory.id)
    lines = [i18n.t(lang, "trajectory.view.header", code=case.code,
                    kind=kind_name(lang, trajectory),
                    status=i18n.t(lang, f"trajectory.status.{trajectory.status.value}"),
                    proposed=i18n.when(lang, trajectory.proposed_at))]
    if trajectory.consented_at is not None:
        lines.append(i18n.t(lang, "trajectory.view.consent",
                            when=i18n.when(lang, trajectory.consented_at),
                            acknowledged=i18n.t(lang, "trajectory.acknowledged_yes"
                                                if trajectory.acknowledged
                                                else "trajectory.acknowledged_no")))
    shown = agreement is Visibility.SHOWN
    if trajectory.agreement is not None:
        lines.append(i18n.t(lang, "trajectory.view.agreement",
                            when=i18n.when(lang, trajectory.agreement_at or now),
                            text=trajectory.agreement if shown
                            else i18n.t(lang, "trajectory.redacted")))
    if trajectory.lease_ref is not None:
        lines.append(i18n.t(lang, "trajectory.view.lease",
                            lease=trajectory.lease_ref if shown
                            else i18n.t(lang, "trajectory.redacted")))
    if trajectory.status is TrajectoryStatus.PROPOSED:
        lines.append(i18n.t(lang, "trajectory.view.missing", missing=missing_text(
            lang, trajectory.missing(has_monitor=await has_monitor(uow, case.id)))))
    if trajectory.started_at is not None:
        lines.append(i18n.t(lang, "trajectory.view.started",
                            when=i18n.when(lang, trajectory.started_at),
                            minimum=i18n.when(lang, trajectory.minimum_until)
                            if trajectory.minimum_until
                            else i18n.t(lang, "trajectory.no_minimum")))
    evaluation = ctx.privacy.best(roles, Info.EVALUATION)
    if evaluation is not Visibility.HIDDEN:
        for row in await uow.trajectories.evaluations(trajectory.id):
            line = i18n.t(lang, "trajectory.view.evaluation", period=row.period,
                          when=i18n.when(lang, row.at),
                          outcome=i18n.t(lang, f"trajectory.outcome.{row.outcome}")
                          if evaluation is Visibility.SHOWN
                          else i18n.t(lang, "trajectory.redacted"))
            if evaluation is Visibility.SHOWN and row.note:
                line += i18n.t(lang, "trajectory.note", note=row.note)
            lines.append(line)
    window = await _running_evaluation_window(uow, case.id) \
        if trajectory.status is TrajectoryStatus.ACTIVE else None
    if window is not None:
        lines.append(i18n.t(lang, "trajectory.view.next", window=window.id,
                            due=i18n.when(lang, window.due_at),
                            left=i18n.time_left(lang, window.due_at, now)))
    if trajectory.closed_at is not None and trajectory.closure is not None:
        line = i18n.t(lang, "trajectory.view.closed", when=i18n.when(lang, trajectory.closed_at),
                      closure=i18n.t(lang, f"trajectory.closure.{trajectory.closure.value}"))
        if evaluation is Visibility.SHOWN and trajectory.closing_note:
            line += i18n.t(lang, "trajectory.note", note=trajectory.closing_note)
        lines.append(line)
    return "\n".join(lines)


# --- the nuisance file: this module's entries (unfiltered; the exporter filters) ----------

def _at(moment: datetime | None, fallback: datetime) -> datetime:
    return moment if moment is not None else fallback


@provider("trajectories")
async def dossier_entries(uow: UnitOfWork, case_id: int) -> list[DossierEntry]:
    """Every trajectory of the case (its agreement and lease, class agreement; its closing,
    class evaluation), every evaluation and every reflection (class evaluation)."""
    entries: list[DossierEntry] = []
    for trajectory in await uow.trajectories.of_case(case_id):
        facts = [f"kind={trajectory.kind.value}", f"status={trajectory.status.value}"]
        if trajectory.consented_at is not None:
            facts.append(f"consent={trajectory.consented_at.isoformat()}")
            facts.append(f"acknowledged={'yes' if trajectory.acknowledged else 'no'}")
        if trajectory.started_at is not None:
            facts.append(f"started={trajectory.started_at.isoformat()}")
        if trajectory.minimum_until is not None:
            facts.append(f"minimum_until={trajectory.minimum_until.isoformat()}")
        text = trajectory.agreement or ""
        if trajectory.lease_ref:
            text = f"{text}\n{trajectory.lease_ref}".strip()
        entries.append(DossierEntry(
            kind=EntryKind.TRAJECTORY, at=_at(trajectory.agreement_at, trajectory.proposed_at),
            info=Info.AGREEMENT, supplied_by=trajectory.proposed_role,
            title=f"trajectory.kind.{trajectory.kind.value}", text=text, facts=tuple(facts),
            ref=f"trajectory:{trajectory.id}"))
        if trajectory.closed_at is not None and trajectory.closure is not None:
            entries.append(DossierEntry(
                kind=EntryKind.EVALUATION, at=trajectory.closed_at, info=Info.EVALUATION,
                supplied_by=None, title=f"trajectory.closure.{trajectory.closure.value}",
                text=trajectory.closing_note or "",
                facts=(f"closure={trajectory.closure.value}",),
                ref=f"trajectory:{trajectory.id}:closure"))
    for row in await uow.trajectories.evaluations_of_case(case_id):
        entries.append(DossierEntry(
            kind=EntryKind.EVALUATION, at=row.at, info=Info.EVALUATION,
            supplied_by=Role(row.role) if row.role else None,
            title=f"trajectory.outcome.{row.outcome}", text=row.note or "",
            facts=(f"period={row.period}", f"outcome={row.outcome}"),
            ref=f"evaluation:{row.id}"))
    for reflection in await uow.trajectories.reflections(case_id):
        answers = reflection.answers or {}
        entries.append(DossierEntry(
            kind=EntryKind.EVALUATION, at=reflection.at, info=Info.EVALUATION,
            supplied_by=Role(reflection.role) if reflection.role else None,
            title="reflection.title",
            text="\n".join(str(answers[k]) for k in ("well", "better", "learn")
                           if answers.get(k)),
            facts=(f"subject={reflection.subject}",
                   f"after_eviction={'yes' if reflection.after_eviction else 'no'}"),
            ref=f"reflection:{reflection.id}"))
    return entries
