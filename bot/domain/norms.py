"""The guideline's norms that run a clock, as data: who is responsible, who waits, and the
chain of steps around the moment a window lapses (remind before, tell at the lapse, escalate
after). Lengths come from the configuration; this module holds the shape.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, time

from bot.domain.calendar import Span, WorkingCalendar
from bot.domain.model import Norm, Role, StepKind, normalise_word


class Target(enum.StrEnum):
    """Who a step of a chain tells."""

    RESPONSIBLE = "responsible"
    WAITING = "waiting"
    TEAM_LEAD = "team_lead"
    COORDINATOR = "coordinator"


#: what a step of a chain is, by where it stands relative to the lapse: one name for a deadline
#: step everywhere (``StepKind``: reminder, lapse, escalation)
StepRole = StepKind


@dataclass(frozen=True, slots=True)
class NormShape:
    """One norm with a clock: everything the bot needs to know of it but its lengths, which the
    configuration gives under the keys named here. A new norm is one entry of ``NORMS`` plus
    its texts (``norm.<id>``) and its default lengths (``bot/config.py``)."""

    norm: Norm
    #: the roles that must act, in order of preference (the first the case has)
    responsible: tuple[Role, ...]
    #: ``[norms]`` keys of its length and of its reminder before the lapse
    span_key: str
    reminder_key: str
    #: words people type for it, besides its id
    words: tuple[str, ...] = ()
    #: a met window opens the next period at once (periodic evaluations)
    periodic: bool = False
    #: the role waiting for the action, when no person is named at the start
    waiting_role: Role | None = None
    #: started by hand (``/termijn``); N1 is opened by a signal
    by_hand: bool = True
    #: a lapse is escalated to the team lead and the coordinator (the default chain); a
    #: reminder norm only tells whoever must act
    escalates: bool = True


#: the registry of the norms with a clock (docs/ARCHITECTURE.md, "Norms")
NORMS: dict[Norm, NormShape] = {n.norm: n for n in (
    NormShape(Norm.N1_SIGNAL_FOLLOW_UP, (Role.COACH, Role.TEAM_LEAD), "signal_follow_up",
              "signal_follow_up_reminder", ("signaal", "opvolging"), by_hand=False),
    NormShape(Norm.N2_COMPLAINT_INFORMATION, (Role.LANDLORD,), "complaint_information",
              "complaint_information_reminder", ("klachtinformatie", "informatie"),
              waiting_role=Role.COACH),
    NormShape(Norm.N3_COMPLAINT_START, (Role.COACH, Role.TEAM_LEAD), "complaint_start",
              "complaint_start_reminder", ("klacht", "start", "behandeling"),
              waiting_role=Role.LANDLORD),
    NormShape(Norm.N5_FOUR_WEEK_CHECK, (Role.COACH, Role.TEAM_LEAD), "four_week_check",
              "four_week_check_reminder",
              ("vierwekencheck", "vierweken", "4weken", "check4", "four_week_check")),
    NormShape(Norm.N6_SIX_WEEK_CHECK, (Role.COACH, Role.TEAM_LEAD), "six_week_check",
              "six_week_check_reminder",
              ("zesweken", "zesweken_check", "zesweken_navraag", "6weken", "check6",
               "six_week_check")),
    NormShape(Norm.N7_RESOLUTION, (Role.COACH, Role.TEAM_LEAD), "resolution",
              "resolution_warning",
              ("opgelost", "oplossing", "3maanden", "driemaanden", "resolution"),
              waiting_role=Role.LANDLORD),
    NormShape(Norm.N7_COMPLAINANT_CONTACT, (Role.LANDLORD,), "complainant_contact",
              "complainant_contact_reminder", ("klagercontact", "klager_informeren"),
              periodic=True, by_hand=False, escalates=False),
    # a task's own clock (its due moment is the task's, the span only a fallback); the
    # window's responsible role is the task's owner
    NormShape(Norm.TASK_DUE, (Role.COACH, Role.LANDLORD), "task_due", "task_due_reminder",
              ("taaktermijn", "task_due"), by_hand=False, escalates=False),
    NormShape(Norm.N10_EVALUATION, (Role.MONITOR, Role.COACH, Role.TEAM_LEAD),
              "trajectory_evaluation", "trajectory_evaluation_reminder",
              ("evaluatie", "trajectevaluatie"), periodic=True),
    NormShape(Norm.N10_MINIMUM, (Role.MONITOR, Role.COACH, Role.TEAM_LEAD),
              "trajectory_minimum", "trajectory_minimum_reminder",
              ("minimum", "tweejaar", "2jaar")),
    NormShape(Norm.N12_YEARLY_EVALUATION, (Role.TEAM_LEAD, Role.COACH), "yearly_evaluation",
              "yearly_evaluation_reminder", ("jaarevaluatie", "jaarlijks"), periodic=True),
)}
#: the same registry under its older name
SHAPES = NORMS
#: words people type for a norm, besides its id (from the registry)
NORM_WORDS: dict[Norm, tuple[str, ...]] = {n: shape.words for n, shape in NORMS.items()}


def parse_norm(text: str) -> Norm | None:
    word = normalise_word(text).replace("_", "")
    for norm in NORMS:
        if word in (norm.value.lower(), norm.name.lower().replace("_", "")):
            return norm
        if word in (w.replace("_", "") for w in NORM_WORDS[norm]):
            return norm
    return None


# --- a norm as configured: its span and chain of steps (built by bot/services/policies.py) -

@dataclass(frozen=True, slots=True)
class ChainStep:
    seq: int
    #: -1 before the lapse, 0 at it, +1 after it
    sign: int
    offset: Span
    targets: tuple[Target, ...]
    urgent: bool

    @property
    def role(self) -> StepRole:
        if self.sign < 0:
            return StepRole.REMINDER
        return StepRole.LAPSE if self.sign == 0 else StepRole.ESCALATION

    def at(self, due: datetime, calendar: WorkingCalendar) -> datetime:
        if self.sign < 0:
            return self.offset.before(due, calendar)
        if self.sign == 0:
            return due
        return self.offset.after(due, calendar)


@dataclass(frozen=True, slots=True)
class NormPolicy:
    shape: NormShape
    span: Span
    chain: tuple[ChainStep, ...]
    #: changes when the span or the chain changes: open windows then move
    signature: str

    @property
    def norm(self) -> Norm:
        return self.shape.norm

    def due(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        return self.span.after(start, calendar)

    def steps(self, opened_at: datetime, due: datetime, calendar: WorkingCalendar
              ) -> list[tuple[ChainStep, datetime]]:
        """The chain's moments for a window; reminders that would fall before it opened are
        left out."""
        out = []
        for step in self.chain:
            moment = step.at(due, calendar)
            if step.sign < 0 and moment <= opened_at:
                continue
            out.append((step, moment))
        return out


@dataclass(frozen=True)
class Policies:
    by_norm: dict[Norm, NormPolicy]
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 30)

    def __getitem__(self, norm: Norm) -> NormPolicy:
        return self.by_norm[norm]


def signature(span: Span, chain: tuple[ChainStep, ...]) -> str:
    """Changes when the span or the chain changes: open windows then move."""
    text = f"{span}|" + ";".join(
        f"{s.sign}{s.offset}:{','.join(s.targets)}:{int(s.urgent)}" for s in chain)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
