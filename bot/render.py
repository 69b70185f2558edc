"""Renderings of case data for one viewer: every message, summary and digest line about a
signal is made here, for the viewer's roles in the case, asking the privacy policy what each
role may see. Nothing else formats a signal's details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import i18n
from bot.domain.model import Role, Signal
from bot.privacy import Info, Policy, Visibility


@dataclass(frozen=True)
class Viewer:
    """Who a rendering is for: a person (or a shared chat) with roles in one case."""

    roles: tuple[Role, ...]
    person_id: int | None = None
    lang: str = "nl"


def person(lang: str, role: Role, name: str | None) -> str:
    """'begeleider (Bram)', or the role alone where the reader may not see names (the policy's
    ``sees_names``)."""
    return f"{i18n.role_name(lang, role)} ({name})" if name else i18n.role_name(lang, role)


def poster_label(policy: Policy, viewer: Viewer, signal: Signal, poster_name: str) -> str:
    """'verhuurder (Lotte)', or just the role where names are not the viewer's to see."""
    role = i18n.role_name(viewer.lang, signal.poster_role)
    show_name = policy.sees_names(viewer.roles) or (
        viewer.person_id is not None and viewer.person_id == signal.posted_by)
    if signal.poster_role is Role.TENANT and not policy.sees_names(viewer.roles):
        show_name = False
    return f"{role} ({poster_name})" if show_name and poster_name else role


def details(policy: Policy, viewer: Viewer, signal: Signal) -> str:
    """The note and the complainant, as far as the viewer may see them (with a line for what
    is redacted)."""
    lang = viewer.lang
    parts = []
    note_level = policy.note_visibility(viewer.roles, viewer.person_id, signal)
    # a note waiting for its poster's confirmation is the poster's alone
    ready = signal.note_status in ("sent", "none") or viewer.person_id == signal.posted_by
    if signal.note and ready:
        if note_level is Visibility.SHOWN:
            parts.append(i18n.t(lang, "signal.note", note=signal.note))
        elif note_level is Visibility.REDACTED:
            parts.append(i18n.t(lang, "signal.note_redacted"))
    if signal.complainant:
        if policy.may_see_complainant(viewer.roles, viewer.person_id, signal):
            parts.append(i18n.t(lang, "signal.complainant", name=signal.complainant))
        elif (policy.may_see_signal(viewer.roles, viewer.person_id, signal)
              and policy.best(viewer.roles, Info.COMPLAINANT) is Visibility.REDACTED):
            parts.append(i18n.t(lang, "signal.complainant_redacted"))
    return "".join(parts)


def signal_line(policy: Policy, viewer: Viewer, signal: Signal, poster_name: str,
                state: str) -> str:
    """One line about a signal for lists, summaries and digests (facts only)."""
    return i18n.t(viewer.lang, "status.signal_line", number=signal.id,
                  kind=i18n.kind_name(viewer.lang, signal.kind),
                  role=poster_label(policy, viewer, signal, poster_name),
                  when=i18n.when(viewer.lang, signal.posted_at), state=state)


def new_signal(policy: Policy, viewer: Viewer, signal: Signal, poster_name: str,
               due: datetime, *, addressee: bool) -> str:
    """The message announcing a signal to a person in the case."""
    lang = viewer.lang
    text = i18n.t(lang, "signal.new_facts", number=signal.id, code=signal.case_code,
                  kind=i18n.kind_name(lang, signal.kind),
                  poster=poster_label(policy, viewer, signal, poster_name),
                  when=i18n.when(lang, signal.posted_at))
    text += details(policy, viewer, signal)
    if addressee:
        text += "\n" + i18n.t(lang, "signal.ack_by", number=signal.id,
                              due=i18n.when(lang, due))
    return text


def neutral(lang: str, code: str, number: int) -> str:
    """A notice that reveals nothing on a lock screen; the details come on request."""
    return i18n.t(lang, "signal.neutral", code=code, number=number)
