"""Commands of the complaint procedure (imperative names; ``bot/services/complaints.py``).

Moments and words arrive as typed; the service reads them with the injected clock and the
working-day calendar (``bot.domain.complaint.past_moment``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.model import Role


@dataclass(frozen=True, slots=True)
class RecordComplaint:
    person_id: int
    case_code: str
    kind_text: str
    happened_text: str
    received_text: str
    #: 'anoniem' (no identity stored) or the complainant as the landlord knows them
    complainant_text: str
    description: str


@dataclass(frozen=True, slots=True)
class RecordHandling:
    person_id: int
    complaint_id: int
    text: str


@dataclass(frozen=True, slots=True)
class RecordComplainantContact:
    person_id: int
    complaint_id: int


@dataclass(frozen=True, slots=True)
class AssessComplaint:
    person_id: int
    complaint_id: int
    conscious: bool
    tenant_justified: bool
    coach_justified: bool
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RequestNoiseMeasurement:
    person_id: int
    complaint_id: int


@dataclass(frozen=True, slots=True)
class AskForNewReports:
    """N5: ask the landlord, the police and the nuisance desk at once."""

    person_id: int
    complaint_id: int


@dataclass(frozen=True, slots=True)
class AskWhetherResolved:
    """N6: ask the landlord (who asks the complainant) whether it is resolved."""

    person_id: int
    complaint_id: int


@dataclass(frozen=True, slots=True)
class AnswerCheck:
    person_id: int
    complaint_id: int
    #: none, new (N5); resolved, unresolved (N6)
    answer: str


@dataclass(frozen=True, slots=True)
class MarkNuisanceResolved:
    person_id: int
    case_code: str


@dataclass(frozen=True, slots=True)
class RecordLetter:
    person_id: int
    case_code: str
    action: int
    sent_text: str
    registered: bool = False
    signed_seen: bool = False
    copy_landlord_file: bool = False
    copy_care_file: bool = False
    legal_advice: bool = False
    consulted: tuple[Role, ...] = ()
    advice_police: bool = False
    advice_on_call: bool = False
    agreements_broken: bool = False
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RecordIntervention:
    person_id: int
    case_code: str
    #: 1-4 of the guideline
    kind: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReferToMediation:
    person_id: int
    case_code: str
    tenant_consent: bool
    complainant_consent: bool
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CompleteTask:
    person_id: int
    task_id: int
