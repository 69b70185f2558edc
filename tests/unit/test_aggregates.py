"""Windows and signals as aggregates: each method refuses an illegal change, or returns the
changed object and the event of what happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import errors
from bot.domain.events import ReleasedToTenant, WindowExtended, WindowMet, WindowPaused
from bot.domain.model import Norm, Role, Signal, SignalKind, Window, WindowStatus

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def window(status: WindowStatus = WindowStatus.OPEN) -> Window:
    return Window(id=7, case_id=1, norm=Norm.N5_FOUR_WEEK_CHECK, signal_id=None,
                  responsible=(Role.COACH,), waiting_person_id=None, opened_at=NOW,
                  due_at=NOW + 2 * DAY, status=status)


def test_pause_and_resume_move_the_moment_by_the_pause() -> None:
    paused, event = window().pause(NOW)
    assert event == WindowPaused(7, NOW)
    assert paused.status is WindowStatus.PAUSED
    with pytest.raises(errors.WindowNotOpen):
        paused.pause(NOW)
    resumed, _ = paused.resume(NOW + DAY)
    assert resumed.status is WindowStatus.OPEN
    assert resumed.due_at == NOW + 3 * DAY
    with pytest.raises(errors.WindowNotPaused):
        resumed.resume(NOW)


def test_an_extension_is_of_some_time_within_bounds_and_reopens_a_lapse() -> None:
    with pytest.raises(errors.NoExtension):
        window().extend(NOW + 2 * DAY, NOW, at_most=10 * DAY)
    with pytest.raises(errors.ExtensionTooLong):
        window().extend(NOW + 20 * DAY, NOW, at_most=10 * DAY)
    lapsed, _ = window().lapse(NOW + 3 * DAY)
    extended, event = lapsed.extend(NOW + 5 * DAY, NOW + 3 * DAY, at_most=10 * DAY)
    assert event == WindowExtended(7, NOW + 5 * DAY, reopened=True)
    assert extended.status is WindowStatus.OPEN
    assert extended.closed_at is None


def test_a_met_or_stopped_window_changes_no_more() -> None:
    met, event = window().complete(NOW)
    assert event == WindowMet(7, NOW)
    for change in (met.complete, met.pause, met.lapse, met.stop):
        with pytest.raises(errors.WindowNotOpen):
            change(NOW)
    stopped, _ = window(WindowStatus.PAUSED).stop(NOW)
    assert stopped.status is WindowStatus.CANCELLED


def signal(kind: SignalKind, **extra: object) -> Signal:
    return Signal(id=3, case_id=1, case_code="Z-2222", kind=kind, posted_by=5,
                  poster_role=Role.LANDLORD, posted_at=NOW, note=None, **extra)  # type: ignore[arg-type]


def test_only_a_complaint_is_released_and_once() -> None:
    released, event = signal(SignalKind.NOISE).release_to_tenant(is_complaint=True)
    assert event == ReleasedToTenant(3)
    with pytest.raises(errors.AlreadyReleased):
        released.release_to_tenant(is_complaint=True)
    with pytest.raises(errors.NotReleasable):
        signal(SignalKind.CARE_CONCERN).release_to_tenant(is_complaint=False)
    with pytest.raises(errors.NotAComplaint):
        signal(SignalKind.HARASSED_TENANT).release_to_tenant(is_complaint=False)


def test_a_resolved_report_stays_resolved() -> None:
    report = signal(SignalKind.HARASSED_TENANT, report_status="received")
    assert report.report_status_on_acknowledgement() == "in_progress"
    resolved, _ = report.resolve_report()
    assert resolved.report_status_on_acknowledgement() == "done"
    with pytest.raises(errors.AlreadyResolved):
        resolved.resolve_report()
