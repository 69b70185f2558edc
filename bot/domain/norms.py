"""The guideline's norms that run a clock, as data: who is responsible, who waits, and the
chain of steps around the moment a window lapses (remind before, tell at the lapse, escalate
after). Lengths come from the configuration; this module holds the shape.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.domain.model import Norm, Role, normalise_word


class Target(enum.StrEnum):
    """Who a step of a chain tells."""

    RESPONSIBLE = "responsible"
    WAITING = "waiting"
    TEAM_LEAD = "team_lead"
    COORDINATOR = "coordinator"


class StepRole(enum.StrEnum):
    """What a step is, by where it stands relative to the lapse."""

    REMINDER = "reminder"
    LAPSE = "lapse"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class NormShape:
    norm: Norm
    #: the roles that must act, in order of preference (the first the case has)
    responsible: tuple[Role, ...]
    #: a met window opens the next period at once (periodic evaluations)
    periodic: bool = False
    #: the role waiting for the action, when no person is named at the start
    waiting_role: Role | None = None


#: DESIGN.md's norms with a clock (N1 is routed per signal; its responsible roles are set
#: when a signal is posted)
SHAPES: dict[Norm, NormShape] = {
    Norm.N1_SIGNAL_FOLLOW_UP: NormShape(Norm.N1_SIGNAL_FOLLOW_UP, (Role.COACH, Role.TEAM_LEAD)),
    Norm.N2_COMPLAINT_INFORMATION: NormShape(
        Norm.N2_COMPLAINT_INFORMATION, (Role.LANDLORD,), waiting_role=Role.COACH),
    Norm.N3_COMPLAINT_START: NormShape(
        Norm.N3_COMPLAINT_START, (Role.COACH, Role.TEAM_LEAD), waiting_role=Role.LANDLORD),
    Norm.N5_FOUR_WEEK_CHECK: NormShape(Norm.N5_FOUR_WEEK_CHECK, (Role.COACH, Role.TEAM_LEAD)),
    Norm.N6_SIX_WEEK_CHECK: NormShape(Norm.N6_SIX_WEEK_CHECK, (Role.COACH, Role.TEAM_LEAD)),
    Norm.N7_RESOLUTION: NormShape(
        Norm.N7_RESOLUTION, (Role.COACH, Role.TEAM_LEAD), waiting_role=Role.LANDLORD),
    Norm.N10_EVALUATION: NormShape(
        Norm.N10_EVALUATION, (Role.MONITOR, Role.COACH, Role.TEAM_LEAD), periodic=True),
    Norm.N10_MINIMUM: NormShape(Norm.N10_MINIMUM, (Role.MONITOR, Role.COACH, Role.TEAM_LEAD)),
    Norm.N12_YEARLY_EVALUATION: NormShape(
        Norm.N12_YEARLY_EVALUATION, (Role.TEAM_LEAD, Role.COACH), periodic=True),
}

#: words people type for a norm, besides its id
NORM_WORDS: dict[Norm, tuple[str, ...]] = {
    Norm.N1_SIGNAL_FOLLOW_UP: ("signaal", "opvolging"),
    Norm.N2_COMPLAINT_INFORMATION: ("klachtinformatie", "informatie"),
    Norm.N3_COMPLAINT_START: ("klacht", "start", "behandeling"),
    Norm.N5_FOUR_WEEK_CHECK: ("vierwekencheck", "vierweken", "4weken", "check4",
                              "four_week_check"),
    Norm.N6_SIX_WEEK_CHECK: ("zesweken", "zesweken_check", "zesweken_navraag", "6weken",
                             "check6", "six_week_check"),
    Norm.N7_RESOLUTION: ("opgelost", "oplossing", "3maanden", "driemaanden", "resolution"),
    Norm.N10_EVALUATION: ("evaluatie", "trajectevaluatie"),
    Norm.N10_MINIMUM: ("minimum", "tweejaar", "2jaar"),
    Norm.N12_YEARLY_EVALUATION: ("jaarevaluatie", "jaarlijks"),
}


def parse_norm(text: str) -> Norm | None:
    word = normalise_word(text).replace("_", "")
    for norm in Norm:
        if word in (norm.value.lower(), norm.name.lower().replace("_", "")):
            return norm
        if word in (w.replace("_", "") for w in NORM_WORDS[norm]):
            return norm
    return None
