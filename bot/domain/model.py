"""The domain: roles, signal kinds, who a signal is addressed to, and the case's records.

Pure rules only: no ORM, no transport, no scheduler, no clock of its own.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot.domain import errors
from bot.domain.events import (
    ReleasedToTenant,
    ReportResolved,
    WindowExtended,
    WindowLapsed,
    WindowMet,
    WindowPaused,
    WindowResumed,
    WindowStopped,
)

E = TypeVar("E", bound=enum.StrEnum)


class Role(enum.StrEnum):
    """A role a person holds in one case (docs/ARCHITECTURE.md, "Roles")."""

    COACH = "coach"
    TEAM_LEAD = "team_lead"
    LANDLORD = "landlord"
    POLICE = "police"
    MUNICIPALITY = "municipality"
    MEDIATOR = "mediator"
    MONITOR = "monitor"
    TENANT = "tenant"
    #: the municipality's debt help (schuldhulpverlening): early rent-arrears signals (N11)
    DEBT_HELP = "debt_help"
    #: the municipality's crisis team: alerted at an eviction judgment on rent arrears (N11)
    CRISIS_TEAM = "crisis_team"


#: the care team sees the whole case
CARE_TEAM: frozenset[Role] = frozenset({Role.COACH, Role.TEAM_LEAD})
#: partners that post and receive structured facts about signals
PARTNERS: frozenset[Role] = frozenset(
    {Role.COACH, Role.TEAM_LEAD, Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY}
)


class SignalKind(enum.StrEnum):
    """The signal catalogue (docs/ARCHITECTURE.md, "Signals")."""

    MISSED_RENT = "missed_rent"
    MAILBOX_FULL = "mailbox_full"
    NOISE = "noise"
    SMELL = "smell"
    VISITORS = "visitors"
    PUBLIC_SPACE = "public_space"
    POLLUTION = "pollution"
    THREATENED_NUISANCE = "threatened_nuisance"
    POLICE_INCIDENT = "police_incident"
    CARE_CONCERN = "care_concern"
    HARASSED_TENANT = "harassed_tenant"
    UNJUST_COMPLAINT = "unjust_complaint"
    OTHER = "other"


#: kinds the tenant reports about their own situation; these never count against the tenant
TENANT_REPORTS: frozenset[SignalKind] = frozenset(
    {SignalKind.HARASSED_TENANT, SignalKind.UNJUST_COMPLAINT}
)

#: Dutch (and a few English) words people type for a role, besides its id
ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.COACH: ("begeleider", "coach", "hf_begeleider", "housing_first"),
    Role.TEAM_LEAD: ("teamleider", "regie", "regievoerder", "teamlead", "team_leader"),
    Role.LANDLORD: ("verhuurder", "corporatie", "woningcorporatie", "woonconsulent",
                    "wijkbeheerder"),
    Role.POLICE: ("politie", "wijkagent", "agent"),
    Role.MUNICIPALITY: ("gemeente", "wijkteam"),
    Role.MEDIATOR: ("buurtbemiddeling", "bemiddelaar", "bemiddeling"),
    Role.MONITOR: ("procesmonitor", "monitor", "process_monitor"),
    Role.TENANT: ("deelnemer", "huurder", "bewoner"),
    Role.DEBT_HELP: ("schuldhulp", "schuldhulpverlening", "schuldhulpverlener", "debthelp"),
    Role.CRISIS_TEAM: ("crisisteam", "crisisdienst", "crisis"),
}

SIGNAL_WORDS: dict[SignalKind, tuple[str, ...]] = {
    SignalKind.MISSED_RENT: ("huurachterstand", "gemiste_huurbetaling", "huur",
                             "huurbetaling", "achterstand"),
    SignalKind.MAILBOX_FULL: ("brievenbus_vol", "brievenbus", "post"),
    SignalKind.NOISE: ("geluid", "geluidsoverlast", "lawaai"),
    SignalKind.SMELL: ("stank", "stankoverlast", "geur"),
    SignalKind.VISITORS: ("bezoek", "overlast_door_bezoek", "bezoekers"),
    SignalKind.PUBLIC_SPACE: ("straat", "openbare_ruimte", "straat_openbare_ruimte"),
    SignalKind.POLLUTION: ("vervuiling", "vervuiling_woning", "vervuilde_woning"),
    SignalKind.THREATENED_NUISANCE: ("dreigende_overlast", "dreiging", "dreigend"),
    SignalKind.POLICE_INCIDENT: ("politie_incident", "politiemelding", "incident"),
    SignalKind.CARE_CONCERN: ("zorgsignaal", "zorgen", "zorg"),
    SignalKind.HARASSED_TENANT: ("getreiterd", "treiteren", "intimidatie", "gepest",
                                 "overlast_van_buren"),
    SignalKind.UNJUST_COMPLAINT: ("onterechte_klacht", "onterecht", "bezwaar"),
    SignalKind.OTHER: ("anders", "overig", "overige"),
}


def normalise_word(text: str) -> str:
    """Fold case, accents, spaces and dashes, so 'Coördinator' and 'coordinator' match."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\-]+", "_", plain)


def _word_table(words: dict[E, tuple[str, ...]]) -> dict[str, E]:
    table: dict[str, E] = {}
    for member, aliases in words.items():
        table[normalise_word(member.value)] = member
        table[normalise_word(member.value).replace("_", "")] = member
        for alias in aliases:
            table[normalise_word(alias)] = member
            table[normalise_word(alias).replace("_", "")] = member
    return table


_ROLES = _word_table(ROLE_WORDS)
_KINDS = _word_table(SIGNAL_WORDS)


def parse_role(text: str) -> Role | None:
    """A role from its id or a Dutch word; ``None`` when it is none."""
    return _ROLES.get(normalise_word(text))


def parse_signal_kind(text: str) -> SignalKind | None:
    """A signal kind from its id or a Dutch word; ``None`` when it is none."""
    return _KINDS.get(normalise_word(text))


def kinds_for(role: Role) -> tuple[SignalKind, ...]:
    """The signal kinds a person in ``role`` may post, in catalogue order."""
    if role in CARE_TEAM:
        return tuple(k for k in SignalKind if k not in TENANT_REPORTS)
    if role is Role.TENANT:
        return (SignalKind.HARASSED_TENANT, SignalKind.UNJUST_COMPLAINT, SignalKind.OTHER)
    if role in PARTNERS:
        return tuple(
            k for k in SignalKind if k not in TENANT_REPORTS and k is not SignalKind.CARE_CONCERN
        )
    if role in (Role.DEBT_HELP, Role.CRISIS_TEAM):
        # the municipality's debt help and crisis team know of rent arrears only (N11)
        return (SignalKind.OTHER,)
    # mediator and monitor pass on what they notice, without care details
    return (SignalKind.THREATENED_NUISANCE, SignalKind.OTHER)


def may_post(role: Role, kind: SignalKind) -> bool:
    return kind in kinds_for(role)


@dataclass(frozen=True, slots=True)
class Routing:
    """Who must follow a signal up (the window's responsible roles, in order of preference),
    and who is told of it without a window of their own."""

    responsible: tuple[Role, ...]
    informed: tuple[Role, ...] = ()


def route_signal(kind: SignalKind, poster: Role) -> Routing:
    """Norm N1: partners pass a signal to each other; its addressee follows it up.

    A signal from outside the care team goes to the coach (or the team lead when the case has no
    coach). A signal from the care team goes to the landlord, except a care concern, which stays
    inside the care team. A missed rent payment is also signalled to the municipality and to
    its debt help, where the case has them (N11).
    """
    informed: tuple[Role, ...] = ()
    if kind is SignalKind.MISSED_RENT and poster not in (Role.MUNICIPALITY, Role.DEBT_HELP):
        informed = (Role.MUNICIPALITY, Role.DEBT_HELP)
    if poster in CARE_TEAM:
        if kind is SignalKind.CARE_CONCERN:
            other = Role.TEAM_LEAD if poster is Role.COACH else Role.COACH
            return Routing(responsible=(other,), informed=())
        return Routing(responsible=(Role.LANDLORD, Role.TEAM_LEAD), informed=informed)
    return Routing(responsible=(Role.COACH, Role.TEAM_LEAD), informed=informed)


class WindowStatus(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    MET = "met"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


#: a window in one of these states still asks something of someone
RUNNING: frozenset[WindowStatus] = frozenset(
    {WindowStatus.OPEN, WindowStatus.PAUSED, WindowStatus.LAPSED})


class StepKind(enum.StrEnum):
    """What happens at one deadline of a window."""

    REMINDER = "reminder"
    LAPSE = "lapse"
    ESCALATION = "escalation"


class Norm(enum.StrEnum):
    """The norms that run a clock (docs/ARCHITECTURE.md, "Norms")."""

    N1_SIGNAL_FOLLOW_UP = "N1"
    N2_COMPLAINT_INFORMATION = "N2"
    N3_COMPLAINT_START = "N3"
    N5_FOUR_WEEK_CHECK = "N5"
    N6_SIX_WEEK_CHECK = "N6"
    N7_RESOLUTION = "N7"
    #: while a complaint is open the landlord lets the complainant know, at an interval
    #: (the guideline's "Termijnen": complainants must notice that work is being done)
    N7_COMPLAINANT_CONTACT = "N7c"
    #: a task with a clock (a follow-up of the table of action 2): its owner is nudged when
    #: it is due, the clock stops when the task is done
    TASK_DUE = "T"
    N10_EVALUATION = "N10"
    N10_MINIMUM = "N10min"
    N12_YEARLY_EVALUATION = "N12"


@dataclass(frozen=True, slots=True)
class Member:
    person_id: int
    role: Role


@dataclass(frozen=True, slots=True)
class Signal:
    id: int
    case_id: int
    case_code: str
    kind: SignalKind
    posted_by: int
    poster_role: Role
    posted_at: datetime
    note: str | None
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = None
    acknowledged_role: Role | None = None
    #: the roles the poster chose to let read the note (``None``: the default audience)
    audience: frozenset[Role] | None = None
    #: none, draft (waiting for the poster's confirmation), sent, withheld
    note_status: str = "none"
    complainant: str | None = None
    report_status: str | None = None
    released_to_tenant: bool = False

    # --- its rules (an aggregate: each method refuses an illegal change, or returns the
    # changed signal and what happened)
    def release_to_tenant(self, *, is_complaint: bool) -> tuple[Signal, ReleasedToTenant]:
        """The team discussed a complaint with the tenant: its facts become theirs. Only a
        complaint (the policy says which kinds are), and once."""
        if self.kind in TENANT_REPORTS:
            raise errors.NotAComplaint(number=self.id)
        if not is_complaint:
            raise errors.NotReleasable(number=self.id, kind=self.kind)
        if self.released_to_tenant:
            raise errors.AlreadyReleased(number=self.id)
        return replace(self, released_to_tenant=True), ReleasedToTenant(self.id)

    def resolve_report(self) -> tuple[Signal, ReportResolved]:
        """A tenant's report is resolved, once."""
        if self.report_status == "done":
            raise errors.AlreadyResolved(number=self.id)
        return replace(self, report_status="done"), ReportResolved(self.id)

    def report_status_on_acknowledgement(self) -> str | None:
        """An acknowledged report is in progress; a resolved one stays resolved."""
        if self.report_status is None or self.report_status == "done":
            return self.report_status
        return "in_progress"


@dataclass(frozen=True, slots=True)
class Window:
    id: int
    case_id: int
    norm: Norm
    signal_id: int | None
    responsible: tuple[Role, ...]
    waiting_person_id: int | None
    opened_at: datetime
    due_at: datetime
    status: WindowStatus
    base_due_at: datetime | None = None
    policy: str | None = None
    paused_at: datetime | None = None
    period: int = 1
    closed_at: datetime | None = None

    # --- its rules (an aggregate, as ``Signal``): open → (pause ⇄ resume) → met | lapsed |
    # stopped; a lapsed window extended past now runs again
    def pause(self, now: datetime) -> tuple[Window, WindowPaused]:
        if self.status is not WindowStatus.OPEN:
            raise errors.WindowNotOpen(number=self.id, state=self.status)
        return replace(self, status=WindowStatus.PAUSED, paused_at=now), WindowPaused(self.id,
                                                                                      now)

    def resume(self, now: datetime) -> tuple[Window, WindowResumed]:
        """Runs again; its moment moves by the time it was paused."""
        if self.status is not WindowStatus.PAUSED or self.paused_at is None:
            raise errors.WindowNotPaused(number=self.id)
        due = self.due_at + (now - self.paused_at)
        return (replace(self, status=WindowStatus.OPEN, paused_at=None, due_at=due),
                WindowResumed(self.id, due))

    def extend(self, due: datetime, now: datetime, *, at_most: timedelta
               ) -> tuple[Window, WindowExtended]:
        """Its moment moves later, by some time and by no more than ``at_most``."""
        if self.status not in (WindowStatus.OPEN, WindowStatus.LAPSED):
            raise errors.WindowNotOpen(number=self.id, state=self.status)
        if due <= self.due_at:
            raise errors.NoExtension(given="0")
        if due - self.due_at > at_most:
            raise errors.ExtensionTooLong(limit=at_most.days)
        reopened = self.status is WindowStatus.LAPSED and due > now
        changed = replace(self, due_at=due)
        if reopened:
            changed = replace(changed, status=WindowStatus.OPEN, closed_at=None)
        return changed, WindowExtended(self.id, due, reopened)

    def complete(self, now: datetime) -> tuple[Window, WindowMet]:
        if self.status not in RUNNING:
            raise errors.WindowNotOpen(number=self.id, state=self.status)
        return replace(self, status=WindowStatus.MET, closed_at=now), WindowMet(self.id, now)

    def lapse(self, now: datetime) -> tuple[Window, WindowLapsed]:
        if self.status is not WindowStatus.OPEN:
            raise errors.WindowNotOpen(number=self.id, state=self.status)
        return (replace(self, status=WindowStatus.LAPSED, closed_at=now),
                WindowLapsed(self.id, now))

    def stop(self, now: datetime) -> tuple[Window, WindowStopped]:
        if self.status not in RUNNING:
            raise errors.WindowNotOpen(number=self.id, state=self.status)
        return (replace(self, status=WindowStatus.CANCELLED, closed_at=now),
                WindowStopped(self.id, now))


@dataclass(frozen=True, slots=True)
class Step:
    id: int
    window_id: int
    kind: StepKind
    due_at: datetime
    seq: int = 0
    notify: tuple[str, ...] = ()
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step to be stored for a window."""

    seq: int
    kind: StepKind
    due_at: datetime
    notify: tuple[str, ...]
    urgent: bool

