"""Commands of need to know: send or withhold a note, view a signal, release a discussed
complaint to the tenant, the tenant's guided report, summaries, meeting overviews and the
daily digest's time."""

from __future__ import annotations

import json

from bot import i18n
from bot.domain import errors
from bot.domain.commands import (
    ReleaseToTenant,
    ResolveReport,
    SendNote,
    SetDigestTime,
    WithholdNote,
)
from bot.domain.model import CARE_TEAM, Role, SignalKind, parse_role
from bot.domain.quiet import parse_hours
from bot.services import people, reports, signals, summaries
from bot.services.exports import chunks
from bot.services.signals import case_of_member
from handlers.commands import NotANumber, Request, UsageError, one_case, readers_text

ANSWER_LIMIT = 1000


class BadTime(errors.DomainError):
    key = "error.bad_time"


def signal_number(req: Request, args: list[str], usage_key: str) -> int:
    if not args:
        raise UsageError(usage=req.t(usage_key))
    number = args[0].lstrip("#")
    if not number.isdigit():
        raise NotANumber(given=args[0], usage=req.t(usage_key))
    return int(number)


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


# --- the tenant's guided report -----------------------------------------------------------

REPORT_KINDS = (SignalKind.HARASSED_TENANT, SignalKind.UNJUST_COMPLAINT)


async def cmd_report(req: Request, args: list[str]) -> None:
    """Start the tenant's guided report: /melden."""
    me = req.me
    memberships = [(c, r) for c, r in await req.uow.cases.cases_of(me.id) if r is Role.TENANT]
    if not memberships:
        req.reply(req.t("report.only_tenant"))
        return
    case = memberships[0][0]
    if args:
        wanted = next((c for c, _ in memberships if c.code.lower() == args[0].lower()), None)
        if wanted is None:
            raise errors.UnknownCase(code=args[0])
        case = wanted
    await reports.save_step(req.uow, req.ctx, me.id, "kind", {"case": case.code})
    req.reply(req.t("report.choose_kind"),
              [(req.t(f"report.kind.{k.value}"), req.t("command.report_kind", kind=k.value))
               for k in REPORT_KINDS])


async def cmd_report_kind(req: Request, args: list[str]) -> None:
    """(a button of the report) the kind of report."""
    state = await reports.current(req.uow, req.ctx, req.me.id)
    if state is None or state.kind != reports.KIND or not args:
        raise errors.NotAllowed()
    data = json.loads(state.data)
    kind = SignalKind(args[0]) if args[0] in {k.value for k in REPORT_KINDS} else None
    if kind is None:
        raise errors.NotAllowed()
    data["kind"] = kind.value
    await reports.save_step(req.uow, req.ctx, req.me.id, "what", data)
    req.reply(req.t("report.ask_what"))


async def answer(req: Request) -> bool:
    """Plain text while a guided conversation runs: its next answer. ``False`` if none runs."""
    me = req.person
    if me is None:
        return False
    state = await reports.current(req.uow, req.ctx, me.id)
    if state is None:
        return False
    text = req.incoming.text.strip()
    if len(text) > ANSWER_LIMIT:
        req.reply(req.t("report.too_long", limit=ANSWER_LIMIT))
        return True
    data = json.loads(state.data)
    if state.step == "what":
        data["what"] = text
        await reports.save_step(req.uow, req.ctx, me.id, "when", data)
        req.reply(req.t("report.ask_when"))
    elif state.step == "when":
        data["when"] = text
        await reports.save_step(req.uow, req.ctx, me.id, "where", data)
        req.reply(req.t("report.ask_where"))
    elif state.step == "where":
        data["where"] = text
        await reports.save_step(req.uow, req.ctx, me.id, "confirm", data)
        await _preview(req, data)
    else:
        return False
    return True


async def _preview(req: Request, data: dict[str, str]) -> None:
    case, _ = await case_of_member(req.uow, req.me.id, data["case"])
    kind = SignalKind(data["kind"])
    readers = await _readers(req, case.id, report_audience(req, kind, coach_only=False))
    req.reply(req.t("report.preview", kind=i18n.kind_name(req.lang, kind),
                    readers=readers_text(req.lang, readers)), [
        (req.t("button.report_send"), req.t("command.report_send")),
        (req.t("button.report_coach_only"), req.t("command.report_send_coach")),
        (req.t("button.cancel"), req.t("command.cancel")),
    ])


def report_audience(req: Request, kind: SignalKind, *, coach_only: bool) -> frozenset[Role]:
    """Who reads a tenant's report: the care team and the landlord (the guideline's two
    places to report), or the care team alone; never more than the policy allows."""
    wanted = CARE_TEAM if coach_only else CARE_TEAM | {Role.LANDLORD}
    return frozenset(wanted & set(req.ctx.privacy.allowed_audience(kind)))

async def _readers(req: Request, case_id: int, audience: frozenset[Role]
                   ) -> list[tuple[Role, str]]:
    out = []
    for member in await req.uow.cases.members(case_id):
        if member.person_id != req.me.id and member.role in audience:
            person = await req.uow.persons.get(member.person_id)
            out.append((member.role, person.display_name if person else "?"))
    return out


async def cmd_report_send(req: Request, args: list[str]) -> None:
    """(a button of the report) send it, to the default recipients or the coach only."""
    me = req.me
    state = await reports.current(req.uow, req.ctx, me.id)
    if state is None or state.kind != reports.KIND or state.step != "confirm":
        raise errors.NotAllowed()
    data = json.loads(state.data)
    kind = SignalKind(data["kind"])
    coach_only = bool(args) and args[0].lower() in ("begeleider", "coach")
    posted = await reports.send(req.uow, req.ctx, me.id, req.lang, data,
                                report_audience(req, kind, coach_only=coach_only))
    req.reply(req.t("report.sent", number=posted.signal.id, code=posted.signal.case_code))


async def cmd_cancel(req: Request, args: list[str]) -> None:
    """Stop a guided conversation: /annuleer."""
    ended = await reports.cancel(req.uow, req.ctx, req.me.id)
    req.reply(req.t("report.cancelled" if ended else "conversation.none"))


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
    hours = parse_hours(f"{args[0]}-{args[0]}")
    if hours is None:
        raise BadTime()
    at = hours[0].strftime("%H:%M")
    await people.set_digest_time(SetDigestTime(me.id, at), req.uow, req.ctx)
    req.reply(req.t("digest.set", at=at))
