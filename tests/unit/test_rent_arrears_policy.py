"""Rent arrears (N11) in the policy: the municipality's debt help and crisis team are roles of
their own; they may know of missed-rent signals only, and of those the facts only (the note is
redacted); a missed rent payment informs the debt help; neither learns of a trajectory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.model import Role, Signal, SignalKind, parse_role, route_signal
from bot.privacy import DEFAULT, Info, Visibility

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MUNICIPAL = (Role.DEBT_HELP, Role.CRISIS_TEAM)


def signal(kind: SignalKind) -> Signal:
    return Signal(id=4, case_id=1, case_code="Z-2222", kind=kind, posted_by=5,
                  poster_role=Role.LANDLORD, posted_at=NOW, note="details", note_status="sent")


@pytest.mark.parametrize("role", MUNICIPAL)
def test_missed_rent_only_and_facts_only(role: Role) -> None:
    assert DEFAULT.may_see_signal([role], None, signal(SignalKind.MISSED_RENT))
    assert DEFAULT.note_visibility([role], None, signal(SignalKind.MISSED_RENT)) is not \
        Visibility.SHOWN
    for kind in SignalKind:
        if kind is not SignalKind.MISSED_RENT:
            assert DEFAULT.signal_visibility([role], None, signal(kind)) is Visibility.HIDDEN
    assert role not in DEFAULT.allowed_audience(SignalKind.MISSED_RENT)
    for info in (Info.CARE, Info.COMPLAINT, Info.POLICE, Info.AGREEMENT, Info.EVALUATION,
                 Info.FREE_TEXT, Info.COMPLAINANT, Info.LETTER, Info.ASSESSMENT):
        assert DEFAULT.sees(role, info) is Visibility.HIDDEN, info


def test_a_missed_rent_payment_informs_the_debt_help() -> None:
    assert Role.DEBT_HELP in route_signal(SignalKind.MISSED_RENT, Role.LANDLORD).informed
    assert Role.DEBT_HELP not in route_signal(SignalKind.NOISE, Role.LANDLORD).informed
    assert Role.CRISIS_TEAM not in route_signal(SignalKind.MISSED_RENT, Role.LANDLORD).informed


def test_the_words_for_the_roles() -> None:
    assert parse_role("schuldhulp") is Role.DEBT_HELP
    assert parse_role("Crisisteam") is Role.CRISIS_TEAM
    assert parse_role("gemeente") is Role.MUNICIPALITY


def test_a_deployment_may_tighten_them_too() -> None:
    tightened = DEFAULT.tightened(hide={"debt_help": ["finance"]})
    assert tightened.sees(Role.DEBT_HELP, Info.FINANCE) is Visibility.HIDDEN
