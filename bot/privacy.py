"""Need to know: which role may see which class of information about a case.

One declarative table decides (roles × information classes → shown, redacted or hidden), with
the table in docs/PRIVACY.md as the default; a deployment may tighten it, never loosen it. No other
code decides who sees what: renderings ask :class:`Policy`.

- *shown*: the role sees it.
- *redacted*: the role learns that it exists, not what it says.
- *hidden*: the role learns nothing of it, not even that it exists.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.model import CARE_TEAM, TENANT_REPORTS, Role, Signal, SignalKind, Window


class Info(enum.StrEnum):
    #: what kind of signal, when, from which kind of partner, which window, its status
    FACTS = "facts"
    #: a note typed by a person
    FREE_TEXT = "free_text"
    CARE = "care"
    FINANCE = "finance"
    POLICE = "police"
    #: what a nuisance complaint says
    COMPLAINT = "complaint"
    #: who complained
    COMPLAINANT = "complainant"
    #: the tenant's own reports (harassed, contesting a complaint)
    TENANT_REPORT = "tenant_report"
    #: who the tenant is (names of case members)
    TENANT_IDENTITY = "tenant_identity"
    #: the coach's assessment of a complaint after the hearing (action 2): conscious or not,
    #: justified or not according to the tenant and to the coach
    ASSESSMENT = "assessment"
    #: the letters of the ladder (actions 3-6) and correspondence with third parties
    LETTER = "letter"
    #: a trajectory's agreements (last chance, breakthrough): the support agreement, its
    #: link to the lease, its deadlines
    AGREEMENT = "agreement"
    #: a trajectory's periodic evaluations and their outcome, and closing reflections
    EVALUATION = "evaluation"


class Visibility(enum.IntEnum):
    HIDDEN = 0
    REDACTED = 1
    SHOWN = 2


S, R, H = Visibility.SHOWN, Visibility.REDACTED, Visibility.HIDDEN

#: the table of docs/PRIVACY.md. Columns: facts, free text, care, finance, police, complaint,
#: complainant, tenant report, tenant identity, assessment, letter, agreement, evaluation.
_COLUMNS = (Info.FACTS, Info.FREE_TEXT, Info.CARE, Info.FINANCE, Info.POLICE, Info.COMPLAINT,
            Info.COMPLAINANT, Info.TENANT_REPORT, Info.TENANT_IDENTITY, Info.ASSESSMENT,
            Info.LETTER, Info.AGREEMENT, Info.EVALUATION)
_TABLE: dict[Role, tuple[Visibility, ...]] = {
    #                   facts text care fin  pol  compl cmpnt tenrep tenid asses lettr agree evalu
    Role.COACH:        (S,    S,   S,   S,   S,   S,    R,    S,     S,    S,    S,    S,    S),
    Role.TEAM_LEAD:    (S,    S,   S,   S,   S,   S,    R,    S,     S,    S,    S,    S,    S),
    Role.LANDLORD:     (S,    S,   H,   S,   R,   S,    S,    S,     S,    S,    S,    S,    S),
    Role.POLICE:       (S,    S,   H,   H,   S,   S,    H,    H,     S,    H,    R,    H,    H),
    Role.MUNICIPALITY: (S,    S,   H,   S,   H,   H,    H,    H,     S,    H,    R,    R,    R),
    Role.MEDIATOR:     (H,    H,   H,   H,   H,   H,    H,    H,     R,    H,    H,    H,    H),
    Role.MONITOR:      (R,    H,   H,   H,   H,   H,    H,    H,     S,    H,    H,    S,    S),
    Role.TENANT:       (R,    H,   H,   H,   H,   H,    H,    S,     S,    H,    R,    S,    S),
    Role.DEBT_HELP:    (S,    H,   H,   R,   H,   H,    H,    H,     S,    H,    H,    H,    H),
    Role.CRISIS_TEAM:  (S,    H,   H,   R,   H,   H,    H,    H,     S,    H,    H,    H,    H),
}
#: roles that may know signals of these kinds only, facts only: the municipality's debt help
#: and crisis team hear of rent arrears (N11), nothing else of the case
KIND_SCOPE: dict[Role, frozenset[SignalKind]] = {
    Role.DEBT_HELP: frozenset({SignalKind.MISSED_RENT}),
    Role.CRISIS_TEAM: frozenset({SignalKind.MISSED_RENT}),
}
DEFAULT_POLICY: dict[Role, dict[Info, Visibility]] = {
    role: dict(zip(_COLUMNS, row, strict=True)) for role, row in _TABLE.items()}

#: the class of a signal's details (its note, its complainant), by kind
DETAIL_CLASS: dict[SignalKind, Info] = {
    SignalKind.MISSED_RENT: Info.FINANCE,
    SignalKind.MAILBOX_FULL: Info.FACTS,
    SignalKind.NOISE: Info.COMPLAINT,
    SignalKind.SMELL: Info.COMPLAINT,
    SignalKind.VISITORS: Info.COMPLAINT,
    SignalKind.PUBLIC_SPACE: Info.COMPLAINT,
    SignalKind.POLLUTION: Info.COMPLAINT,
    SignalKind.THREATENED_NUISANCE: Info.COMPLAINT,
    SignalKind.POLICE_INCIDENT: Info.POLICE,
    SignalKind.CARE_CONCERN: Info.CARE,
    SignalKind.HARASSED_TENANT: Info.TENANT_REPORT,
    SignalKind.UNJUST_COMPLAINT: Info.TENANT_REPORT,
    SignalKind.OTHER: Info.FACTS,
}
#: every piece of free text, and the class it belongs to (docs/PRIVACY.md): a text goes only
#: where its class may go, and its poster sees who will read it before it goes
FIELD_CLASSES: dict[str, str] = {
    "signal.note": "the signal's detail class (DETAIL_CLASS), and free text",
    "signal.complainant": "complainant",
    "window.reason": "the window's subject: its signal's detail class, or free text",
    "report.answer": "tenant_report (the tenant's guided answers become its note)",
    "trajectory.agreement": "agreement (the support agreement)",
    "trajectory.lease_ref": "agreement (which new lease the agreement is part of)",
    "trajectory.closing_note": "evaluation (why a trajectory closed so)",
    "trajectory_evaluation.note": "evaluation (what a periodic evaluation found)",
    "reflection.answers": "evaluation (a reflection on a closing, N12)",
    # the complaint procedure (bot/services/complaints.py, docs/PRIVACY.md)
    "complaint.description": "complaint",
    "complaint.complainant": "complainant (the landlord's alone; anonymous: nothing stored)",
    "complaint.handling": "assessment (action 1: how the team will handle it)",
    "complaint.assessment_note": "assessment (action 2: the coach's note with the assessment)",
    "letter.note": "letter",
    "intervention.note": "care (an intervention's note; a mediation referral's too)",
    "intake.answer": "the intake conversation's answers become the complaint's fields",
}

#: kinds whose very existence is of a class beyond the facts
EXISTENCE_CLASS: dict[SignalKind, Info] = {
    SignalKind.CARE_CONCERN: Info.CARE,
    SignalKind.HARASSED_TENANT: Info.TENANT_REPORT,
    SignalKind.UNJUST_COMPLAINT: Info.TENANT_REPORT,
}

#: roles whose very presence in a case tells of a class beyond the facts: debt help and the
#: crisis team of money trouble (finance), the process monitor of a trajectory (agreement)
PRESENCE_CLASS: dict[Role, Info] = {
    Role.DEBT_HELP: Info.FINANCE,
    Role.CRISIS_TEAM: Info.FINANCE,
    Role.MONITOR: Info.AGREEMENT,
}


@dataclass(frozen=True)
class Policy:
    table: Mapping[Role, Mapping[Info, Visibility]] = field(
        default_factory=lambda: DEFAULT_POLICY)

    @classmethod
    def tightened(cls, hide: Mapping[str, Iterable[str]] | None = None,
                  redact: Mapping[str, Iterable[str]] | None = None) -> Policy:
        """The default, made stricter by a deployment: ``hide = {"landlord": ["finance"]}``.
        A deployment cannot make anything more visible than the default."""
        table = {role: dict(row) for role, row in DEFAULT_POLICY.items()}
        for level, changes in ((Visibility.HIDDEN, hide or {}), (Visibility.REDACTED,
                                                                  redact or {})):
            for role_name, classes in changes.items():
                role = Role(role_name)
                for info_name in classes:
                    info = Info(info_name)
                    table[role][info] = min(table[role][info], level)
        return cls(table)

    def sees(self, role: Role, info: Info) -> Visibility:
        return self.table[role][info]

    def best(self, roles: Iterable[Role], info: Info) -> Visibility:
        return max((self.sees(r, info) for r in roles), default=Visibility.HIDDEN)

    # --- signals ------------------------------------------------------------------------
    def signal_visibility(self, roles: Iterable[Role], person_id: int | None,
                          signal: Signal) -> Visibility:
        """Whether a person with ``roles`` in the signal's case may know the signal exists
        (SHOWN), only that something was reported (REDACTED), or nothing (HIDDEN)."""
        if person_id is not None and signal.posted_by == person_id:
            return Visibility.SHOWN
        best = Visibility.HIDDEN
        for role in roles:
            best = max(best, self._signal_for_role(role, signal))
        return best

    def _signal_for_role(self, role: Role, signal: Signal) -> Visibility:
        if role is Role.TENANT:
            # the tenant sees their own reports, and complaints only once the team has
            # discussed them with the tenant (released)
            return Visibility.SHOWN if signal.released_to_tenant else Visibility.HIDDEN
        scope = KIND_SCOPE.get(role)
        if scope is not None and signal.kind not in scope:
            return Visibility.HIDDEN
        facts = self.sees(role, Info.FACTS)
        special = EXISTENCE_CLASS.get(signal.kind)
        if special is not None:
            facts = min(facts, self.sees(role, special))
        return facts

    def may_see_signal(self, roles: Iterable[Role], person_id: int | None,
                       signal: Signal) -> bool:
        return self.signal_visibility(list(roles), person_id, signal) is Visibility.SHOWN

    def note_visibility(self, roles: Iterable[Role], person_id: int | None,
                        signal: Signal) -> Visibility:
        """A signal's free text: the poster, and the roles in the note's audience that the
        policy lets read free text of the signal's class."""
        roles = list(roles)
        if person_id is not None and signal.posted_by == person_id:
            return Visibility.SHOWN
        if not self.may_see_signal(roles, person_id, signal):
            return Visibility.HIDDEN
        audience = signal.audience if signal.audience is not None else default_audience(
            signal.poster_role)
        best = Visibility.HIDDEN
        detail = DETAIL_CLASS[signal.kind]
        for role in roles:
            if role is Role.TENANT:
                continue  # a released complaint shows its facts, never its text
            level = min(self.sees(role, Info.FREE_TEXT), self.sees(role, detail))
            if role not in audience:
                level = min(level, Visibility.REDACTED)
            best = max(best, level)
        return best

    def may_read_note(self, roles: Iterable[Role], person_id: int | None,
                      signal: Signal) -> bool:
        return self.note_visibility(roles, person_id, signal) is Visibility.SHOWN

    def may_see_complainant(self, roles: Iterable[Role], person_id: int | None,
                            signal: Signal) -> bool:
        if person_id is not None and signal.posted_by == person_id:
            return True
        return self.may_see_signal(roles, person_id, signal) and self.best(
            [r for r in roles if r is not Role.TENANT], Info.COMPLAINANT) is Visibility.SHOWN

    def is_complaint(self, kind: SignalKind) -> bool:
        """A nuisance complaint: what the team may release to the tenant once discussed."""
        return DETAIL_CLASS[kind] is Info.COMPLAINT

    def allowed_audience(self, kind: SignalKind) -> tuple[Role, ...]:
        """The roles a poster may choose to let read a note of this kind."""
        detail = DETAIL_CLASS[kind]
        return tuple(r for r in Role if r is not Role.TENANT
                     and self.sees(r, Info.FREE_TEXT) is Visibility.SHOWN
                     and self.sees(r, detail) is Visibility.SHOWN)

    def sees_names(self, roles: Iterable[Role]) -> bool:
        """Whether names of the case's people may be shown (otherwise roles only): the
        mediator, who may not know who the tenant is, never reads professionals' names
        either (they would name the tenant's team)."""
        return self.best(roles, Info.TENANT_IDENTITY) is Visibility.SHOWN

    def may_know_member(self, roles: Iterable[Role], member_role: Role) -> bool:
        """Whether someone with ``roles`` in a case may know that the case has a member in
        ``member_role`` (``/status``'s list of who takes part, the timeline's joins): their own
        roles always; otherwise only a role that knows the case's facts, and of a role whose
        presence tells more (``PRESENCE_CLASS``) only one that may know of that class. The
        mediator, who knows nothing of the case but the referral, learns no other member."""
        roles = list(roles)
        if member_role in roles:
            return True
        if self.best(roles, Info.FACTS) is Visibility.HIDDEN:
            return False
        if any(r in KIND_SCOPE for r in roles) and not any(
                r not in KIND_SCOPE for r in roles):
            # debt help and the crisis team know of rent arrears only: of the partners
            # around them, the landlord who signals it and the care team
            return member_role in CARE_TEAM or member_role is Role.LANDLORD or (
                member_role in KIND_SCOPE)
        presence = PRESENCE_CLASS.get(member_role)
        return presence is None or self.best(roles, presence) is not Visibility.HIDDEN

    # --- windows and their reasons ----------------------------------------------------------
    def may_know_window(self, roles: Iterable[Role], person_id: int | None,
                        window: Window, signal: Signal | None) -> bool:
        """A window about a signal: whoever may see the signal. A window of a norm: the care
        team, and the roles it names as responsible or waiting."""
        roles = list(roles)
        if signal is not None:
            return self.may_see_signal(roles, person_id, signal)
        if person_id is not None and window.waiting_person_id == person_id:
            return True
        return any(r in CARE_TEAM or r in window.responsible for r in roles)

    def reason_class(self, signal: Signal | None) -> Info:
        """A pause or extension reason is free text about the window's subject: of the
        signal's detail class, or plain free text for a window of a norm."""
        return DETAIL_CLASS[signal.kind] if signal is not None else Info.FREE_TEXT

    def may_read_reason(self, roles: Iterable[Role], signal: Signal | None) -> bool:
        """Free text of the reason's class, by the table (``FIELD_CLASSES``)."""
        roles = [r for r in roles if r is not Role.TENANT]
        detail = self.reason_class(signal)
        return any(self.sees(r, Info.FREE_TEXT) is Visibility.SHOWN
                   and self.sees(r, detail) is Visibility.SHOWN for r in roles)

    def reads_reason_at_once(self, roles: Iterable[Role], signal: Signal | None) -> bool:
        """The care team reads the reasons of its own windows on the timeline, as it reads the
        whole case; anyone else only once the poster, having seen who, lets it go."""
        return any(r in CARE_TEAM for r in roles) and self.may_read_reason(roles, signal)

    # --- stand-ins ------------------------------------------------------------------------
    def may_stand_in(self, absent_roles: Iterable[Role], backup_roles: Iterable[Role]) -> bool:
        """A backup receives an absent person's nudges in a case only if their own roles in
        THAT case let them see at least everything the absent person's roles there do."""
        absent, backup = list(absent_roles), list(backup_roles)
        if not backup:
            return False
        return all(self.best(backup, info) >= self.best(absent, info) for info in Info)

    # --- shared chats ---------------------------------------------------------------------
    def chat_audience(self, member_roles: Iterable[Iterable[Role]], unaccounted: bool
                      ) -> ChatAudience:
        """What a shared case chat may be sent: its audience is every role of every member
        the transport can account for. A member without a role in the case, or anyone the
        bot cannot account for (``unaccounted``), is a stranger: then the chat hears no more
        than that there is news."""
        roles: set[Role] = set()
        stranger = unaccounted
        for held in member_roles:
            found = list(held)
            if not found:
                stranger = True
            roles.update(found)
        return ChatAudience(roles=tuple(r for r in Role if r in roles), stranger=stranger)

    def chat_may_see_signal(self, audience: ChatAudience, signal: Signal) -> bool:
        """Every role in the chat may know the signal exists (and nobody is a stranger)."""
        return not audience.stranger and bool(audience.roles) and all(
            self.may_see_signal([r], None, signal) for r in audience.roles)

    def chat_sees_names(self, audience: ChatAudience) -> bool:
        return not audience.stranger and all(self.sees_names([r]) for r in audience.roles)


@dataclass(frozen=True)
class ChatAudience:
    """Who a shared chat reaches, as the policy reads it."""

    roles: tuple[Role, ...]
    #: someone in it holds no role in the case, or is not accounted for
    stranger: bool


def default_audience(poster_role: Role) -> frozenset[Role]:
    """By default a note goes to the care team and the poster's own kind of partner."""
    return CARE_TEAM | {poster_role}


DEFAULT = Policy()


__all__ = ["DEFAULT", "TENANT_REPORTS", "ChatAudience", "Info", "Policy", "Visibility",
           "default_audience"]
