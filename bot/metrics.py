"""Metrics for Prometheus: every name starts with ``kortelijn_``; labels are only a transport,
a norm, a reason or an outcome (a few values each), never a person, a chat or a case.

Two kinds:

* Counters of things as they happen (deliveries, failures, 429s, retry waits, updates
  handled), kept per process: the code where it happens makes a one-line call below.
* Gauges of the state, read from the database at every scrape (open and lapsed windows per
  norm, steps run late, outbox depth, the oldest undelivered message's age) by
  :class:`Metrics`: the database is the truth, so nothing in memory must be kept in step, and
  every instance on one database shows the same numbers. The counts use indexes (migration 0006).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import Clock
from bot.persistence import orm

log = logging.getLogger(__name__)

#: why a delivery attempt failed, as a label: a temporary error, the network's "too many
#: requests", the kinds of a permanent failure, given up after the last attempt, a transport
#: bug, or the transport not running
REASONS = frozenset({"temporary", "rate_limited", "blocked", "chat_not_found", "removed",
                     "refused", "gave_up", "error", "not_running"})
#: what became of an incoming update
OUTCOMES = frozenset({"handled", "duplicate", "refused", "error"})

_DELIVERIES = Counter("kortelijn_deliveries", "Messages a transport accepted (sent or edited)",
                      ["transport"], registry=None)
_FAILURES = Counter("kortelijn_delivery_failures", "Delivery attempts that failed, by reason",
                    ["transport", "reason"], registry=None)
_RATE_LIMITED = Counter("kortelijn_rate_limited",
                        "Answers 'too many requests' (HTTP 429) from a chat network",
                        ["transport"], registry=None)
_RETRY_WAIT = Histogram("kortelijn_retry_wait_seconds",
                        "How long a message is held back before its next attempt",
                        ["transport", "reason"], registry=None,
                        buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))
_UPDATES = Counter("kortelijn_updates_handled", "Incoming updates, by what became of them",
                   ["transport", "outcome"], registry=None)

COUNTERS: tuple[Collector, ...] = (_DELIVERIES, _FAILURES, _RATE_LIMITED, _RETRY_WAIT, _UPDATES)


# --- the one-line hooks -----------------------------------------------------------------------
def delivered(transport: str) -> None:
    """A transport accepted a message."""
    _DELIVERIES.labels(transport).inc()


def delivery_failed(transport: str, reason: str, *, wait_s: float | None = None) -> None:
    """A delivery attempt failed; ``wait_s``: how long until the next attempt, if one."""
    label = reason if reason in REASONS else "refused"
    _FAILURES.labels(transport, label).inc()
    if label == "rate_limited":
        _RATE_LIMITED.labels(transport).inc()
    if wait_s is not None:
        _RETRY_WAIT.labels(transport, label).observe(max(wait_s, 0.0))


def held_back(transport: str, wait_s: float) -> None:
    """The transport paced a chat (no attempt used): it waits ``wait_s`` seconds."""
    _RETRY_WAIT.labels(transport, "paced").observe(max(wait_s, 0.0))


def update_handled(transport: str, outcome: str) -> None:
    """An incoming update was handled, seen before, refused, or failed."""
    _UPDATES.labels(transport, outcome if outcome in OUTCOMES else "error").inc()


# --- the state, read from the database --------------------------------------------------------
@dataclass
class State:
    """What the database and this instance say at one scrape."""

    database_up: bool = False
    windows_open: dict[str, int] = field(default_factory=dict)
    windows_lapsed: dict[str, int] = field(default_factory=dict)
    steps_late: int = 0
    outbox_pending: dict[str, int] = field(default_factory=dict)
    outbox_failed: int = 0
    oldest_pending_age_s: float = 0.0
    transports: dict[str, bool] = field(default_factory=dict)
    leader: bool = False


async def read_state(engine: AsyncEngine, now: datetime) -> State:
    """The counts behind the gauges, in one read-only transaction of cheap, indexed queries."""
    state = State()
    windows = orm.WindowRow
    outbox = orm.OutboxRow
    async with engine.connect() as conn:
        for status, norm, count in await conn.execute(
                select(windows.status, windows.norm, func.count())
                .where(windows.status.in_(("open", "lapsed")))
                .group_by(windows.status, windows.norm)):
            target = state.windows_open if status == "open" else state.windows_lapsed
            target[norm] = count
        state.steps_late = (await conn.execute(
            select(func.count()).select_from(orm.DeadlineRow)
            .where(orm.DeadlineRow.late.is_(True)))).scalar_one()
        for transport, status, count in await conn.execute(
                select(outbox.transport, outbox.status, func.count())
                .where(outbox.status.in_(("pending", "failed")))
                .group_by(outbox.transport, outbox.status)):
            if status == "pending":
                state.outbox_pending[transport] = count
            else:
                state.outbox_failed += count
        # waiting since it was due: a message held for quiet hours counts from their end;
        # one that failed an attempt, from when it was written
        due_since = [
            (await conn.execute(select(func.min(outbox.next_attempt_at)).where(
                outbox.status == "pending", outbox.attempts == 0,
                outbox.next_attempt_at <= now))).scalar_one_or_none(),
            (await conn.execute(select(func.min(outbox.created_at)).where(
                outbox.status == "pending", outbox.attempts > 0))).scalar_one_or_none(),
        ]
        oldest = min((moment for moment in due_since if moment is not None), default=None)
        if oldest is not None:
            state.oldest_pending_age_s = max(0.0, (now - oldest).total_seconds())
    state.database_up = True
    return state


class _StateCollector(Collector):
    def __init__(self) -> None:
        self.state = State()

    def collect(self) -> Iterator[Metric]:
        state = self.state
        yield _gauge("kortelijn_database_up", "1 when the database answered this scrape",
                     float(state.database_up))
        yield _gauge("kortelijn_leader",
                     "1 when this instance runs the timed work (the leader), 0 for a follower",
                     float(state.leader))
        connected = GaugeMetricFamily("kortelijn_transport_connected",
                                      "1 when the transport is connected", labels=["transport"])
        for name, up in sorted(state.transports.items()):
            connected.add_metric([name], float(up))
        yield connected
        if not state.database_up:
            return
        yield _by_label("kortelijn_windows_open", "Open response windows", "norm",
                        state.windows_open)
        yield _by_label("kortelijn_windows_lapsed",
                        "Response windows that lapsed (kept until their case is purged)",
                        "norm", state.windows_lapsed)
        yield _gauge("kortelijn_steps_late",
                     "Deadline steps (reminders, lapses, escalations) that ran late",
                     float(state.steps_late))
        yield _by_label("kortelijn_outbox_pending", "Messages waiting in the outbox",
                        "transport", state.outbox_pending)
        yield _gauge("kortelijn_outbox_failed", "Messages given up or refused for good",
                     float(state.outbox_failed))
        yield _gauge("kortelijn_outbox_oldest_pending_age_seconds",
                     "How long the oldest undelivered message has waited since it was due",
                     state.oldest_pending_age_s)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _by_label(name: str, documentation: str, label: str,
              values: Mapping[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], float(value))
    return family


class Metrics:
    """One instance's ``/metrics``: the process's counters and the database's state."""

    def __init__(self, engine: AsyncEngine, clock: Clock,
                 transports: Callable[[], Mapping[str, bool]],
                 is_leader: Callable[[], bool]) -> None:
        self._engine = engine
        self._clock = clock
        self._transports = transports
        self._is_leader = is_leader
        self._state = _StateCollector()
        self.registry = CollectorRegistry(auto_describe=True)
        for counter in COUNTERS:
            self.registry.register(counter)
        self.registry.register(self._state)

    async def render(self) -> bytes:
        """The text exposition format, read now."""
        try:
            state = await read_state(self._engine, self._clock.now())
        except Exception as error:  # the scrape still answers: database_up says it
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            state = State()
        state.transports = dict(self._transports())
        state.leader = self._is_leader()
        self._state.state = state
        return generate_latest(self.registry)
