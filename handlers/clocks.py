"""Commands about windows and their clocks: list them, complete, start, pause, resume or extend
one, register an absence with a backup, set quiet hours."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from bot import i18n, notify
from bot.domain import errors
from bot.domain.commands import AcknowledgeSignal
from bot.domain.model import CARE_TEAM, Norm, Role, Window
from bot.domain.norms import SHAPES, parse_norm
from bot.persistence import orm
from bot.privacy import Info, Visibility
from bot.services import signals, windows
from bot.services.context import ServiceContext
from bot.services.signals import case_of_member
from bot.services.summaries import window_state
from handlers.commands import Request, UsageError
from schedules.calendar import Span
from schedules.quiet import parse_hours


class ReasonNeeded(errors.DomainError):
    key = "error.reason_needed"


class UnknownNorm(errors.DomainError):
    key = "error.unknown_norm"


class BadSpan(errors.DomainError):
    key = "error.bad_span"


class BadMoment(errors.DomainError):
    key = "error.bad_moment"


class BadQuietHours(errors.DomainError):
    key = "error.bad_quiet_hours"


class UnknownBackup(errors.DomainError):
    key = "error.unknown_backup"


class NoBackup(errors.DomainError):
    key = "error.no_backup"


def window_number(text: str, usage: str) -> int:
    match = re.fullmatch(r"[Tt#]?(\d{1,9})", text.strip())
    if match is None:
        raise UsageError(usage=usage)
    return int(match.group(1))


async def _subject(req: Request, window: Window) -> str:
    return (await windows.subject_renderer(req.uow, window))(req.lang)


async def _visible(req: Request, window: Window, roles: list[Role]) -> bool:
    if window.signal_id is None:
        return any(r in CARE_TEAM or r in window.responsible for r in roles)
    signal = await req.uow.signals.get(window.signal_id)
    return signal is not None and req.ctx.privacy.may_see_signal(roles, req.me.id, signal)


async def cmd_deadlines(req: Request, args: list[str]) -> None:
    """My open windows, soonest first, with the time left in words."""
    me = req.me
    now = req.ctx.clock.now()
    if args:
        case, roles = await case_of_member(req.uow, me.id, args[0])
        lines = [req.t("deadlines.case", code=case.code)]
        for window in await req.uow.windows.running(case_id=case.id):
            if await _visible(req, window, roles):
                lines.append(await _line(req, window, case.code, now))
        req.reply("\n".join(lines) if len(lines) > 1 else req.t("deadlines.none"))
        return
    memberships = await req.uow.cases.cases_of(me.id)
    roles_in: dict[int, list[Role]] = {}
    codes: dict[int, str] = {}
    for case, role in memberships:
        roles_in.setdefault(case.id, []).append(role)
        codes[case.id] = case.code
    mine: list[str] = []
    waiting: list[str] = []
    for window in await req.uow.windows.running(case_ids=list(roles_in)):
        roles = roles_in[window.case_id]
        if not await _visible(req, window, roles):
            continue
        signal = await req.uow.signals.get(window.signal_id) if window.signal_id else None
        responsible = any(r in window.responsible for r in roles) and not (
            signal is not None and signal.posted_by == me.id)
        if responsible:
            mine.append(await _line(req, window, codes[window.case_id], now))
        elif window.waiting_person_id == me.id:
            waiting.append(await _line(req, window, codes[window.case_id], now))
    if not mine and not waiting:
        req.reply(req.t("deadlines.none"))
        return
    lines = []
    if mine:
        lines += [req.t("deadlines.mine"), *mine]
    if waiting:
        lines += [req.t("deadlines.waiting"), *waiting]
    req.reply("\n".join(lines))


async def _line(req: Request, window: Window, code: str, now: datetime) -> str:
    return req.t("deadlines.line", number=window.id, subject=await _subject(req, window),
                 code=code, state=window_state(req.lang, window, now))


async def cmd_done(req: Request, args: list[str]) -> None:
    """Complete a window: /gedaan T<nr>."""
    me = req.me
    if not args:
        raise UsageError(usage=req.t("usage.done"))
    number = window_number(args[0], req.t("usage.done"))
    row, _ = await windows.window_for_actor(req.uow, req.ctx, me.id, number)
    if row.norm == Norm.N1_SIGNAL_FOLLOW_UP.value and row.signal_id is not None:
        # the signal's window is met by acknowledging the signal
        await signals.acknowledge(AcknowledgeSignal(me.id, row.signal_id), req.uow, req.ctx)
        window = await req.uow.windows.get(row.id)
        assert window is not None  # noqa: S101
        req.reply(req.t("window.met", subject=await _subject(req, window),
                        code=await _code(req, window.case_id)))
        return
    window, following = await windows.complete(req.uow, req.ctx, me.id, number)
    code = await _code(req, window.case_id)
    text = req.t("window.met", subject=await _subject(req, window), code=code)
    if following is not None:
        text += req.t("window.next_period", due=i18n.when(req.lang, following.due_at))
    req.reply(text)
    await _tell_others(req, window, "window.met_notice", code=code)


async def _roles(req: Request, window: Window) -> list[Role]:
    return await req.uow.cases.roles_of(window.case_id, req.me.id)


def _acting_role(window: Window, roles: list[Role]) -> Role:
    return next((r for r in roles if r in window.responsible), roles[0])


async def _code(req: Request, case_id: int) -> str:
    case = await req.uow.cases.get(case_id)
    return case.code if case else "?"


async def _tell_others(req: Request, window: Window, key: str, *, code: str,
                       reason: str | None = None, change: str | None = None) -> None:
    """Tell the window's other responsible people, the team lead and the one waiting; a reason
    (free text) only to those the policy lets read free text."""
    me = req.me
    now = req.ctx.clock.now()
    subject = await windows.subject_renderer(req.uow, window)
    people = set((await windows.responsible_people(req.uow, window, exclude=None))[1])
    if window.waiting_person_id is not None:
        people.add(window.waiting_person_id)
    people.update(m.person_id for m in await req.uow.cases.members(window.case_id,
                                                                    (Role.TEAM_LEAD,)))
    people.discard(me.id)
    roles_of_me = await _roles(req, window)
    acting = _acting_role(window, roles_of_me)
    for person_id in sorted(people):
        their_roles = await req.uow.cases.roles_of(window.case_id, person_id)
        if not their_roles:
            continue
        may_read = req.ctx.privacy.best(their_roles, Info.FREE_TEXT) is Visibility.SHOWN

        def render(lang: str, may_read: bool = may_read) -> str:
            who = f"{i18n.role_name(lang, acting)} ({me.display_name})"
            args = {"number": window.id, "subject": subject(lang), "code": code, "who": who}
            if change is not None:
                args["change"] = i18n.t(lang, f"change.{change}")
                args["reason"] = reason if (may_read and reason) else "—"
            return i18n.t(lang, key, **args)

        await notify.to_person(req.uow, person_id, render, now, case_id=window.case_id)


async def cmd_window(req: Request, args: list[str]) -> None:
    """Start a window by hand: /termijn <zaak> <norm>."""
    me = req.me
    if len(args) < 2:
        raise UsageError(usage=req.t("usage.window"))
    case, roles = await case_of_member(req.uow, me.id, args[0])
    norm = parse_norm(args[1])
    if norm is None or norm is Norm.N1_SIGNAL_FOLLOW_UP:
        raise UnknownNorm(given=args[1], choices=", ".join(
            f"{n.value} ({i18n.t(req.lang, f'norm.{n.value}')})" for n in SHAPES
            if n is not Norm.N1_SIGNAL_FOLLOW_UP))
    if not windows.may_start(roles, norm):
        raise errors.NotAllowed()
    shape = SHAPES[norm]
    waiting = me.id if me.id and not any(r in shape.responsible for r in roles) else None
    window = await windows.open_window(req.uow, req.ctx, case_id=case.id, norm=norm,
                                       opened_by=me.id, waiting_person_id=waiting)
    now = req.ctx.clock.now()
    role, holders = await windows.responsible_people(req.uow, window, exclude=None)
    req.reply(req.t("window.opened", number=window.id, code=case.code,
                    norm=req.t(f"norm.{norm.value}"),
                    roles=i18n.role_name(req.lang, role or shape.responsible[0]),
                    due=i18n.when(req.lang, window.due_at),
                    left=i18n.time_left(req.lang, window.due_at, now)))
    for person_id in holders:
        if person_id == me.id:
            continue
        await notify.to_person(
            req.uow, person_id,
            lambda lang: i18n.t(lang, "window.opened_notice", number=window.id, code=case.code,
                                norm=i18n.t(lang, f"norm.{norm.value}"),
                                due=i18n.when(lang, window.due_at)),
            now, case_id=case.id,
            choices=lambda lang: windows.action_choices(lang, window))


def _reason(req: Request, usage_key: str, skip: int) -> str:
    parts = req.rest.split(None, skip)
    reason = parts[skip].strip() if len(parts) > skip else ""
    if not reason:
        raise ReasonNeeded(usage=req.t(usage_key))
    return reason[:500]


async def cmd_pause(req: Request, args: list[str]) -> None:
    """Pause a window, with a reason: /pauzeer T<nr> <reden>."""
    if not args:
        raise UsageError(usage=req.t("usage.pause"))
    number = window_number(args[0], req.t("usage.pause"))
    reason = _reason(req, "usage.pause", 1)
    window = await windows.pause(req.uow, req.ctx, req.me.id, number, reason)
    code = await _code(req, window.case_id)
    req.reply(req.t("window.paused", number=window.id, subject=await _subject(req, window),
                    code=code))
    await _tell_others(req, window, "window.changed_notice", code=code,
                       reason=reason, change="paused")


async def cmd_resume(req: Request, args: list[str]) -> None:
    """Resume a paused window: /hervat T<nr>."""
    if not args:
        raise UsageError(usage=req.t("usage.resume"))
    number = window_number(args[0], req.t("usage.resume"))
    window = await windows.resume(req.uow, req.ctx, req.me.id, number)
    code = await _code(req, window.case_id)
    now = req.ctx.clock.now()
    req.reply(req.t("window.resumed", number=window.id, subject=await _subject(req, window),
                    code=code, due=i18n.when(req.lang, window.due_at),
                    left=i18n.time_left(req.lang, window.due_at, now)))
    await _tell_others(req, window, "window.changed_notice", code=code,
                       reason="", change="resumed")


async def cmd_extend(req: Request, args: list[str]) -> None:
    """Extend a window, with a reason: /verleng T<nr> <duur> <reden>."""
    if len(args) < 2:
        raise UsageError(usage=req.t("usage.extend"))
    number = window_number(args[0], req.t("usage.extend"))
    try:
        span = Span.parse(args[1])
    except (ValueError, TypeError):
        raise BadSpan(given=args[1]) from None
    reason = _reason(req, "usage.extend", 2)
    window = await windows.extend(req.uow, req.ctx, req.me.id, number, span, reason)
    code = await _code(req, window.case_id)
    now = req.ctx.clock.now()
    req.reply(req.t("window.extended", number=window.id, subject=await _subject(req, window),
                    code=code, due=i18n.when(req.lang, window.due_at),
                    left=i18n.time_left(req.lang, window.due_at, now)))
    await _tell_others(req, window, "window.changed_notice", code=code,
                       reason=reason, change="extended")


def parse_until(text: str, now: datetime, ctx: ServiceContext) -> datetime:
    """'2026-12-01', '1-12', '1-12-2026', '01/12' (from that day on, local) or '3d', '1w'."""
    tz = ctx.policies.calendar.tz
    cleaned = text.strip().replace("/", "-")
    day: date | None = None
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        match = re.fullmatch(r"(\d{1,2})-(\d{1,2})(?:-(\d{4}))?", cleaned)
        if match:
            local_today = now.astimezone(tz).date()
            year = int(match.group(3) or local_today.year)
            try:
                day = date(year, int(match.group(2)), int(match.group(1)))
            except ValueError:
                raise BadMoment(given=text) from None
            if match.group(3) is None and day < local_today:
                day = day.replace(year=year + 1)
    if day is not None:
        moment = datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
    else:
        try:
            moment = Span.parse(text).after(now, ctx.policies.calendar)
        except (ValueError, TypeError):
            raise BadMoment(given=text) from None
    if moment <= now:
        raise BadMoment(given=text)
    return moment


async def _colleagues(req: Request) -> list[orm.Person]:
    """People in the care team of the cases where I am in the care team."""
    me = req.me
    found: dict[int, orm.Person] = {}
    for case, role in await req.uow.cases.cases_of(me.id):
        if role not in CARE_TEAM:
            continue
        for member in await req.uow.cases.members(case.id, tuple(CARE_TEAM)):
            if member.person_id != me.id and member.person_id not in found:
                person = await req.uow.persons.get(member.person_id)
                if person is not None:
                    found[person.id] = person
    return list(found.values())


async def cmd_away(req: Request, args: list[str]) -> None:
    """Register an absence with a backup: /afwezig <tot> [vervanger]."""
    me = req.me
    if not args:
        raise UsageError(usage=req.t("usage.away"))
    now = req.ctx.clock.now()
    until = parse_until(args[0], now, req.ctx)
    colleagues = await _colleagues(req)
    if not colleagues:
        raise NoBackup()
    wanted = " ".join(args[1:]).strip()
    if not wanted:
        req.reply(req.t("away.choose_backup", until=i18n.when(req.lang, until)),
                  [(p.display_name, f"/afwezig {args[0]} {p.display_name}") for p in colleagues])
        return
    backup = next((p for p in colleagues
                   if p.display_name.casefold() == wanted.casefold()), None)
    if backup is None:
        raise UnknownBackup(given=wanted, choices=", ".join(p.display_name for p in colleagues))
    await req.uow.absences.set(me.id, backup.id, now, until)
    req.reply(req.t("away.set", until=i18n.when(req.lang, until), backup=backup.display_name))
    await notify.to_person(
        req.uow, backup.id,
        lambda lang: i18n.t(lang, "away.backup_notice", name=me.display_name,
                            until=i18n.when(lang, until)), now)


async def cmd_back(req: Request, args: list[str]) -> None:
    """End my absence: /terug."""
    ended = await req.uow.absences.end(req.me.id, req.ctx.clock.now())
    req.reply(req.t("away.ended" if ended else "away.not_away"))


async def cmd_quiet(req: Request, args: list[str]) -> None:
    """Show or set my quiet hours: /stil 22:00-07:30, /stil uit."""
    me = req.me
    policies = req.ctx.policies
    if not args:
        start = me.quiet_start or policies.quiet_start.strftime("%H:%M")
        end = me.quiet_end or policies.quiet_end.strftime("%H:%M")
        req.reply(req.t("quiet.show", start=start, end=end))
        return
    if args[0].lower() in ("uit", "off", "geen", "none"):
        me.quiet_start = me.quiet_end = "00:00"
        req.reply(req.t("quiet.off"))
        return
    hours = parse_hours(args[0])
    if hours is None:
        raise BadQuietHours()
    me.quiet_start, me.quiet_end = (h.strftime("%H:%M") for h in hours)
    if hours[0] == hours[1]:
        req.reply(req.t("quiet.off"))
        return
    req.reply(req.t("quiet.set", start=me.quiet_start, end=me.quiet_end))


