"""Need to know: which role may see which class of information about a case.

One declarative table decides; no other code decides who sees what. Structured facts (the kind
of a signal, when, from which kind of partner, the window and its status) go to the partners of
the case; free text and the classes below only to the roles named here.
"""

from __future__ import annotations

import enum

from bot.domain.model import CARE_TEAM, TENANT_REPORTS, Role, Signal, SignalKind


class Info(enum.StrEnum):
    FACTS = "facts"
    FREE_TEXT = "free_text"
    CARE = "care"
    FINANCE = "finance"
    POLICE = "police"
    COMPLAINANT = "complainant"
    TENANT_IDENTITY = "tenant_identity"


_ALL = frozenset(Role)
_NONE: frozenset[Role] = frozenset()

#: who may see each class of information (DESIGN.md, "Privacy" and the roles table)
POLICY: dict[Info, frozenset[Role]] = {
    Info.FACTS: frozenset({Role.COACH, Role.TEAM_LEAD, Role.LANDLORD, Role.POLICE,
                           Role.MUNICIPALITY}),
    Info.FREE_TEXT: CARE_TEAM,
    Info.CARE: CARE_TEAM,
    Info.FINANCE: frozenset({Role.COACH, Role.TEAM_LEAD, Role.LANDLORD, Role.MUNICIPALITY}),
    Info.POLICE: frozenset({Role.COACH, Role.TEAM_LEAD, Role.POLICE}),
    Info.COMPLAINANT: frozenset({Role.LANDLORD}),
    Info.TENANT_IDENTITY: frozenset({Role.COACH, Role.TEAM_LEAD, Role.LANDLORD, Role.POLICE,
                                     Role.MUNICIPALITY, Role.MONITOR, Role.TENANT}),
}

#: the class a signal of each kind belongs to, beyond its structured facts
KIND_CLASS: dict[SignalKind, Info] = {
    SignalKind.CARE_CONCERN: Info.CARE,
    SignalKind.POLICE_INCIDENT: Info.POLICE,
}


def may_see(role: Role, info: Info) -> bool:
    return role in POLICY[info]


def may_see_signal(roles: list[Role], person_id: int, signal: Signal) -> bool:
    """Whether a person holding ``roles`` in the signal's case may know the signal exists."""
    if signal.posted_by == person_id:
        return True
    for role in roles:
        if role is Role.TENANT:
            # the tenant sees their own reports only (others go through the team first)
            continue
        special = KIND_CLASS.get(signal.kind)
        if special is Info.CARE and not may_see(role, Info.CARE):
            continue
        if signal.kind in TENANT_REPORTS and role not in CARE_TEAM:
            continue
        if may_see(role, Info.FACTS):
            return True
    return False


def may_see_note(roles: list[Role], person_id: int, signal: Signal) -> bool:
    """Whether a person may read a signal's free text: the poster, and the roles the policy
    names for free text (and for the signal's own class, where it has one)."""
    if signal.posted_by == person_id:
        return True
    special = KIND_CLASS.get(signal.kind)
    return any(may_see(r, Info.FREE_TEXT) and (special is None or may_see(r, special))
               for r in roles)
