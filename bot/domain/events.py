"""Events: what happened, recorded on a case's timeline (past-tense names)."""

from __future__ import annotations

import enum


class Event(enum.StrEnum):
    CASE_OPENED = "case_opened"
    PERSON_INVITED = "person_invited"
    MEMBER_JOINED = "member_joined"
    SIGNAL_POSTED = "signal_posted"
    SIGNAL_ACKNOWLEDGED = "signal_acknowledged"
    REMINDER_SENT = "reminder_sent"
    WINDOW_LAPSED = "window_lapsed"
