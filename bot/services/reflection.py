"""The reflection on a closing (N12, the guideline's "Nieuwe kansen": after a closed case or
trajectory, and especially after an eviction, the partners reflect together), as a guided
conversation: what went well, what could have gone better, what the partners take with them;
then stored (class ``evaluation``) or cancelled. One definition, run by
``bot/services/conversations.py``; it may run in a closed case (until the case is purged).

Closing a trajectory asks the one who closed it at once and invites the other partners with
a button; closing a case (``bot/services/retention.py``) invites the partners in the case.
"""

from __future__ import annotations

from bot import i18n, notify
from bot.domain.choices import Action, option
from bot.domain.conversation import CANCEL, DONE, Pick, Spec, State
from bot.domain.events import Event
from bot.domain.model import Role
from bot.i18n.keys import N_
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.conversations import (
    Definition,
    Said,
    StartConversation,
    Turn,
    register,
    start,
)

NAME = "reflection"
ANSWER_LIMIT = 1500
SAVE = "save"
#: the partners who reflect on a closing (the coordinator is no content role; the tenant's
#: own reflection is the care team's conversation with them, not this one)
ROLES: frozenset[Role] = frozenset({Role.COACH, Role.TEAM_LEAD, Role.LANDLORD, Role.MONITOR})

_KEYS = (N_("reflection.ask_well"), N_("reflection.ask_better"), N_("reflection.ask_learn"),
         N_("reflection.confirm"), N_("reflection.only_partners"), N_("reflection.cancelled"),
         N_("button.reflection_save"), N_("reflection.title"),
         N_("reflection.subject.case"), N_("reflection.subject.trajectory"),
         N_("reflection.subject.open_case"),
         N_("reflection.intro_eviction"), N_("reflection.intro"))

SPEC = Spec(name=NAME, states=(
    State("well", "reflection.ask_well", max_length=ANSWER_LIMIT, next="better"),
    State("better", "reflection.ask_better", max_length=ANSWER_LIMIT, next="learn"),
    State("learn", "reflection.ask_learn", max_length=ANSWER_LIMIT, next="confirm"),
    State("confirm", "reflection.confirm",
          picks=(Pick(SAVE, "button.reflection_save"), Pick(CANCEL, "button.cancel")),
          next=DONE),
))


async def after_eviction(uow: UnitOfWork, case_id: int) -> bool:
    """An eviction judgment was recorded in the case."""
    return any(row.event == Event.EVICTION_JUDGMENT.value
               for row in await uow.timeline.of_case(case_id))


async def _subject(uow: UnitOfWork, case: orm.Case) -> str:
    """What is reflected on: the closed case, or else its closed trajectory."""
    if case.closed_at is not None:
        return "case"
    latest = await uow.trajectories.latest(case.id)
    return "trajectory" if latest is not None and latest.closed_at is not None else "case"


async def _facts(turn: Turn, state: State) -> dict[str, object]:
    if state.name != "well":
        return {}
    subject = await _subject(turn.uow, turn.case)
    if subject == "case" and turn.case.closed_at is None:
        subject = "open_case"  # a case still open (after an eviction) is not "closed"
    intro = "reflection.intro_eviction" if await after_eviction(turn.uow, turn.case.id) \
        else "reflection.intro"
    return {"intro": i18n.t(turn.lang, intro, code=turn.case.code,
                            subject=i18n.t(turn.lang, f"reflection.subject.{subject}"))}


async def _finish(turn: Turn) -> list[Said]:
    """Store the answers as the case's reflection (class evaluation)."""
    uow, case = turn.uow, turn.case
    now = turn.ctx.clock.now()
    subject = await _subject(uow, case)
    roles = await uow.cases.roles_of(case.id, turn.person.id)
    role = next((r for r in roles if r in ROLES), None)
    latest = await uow.trajectories.latest(case.id)
    evicted = await after_eviction(uow, case.id)
    row = await uow.trajectories.add_reflection(
        case_id=case.id, trajectory_id=latest.id if latest and subject == "trajectory"
        else None, subject=subject, after_eviction=evicted, at=now, by=turn.person.id,
        role=role, answers={k: turn.answers[k] for k in ("well", "better", "learn")})
    uow.timeline.record(case_id=case.id, at=now, event=Event.REFLECTION_RECORDED,
                        actor_id=turn.person.id, actor_role=role, reflection=row.id,
                        subject=subject, after_eviction=evicted)
    return [Said(i18n.t(turn.lang, "reflection.saved", code=case.code))]


DEFINITION = register(Definition(
    spec=SPEC, roles=ROLES, finish=_finish, facts=_facts, closed_cases=True,
    refusal_key="reflection.only_partners", cancelled_key="reflection.cancelled"))


async def ask(uow: UnitOfWork, ctx: ServiceContext, case: orm.Case, person_id: int | None, *,
              subject: str) -> list[Said]:
    """After a closing: the partners of the case are invited to reflect (a button that starts
    the conversation); the one who closed it, if a partner, is asked the first question at
    once (returned)."""
    now = ctx.clock.now()
    evicted = await after_eviction(uow, case.id)
    said: list[Said] = []
    invited: set[int] = set()
    for member in await uow.cases.members(case.id):
        if member.role not in ROLES or member.person_id in invited:
            continue
        invited.add(member.person_id)
        if member.person_id == person_id:
            said = await start(StartConversation(person_id, NAME, case.code), uow, ctx)
            continue
        await notify.to_person(
            uow, member.person_id,
            lambda lang: i18n.t(lang, "reflection.invite_eviction" if evicted
                                else "reflection.invite", code=case.code,
                                subject=i18n.t(lang, f"reflection.subject.{subject}")),
            now, case_id=case.id,
            choices=lambda lang: [option(Action.COMMAND, case.id,
                                         i18n.t(lang, "button.reflect"),
                                         label_key="button.reflect",
                                         command=i18n.t(lang, "command.reflect",
                                                        code=case.code))])
    return said


async def start_reflection(person_id: int, case_code: str | None, uow: UnitOfWork,
                           ctx: ServiceContext) -> list[Said]:
    """``/reflectie [zaak]``: begin the reflection (also in a closed case)."""
    return await start(StartConversation(person_id, NAME, case_code), uow, ctx)
