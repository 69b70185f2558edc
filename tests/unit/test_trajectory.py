"""The trajectory as an aggregate: the last chance needs the tenant's acknowledgement and
consent, the support agreement, its lease and a process monitor before it runs; it lasts at
least two years, is evaluated while it runs, and closes positively only after its minimum and
an evaluation (negatively at any time). The breakthrough track is the lighter second kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.model import Role
from bot.domain.trajectory import (
    MISSING_ACKNOWLEDGEMENT,
    MISSING_AGREEMENT,
    MISSING_CONSENT,
    MISSING_LEASE,
    MISSING_MONITOR,
    Closure,
    EvaluationOutcome,
    NotEvaluated,
    NotReady,
    TooEarly,
    Trajectory,
    TrajectoryAlreadyActive,
    TrajectoryClosed,
    TrajectoryEnded,
    TrajectoryEvaluated,
    TrajectoryKind,
    TrajectoryNotActive,
    TrajectoryStarted,
    TrajectoryStatus,
    parse_closure,
    parse_kind,
    parse_outcome,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TWO_YEARS = NOW.replace(year=2028)
DAY = timedelta(days=1)


def proposed(kind: TrajectoryKind = TrajectoryKind.LAST_CHANCE) -> Trajectory:
    trajectory, event = Trajectory.propose(1, kind, NOW, by=5, role=Role.LANDLORD)
    assert event.kind is kind
    return trajectory


def ready(kind: TrajectoryKind = TrajectoryKind.LAST_CHANCE) -> Trajectory:
    t, _ = proposed(kind).record_consent(NOW, acknowledged=True, by_tenant=True)
    t, _ = t.record_agreement("weekly support visit", NOW)
    t, _ = t.link_lease("lease 2026-17", NOW)
    return t


def running() -> Trajectory:
    t, _ = ready().start(NOW, has_monitor=True, minimum_until=TWO_YEARS)
    return t


def test_a_last_chance_needs_everything_before_it_starts() -> None:
    t = proposed()
    assert t.missing(has_monitor=False) == (MISSING_CONSENT, MISSING_ACKNOWLEDGEMENT,
                                            MISSING_AGREEMENT, MISSING_LEASE, MISSING_MONITOR)
    with pytest.raises(NotReady):
        t.start(NOW, has_monitor=True, minimum_until=TWO_YEARS)
    # consent without acknowledgement is not enough for the last chance
    t, event = t.record_consent(NOW, acknowledged=False, by_tenant=False)
    assert not event.acknowledged
    assert MISSING_ACKNOWLEDGEMENT in t.missing(has_monitor=True)
    t, event = t.record_consent(NOW, acknowledged=True, by_tenant=True)
    assert event.acknowledged
    assert t.consent_by_tenant
    t, _ = t.record_agreement("agreement", NOW)
    assert t.missing(has_monitor=True) == (MISSING_LEASE,)
    t, _ = t.link_lease("lease", NOW)
    assert t.missing(has_monitor=False) == (MISSING_MONITOR,)
    with pytest.raises(NotReady):
        t.start(NOW, has_monitor=False, minimum_until=TWO_YEARS)
    started, event = t.start(NOW, has_monitor=True, minimum_until=TWO_YEARS)
    assert event == TrajectoryStarted(NOW, TWO_YEARS)
    assert started.status is TrajectoryStatus.ACTIVE
    assert started.minimum_until == TWO_YEARS
    with pytest.raises(TrajectoryAlreadyActive):
        started.start(NOW, has_monitor=True, minimum_until=TWO_YEARS)


def test_a_breakthrough_track_needs_consent_and_an_agreement_only_and_has_no_minimum() -> None:
    t = proposed(TrajectoryKind.BREAKTHROUGH)
    assert t.missing(has_monitor=False) == (MISSING_CONSENT, MISSING_AGREEMENT)
    t, _ = t.record_consent(NOW, acknowledged=False, by_tenant=False)
    t, _ = t.record_agreement("move with support", NOW)
    started, event = t.start(NOW, has_monitor=False, minimum_until=TWO_YEARS)
    assert event.minimum_until is None
    evaluated, _ = started.evaluate(EvaluationOutcome.ON_TRACK, NOW + DAY)
    closed, _ = evaluated.close(Closure.POSITIVE, NOW + 2 * DAY)
    assert closed.closure is Closure.POSITIVE


def test_evaluations_only_while_it_runs_and_numbered() -> None:
    with pytest.raises(TrajectoryNotActive):
        ready().evaluate(EvaluationOutcome.ON_TRACK, NOW)
    t = running()
    t, first = t.evaluate(EvaluationOutcome.ADJUST, NOW + 90 * DAY)
    t, second = t.evaluate(EvaluationOutcome.ON_TRACK, NOW + 180 * DAY)
    assert first == TrajectoryEvaluated(NOW + 90 * DAY, 1, EvaluationOutcome.ADJUST)
    assert second.period == 2
    assert t.evaluations == 2
    assert t.last_outcome is EvaluationOutcome.ON_TRACK


def test_a_positive_closure_waits_for_two_years_and_an_evaluation() -> None:
    t = running()
    with pytest.raises(NotEvaluated):
        t.close(Closure.POSITIVE, TWO_YEARS)
    t, _ = t.evaluate(EvaluationOutcome.ON_TRACK, NOW + 90 * DAY)
    with pytest.raises(TooEarly):
        t.close(Closure.POSITIVE, TWO_YEARS - timedelta(seconds=1))
    closed, event = t.close(Closure.POSITIVE, TWO_YEARS, "all agreements kept")
    assert event == TrajectoryEnded(TWO_YEARS, Closure.POSITIVE)
    assert closed.status is TrajectoryStatus.CLOSED
    assert closed.closing_note
    with pytest.raises(TrajectoryNotActive):
        ready().close(Closure.POSITIVE, TWO_YEARS)


def test_a_negative_closure_at_any_time_and_then_nothing_changes() -> None:
    for t in (proposed(), ready(), running()):
        closed, event = t.close(Closure.NEGATIVE, NOW + DAY)
        assert event.closure is Closure.NEGATIVE
        for change in (lambda c=closed: c.record_agreement("x", NOW),
                       lambda c=closed: c.link_lease("x", NOW),
                       lambda c=closed: c.record_consent(NOW, acknowledged=True,
                                                         by_tenant=True),
                       lambda c=closed: c.evaluate(EvaluationOutcome.ON_TRACK, NOW),
                       lambda c=closed: c.close(Closure.NEGATIVE, NOW),
                       lambda c=closed: c.start(NOW, has_monitor=True,
                                                minimum_until=TWO_YEARS)):
            with pytest.raises(TrajectoryClosed):
                change()


def test_words_people_type() -> None:
    assert parse_kind("Laatste kans") is TrajectoryKind.LAST_CHANCE
    assert parse_kind("doorbraak") is TrajectoryKind.BREAKTHROUGH
    assert parse_kind("iets") is None
    assert parse_outcome("niet_nagekomen") is EvaluationOutcome.BREACH
    assert parse_outcome("goed") is EvaluationOutcome.ON_TRACK
    assert parse_closure("positief") is Closure.POSITIVE
    assert parse_closure("Negatief") is Closure.NEGATIVE


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["consent", "ack", "agreement", "lease", "start", "evaluate",
                                 "close+", "close-"]), max_size=12),
       st.booleans())
def test_any_sequence_keeps_the_rules(steps: list[str], monitor: bool) -> None:
    """Whatever is tried in whatever order: it runs only with everything there; it is
    positively closed only after two years and an evaluation; once closed it stays closed."""
    t = proposed()
    moment = NOW
    for step in steps:
        moment += 200 * DAY
        before = t
        try:
            if step in ("consent", "ack"):
                t, _ = t.record_consent(moment, acknowledged=step == "ack", by_tenant=False)
            elif step == "agreement":
                t, _ = t.record_agreement("a", moment)
            elif step == "lease":
                t, _ = t.link_lease("l", moment)
            elif step == "start":
                t, _ = t.start(moment, has_monitor=monitor,
                               minimum_until=moment + timedelta(days=730))
                assert before.missing(has_monitor=monitor) == ()
            elif step == "evaluate":
                t, _ = t.evaluate(EvaluationOutcome.ON_TRACK, moment)
            else:
                closure = Closure.POSITIVE if step == "close+" else Closure.NEGATIVE
                t, _ = t.close(closure, moment)
                if closure is Closure.POSITIVE:
                    assert before.evaluations >= 1
                    assert before.minimum_until is not None
                    assert moment >= before.minimum_until
        except (NotReady, TooEarly, NotEvaluated, TrajectoryNotActive, TrajectoryClosed,
                TrajectoryAlreadyActive):
            assert t is before
        if before.status is TrajectoryStatus.CLOSED:
            assert t is before
