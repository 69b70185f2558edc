"""Commands of need to know: send or withhold a note, view a signal, release a discussed
complaint to the tenant, the tenant's guided report, summaries, meeting overviews and the
daily digest's time."""

from __future__ import annotations

from bot.domain import arguments, errors
from bot.domain.commands import (
    ReleaseToTenant,
    ResolveReport,
    SendNote,
    SetDigestTime,
    WithholdNote,
)
from bot.domain.model import CARE_TEAM, Role, parse_role
from bot.services import conversations, people, signals, summaries, tenant_report
from bot.services.exports import chunks
from handlers.commands import Request, UsageError, one_case, readers_text


class BadTime(errors.DomainError):
    key = "error.bad_time"


def signal_number(req: Request, args: list[str], usage_key: str) -> int:
    if not args:
        raise UsageError(usage=req.t(usage_key))
    return arguments.signal_number(args[0], req.t(usage_key))


async def cmd_note(req: Request, args: list[str]) -> None:
    """Send or withhold my note: /toelichting <nr> verstuur|zorgteam|niet|<rollen>."""
    me = req.me
    number = signal_number(req, args, "usage.note")
    choice = [a.lower() for a in args[1:]] or ["verstuur"]
    if choice[0] in ("niet", "no", "nee", "withhold"):
        await signals.withhold_note(WithholdNote(me.id, number), req.uow, req.ctx)
        req.reply(req.t("note.withheld", number=number))
        return
    audience: frozenset[Role] | None
    if choice[0] in ("verstuur", "send", "ja", "yes"):
        audience = None
    elif choice[0] in ("zorgteam", "team", "careteam"):
        audience = frozenset(CARE_TEAM)
    else:
        parsed = [parse_role(word) for word in choice]
        if any(r is None for r in parsed):
            raise errors.UnknownRole(given=" ".join(choice), choices=tuple(Role))
        audience = frozenset(r for r in parsed if r is not None) | CARE_TEAM
    sent, readers = await signals.send_note(SendNote(me.id, number, audience), req.uow,
                                            req.ctx)
    req.reply(req.t("note.sent", number=sent.id, readers=readers_text(req.lang, readers)))


async def cmd_view(req: Request, args: list[str]) -> None:
    """View one signal as my role may see it: /bekijk <nr>."""
    me = req.me
    number = signal_number(req, args, "usage.view")
    req.reply(await summaries.view_signal(req.uow, req.ctx, me, number))


async def cmd_release(req: Request, args: list[str]) -> None:
    """The team discussed a complaint with the tenant; the tenant may now see its facts."""
    number = signal_number(req, args, "usage.release")
    await signals.release_to_tenant(ReleaseToTenant(req.me.id, number), req.uow, req.ctx)
    req.reply(req.t("release.done", number=number))


async def cmd_resolve(req: Request, args: list[str]) -> None:
    """A tenant's report is resolved: /afgehandeld <nr>; the tenant hears it neutrally."""
    number = signal_number(req, args, "usage.resolve")
    await signals.resolve_report(ResolveReport(req.me.id, number), req.uow, req.ctx)
    req.reply(req.t("report.resolved", number=number))


# --- the tenant's guided report (a conversation: bot/services/tenant_report.py) -----------

def _say(req: Request, said: list[conversations.Said]) -> None:
    for one in said:
        req.reply(one.text, one.choices, one.kind)


async def cmd_report(req: Request, args: list[str]) -> None:
    """Start the tenant's guided report: /melden [zaak]."""
    try:
        said = await conversations.start(conversations.StartConversation(
            person_id=req.me.id, name=tenant_report.NAME, case_code=args[0] if args else None),
            req.uow, req.ctx)
    except conversations.WhichCase as which:
        req.reply(req.t("conversation.which_case"),
                  [(code, f"/melden {code}") for code in which.codes])
        return
    _say(req, said)


async def answer(req: Request) -> bool:
    """Plain text while a guided conversation runs: its next answer. ``False`` if none runs."""
    if req.person is None:
        return False
    said = await conversations.answer_text(req.person.id, req.incoming.text, req.uow, req.ctx)
    if said is None:
        return False
    _say(req, said)
    return True


async def answer_pick(req: Request, conversation_id: int, value: str) -> None:
    """A pick on a conversation's question (a button, a number, a reaction)."""
    _say(req, await conversations.answer_pick(req.me.id, conversation_id, value, req.uow,
                                              req.ctx))


async def cmd_cancel(req: Request, args: list[str]) -> None:
    """Stop a guided conversation: /annuleer [zaak]."""
    _say(req, await conversations.cancel(conversations.CancelConversation(
        person_id=req.me.id, case_code=args[0] if args else None), req.uow, req.ctx))


# --- summaries --------------------------------------------------------------------------

async def cmd_summary(req: Request, args: list[str]) -> None:
    """A summary of a case for my role: /samenvatting <zaak>."""
    code = await one_case(req, args, "help.summary")
    req.reply(await summaries.case_summary(req.uow, req.ctx, req.me, code))


async def cmd_dossier(req: Request, args: list[str]) -> None:
    """The case's timeline as my role may read it: /dossier <zaak>."""
    code = await one_case(req, args, "help.dossier")
    for part in chunks(await summaries.dossier(req.uow, req.ctx, req.me, code)):
        req.reply(part)


async def cmd_meeting(req: Request, args: list[str]) -> None:
    """A facts-level overview for a multi-party case meeting: /overleg <zaak>."""
    code = await one_case(req, args, "help.meeting")
    req.reply(await summaries.meeting_summary(req.uow, req.ctx, req.me, code))


async def cmd_digest(req: Request, args: list[str]) -> None:
    """Show or set the time of my daily digest: /overzicht 07:45, /overzicht uit."""
    me = req.me
    if not args:
        if not await people.gets_daily_digest(req.uow, me.id):
            raise people.NoDailyDigest()
        at = me.digest_time or req.ctx.digests.daily_at.strftime("%H:%M")
        req.reply(req.t("digest.show", at=at) if at != "off" else req.t("digest.off"))
        return
    if args[0].lower() in ("uit", "off", "geen", "none"):
        await people.set_digest_time(SetDigestTime(me.id, None), req.uow, req.ctx)
        req.reply(req.t("digest.off"))
        return
    daily = arguments.clock_time(args[0])
    if daily is None:
        raise BadTime()
    at = daily.strftime("%H:%M")
    await people.set_digest_time(SetDigestTime(me.id, at), req.uow, req.ctx)
    req.reply(req.t("digest.set", at=at))
