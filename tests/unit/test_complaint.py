"""The complaint aggregate's state machine, the table of action 2, the ladder's rules and the
reading of moments (pure: no database, no clock but the one given)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import complaint as rules
from bot.domain.calendar import WorkingCalendar
from bot.domain.complaint import (
    FOLLOW_UPS,
    LADDER,
    Cell,
    Complaint,
    ComplaintStatus,
    Condition,
    Side,
    cell_of,
)
from bot.domain.model import Role, SignalKind

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Amsterdam
CALENDAR = WorkingCalendar(ZoneInfo("Europe/Amsterdam"))


def complaint(**changes: object) -> Complaint:
    base = Complaint(id=1, case_id=1, kind=SignalKind.NOISE, happened_at=NOW, received_at=NOW,
                     recorded_by=1, recorded_at=NOW, description="Lawaai", complainant=None)
    return base if not changes else Complaint(**{**{f: getattr(base, f) for f in
                                                      base.__slots__}, **changes})


def test_the_happy_path_received_handled_assessed_resolved() -> None:
    c = complaint()
    assert c.status is ComplaintStatus.RECEIVED
    assert c.anonymous
    assert c.is_open
    c, handled = c.record_handling("Gesprek morgen", NOW)
    assert c.status is ComplaintStatus.IN_HANDLING
    assert handled.complaint_id == 1
    c, assessed = c.assess(conscious=False, tenant_justified=True, coach_justified=True,
                           note=None, by=2, at=NOW)
    assert c.status is ComplaintStatus.ASSESSED
    assert assessed.cell is Cell.UNCONSCIOUS_JUSTIFIED
    assert c.cell is Cell.UNCONSCIOUS_JUSTIFIED
    c, first = c.mark_resolved(Side.LANDLORD, NOW)
    assert not first.resolved
    assert c.is_open
    c, both = c.mark_resolved(Side.TEAM, NOW)
    assert both.resolved
    assert c.status is ComplaintStatus.RESOLVED
    assert not c.is_open


def test_illegal_changes_are_refused() -> None:
    c = complaint()
    with pytest.raises(rules.HandlingFirst):
        c.assess(conscious=True, tenant_justified=True, coach_justified=True, note=None, by=2,
                 at=NOW)
    handled, _ = c.record_handling("x", NOW)
    with pytest.raises(rules.HandlingAlreadyRecorded):
        handled.record_handling("again", NOW)
    assessed, _ = handled.assess(conscious=True, tenant_justified=True, coach_justified=True,
                                 note=None, by=2, at=NOW)
    with pytest.raises(rules.AlreadyAssessed):
        assessed.assess(conscious=True, tenant_justified=True, coach_justified=True,
                        note=None, by=2, at=NOW)
    marked, _ = assessed.mark_resolved(Side.TEAM, NOW)
    with pytest.raises(rules.AlreadyMarked):
        marked.mark_resolved(Side.TEAM, NOW)
    resolved, _ = marked.mark_resolved(Side.LANDLORD, NOW)
    for change in (lambda: resolved.record_contact(NOW),
                   lambda: resolved.record_handling("x", NOW),
                   lambda: resolved.mark_resolved(Side.LANDLORD, NOW)):
        with pytest.raises(rules.ComplaintResolved):
            change()


def test_contact_is_recorded_while_open() -> None:
    c, event = complaint().record_contact(NOW)
    assert c.last_contact_at == NOW
    assert event.at == NOW


def test_the_table_has_four_cells_and_every_combination_lands_in_one() -> None:
    assert cell_of(True, True, True) is Cell.CONSCIOUS_JUSTIFIED
    assert cell_of(True, False, True) is Cell.CONSCIOUS_DISPUTED
    assert cell_of(False, True, True) is Cell.UNCONSCIOUS_JUSTIFIED
    assert cell_of(False, False, False) is Cell.UNJUSTIFIED
    assert {cell_of(a, b, c) for a in (True, False) for b in (True, False)
            for c in (True, False)} == set(Cell)
    # the six-week check is the unconscious, justified cell's only, with its clock
    clocked = {cell for cell, follow in FOLLOW_UPS.items() if any(f.within for f in follow)}
    assert clocked == {Cell.UNCONSCIOUS_JUSTIFIED}
    owners = {f.owner for f in FOLLOW_UPS[Cell.UNCONSCIOUS_JUSTIFIED] if f.within}
    assert owners == {Role.COACH, Role.LANDLORD}
    assert any(f.kind == "consider_mediation" for f in FOLLOW_UPS[Cell.UNJUSTIFIED])


def test_a_similar_justified_complaint_within_the_period_climbs_the_ladder() -> None:
    first = complaint(id=1, coach_justified=True)
    second = complaint(id=2, coach_justified=True, received_at=NOW + timedelta(days=30))
    other_kind = complaint(id=3, kind=SignalKind.SMELL, coach_justified=True,
                           received_at=NOW + timedelta(days=30))
    period = timedelta(days=183)
    assert rules.similar_justified_before(second, [first], period) == first
    assert rules.similar_justified_before(other_kind, [first], period) is None
    assert rules.similar_justified_before(second, [first], timedelta(days=10)) is None
    unjustified = complaint(id=4, coach_justified=False, received_at=NOW + timedelta(days=3))
    assert rules.similar_justified_before(unjustified, [first], period) is None


def test_legal_advice_is_required_at_actions_four_to_six() -> None:
    assert rules.check_letter(3, legal_advice=False).kind is rules.LetterKind.WARNING
    for action in (4, 5, 6):
        with pytest.raises(rules.LegalAdviceRequired):
            rules.check_letter(action, legal_advice=False)
        assert rules.check_letter(action, legal_advice=True) is LADDER[action]
    assert LADDER[5].registered
    assert LADDER[5].on_call_advice
    assert LADDER[3].police_advice


def test_the_court_conditions_read_the_file() -> None:
    none = rules.court_conditions(complaints=1, letters=set(), interventions=0,
                                  agreements_broken=False)
    assert not any(none.values())
    full = rules.court_conditions(complaints=3, letters={3, 4, 5}, interventions=1,
                                  agreements_broken=True)
    assert all(full.values())
    assert set(full) == set(Condition)


@pytest.mark.parametrize(("typed", "local"), [
    ("nu", (2026, 11, 23, 9, 0)), ("vandaag", (2026, 11, 23, 9, 0)),
    ("vandaag 08:15", (2026, 11, 23, 8, 15)), ("gisteren 22:30", (2026, 11, 22, 22, 30)),
    ("22-11 23:00", (2026, 11, 22, 23, 0)), ("2026-11-01", (2026, 11, 1, 9, 0)),
    ("24-12", (2025, 12, 24, 9, 0)), ("١-١١", (2026, 11, 1, 9, 0)),
])
def test_moments_in_the_past(typed: str, local: tuple[int, ...]) -> None:
    expected = datetime(*local, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)
    assert rules.past_moment(typed, NOW, CALENDAR) == expected


@pytest.mark.parametrize("typed", ["morgen", "vandaag 10:00", "24-11-2026", "2020-01-01", "",
                                   "31-02", "gisteren 25:00", "1 2 3", "x" * 300])
def test_moments_refused(typed: str) -> None:
    with pytest.raises(rules.BadPastMoment):
        rules.past_moment(typed, NOW, CALENDAR)


def test_the_complainant_is_anonymous_or_kept_as_typed() -> None:
    assert rules.complainant_of("anoniem") is None
    assert rules.complainant_of("  ") is None
    assert rules.complainant_of("klager: Jansen nr 12") == "Jansen nr 12"
    assert rules.complainant_of("Jansen") == "Jansen"
