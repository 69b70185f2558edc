"""A trajectory: the last-chance policy (Laatste Kansbeleid) and the breakthrough track
(Doorbraaktraject), as an aggregate with its commands and events.

The last-chance policy (seeds/000_…): the tenant acknowledges causing the nuisance and
consents to change their behaviour and accept help; a support agreement
(woonbegeleidingsovereenkomst) is drawn up and becomes part of the new lease; a process
monitor watches the process; the trajectory lasts at least two years, with periodic
evaluations (norm N10), and closes positively or negatively. The breakthrough track is the
second kind: "from a less forced frame", so the tenant's consent is needed but no
acknowledgement, the agreement need not be part of a lease, and it has no minimum length.

Pure rules (no I/O): each method refuses an illegal change with a domain error, or returns
the changed trajectory and a past-tense event; a service stores it through its repository.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain import errors
from bot.domain.model import Role, normalise_word


class TrajectoryKind(enum.StrEnum):
    LAST_CHANCE = "last_chance"
    BREAKTHROUGH = "breakthrough"


class TrajectoryStatus(enum.StrEnum):
    #: proposed (aangemeld): waiting for consent and the agreement
    PROPOSED = "proposed"
    #: runs: evaluations open by themselves
    ACTIVE = "active"
    CLOSED = "closed"


class EvaluationOutcome(enum.StrEnum):
    """What a periodic evaluation concludes."""

    #: the agreements are kept
    ON_TRACK = "on_track"
    #: concerns: the agreements or the help are adjusted
    ADJUST = "adjust"
    #: the agreements are not kept (grounds for a negative closure)
    BREACH = "breach"


class Closure(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


#: Dutch (and English) words people type
KIND_WORDS: dict[TrajectoryKind, tuple[str, ...]] = {
    TrajectoryKind.LAST_CHANCE: ("laatstekans", "laatste_kans", "laatstekansbeleid", "lkb",
                                 "lastchance"),
    TrajectoryKind.BREAKTHROUGH: ("doorbraak", "doorbraaktraject", "breakthrough"),
}
OUTCOME_WORDS: dict[EvaluationOutcome, tuple[str, ...]] = {
    EvaluationOutcome.ON_TRACK: ("goed", "volgens_afspraak", "ok", "ontrack"),
    EvaluationOutcome.ADJUST: ("bijsturen", "zorgen", "aanpassen", "adjust"),
    EvaluationOutcome.BREACH: ("niet_nagekomen", "nietnagekomen", "geschonden", "breach"),
}
CLOSURE_WORDS: dict[Closure, tuple[str, ...]] = {
    Closure.POSITIVE: ("positief", "geslaagd", "positive"),
    Closure.NEGATIVE: ("negatief", "niet_geslaagd", "negative"),
}


def _parse(words: dict[enum.StrEnum, tuple[str, ...]], text: str) -> enum.StrEnum | None:
    word = normalise_word(text).replace("_", "")
    for member, aliases in words.items():
        if word == member.value.replace("_", "") or word in (a.replace("_", "")
                                                             for a in aliases):
            return member
    return None


def parse_kind(text: str) -> TrajectoryKind | None:
    found = _parse(KIND_WORDS, text)  # type: ignore[arg-type]
    return TrajectoryKind(found) if found is not None else None


def parse_outcome(text: str) -> EvaluationOutcome | None:
    found = _parse(OUTCOME_WORDS, text)  # type: ignore[arg-type]
    return EvaluationOutcome(found) if found is not None else None


def parse_closure(text: str) -> Closure | None:
    found = _parse(CLOSURE_WORDS, text)  # type: ignore[arg-type]
    return Closure(found) if found is not None else None


# --- errors -------------------------------------------------------------------------------

class TrajectoryError(errors.DomainError):
    key = "trajectory.error.generic"


class NoTrajectory(TrajectoryError):
    key = "trajectory.error.none"


class TrajectoryRuns(TrajectoryError):
    """A case has one trajectory at a time."""

    key = "trajectory.error.runs"


class TrajectoryNotActive(TrajectoryError):
    key = "trajectory.error.not_active"


class TrajectoryAlreadyActive(TrajectoryError):
    key = "trajectory.error.already_active"


class TrajectoryClosed(TrajectoryError):
    key = "trajectory.error.closed"


class NotReady(TrajectoryError):
    """It cannot start yet; ``missing`` names what is missing (catalogue keys)."""

    key = "trajectory.error.not_ready"


class TooEarly(TrajectoryError):
    """A last-chance trajectory closes positively only after its minimum length."""

    key = "trajectory.error.too_early"


class NotEvaluated(TrajectoryError):
    """A positive closure needs at least one evaluation."""

    key = "trajectory.error.not_evaluated"


# --- events (past tense) ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TrajectoryProposed:
    kind: TrajectoryKind
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentRecorded:
    at: datetime
    acknowledged: bool
    #: the tenant gave it themself (rather than the team recording it)
    by_tenant: bool


@dataclass(frozen=True, slots=True)
class AgreementRecorded:
    at: datetime


@dataclass(frozen=True, slots=True)
class LeaseLinked:
    at: datetime


@dataclass(frozen=True, slots=True)
class TrajectoryStarted:
    at: datetime
    minimum_until: datetime | None


@dataclass(frozen=True, slots=True)
class TrajectoryEvaluated:
    at: datetime
    period: int
    outcome: EvaluationOutcome


@dataclass(frozen=True, slots=True)
class TrajectoryEnded:
    at: datetime
    closure: Closure


#: what a ready-to-start check names as missing (catalogue keys)
MISSING_CONSENT = "trajectory.missing.consent"
MISSING_ACKNOWLEDGEMENT = "trajectory.missing.acknowledgement"
MISSING_AGREEMENT = "trajectory.missing.agreement"
MISSING_LEASE = "trajectory.missing.lease"
MISSING_MONITOR = "trajectory.missing.monitor"


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One trajectory of a case. ``agreement`` and ``lease_ref`` are free text of the
    ``agreement`` class; ``closing_note`` of the ``evaluation`` class (docs/PRIVACY.md)."""

    id: int
    case_id: int
    kind: TrajectoryKind
    status: TrajectoryStatus
    proposed_at: datetime
    proposed_by: int | None = None
    proposed_role: Role | None = None
    consented_at: datetime | None = None
    acknowledged: bool = False
    consent_by_tenant: bool = False
    agreement: str | None = None
    agreement_at: datetime | None = None
    lease_ref: str | None = None
    lease_linked_at: datetime | None = None
    started_at: datetime | None = None
    minimum_until: datetime | None = None
    evaluations: int = 0
    last_outcome: EvaluationOutcome | None = None
    closed_at: datetime | None = None
    closure: Closure | None = None
    closing_note: str | None = None

    # --- its rules ------------------------------------------------------------------------
    @classmethod
    def propose(cls, case_id: int, kind: TrajectoryKind, now: datetime, *,
                by: int | None, role: Role | None) -> tuple[Trajectory, TrajectoryProposed]:
        return (cls(id=0, case_id=case_id, kind=kind, status=TrajectoryStatus.PROPOSED,
                    proposed_at=now, proposed_by=by, proposed_role=role),
                TrajectoryProposed(kind, now))

    def _open(self) -> None:
        if self.status is TrajectoryStatus.CLOSED:
            raise TrajectoryClosed(kind=self.kind.value)

    def record_consent(self, now: datetime, *, acknowledged: bool, by_tenant: bool
                       ) -> tuple[Trajectory, ConsentRecorded]:
        """The tenant consents (and, for the last chance, acknowledges the nuisance); an
        acknowledgement once given stays given."""
        self._open()
        changed = replace(self, consented_at=now,
                          acknowledged=self.acknowledged or acknowledged,
                          consent_by_tenant=self.consent_by_tenant or by_tenant)
        return changed, ConsentRecorded(now, changed.acknowledged, by_tenant)

    def record_agreement(self, text: str, now: datetime
                         ) -> tuple[Trajectory, AgreementRecorded]:
        """The support agreement (or a new version of it, also while it runs)."""
        self._open()
        return replace(self, agreement=text, agreement_at=now), AgreementRecorded(now)

    def link_lease(self, reference: str, now: datetime) -> tuple[Trajectory, LeaseLinked]:
        """The agreement is part of the new lease (which lease, as a reference)."""
        self._open()
        return replace(self, lease_ref=reference, lease_linked_at=now), LeaseLinked(now)

    def missing(self, *, has_monitor: bool) -> tuple[str, ...]:
        """What it still needs before it can start (catalogue keys), in order."""
        out = []
        if self.consented_at is None:
            out.append(MISSING_CONSENT)
        if self.kind is TrajectoryKind.LAST_CHANCE and not self.acknowledged:
            out.append(MISSING_ACKNOWLEDGEMENT)
        if self.agreement is None:
            out.append(MISSING_AGREEMENT)
        if self.kind is TrajectoryKind.LAST_CHANCE:
            if self.lease_ref is None:
                out.append(MISSING_LEASE)
            if not has_monitor:
                out.append(MISSING_MONITOR)
        return tuple(out)

    def start(self, now: datetime, *, has_monitor: bool, minimum_until: datetime | None
              ) -> tuple[Trajectory, TrajectoryStarted]:
        """It runs once everything is there: a last chance for at least ``minimum_until``
        (two years by default); a breakthrough track has no minimum."""
        self._open()
        if self.status is TrajectoryStatus.ACTIVE:
            raise TrajectoryAlreadyActive()
        missing = self.missing(has_monitor=has_monitor)
        if missing:
            raise NotReady(missing=missing)
        until = minimum_until if self.kind is TrajectoryKind.LAST_CHANCE else None
        if until is not None and until <= now:
            raise ValueError("a minimum length ends after the start")
        return (replace(self, status=TrajectoryStatus.ACTIVE, started_at=now,
                        minimum_until=until), TrajectoryStarted(now, until))

    def evaluate(self, outcome: EvaluationOutcome, now: datetime
                 ) -> tuple[Trajectory, TrajectoryEvaluated]:
        """A periodic evaluation, only while it runs."""
        self._open()
        if self.status is not TrajectoryStatus.ACTIVE:
            raise TrajectoryNotActive()
        period = self.evaluations + 1
        return (replace(self, evaluations=period, last_outcome=outcome),
                TrajectoryEvaluated(now, period, outcome))

    def close(self, closure: Closure, now: datetime, note: str | None = None
              ) -> tuple[Trajectory, TrajectoryEnded]:
        """Closed: negatively at any time (the tenant does not consent, or does not keep the
        agreements); positively only while it runs, after at least one evaluation and, for
        the last chance, not before its minimum length."""
        self._open()
        if closure is Closure.POSITIVE:
            if self.status is not TrajectoryStatus.ACTIVE:
                raise TrajectoryNotActive()
            if self.minimum_until is not None and now < self.minimum_until:
                raise TooEarly(until=self.minimum_until)
            if self.evaluations == 0:
                raise NotEvaluated()
        return (replace(self, status=TrajectoryStatus.CLOSED, closed_at=now, closure=closure,
                        closing_note=note), TrajectoryEnded(now, closure))


# --- commands (imperative) ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ProposeTrajectory:
    person_id: int
    case_code: str
    kind: TrajectoryKind


@dataclass(frozen=True, slots=True)
class RecordConsent:
    person_id: int
    case_code: str
    #: the tenant acknowledges causing the nuisance (needed for the last chance)
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class RecordAgreement:
    person_id: int
    case_code: str
    text: str


@dataclass(frozen=True, slots=True)
class LinkLease:
    person_id: int
    case_code: str
    reference: str


@dataclass(frozen=True, slots=True)
class StartTrajectory:
    person_id: int
    case_code: str


@dataclass(frozen=True, slots=True)
class EvaluateTrajectory:
    person_id: int
    case_code: str
    outcome: EvaluationOutcome
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CloseTrajectory:
    person_id: int
    case_code: str
    closure: Closure
    note: str | None = None


#: who may do what (roles in the case)
PROPOSERS: frozenset[Role] = frozenset({Role.COACH, Role.TEAM_LEAD, Role.LANDLORD})
#: who records the agreement and its link to the lease (the monitor draws it up)
AGREEMENT_WRITERS: frozenset[Role] = frozenset(
    {Role.COACH, Role.TEAM_LEAD, Role.LANDLORD, Role.MONITOR})
#: who records the tenant's consent on the tenant's behalf (or the tenant themself)
CONSENT_RECORDERS: frozenset[Role] = frozenset({Role.COACH, Role.TEAM_LEAD, Role.TENANT})
#: who evaluates and closes (the monitor watches the process; the partners decide together)
EVALUATORS: frozenset[Role] = frozenset(
    {Role.MONITOR, Role.COACH, Role.TEAM_LEAD, Role.LANDLORD})
