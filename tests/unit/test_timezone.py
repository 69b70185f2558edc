"""``[bot] timezone`` reaches every clock: working days and quiet hours, and every moment shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.config import Settings
from bot.services.policies import build_policies


@pytest.fixture
def restore_zone() -> Iterator[None]:
    yield
    i18n.use_timezone("Europe/Amsterdam")


def test_the_configured_zone_is_the_calendars_and_the_messages(restore_zone: None) -> None:
    settings = Settings.model_validate({"bot": {"timezone": "America/New_York"}})
    assert build_policies(settings).calendar.tz == ZoneInfo("America/New_York")
    moment = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert "15:00" in i18n.when("nl", moment)  # Amsterdam by default
    i18n.use_timezone(settings.bot.timezone)
    assert "09:00" in i18n.when("nl", moment)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="not a time zone"):
        Settings.model_validate({"bot": {"timezone": "Mars/Olympus"}})
