"""Moved to :mod:`bot.domain.quiet` (pure time code belongs to the domain); this name stays
for code written against the old place."""

from bot.domain.quiet import parse_hours, quiet_length, quiet_until  # noqa: F401
