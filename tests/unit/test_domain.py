"""Pure rules: words for roles and kinds, who a signal goes to, what a role may post."""

from __future__ import annotations

import pytest

from bot.domain.model import (
    CARE_TEAM,
    ROLE_WORDS,
    SIGNAL_WORDS,
    TENANT_REPORTS,
    Role,
    SignalKind,
    kinds_for,
    normalise_word,
    parse_role,
    parse_signal_kind,
    route_signal,
)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_parses_from_its_id(role: Role) -> None:
    assert parse_role(role.value) is role
    assert parse_role(role.value.upper()) is role


@pytest.mark.parametrize(("word", "role"), [
    ("verhuurder", Role.LANDLORD), ("Wijkagent", Role.POLICE), ("begeleider", Role.COACH),
    ("teamleider", Role.TEAM_LEAD), ("gemeente", Role.MUNICIPALITY),
    ("buurtbemiddeling", Role.MEDIATOR), ("procesmonitor", Role.MONITOR),
    ("deelnemer", Role.TENANT), ("team-lead", Role.TEAM_LEAD),
])
def test_dutch_role_words(word: str, role: Role) -> None:
    assert parse_role(word) is role


@pytest.mark.parametrize("kind", list(SignalKind))
def test_every_kind_parses_from_its_id(kind: SignalKind) -> None:
    assert parse_signal_kind(kind.value) is kind
    assert parse_signal_kind(kind.value.replace("_", "-")) is kind


@pytest.mark.parametrize(("word", "kind"), [
    ("huurachterstand", SignalKind.MISSED_RENT), ("brievenbus", SignalKind.MAILBOX_FULL),
    ("Geluid", SignalKind.NOISE), ("stank", SignalKind.SMELL), ("bezoek", SignalKind.VISITORS),
    ("straat", SignalKind.PUBLIC_SPACE), ("vervuiling", SignalKind.POLLUTION),
    ("dreigende overlast", SignalKind.THREATENED_NUISANCE),
    ("zorgsignaal", SignalKind.CARE_CONCERN), ("getreiterd", SignalKind.HARASSED_TENANT),
    ("onterechte_klacht", SignalKind.UNJUST_COMPLAINT), ("overig", SignalKind.OTHER),
])
def test_dutch_kind_words(word: str, kind: SignalKind) -> None:
    assert parse_signal_kind(word) is kind


def test_unknown_words_are_none() -> None:
    assert parse_role("burgemeester") is None
    assert parse_signal_kind("brand") is None
    assert parse_role("coordinator") is None  # not a case role


def test_no_word_means_two_things() -> None:
    for table in (ROLE_WORDS, SIGNAL_WORDS):
        seen: dict[str, object] = {}
        for member, words in table.items():
            for word in (member.value, *words):
                key = normalise_word(word)
                assert seen.setdefault(key, member) is member, word


def test_care_concern_stays_in_the_care_team() -> None:
    for role in Role:
        assert (SignalKind.CARE_CONCERN in kinds_for(role)) == (role in CARE_TEAM)
    routing = route_signal(SignalKind.CARE_CONCERN, Role.COACH)
    assert set(routing.responsible) <= CARE_TEAM
    assert routing.informed == ()


def test_tenant_reports_are_the_tenants() -> None:
    assert set(kinds_for(Role.TENANT)) >= TENANT_REPORTS
    for role in (Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY):
        assert not TENANT_REPORTS & set(kinds_for(role))


@pytest.mark.parametrize("poster", [Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY, Role.TENANT])
def test_signals_from_partners_go_to_the_coach(poster: Role) -> None:
    kind = kinds_for(poster)[0]
    assert route_signal(kind, poster).responsible[0] is Role.COACH


def test_missed_rent_is_signalled_to_the_municipality() -> None:
    assert Role.MUNICIPALITY in route_signal(SignalKind.MISSED_RENT, Role.LANDLORD).informed
    assert Role.MUNICIPALITY not in route_signal(SignalKind.NOISE, Role.LANDLORD).informed


def test_coach_signal_goes_to_the_landlord() -> None:
    assert route_signal(SignalKind.NOISE, Role.COACH).responsible[0] is Role.LANDLORD
