"""The norms as deadlines: each norm's length and its chain of steps (remind, lapse, escalate),
built once from the configuration (``[norms]``, ``[escalation]``, ``[calendar]``,
``[quiet_hours]``, ``[bot] timezone``)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.config import ChainStepSettings, Settings, parse_offset
from bot.domain.calendar import Span, WorkingCalendar
from bot.domain.model import Norm
from bot.domain.norms import NORMS, ChainStep, NormPolicy, Policies, Target, signature


def _as_span(value: Span | timedelta) -> Span:
    return value if isinstance(value, Span) else Span.real(value)


def _chain(norm: Norm, settings: Settings) -> tuple[ChainStep, ...]:
    own = settings.escalation.chains.get(norm.value)
    if own is not None:
        return _own_chain(own)
    reminder = _as_span(getattr(settings.norms, NORMS[norm].reminder_key))
    urgent = norm.value in settings.escalation.urgent_lapses
    steps: list[ChainStep] = []
    if str(reminder) not in ("0s", "0w"):
        steps.append(ChainStep(len(steps), -1, reminder, (Target.RESPONSIBLE,), False))
    steps.append(ChainStep(len(steps), 0, Span.real(timedelta(0)),
                           (Target.RESPONSIBLE, Target.WAITING), urgent))
    if not NORMS[norm].escalates:
        return tuple(steps)
    steps.append(ChainStep(len(steps), 1, Span.real(settings.escalation.team_lead_after),
                           (Target.TEAM_LEAD,), False))
    steps.append(ChainStep(len(steps), 1, Span.real(settings.escalation.coordinator_after),
                           (Target.COORDINATOR,), False))
    return tuple(steps)


def _own_chain(own: list[ChainStepSettings]) -> tuple[ChainStep, ...]:
    parsed = []
    for entry in own:
        sign, span = parse_offset(entry.at)
        parsed.append((sign, span, tuple(Target(t) for t in entry.notify), entry.urgent))
    if not any(sign == 0 for sign, *_ in parsed):
        parsed.append((0, Span.real(timedelta(0)), (Target.RESPONSIBLE, Target.WAITING), False))
    return tuple(ChainStep(i, *p) for i, p in enumerate(parsed))


def build_policies(settings: Settings) -> Policies:
    calendar = WorkingCalendar(
        ZoneInfo(settings.bot.timezone),
        extra_closed_days=settings.calendar.closed_days, opens_at=settings.calendar.opens_at,
        liberation_day_every_year=settings.calendar.liberation_day_every_year,
        good_friday_closed=settings.calendar.good_friday_closed)
    by_norm = {}
    for norm, shape in NORMS.items():
        span = _as_span(getattr(settings.norms, shape.span_key))
        chain = _chain(norm, settings)
        by_norm[norm] = NormPolicy(shape=shape, span=span, chain=chain,
                                   signature=signature(span, chain))
    return Policies(by_norm=by_norm, calendar=calendar, quiet_start=settings.quiet_hours.start,
                    quiet_end=settings.quiet_hours.end)
