"""Quiet hours: a nudge that falls inside a person's quiet hours waits until their end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from bot.domain.calendar import AMSTERDAM


def parse_hours(text: str) -> tuple[time, time] | None:
    """'22:00-07:30' → (22:00, 07:30); ``None`` when it is not that form."""
    parts = text.replace("–", "-").split("-")
    if len(parts) != 2:
        return None
    try:
        start, end = (time.fromisoformat(p.strip().replace(".", ":").zfill(5)) for p in parts)
    except ValueError:
        return None
    return start, end


def quiet_until(now: datetime, start: time, end: time, tz: tzinfo = AMSTERDAM
                ) -> datetime | None:
    """When the quiet hours that ``now`` falls in end (aware UTC); ``None`` outside them.

    Equal start and end mean no quiet hours. Hours may run past midnight (22:00-07:30).
    """
    if start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)


def quiet_length(start: time, end: time) -> timedelta:
    """How long quiet hours last (22:00-07:30: 9 h 30 min); zero when start equals end."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return timedelta(minutes=minutes % (24 * 60))
