"""Summaries per role: one signal, a case, a case meeting's overview, and the digests (daily
for the care team, weekly for the landlord, police and municipality). Each rendering is made
for its reader's roles through the privacy policy, and each read is written to the access log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from bot import i18n, notify, render
from bot.domain import errors
from bot.domain.events import Event
from bot.domain.model import CARE_TEAM, RUNNING, Role, Signal, Window, WindowStatus
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.render import Viewer
from bot.services import access
from bot.services.context import ServiceContext
from bot.services.signals import case_of_member, poster_name

log = logging.getLogger(__name__)

#: the partners who get the weekly digest of where their signals stand
WEEKLY_ROLES = (Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY)


def signal_state(lang: str, signal: Signal, window: Window | None, now: datetime) -> str:
    """Where a signal stands, in words (facts only)."""
    if signal.report_status is not None and signal.acknowledged_at is None:
        return i18n.t(lang, f"report.status.{signal.report_status}")
    if signal.acknowledged_at is not None and signal.acknowledged_role is not None:
        text = i18n.t(lang, "status.state_acknowledged",
                      role=i18n.role_name(lang, signal.acknowledged_role),
                      when=i18n.when(lang, signal.acknowledged_at))
        if signal.report_status is not None:
            text += f", {i18n.t(lang, f'report.status.{signal.report_status}')}"
        return text
    if window is not None and window.status not in RUNNING and \
            window.status is not WindowStatus.LAPSED:
        # a window that no longer runs (met, cancelled with its closed case) shows no clock
        return i18n.t(lang, f"window.state.{window.status.value}")
    if window is not None and window.status is WindowStatus.LAPSED:
        return i18n.t(lang, "status.state_lapsed", due=i18n.when(lang, window.due_at),
                      roles=i18n.role_name(lang, window.responsible[0]))
    if window is not None:
        return i18n.t(lang, "status.state_open", due=i18n.when(lang, window.due_at),
                      left=i18n.time_left(lang, window.due_at, now),
                      roles=i18n.role_name(lang, window.responsible[0]))
    return ""


async def _window_of(uow: UnitOfWork, signal: Signal) -> Window | None:
    windows = await uow.windows.for_signal(signal.id)
    return windows[0] if windows else None


async def _line(uow: UnitOfWork, ctx: ServiceContext, viewer: Viewer, signal: Signal,
                now: datetime) -> str:
    state = signal_state(viewer.lang, signal, await _window_of(uow, signal), now)
    return render.signal_line(ctx.privacy, viewer, signal, await poster_name(uow, signal),
                              state)


async def view_signal(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person,
                      number: int) -> str:
    """One signal with the details the reader's roles may see (``/bekijk``)."""
    signal = await uow.signals.get(number)
    roles = await uow.cases.roles_of(signal.case_id, person.id) if signal else []
    if signal is None or not ctx.privacy.may_see_signal(roles, person.id, signal):
        raise errors.UnknownSignal(number=number)
    now = ctx.clock.now()
    viewer = Viewer(tuple(roles), person.id, person.language)
    name = await poster_name(uow, signal)
    state = signal_state(viewer.lang, signal, await _window_of(uow, signal), now)
    text = i18n.t(viewer.lang, "view.header", number=signal.id, code=signal.case_code,
                  kind=i18n.kind_name(viewer.lang, signal.kind),
                  poster=render.poster_label(ctx.privacy, viewer, signal, name),
                  when=i18n.when(viewer.lang, signal.posted_at), state=state)
    text += render.details(ctx.privacy, viewer, signal)
    access.record(uow, person_id=person.id, role=roles, case_id=signal.case_id,
                  what="signal", purpose="view", at=now, subject_id=signal.id)
    return text


async def case_summary(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person,
                       given_code: str) -> str:
    """The case for the reader's roles: counts, open windows, recent signals."""
    case, roles = await case_of_member(uow, person.id, given_code)
    now = ctx.clock.now()
    lang = person.language
    viewer = Viewer(tuple(roles), person.id, lang)
    visible = [s for s in await uow.signals.of_case(case.id)
               if ctx.privacy.may_see_signal(roles, person.id, s)]
    visible_ids = {s.id for s in visible}
    windows = [w for w in await uow.windows.running(case_id=case.id)
               if (w.signal_id in visible_ids) or (
                   w.signal_id is None and any(r in CARE_TEAM or r in w.responsible
                                               for r in roles))]
    lines = [i18n.t(lang, "summary.header", code=case.code, roles=i18n.role_list(lang, roles),
                    when=i18n.when(lang, now))]
    open_ = sum(1 for w in windows if w.status is WindowStatus.OPEN and w.signal_id)
    lapsed = sum(1 for w in windows if w.status is WindowStatus.LAPSED and w.signal_id)
    lines.append(i18n.t(lang, "summary.counts", total=len(visible), open=open_,
                        lapsed=lapsed))
    norm_windows = [w for w in windows if w.signal_id is None]
    if norm_windows:
        lines.append(i18n.t(lang, "summary.windows"))
        for window in norm_windows:
            lines.append(i18n.t(lang, "deadlines.line", number=window.id,
                                subject=i18n.t(lang, f"norm.{window.norm.value}"),
                                code=case.code, state=window_state(lang, window, now)))
    if visible:
        lines.append(i18n.t(lang, "summary.recent"))
        for signal in visible[-10:]:
            lines.append(await _line(uow, ctx, viewer, signal, now))
    access.record(uow, person_id=person.id, role=roles, case_id=case.id, what="summary",
                  purpose="summary command", at=now)
    return "\n".join(lines)


def window_state(lang: str, window: Window, now: datetime) -> str:
    """Where a window stands, with the time left in words: 'nog 2 dagen (tot …)'."""
    if window.status is WindowStatus.PAUSED:
        return i18n.t(lang, "deadlines.state_paused")
    if window.status is WindowStatus.LAPSED or window.due_at <= now:
        return i18n.t(lang, "deadlines.state_overdue", due=i18n.when(lang, window.due_at))
    return i18n.t(lang, "deadlines.state_open", due=i18n.when(lang, window.due_at),
                  left=i18n.duration(lang, window.due_at - now))


async def meeting_summary(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person,
                          given_code: str) -> str:
    """For a multi-party case meeting: only the facts that every role of the case may see,
    without names or notes, so it can be shared with everyone at the table."""
    case, roles = await case_of_member(uow, person.id, given_code)
    now = ctx.clock.now()
    lang = person.language
    present = sorted({m.role for m in await uow.cases.members(case.id)}, key=list(Role).index)
    table = Viewer(tuple(present), None, lang)
    shared = [s for s in await uow.signals.of_case(case.id)
              if all(ctx.privacy.may_see_signal([r], None, s) for r in present)]
    lines = [i18n.t(lang, "meeting.header", code=case.code, when=i18n.when(lang, now))]
    if not shared:
        lines.append(i18n.t(lang, "meeting.none"))
    else:
        kinds = sorted({s.kind for s in shared}, key=lambda k: k.value)
        lines.append(i18n.t(lang, "meeting.kinds", kinds=", ".join(
            i18n.kind_name(lang, k) for k in kinds)))
        for signal in shared:
            state = signal_state(lang, signal, await _window_of(uow, signal), now)
            lines.append(render.signal_line(ctx.privacy, table, signal, "", state))
    access.record(uow, person_id=person.id, role=roles, case_id=case.id, what="meeting",
                  purpose="case meeting overview", at=now)
    return "\n".join(lines)


# --- digests ----------------------------------------------------------------------------

async def daily_digest(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person,
                       since: datetime | None) -> str | None:
    """The care team's daily digest: windows due today and overdue, new signals. ``None``
    when there is nothing to tell."""
    now = ctx.clock.now()
    lang = person.language
    tz = ctx.policies.calendar.tz
    end_of_day = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0),
                                  tzinfo=tz).astimezone(UTC)
    due_today: list[str] = []
    overdue: list[str] = []
    new: list[str] = []
    for case, roles in await _cases_in(uow, person.id, set(CARE_TEAM)):
        viewer = Viewer(tuple(roles), person.id, lang)
        visible = {s.id: s for s in await uow.signals.of_case(case.id)
                   if ctx.privacy.may_see_signal(roles, person.id, s)}
        told = False
        for window in await uow.windows.running(case_id=case.id):
            if window.signal_id is not None and window.signal_id not in visible:
                continue
            if not any(r in window.responsible for r in roles):
                continue
            subject = (i18n.t(lang, "window.subject_signal", number=window.signal_id,
                              kind=i18n.kind_name(lang, visible[window.signal_id].kind))
                       if window.signal_id is not None else
                       i18n.t(lang, "window.subject_norm", number=window.id,
                              norm=i18n.t(lang, f"norm.{window.norm.value}")))
            line = i18n.t(lang, "deadlines.line", number=window.id, subject=subject,
                          code=case.code, state=window_state(lang, window, now))
            if window.status is WindowStatus.LAPSED or window.due_at <= now:
                overdue.append(line)
                told = True
            elif window.due_at < end_of_day and window.status in RUNNING:
                due_today.append(line)
                told = True
        for signal in visible.values():
            if since is None or signal.posted_at > since:
                new.append(await _line(uow, ctx, viewer, signal, now))
                told = True
        if told:
            access.record(uow, person_id=person.id, role=roles, case_id=case.id,
                          what="digest", purpose="daily digest", at=now)
    if not (due_today or overdue or new):
        return None
    lines = [i18n.t(lang, "digest.daily_header", when=i18n.when(lang, now))]
    for key, items in (("digest.due_today", due_today), ("digest.overdue", overdue),
                       ("digest.new_signals", new)):
        if items:
            lines += [i18n.t(lang, key), *items]
    return "\n".join(lines)


async def weekly_digest(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person
                        ) -> str | None:
    """The partners' weekly digest: where the signals they posted stand, without what they
    may not see."""
    now = ctx.clock.now()
    lang = person.language
    lines: list[str] = []
    for case, roles in await _cases_in(uow, person.id, set(WEEKLY_ROLES)):
        viewer = Viewer(tuple(roles), person.id, lang)
        mine = [s for s in await uow.signals.of_case(case.id) if s.posted_by == person.id
                and (s.acknowledged_at is None or s.posted_at > now - timedelta(weeks=1))]
        for signal in mine:
            lines.append(await _line(uow, ctx, viewer, signal, now))
        if mine:
            access.record(uow, person_id=person.id, role=roles, case_id=case.id,
                          what="digest", purpose="weekly digest", at=now)
    if not lines:
        return None
    return "\n".join([i18n.t(lang, "digest.weekly_header", when=i18n.when(lang, now)),
                      *lines])


async def _cases_in(uow: UnitOfWork, person_id: int, wanted: set[Role]
                    ) -> list[tuple[orm.Case, list[Role]]]:
    by_case: dict[int, tuple[orm.Case, list[Role]]] = {}
    for case, role in await uow.cases.cases_of(person_id):
        if case.purged_at is None:
            by_case.setdefault(case.id, (case, []))[1].append(role)
    return [(c, r) for c, r in by_case.values() if wanted & set(r)]


def _fixed(text: str) -> Callable[[str], str]:
    """A rendering already made in the person's language."""
    return lambda _lang: text


def daily_moment(person: orm.Person, ctx: ServiceContext, now: datetime) -> datetime | None:
    """Today's moment for a person's daily digest (``None``: they switched it off)."""
    if person.digest_time == "off":
        return None
    at = time.fromisoformat(person.digest_time) if person.digest_time else \
        ctx.digests.daily_at
    tz = ctx.policies.calendar.tz
    return datetime.combine(now.astimezone(tz).date(), at, tzinfo=tz).astimezone(UTC)


def _daily_due(person: orm.Person, ctx: ServiceContext, now: datetime) -> bool:
    moment = daily_moment(person, ctx, now)
    return moment is not None and moment <= now and (
        person.last_daily_digest is None or person.last_daily_digest < moment)


def _weekly_due(person: orm.Person, weekly: datetime, now: datetime) -> bool:
    return weekly <= now and (person.last_weekly_digest is None
                              or person.last_weekly_digest < weekly)


def weekly_moment(ctx: ServiceContext, now: datetime) -> datetime:
    """This week's moment for the weekly digest (e.g. Monday 09:00 local)."""
    tz = ctx.policies.calendar.tz
    local = now.astimezone(tz).date()
    day = local - timedelta(days=local.isoweekday() - ctx.digests.weekly_day)
    return datetime.combine(day, ctx.digests.weekly_at, tzinfo=tz).astimezone(UTC)


async def send_digests(new_uow: Callable[[], UnitOfWork], ctx: ServiceContext) -> int:
    """Send every digest whose moment has come and that was not sent yet; returns how many.
    Safe to run as often as wanted: each person gets each digest once."""
    now = ctx.clock.now()
    weekly = weekly_moment(ctx, now)
    sent = 0
    # it runs every minute: decide who is due in one transaction, work only for them
    due: list[tuple[int, bool, bool]] = []
    async with new_uow() as uow:
        for holder in await uow.persons.with_roles():
            daily, weekly_due = _daily_due(holder, ctx, now), _weekly_due(holder, weekly, now)
            if daily or weekly_due:
                due.append((holder.id, daily, weekly_due))
    for person_id, daily_was, weekly_was in due:
        async with new_uow() as uow:
            # the person's row locked, and asked again: two instances (a leader taking over
            # from one still finishing a run) never both send one digest
            person = await uow.session.get(orm.Person, person_id, with_for_update=True,
                                           populate_existing=True)
            if person is None:
                continue
            daily = daily_was and _daily_due(person, ctx, now)
            weekly_due = weekly_was and _weekly_due(person, weekly, now)
            texts = []
            if daily:
                since = person.last_daily_digest or now - timedelta(days=1)
                texts.append(await daily_digest(uow, ctx, person, since))
                person.last_daily_digest = now
            if weekly_due:
                texts.append(await weekly_digest(uow, ctx, person))
                person.last_weekly_digest = now
            for text in texts:
                if text is not None:
                    await notify.to_person(uow, person.id, _fixed(text), now,
                                           priority=notify.Priority.BULK)
                    sent += 1
            await uow.commit()
    if sent:
        log.info("sent %d digest(s)", sent)
    return sent


async def dossier(uow: UnitOfWork, ctx: ServiceContext, person: orm.Person,
                  given_code: str) -> str:
    """The case's timeline for the reader: the care team reads it all (with the reasons given
    for pauses and extensions); others read the events about what they may see, facts only."""
    case, roles = await case_of_member(uow, person.id, given_code)
    now = ctx.clock.now()
    lang = person.language
    care = any(r in CARE_TEAM for r in roles)
    signals = {s.id: s for s in await uow.signals.of_case(case.id)}
    visible = {n for n, s in signals.items() if ctx.privacy.may_see_signal(roles, person.id, s)}
    known_windows: dict[int, tuple[bool, Signal | None]] = {}

    async def window_of(window_id: object) -> tuple[bool, Signal | None]:
        """Whether the reader may know of a window (the landlord's own N2, the window of a
        signal she may see), and its signal."""
        if not isinstance(window_id, int):
            return False, None
        if window_id not in known_windows:
            window = await uow.windows.get(window_id)
            subject = signals.get(window.signal_id) if window and window.signal_id else None
            known_windows[window_id] = (
                window is not None and window.case_id == case.id and (
                    window.signal_id is None or subject is not None) and
                ctx.privacy.may_know_window(roles, person.id, window, subject), subject)
        return known_windows[window_id]

    lines = []
    for row in await uow.timeline.of_case(case.id):
        if row.signal_id is not None and row.signal_id not in visible:
            continue
        if row.event == Event.MEMBER_JOINED and row.actor_role is not None and \
                not ctx.privacy.may_know_member(roles, Role(row.actor_role)):
            continue
        data = row.data or {}
        knows, subject = await window_of(data.get("window"))
        if not care and row.signal_id is None and row.event not in _PUBLIC_EVENTS and \
                not knows:
            continue
        signal = signals.get(row.signal_id) if row.signal_id is not None else None
        what = i18n.t(
            lang, f"timeline.{row.event}",
            actor=i18n.role_name(lang, row.actor_role) if row.actor_role else "—",
            number=row.signal_id or "", window=data.get("window", ""),
            kind=i18n.kind_name(lang, signal.kind) if signal else "",
            norm=i18n.t(lang, f"norm.{data['norm']}") if data.get("norm") else "",
            status=i18n.t(lang, f"report.status.{data['status']}") if data.get("status")
            else "")
        if data.get("reason") and _reads_reason(ctx, roles, signal or subject, data):
            what += i18n.t(lang, "dossier.reason", reason=data["reason"])
        lines.append(i18n.t(lang, "dossier.line", when=i18n.when(lang, row.at), what=what))
    access.record(uow, person_id=person.id, role=roles, case_id=case.id, what="dossier",
                  purpose="dossier command", at=now)
    header = i18n.tn(lang, "dossier.header", len(lines), code=case.code,
                     roles=i18n.role_list(lang, roles), count=len(lines))
    return "\n".join([header, *lines])


def _reads_reason(ctx: ServiceContext, roles: list[Role], signal: Signal | None,
                  data: dict[str, object]) -> bool:
    """A pause or extension reason: the care team reads it on the timeline; anyone else only
    once its poster let it go to their role (and the policy lets them read its class)."""
    if ctx.privacy.reads_reason_at_once(roles, signal):
        return True
    readers = data.get("reason_readers")
    return data.get("reason_status") == "sent" and isinstance(readers, list) and any(
        r.value in readers for r in roles) and ctx.privacy.may_read_reason(roles, signal)


#: events without a signal that every member may read in the file
_PUBLIC_EVENTS = frozenset({"case_opened", "member_joined", "case_closed"})
