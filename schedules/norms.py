"""The norms as deadlines: each norm's length and its chain of steps (remind, lapse, escalate),
built once from the configuration."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import ChainStepSettings, Settings, parse_offset
from bot.domain.calendar import Span, WorkingCalendar
from bot.domain.model import Norm
from bot.domain.norms import NORMS, NormShape, StepRole, Target


@dataclass(frozen=True, slots=True)
class ChainStep:
    seq: int
    #: -1 before the lapse, 0 at it, +1 after it
    sign: int
    offset: Span
    targets: tuple[Target, ...]
    urgent: bool

    @property
    def role(self) -> StepRole:
        if self.sign < 0:
            return StepRole.REMINDER
        return StepRole.LAPSE if self.sign == 0 else StepRole.ESCALATION

    def at(self, due: datetime, calendar: WorkingCalendar) -> datetime:
        if self.sign < 0:
            return self.offset.before(due, calendar)
        if self.sign == 0:
            return due
        return self.offset.after(due, calendar)


@dataclass(frozen=True, slots=True)
class NormPolicy:
    shape: NormShape
    span: Span
    chain: tuple[ChainStep, ...]
    #: changes when the span or the chain changes: open windows then move
    signature: str

    @property
    def norm(self) -> Norm:
        return self.shape.norm

    def due(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        return self.span.after(start, calendar)

    def steps(self, opened_at: datetime, due: datetime, calendar: WorkingCalendar
              ) -> list[tuple[ChainStep, datetime]]:
        """The chain's moments for a window; reminders that would fall before it opened are
        left out."""
        out = []
        for step in self.chain:
            moment = step.at(due, calendar)
            if step.sign < 0 and moment <= opened_at:
                continue
            out.append((step, moment))
        return out


@dataclass(frozen=True)
class Policies:
    by_norm: dict[Norm, NormPolicy]
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 30)

    def __getitem__(self, norm: Norm) -> NormPolicy:
        return self.by_norm[norm]


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


def _signature(span: Span, chain: tuple[ChainStep, ...]) -> str:
    text = f"{span}|" + ";".join(
        f"{s.sign}{s.offset}:{','.join(s.targets)}:{int(s.urgent)}" for s in chain)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
                                   signature=_signature(span, chain))
    return Policies(by_norm=by_norm, calendar=calendar, quiet_start=settings.quiet_hours.start,
                    quiet_end=settings.quiet_hours.end)
