"""Carrying out the deadlines that fell due: reminders before a window lapses, and the lapse.

Each step is carried out once, in its own transaction, with its messages: a step claimed twice
(a job fired twice, two processes) does nothing the second time. A step carried out well after
its moment (the bot was down) says in its message that it is late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import i18n, notify
from bot.domain.events import Event
from bot.domain.model import Step, StepKind, WindowStatus
from bot.persistence.uow import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.signals import ack_choices, responsible_holders

log = logging.getLogger(__name__)

BATCH = 200


async def process_due(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> int:
    """Carry out every step due by now, in due order; return how many were carried out."""
    done = 0
    while True:
        now = ctx.clock.now()
        async with new_uow() as uow:
            steps = await uow.windows.due(now, BATCH)
        if not steps:
            return done
        for step in steps:
            async with new_uow() as uow:
                if await run_step(step, uow, ctx):
                    done += 1
                await uow.commit()
        if len(steps) < BATCH:
            return done


async def run_step(step: Step, uow: UnitOfWork, ctx: ServiceContext) -> bool:
    now = ctx.clock.now()
    late = now - step.due_at > ctx.norms.late_after
    if not await uow.windows.claim_step(step.id, now, late):
        return False
    uow.deadlines_changed = True
    window = await uow.windows.get(step.window_id)
    if window is None or window.status is not WindowStatus.OPEN or window.signal_id is None:
        return False
    signal = await uow.signals.get(window.signal_id)
    if signal is None:
        return False
    role, holders = await responsible_holders(uow, window.case_id, window.responsible,
                                              exclude=signal.posted_by)

    def late_note(lang: str) -> str:
        return i18n.t(lang, "deadline.late", due=i18n.when(lang, step.due_at)) if late else ""

    def facts(lang: str) -> dict[str, object]:
        return {"number": signal.id, "kind": i18n.kind_name(lang, signal.kind),
                "code": signal.case_code, "due": i18n.when(lang, window.due_at),
                "left": i18n.time_left(lang, window.due_at, now)}

    if step.kind is StepKind.REMINDER:
        for member in holders:
            await notify.to_person(
                uow, member.person_id,
                lambda lang: i18n.t(lang, "deadline.reminder", **facts(lang)) + late_note(lang),
                now, case_id=window.case_id, choices=lambda lang: ack_choices(lang, signal.id))
        uow.timeline.record(case_id=window.case_id, at=now, event=Event.REMINDER_SENT,
                            signal_id=signal.id, window=window.id, late=late)
        log.info("reminder for window %s sent to %d (late=%s)", window.id, len(holders), late)
        return True

    await uow.windows.close(window.id, WindowStatus.LAPSED, now)
    for member in holders:
        await notify.to_person(
            uow, member.person_id,
            lambda lang: i18n.t(lang, "deadline.lapsed_addressee", **facts(lang))
            + late_note(lang),
            now, case_id=window.case_id, choices=lambda lang: ack_choices(lang, signal.id))
    if window.waiting_person_id is not None:
        await notify.to_person(
            uow, window.waiting_person_id,
            lambda lang: i18n.t(lang, "deadline.lapsed_poster",
                                roles=i18n.role_list(lang, [role] if role else
                                                     window.responsible[:1]),
                                **facts(lang)) + late_note(lang),
            now, case_id=window.case_id)
    uow.timeline.record(case_id=window.case_id, at=now, event=Event.WINDOW_LAPSED,
                        signal_id=signal.id, window=window.id, late=late)
    log.info("window %s lapsed (late=%s)", window.id, late)
    return True

