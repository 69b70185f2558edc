"""Commands about windows and their clocks: list them, complete, start, pause, resume or extend
one (a reason first shown with who would read it), register an absence with a backup, set
quiet hours. Each parses, calls one service (``bot/services/windows.py``,
``bot/services/people.py``) and formats its result."""

from __future__ import annotations

from bot import i18n
from bot.domain import arguments, errors
from bot.domain.commands import (
    CompleteWindow,
    EndAbsence,
    ExtendWindow,
    PauseWindow,
    RegisterAbsence,
    ResumeWindow,
    SetQuietHours,
    ShareReason,
    StartWindow,
)
from bot.domain.model import Role, Window
from bot.services import people, windows
from handlers.commands import Request, UsageError, readers_text


class ReasonNeeded(errors.DomainError):
    key = "error.reason_needed"


class BadQuietHours(errors.DomainError):
    key = "error.bad_quiet_hours"


OFF_WORDS = ("uit", "off", "geen", "none")


def window_number(text: str, usage: str) -> int:
    return arguments.window_number(text, usage)


async def cmd_deadlines(req: Request, args: list[str]) -> None:
    """My open windows, soonest first, with the time left in words."""
    found = await windows.list_deadlines(req.uow, req.ctx, req.me.id,
                                         args[0] if args else None)
    if found.case_code is not None:
        req.reply("\n".join([req.t("deadlines.case", code=found.case_code), *found.mine])
                  if found.mine else req.t("deadlines.none"))
        return
    lines = []
    if found.mine:
        lines += [req.t("deadlines.mine"), *found.mine]
    if found.waiting:
        lines += [req.t("deadlines.waiting"), *found.waiting]
    req.reply("\n".join(lines) if lines else req.t("deadlines.none"))


async def _subject(req: Request, window: Window) -> str:
    return (await windows.subject_renderer(req.uow, window))(req.lang)


async def cmd_done(req: Request, args: list[str]) -> None:
    """Complete a window: /gedaan T<nr>."""
    if not args:
        raise UsageError(usage=req.t("usage.done"))
    number = window_number(args[0], req.t("usage.done"))
    done = await windows.complete_window(CompleteWindow(req.me.id, number), req.uow, req.ctx)
    text = req.t("window.met", subject=await _subject(req, done.window), code=done.case_code)
    if done.following is not None:
        text += req.t("window.next_period", due=i18n.when(req.lang, done.following.due_at))
    req.reply(text)


async def cmd_window(req: Request, args: list[str]) -> None:
    """Start a window by hand: /termijn <zaak> <norm>."""
    if len(args) < 2:
        raise UsageError(usage=req.t("usage.window"))
    started = await windows.start_window(StartWindow(req.me.id, args[0], args[1]), req.uow,
                                         req.ctx)
    window = started.window
    req.reply(req.t("window.opened", number=window.id, code=started.case_code,
                    norm=req.t(f"norm.{window.norm.value}"),
                    roles=i18n.role_name(req.lang,
                                         started.responsible_role or window.responsible[0]),
                    due=i18n.when(req.lang, window.due_at),
                    left=i18n.time_left(req.lang, window.due_at, req.ctx.clock.now())))


def _reason(req: Request, usage_key: str, skip: int) -> str:
    parts = req.rest.split(None, skip)
    reason = parts[skip].strip() if len(parts) > skip else ""
    if not reason:
        raise ReasonNeeded(usage=req.t(usage_key))
    return reason


def _reason_preview(req: Request, number: int, readers: list[tuple[Role, str]]) -> None:
    """Before a reason goes beyond the care team, its poster sees who would read it."""
    if readers:
        req.reply(req.t("reason.preview", readers=readers_text(req.lang, readers)), [
            (req.t("button.reason_send"), req.t("command.reason_send", number=number)),
            (req.t("button.reason_team"), req.t("command.reason_team", number=number)),
        ])


async def cmd_pause(req: Request, args: list[str]) -> None:
    """Pause a window, with a reason: /pauzeer T<nr> <reden>."""
    if not args:
        raise UsageError(usage=req.t("usage.pause"))
    number = window_number(args[0], req.t("usage.pause"))
    changed = await windows.pause_window(
        PauseWindow(req.me.id, number, _reason(req, "usage.pause", 1)), req.uow, req.ctx)
    req.reply(req.t("window.paused", number=changed.window.id,
                    subject=await _subject(req, changed.window), code=changed.case_code))
    _reason_preview(req, changed.window.id, changed.reason_readers)


async def cmd_resume(req: Request, args: list[str]) -> None:
    """Resume a paused window: /hervat T<nr>."""
    if not args:
        raise UsageError(usage=req.t("usage.resume"))
    number = window_number(args[0], req.t("usage.resume"))
    changed = await windows.resume_window(ResumeWindow(req.me.id, number), req.uow, req.ctx)
    window = changed.window
    req.reply(req.t("window.resumed", number=window.id, subject=await _subject(req, window),
                    code=changed.case_code, due=i18n.when(req.lang, window.due_at),
                    left=i18n.time_left(req.lang, window.due_at, req.ctx.clock.now())))


async def cmd_extend(req: Request, args: list[str]) -> None:
    """Extend a window, with a reason: /verleng T<nr> <duur> <reden>."""
    if len(args) < 2:
        raise UsageError(usage=req.t("usage.extend"))
    number = window_number(args[0], req.t("usage.extend"))
    changed = await windows.extend_window(
        ExtendWindow(req.me.id, number, args[1], _reason(req, "usage.extend", 2)), req.uow,
        req.ctx)
    window = changed.window
    req.reply(req.t("window.extended", number=window.id, subject=await _subject(req, window),
                    code=changed.case_code, due=i18n.when(req.lang, window.due_at),
                    left=i18n.time_left(req.lang, window.due_at, req.ctx.clock.now())))
    _reason_preview(req, window.id, changed.reason_readers)


async def cmd_reason(req: Request, args: list[str]) -> None:
    """Let a pause or extension reason go: /reden T<nr> verstuur|zorgteam."""
    if len(args) < 2:
        raise UsageError(usage=req.t("usage.reason"))
    number = window_number(args[0], req.t("usage.reason"))
    choice = args[1].lower()
    if choice not in ("verstuur", "send", "zorgteam", "team"):
        raise UsageError(usage=req.t("usage.reason"))
    told = await windows.share_reason(
        ShareReason(req.me.id, number, "send" if choice in ("verstuur", "send") else "team"),
        req.uow, req.ctx)
    req.reply(req.t("reason.sent", readers=readers_text(req.lang, told)) if told
              else req.t("reason.kept", number=number))


async def cmd_away(req: Request, args: list[str]) -> None:
    """Register an absence with a backup: /afwezig <tot> [vervanger]."""
    if not args:
        raise UsageError(usage=req.t("usage.away"))
    result = await people.register_absence(
        RegisterAbsence(req.me.id, args[0], " ".join(args[1:])), req.uow, req.ctx)
    if isinstance(result, people.BackupToChoose):
        req.reply(req.t("away.choose_backup", until=i18n.when(req.lang, result.until)),
                  [(name, req.t("command.away_backup", until=args[0], name=name))
                   for name in result.names])
        return
    req.reply(req.t("away.set", until=i18n.when(req.lang, result.until),
                    backup=result.backup_name))


async def cmd_back(req: Request, args: list[str]) -> None:
    """End my absence: /terug."""
    ended = await people.end_absence(EndAbsence(req.me.id), req.uow, req.ctx)
    req.reply(req.t("away.ended" if ended else "away.not_away"))


async def cmd_quiet(req: Request, args: list[str]) -> None:
    """Show or set my quiet hours: /stil 22:00-07:30, /stil uit."""
    if not args:
        hours = people.quiet_hours_of(req.me, req.ctx)
        req.reply(req.t("quiet.show", start=hours[0], end=hours[1]) if hours
                  else req.t("quiet.none"))
        return
    if args[0].lower() in OFF_WORDS:
        await people.set_quiet_hours(SetQuietHours(req.me.id, None), req.uow, req.ctx)
        req.reply(req.t("quiet.off"))
        return
    parsed = arguments.hours(args[0])
    if parsed is None:
        raise BadQuietHours()
    hours = await people.set_quiet_hours(
        SetQuietHours(req.me.id, (parsed[0].strftime("%H:%M"), parsed[1].strftime("%H:%M"))),
        req.uow, req.ctx)
    req.reply(req.t("quiet.set", start=hours[0], end=hours[1]) if hours
              else req.t("quiet.off"))
