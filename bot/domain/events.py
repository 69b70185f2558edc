"""Events: what happened, recorded on a case's timeline (past-tense names)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Event(enum.StrEnum):
    CASE_OPENED = "case_opened"
    PERSON_INVITED = "person_invited"
    MEMBER_JOINED = "member_joined"
    SIGNAL_POSTED = "signal_posted"
    SIGNAL_ACKNOWLEDGED = "signal_acknowledged"
    REMINDER_SENT = "reminder_sent"
    WINDOW_LAPSED = "window_lapsed"
    WINDOW_OPENED = "window_opened"
    WINDOW_MET = "window_met"
    WINDOW_PAUSED = "window_paused"
    WINDOW_RESUMED = "window_resumed"
    WINDOW_EXTENDED = "window_extended"
    WINDOW_MOVED = "window_moved"
    ESCALATED = "escalated"
    ABSENCE_REGISTERED = "absence_registered"
    NOTE_SENT = "note_sent"
    RELEASED_TO_TENANT = "released_to_tenant"
    REPORT_STATUS = "report_status"
    PATTERN_PROPOSED = "pattern_proposed"
    PERSON_ERASED = "person_erased"
    CHAT_LINKED = "chat_linked"
    CHAT_UNLINKED = "chat_unlinked"
    CASE_CLOSED = "case_closed"
    # trajectories (bot/domain/trajectory.py), rent arrears, reflections
    TRAJECTORY_PROPOSED = "trajectory_proposed"
    TRAJECTORY_CONSENT = "trajectory_consent"
    TRAJECTORY_AGREEMENT = "trajectory_agreement"
    TRAJECTORY_LEASE = "trajectory_lease"
    TRAJECTORY_STARTED = "trajectory_started"
    TRAJECTORY_EVALUATED = "trajectory_evaluated"
    TRAJECTORY_CLOSED = "trajectory_closed"
    EVICTION_JUDGMENT = "eviction_judgment"
    REFLECTION_RECORDED = "reflection_recorded"
    # the complaint procedure (bot/services/complaints.py)
    COMPLAINT_RECORDED = "complaint_recorded"
    COMPLAINT_HANDLING = "complaint_handling"
    COMPLAINANT_CONTACTED = "complainant_contacted"
    COMPLAINT_ASSESSED = "complaint_assessed"
    NOISE_MEASUREMENT_ASKED = "noise_measurement_asked"
    CHECK_ASKED = "check_asked"
    CHECK_ANSWERED = "check_answered"
    NUISANCE_RESOLVED = "nuisance_resolved"
    LADDER_PROPOSED = "ladder_proposed"
    LETTER_RECORDED = "letter_recorded"
    INTERVENTION_RECORDED = "intervention_recorded"
    MEDIATION_REFERRED = "mediation_referred"
    TASK_DONE = "task_done"


# --- what an aggregate's method returns: one event per change it made -----------------------

@dataclass(frozen=True, slots=True)
class WindowPaused:
    window_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class WindowResumed:
    window_id: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class WindowExtended:
    window_id: int
    due_at: datetime
    #: a lapsed window whose moment is ahead again runs again
    reopened: bool


@dataclass(frozen=True, slots=True)
class WindowMet:
    window_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class WindowLapsed:
    window_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class WindowStopped:
    """Cancelled (its case closed)."""

    window_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ReleasedToTenant:
    signal_id: int


@dataclass(frozen=True, slots=True)
class ReportResolved:
    signal_id: int


WindowEvent = (WindowPaused | WindowResumed | WindowExtended | WindowMet | WindowLapsed
               | WindowStopped)
