"""The complaint procedure of the guideline ("Omgaan met overlast", actions 1-6), as rules.

A :class:`Complaint` is an aggregate: received (the landlord's information reached the team)
→ in handling (action 1: the coach said how it will be handled) → assessed (action 2: after
the hearing, conscious or not, justified or not per tenant and per coach) → resolved (the
landlord and the team both marked the nuisance resolved). Each method refuses an illegal
change with a domain error, or returns the changed complaint and a past-tense event; the
services (``bot/services/complaints.py``) store the change and open or close the windows
the guideline ties to each step.

The table of action 2 is data (:data:`FOLLOW_UPS`): each cell yields its follow-ups as tasks
with an owner (a role) and, where the guideline gives one, a clock. The ladder (actions 3-6)
is data too (:data:`LADDER`): each action's letter and what the guideline asks with it.

Pure: no I/O, no ORM, no transport, no clock of its own.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.domain import errors
from bot.domain.arguments import clean
from bot.domain.calendar import WorkingCalendar
from bot.domain.model import Role, SignalKind, normalise_word

# --- errors -----------------------------------------------------------------------------


class UnknownComplaint(errors.DomainError):
    """No complaint by that number that this person may know of."""

    key = "complaint.error.unknown"


class NotANuisanceKind(errors.DomainError):
    key = "complaint.error.kind"


class HandlingAlreadyRecorded(errors.DomainError):
    key = "complaint.error.handling_recorded"


class HandlingFirst(errors.DomainError):
    """Action 2 comes after action 1: first say how it will be handled."""

    key = "complaint.error.handling_first"


class AlreadyAssessed(errors.DomainError):
    key = "complaint.error.assessed"


class ComplaintResolved(errors.DomainError):
    key = "complaint.error.resolved"


class AlreadyMarked(errors.DomainError):
    key = "complaint.error.already_marked"


class BadPastMoment(errors.DomainError):
    """Not a moment now or in the past year. Arguments: ``given``, ``examples``."""

    key = "complaint.error.moment"


class ReceivedBeforeHappened(errors.DomainError):
    key = "complaint.error.received_before"


class LegalAdviceRequired(errors.DomainError):
    """Actions 4-6 need the mark that legal advice was sought."""

    key = "complaint.error.legal_advice"


class ConsentRequired(errors.DomainError):
    """A mediation referral needs both parties' consent."""

    key = "complaint.error.consent"


# --- states and events -------------------------------------------------------------------


class ComplaintStatus(enum.StrEnum):
    RECEIVED = "received"
    IN_HANDLING = "in_handling"
    ASSESSED = "assessed"
    RESOLVED = "resolved"


#: a complaint in one of these states still asks something of someone
OPEN_STATES = frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.IN_HANDLING,
                         ComplaintStatus.ASSESSED})

#: the kinds a complaint about the tenant can be of (the guideline's common types, and more)
COMPLAINT_KINDS: tuple[SignalKind, ...] = (
    SignalKind.NOISE, SignalKind.SMELL, SignalKind.VISITORS, SignalKind.PUBLIC_SPACE,
    SignalKind.POLLUTION, SignalKind.THREATENED_NUISANCE, SignalKind.OTHER)


class Side(enum.StrEnum):
    """Who marks the nuisance resolved (N7 closes when both have)."""

    LANDLORD = "landlord"
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class HandlingRecorded:
    complaint_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ComplainantContacted:
    complaint_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ComplaintAssessed:
    complaint_id: int
    cell: Cell
    at: datetime


@dataclass(frozen=True, slots=True)
class ResolutionMarked:
    complaint_id: int
    side: Side
    #: both sides have now marked it: the nuisance is resolved
    resolved: bool


# --- action 2: the assessment and its table -----------------------------------------------


class Cell(enum.StrEnum):
    """A cell of the table in action 2."""

    #: conscious behaviour, justified according to the tenant and the coach
    CONSCIOUS_JUSTIFIED = "conscious_justified"
    #: conscious behaviour, unjustified according to the tenant, justified per the coach
    CONSCIOUS_DISPUTED = "conscious_disputed"
    #: unconscious behaviour, justified according to the tenant and the coach
    UNCONSCIOUS_JUSTIFIED = "unconscious_justified"
    #: unjustified according to the tenant and the coach
    UNJUSTIFIED = "unjustified"


def cell_of(conscious: bool, tenant_justified: bool, coach_justified: bool) -> Cell:
    """The table's cell. The table names four of the eight combinations; the others go to the
    nearest: the coach's judgement decides whether it is justified; unconscious and justified
    by the coach is the six-week cell whatever the tenant thinks (the coach tells the tenant
    what must change)."""
    if not coach_justified:
        return Cell.UNJUSTIFIED
    if not conscious:
        return Cell.UNCONSCIOUS_JUSTIFIED
    return Cell.CONSCIOUS_JUSTIFIED if tenant_justified else Cell.CONSCIOUS_DISPUTED


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One follow-up of a cell, as a task: its text is ``task.<kind>`` in the catalogue."""

    kind: str
    owner: Role
    #: the guideline's clock for it, if it gives one
    within: timedelta | None = None


SIX_WEEKS = timedelta(weeks=6)

#: the table of action 2: each cell's follow-ups, in the guideline's order
FOLLOW_UPS: dict[Cell, tuple[FollowUp, ...]] = {
    Cell.CONSCIOUS_JUSTIFIED: (
        FollowUp("inform_landlord", Role.COACH),
        FollowUp("agree_complainant_actions", Role.LANDLORD),
        FollowUp("normal_behaviour_tools", Role.COACH),
    ),
    Cell.CONSCIOUS_DISPUTED: (
        FollowUp("agreements_objection", Role.COACH),
        FollowUp("normal_behaviour", Role.COACH),
        FollowUp("inform_landlord", Role.COACH),
        FollowUp("agree_complainant_actions", Role.LANDLORD),
    ),
    Cell.UNCONSCIOUS_JUSTIFIED: (
        FollowUp("behaviour_in_support_plan", Role.COACH),
        FollowUp("feedback_landlord", Role.COACH),
        FollowUp("inform_complainant_handling", Role.LANDLORD),
        FollowUp("six_week_ask_landlord", Role.COACH, SIX_WEEKS),
        FollowUp("six_week_ask_complainant", Role.LANDLORD, SIX_WEEKS),
    ),
    Cell.UNJUSTIFIED: (
        FollowUp("restore_relation", Role.COACH),
        FollowUp("consider_mediation", Role.COACH),
    ),
}

#: every task kind (the services add a few of their own beyond the table)
OTHER_TASKS: tuple[FollowUp, ...] = (
    FollowUp("confirm_receipt", Role.LANDLORD),
    FollowUp("hearing", Role.COACH),
    FollowUp("noise_measurement", Role.LANDLORD),
    FollowUp("discuss_letter", Role.COACH),
)
TASK_KINDS: tuple[str, ...] = tuple(dict.fromkeys(
    f.kind for f in (*(f for cell in FOLLOW_UPS.values() for f in cell), *OTHER_TASKS)))


# --- the aggregate ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Complaint:
    id: int
    case_id: int
    kind: SignalKind
    happened_at: datetime
    received_at: datetime
    recorded_by: int | None
    recorded_at: datetime
    #: what the complaint says (class ``complaint``)
    description: str
    #: who complained, known to the landlord only (class ``complainant``); ``None`` when
    #: anonymous: then no identity is stored at all
    complainant: str | None
    status: ComplaintStatus = ComplaintStatus.RECEIVED
    #: how the team will handle it (action 1; class ``assessment``)
    handling: str | None = None
    handled_at: datetime | None = None
    conscious: bool | None = None
    tenant_justified: bool | None = None
    coach_justified: bool | None = None
    #: the coach's note with the assessment (class ``assessment``)
    assessment_note: str | None = None
    assessed_at: datetime | None = None
    assessed_by: int | None = None
    last_contact_at: datetime | None = None
    resolved_landlord_at: datetime | None = None
    resolved_team_at: datetime | None = None
    #: the windows the guideline ties to this complaint (N2, N3, N5, N6, N7, contact)
    windows: dict[str, int] | None = None

    @property
    def anonymous(self) -> bool:
        return self.complainant is None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def cell(self) -> Cell | None:
        if self.conscious is None or self.tenant_justified is None or \
                self.coach_justified is None:
            return None
        return cell_of(self.conscious, self.tenant_justified, self.coach_justified)

    @property
    def justified(self) -> bool:
        """Justified according to the coach (what the ladder counts)."""
        return bool(self.coach_justified)

    def window(self, name: str) -> int | None:
        return (self.windows or {}).get(name)

    def with_window(self, name: str, window_id: int) -> Complaint:
        return replace(self, windows={**(self.windows or {}), name: window_id})

    def _open(self) -> None:
        if not self.is_open:
            raise ComplaintResolved(number=self.id)

    def record_handling(self, text: str, at: datetime) -> tuple[Complaint, HandlingRecorded]:
        """Action 1: how the complaint will be handled; once."""
        self._open()
        if self.status is not ComplaintStatus.RECEIVED:
            raise HandlingAlreadyRecorded(number=self.id)
        return (replace(self, status=ComplaintStatus.IN_HANDLING, handling=text,
                        handled_at=at), HandlingRecorded(self.id, at))

    def record_contact(self, at: datetime) -> tuple[Complaint, ComplainantContacted]:
        """The landlord let the complainant know (while the complaint is open)."""
        self._open()
        return replace(self, last_contact_at=at), ComplainantContacted(self.id, at)

    def assess(self, *, conscious: bool, tenant_justified: bool, coach_justified: bool,
               note: str | None, by: int, at: datetime) -> tuple[Complaint, ComplaintAssessed]:
        """Action 2, after the hearing: once, and only after action 1."""
        self._open()
        if self.status is ComplaintStatus.RECEIVED:
            raise HandlingFirst(number=self.id)
        if self.status is not ComplaintStatus.IN_HANDLING:
            raise AlreadyAssessed(number=self.id)
        assessed = replace(self, status=ComplaintStatus.ASSESSED, conscious=conscious,
                           tenant_justified=tenant_justified, coach_justified=coach_justified,
                           assessment_note=note, assessed_at=at, assessed_by=by)
        return assessed, ComplaintAssessed(self.id, cell_of(conscious, tenant_justified,
                                                            coach_justified), at)

    def mark_resolved(self, side: Side, at: datetime) -> tuple[Complaint, ResolutionMarked]:
        """The landlord or the team marks the nuisance resolved; resolved when both have."""
        self._open()
        if side is Side.LANDLORD:
            if self.resolved_landlord_at is not None:
                raise AlreadyMarked(number=self.id)
            marked = replace(self, resolved_landlord_at=at)
        else:
            if self.resolved_team_at is not None:
                raise AlreadyMarked(number=self.id)
            marked = replace(self, resolved_team_at=at)
        both = marked.resolved_landlord_at is not None and marked.resolved_team_at is not None
        if both:
            marked = replace(marked, status=ComplaintStatus.RESOLVED)
        return marked, ResolutionMarked(self.id, side, both)

    def close_as_resolved(self) -> Complaint:
        """Another complaint of the same nuisance was resolved by both sides: so is this."""
        return replace(self, status=ComplaintStatus.RESOLVED)


def similar_justified_before(new: Complaint, earlier: list[Complaint], period: timedelta
                             ) -> Complaint | None:
    """Action 3's condition: an earlier justified complaint of the same kind within
    ``period`` before this one (``new`` itself assessed justified)."""
    if not new.justified:
        return None
    for other in sorted(earlier, key=lambda c: c.received_at, reverse=True):
        if other.id != new.id and other.kind is new.kind and other.justified and \
                timedelta(0) <= new.received_at - other.received_at <= period:
            return other
    return None


# --- the ladder: actions 3-6 ---------------------------------------------------------------


class LetterKind(enum.StrEnum):
    WARNING = "warning"
    SECOND_WARNING = "second_warning"
    SUMMONS = "summons"
    COURT = "court"


@dataclass(frozen=True, slots=True)
class Rung:
    action: int
    kind: LetterKind
    #: legal advice must have been sought (actions 4-6)
    legal_advice: bool
    #: a copy goes to the landlord's file and the care file
    copies: bool
    #: sent registered, signed by the tenant 'voor gezien' (action 5)
    registered: bool
    #: the complainant is told of the care provider's on-call service (action 5)
    on_call_advice: bool
    #: the complainant is advised to call the police after 22:00 (actions 3 and 5)
    police_advice: bool


LADDER: dict[int, Rung] = {r.action: r for r in (
    Rung(3, LetterKind.WARNING, False, False, False, False, True),
    Rung(4, LetterKind.SECOND_WARNING, True, True, False, False, False),
    Rung(5, LetterKind.SUMMONS, True, True, True, True, True),
    Rung(6, LetterKind.COURT, True, True, False, False, False),
)}


@dataclass(frozen=True, slots=True)
class Letter:
    id: int
    case_id: int
    action: int
    kind: LetterKind
    sent_on: date
    registered: bool
    signed_seen: bool
    copy_landlord_file: bool
    copy_care_file: bool
    legal_advice: bool
    #: the roles consulted (actions 3-6 are set in consultation)
    consulted: tuple[Role, ...]
    advice_police: bool
    advice_on_call: bool
    recorded_by: int | None
    recorded_at: datetime
    #: what the letter says, in short (class ``letter``)
    note: str | None = None


def check_letter(action: int, *, legal_advice: bool) -> Rung:
    """The rung of an action; refuses actions 4-6 without the mark of legal advice."""
    rung = LADDER[action]
    if rung.legal_advice and not legal_advice:
        raise LegalAdviceRequired(action=action)
    return rung


class Condition(enum.StrEnum):
    """The three conditions of action 6 under which a judge orders an eviction."""

    #: a nuisance file was built (letters, correspondence, the team's timeline)
    FILE = "file"
    #: the tenant did not keep specific agreements of the lease and support agreement
    AGREEMENTS = "agreements"
    #: everything possible was done to stop the behaviour
    EVERYTHING_DONE = "everything_done"


def court_conditions(*, complaints: int, letters: set[int], interventions: int,
                     agreements_broken: bool) -> dict[Condition, bool]:
    """Which of action 6's conditions the file shows: a file (more than one complaint and the
    letters of actions 3 and 4), agreements broken (as recorded with action 6), everything
    done (the letters of actions 3-5 and at least one intervention)."""
    return {
        Condition.FILE: complaints >= 2 and {3, 4} <= letters,
        Condition.AGREEMENTS: agreements_broken,
        Condition.EVERYTHING_DONE: {3, 4, 5} <= letters and interventions >= 1,
    }


#: interventions 1-4 of the guideline, and the mediation referral
INTERVENTIONS: tuple[str, ...] = ("1", "2", "3", "4", "mediation")


# --- reading what the landlord types ----------------------------------------------------------

_DAY = re.compile(r"(\d{1,2})-(\d{1,2})(?:-(\d{4}))?")
TIME_OF_DAY = re.compile(r"(\d{1,2})[:.](\d{2})")
TODAY_WORDS = ("vandaag", "today")
NOW_WORDS = ("nu", "now")
YESTERDAY_WORDS = ("gisteren", "yesterday")
#: how far back a moment of a complaint may lie
MAX_PAST = timedelta(days=366)


def _examples(now: datetime, tz: tzinfo) -> str:
    yesterday = (now.astimezone(tz) - timedelta(days=1)).date()
    # the words ('nu, gisteren 22:30' / 'now, yesterday 22:30') are in the reader's sentence
    return f"{yesterday.day}-{yesterday.month} 22:30, {yesterday.isoformat()}"


def _read_moment(given: str, now: datetime, tz: tzinfo) -> datetime:
    """The moment a person typed, read against ``now`` (its form; not its range)."""
    words = clean(given).replace("/", "-").lower().split()
    bad = {"given": given, "examples": _examples(now, tz)}
    if not words or len(words) > 2:
        raise BadPastMoment(**bad)
    local_today = now.astimezone(tz).date()
    if len(words) == 1 and words[0] in NOW_WORDS:
        return now
    head = words[0]
    if head in TODAY_WORDS:
        day = local_today
    elif head in YESTERDAY_WORDS:
        day = local_today - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(head)
        except ValueError:
            match = _DAY.fullmatch(head)
            if match is None:
                raise BadPastMoment(**bad) from None
            try:
                year = int(match.group(3) or local_today.year)
                day = date(year, int(match.group(2)), int(match.group(1)))
                if match.group(3) is None and day > local_today:
                    day = date(year - 1, day.month, day.day)
            except (ValueError, OverflowError):
                raise BadPastMoment(**bad) from None
    at = time(9, 0)
    if len(words) == 2:
        found = TIME_OF_DAY.fullmatch(words[1])
        if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
            raise BadPastMoment(**bad)
        at = time(int(found.group(1)), int(found.group(2)))
    try:
        moment = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadPastMoment(**bad) from None
    if day == local_today and moment > now and len(words) == 1:
        moment = now  # 'vandaag' before nine is now
    return moment


def past_moment(given: str, now: datetime, calendar: WorkingCalendar) -> datetime:
    """A moment now or in the past year: 'nu', 'vandaag 14:00', 'gisteren 22:30',
    '28-11 22:30', '2026-11-28', '28-11-2026 09:15' (local time; a day alone is its
    morning, or now if that is still to come)."""
    moment = _read_moment(given, now, calendar.tz)
    if moment > now or now - moment > MAX_PAST:
        raise BadPastMoment(given=given, examples=_examples(now, calendar.tz))
    return moment


#: a moment to read the form of a typed moment by (a guided conversation checks the form of
#: each answer; the range is checked at its end, against the injected clock)
_FORM_REFERENCE = datetime(2000, 6, 15, 12, 0, tzinfo=UTC)


def moment_form(given: str) -> str:
    """``given`` if it has the form of a moment (else :class:`BadPastMoment`)."""
    _read_moment(given, _FORM_REFERENCE, UTC)
    return given


ANONYMOUS_WORDS = ("anoniem", "anonymous", "-")
COMPLAINANT_PREFIXES = ("klager:", "klaagster:", "melder:", "complainant:")


def complainant_of(given: str) -> str | None:
    """'anoniem' (no identity stored at all) or 'klager: <name>' (or a name alone)."""
    text = clean(given)
    if not text or normalise_word(text) in ANONYMOUS_WORDS:
        return None
    lowered = text.lower()
    for prefix in COMPLAINANT_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix):].strip()
            break
    return text[:200] or None


def parse_yes_no(word: str, yes: tuple[str, ...], no: tuple[str, ...]) -> bool | None:
    w = normalise_word(word)
    if w in yes:
        return True
    if w in no:
        return False
    return None


CONSCIOUS_WORDS = ("bewust", "conscious")
UNCONSCIOUS_WORDS = ("onbewust", "unconscious")
JUSTIFIED_WORDS = ("terecht", "justified", "ja", "yes")
UNJUSTIFIED_WORDS = ("onterecht", "unjustified", "nee", "no")
