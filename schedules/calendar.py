"""Moved to :mod:`bot.domain.calendar` (pure time code belongs to the domain); this name stays
for code written against the old place."""

from bot.domain.calendar import *  # noqa: F403
from bot.domain.calendar import AMSTERDAM, Span, WorkingCalendar  # noqa: F401
