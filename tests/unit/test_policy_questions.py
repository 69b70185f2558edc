"""The policy's answers beyond renderings: a shared chat's audience, stand-ins, reasons and
names (docs/PRIVACY.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.model import Norm, Role, Signal, SignalKind, Window, WindowStatus
from bot.privacy import DEFAULT, Info, Visibility

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def signal(kind: SignalKind, poster: Role = Role.LANDLORD) -> Signal:
    return Signal(id=1, case_id=1, case_code="Z-2222", kind=kind, posted_by=10,
                  poster_role=poster, posted_at=NOW, note=None)


def window(signal_id: int | None = None) -> Window:
    return Window(id=1, case_id=1, norm=Norm.N5_FOUR_WEEK_CHECK, signal_id=signal_id,
                  responsible=(Role.COACH, Role.TEAM_LEAD), waiting_person_id=None,
                  opened_at=NOW, due_at=NOW, status=WindowStatus.OPEN)


def test_a_chat_with_anyone_unaccounted_for_holds_a_stranger() -> None:
    audience = DEFAULT.chat_audience([[Role.COACH]], unaccounted=True)
    assert audience.stranger
    assert not DEFAULT.chat_may_see_signal(audience, signal(SignalKind.MAILBOX_FULL))


def test_a_member_without_a_role_in_the_case_is_a_stranger() -> None:
    audience = DEFAULT.chat_audience([[Role.COACH], []], unaccounted=False)
    assert audience.stranger
    assert audience.roles == (Role.COACH,)


def test_a_chat_of_known_members_gets_what_every_role_may_see() -> None:
    audience = DEFAULT.chat_audience([[Role.COACH], [Role.LANDLORD]], unaccounted=False)
    assert not audience.stranger
    assert DEFAULT.chat_may_see_signal(audience, signal(SignalKind.NOISE))
    assert not DEFAULT.chat_may_see_signal(audience, signal(SignalKind.CARE_CONCERN,
                                                            Role.COACH))
    assert DEFAULT.chat_sees_names(audience)
    mediated = DEFAULT.chat_audience([[Role.COACH], [Role.MEDIATOR]], unaccounted=False)
    assert not DEFAULT.chat_sees_names(mediated)


def test_a_backup_stands_in_only_with_roles_that_see_as_much() -> None:
    assert DEFAULT.may_stand_in([Role.COACH], [Role.TEAM_LEAD])
    assert DEFAULT.may_stand_in([Role.COACH], [Role.COACH])
    assert not DEFAULT.may_stand_in([Role.COACH], [Role.LANDLORD])
    assert not DEFAULT.may_stand_in([Role.COACH], [])
    assert DEFAULT.may_stand_in([Role.LANDLORD], [Role.COACH]) is False  # complainant


def test_a_reason_goes_where_its_class_may_go() -> None:
    care = signal(SignalKind.CARE_CONCERN, Role.COACH)
    assert DEFAULT.reason_class(care) is Info.CARE
    assert not DEFAULT.may_read_reason([Role.LANDLORD], care)
    assert DEFAULT.may_read_reason([Role.LANDLORD], signal(SignalKind.NOISE))
    assert DEFAULT.may_read_reason([Role.POLICE], signal(SignalKind.POLICE_INCIDENT))
    assert not DEFAULT.may_read_reason([Role.MUNICIPALITY], signal(SignalKind.NOISE))
    assert not DEFAULT.may_read_reason([Role.TENANT], None)
    assert DEFAULT.reads_reason_at_once([Role.COACH], care)
    assert not DEFAULT.reads_reason_at_once([Role.LANDLORD], signal(SignalKind.NOISE))


def test_who_may_know_a_window() -> None:
    assert DEFAULT.may_know_window([Role.COACH], 5, window(), None)
    assert not DEFAULT.may_know_window([Role.POLICE], 5, window(), None)
    care = signal(SignalKind.CARE_CONCERN, Role.COACH)
    assert not DEFAULT.may_know_window([Role.LANDLORD], 5, window(1), care)


def test_the_mediator_sees_no_names_and_only_complaints_are_released() -> None:
    assert not DEFAULT.sees_names([Role.MEDIATOR])
    assert DEFAULT.sees(Role.MEDIATOR, Info.TENANT_IDENTITY) is Visibility.REDACTED
    assert DEFAULT.is_complaint(SignalKind.NOISE)
    assert not DEFAULT.is_complaint(SignalKind.CARE_CONCERN)
    assert not DEFAULT.is_complaint(SignalKind.POLICE_INCIDENT)
