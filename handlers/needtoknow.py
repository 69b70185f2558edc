"""Commands of need to know: send or withhold a note, view a signal, release a discussed
complaint to the tenant, the tenant's guided report, summaries, meeting overviews and the
daily digest's time."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import i18n, notify
from bot.domain import errors
from bot.domain.commands import PostSignal
from bot.domain.events import Event
from bot.domain.model import (
    CARE_TEAM,
    TENANT_REPORTS,
    Role,
    SignalKind,
    WindowStatus,
    parse_role,
)
from bot.services import signals, summaries
from bot.services.exports import chunks
from bot.services.signals import case_of_member
from handlers.commands import NotANumber, Request, UsageError, one_case, readers_text
from schedules.quiet import parse_hours

CONVERSATION_TTL = timedelta(hours=24)
ANSWER_LIMIT = 1000


class BadTime(errors.DomainError):
    key = "error.bad_time"


class NotAComplaint(errors.DomainError):
    key = "error.not_a_complaint"


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
        await signals.withhold_note(req.uow, req.ctx, me.id, number)
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
    sent, readers = await signals.send_note(req.uow, req.ctx, me.id, number, audience)
    req.reply(req.t("note.sent", number=sent.id, readers=readers_text(req.lang, readers)))


async def cmd_view(req: Request, args: list[str]) -> None:
    """View one signal as my role may see it: /bekijk <nr>."""
    me = req.me
    number = signal_number(req, args, "usage.view")
    req.reply(await summaries.view_signal(req.uow, req.ctx, me, number))


async def _complaint_for_team(req: Request, number: int) -> tuple[int, Role]:
    signal = await req.uow.signals.get(number)
    roles = await req.uow.cases.roles_of(signal.case_id, req.me.id) if signal else []
    care = next((r for r in roles if r in CARE_TEAM), None)
    if signal is None or care is None:
        raise errors.UnknownSignal(number=number)
    if signal.kind in TENANT_REPORTS:
        raise NotAComplaint(number=number)
    return signal.case_id, care


async def cmd_release(req: Request, args: list[str]) -> None:
    """The team discussed a complaint with the tenant; the tenant may now see its facts."""
    number = signal_number(req, args, "usage.release")
    case_id, role = await _complaint_for_team(req, number)
    now = req.ctx.clock.now()
    await req.uow.signals.update(number, released_to_tenant=True)
    req.uow.timeline.record(case_id=case_id, at=now, event=Event.RELEASED_TO_TENANT,
                            actor_id=req.me.id, actor_role=role, signal_id=number)
    req.reply(req.t("release.done", number=number))
    case = await req.uow.cases.get(case_id)
    code = case.code if case else "?"
    for tenant in await req.uow.cases.members(case_id, (Role.TENANT,)):
        await notify.to_person(req.uow, tenant.person_id,
                               lambda lang: i18n.t(lang, "release.notice", code=code), now,
                               case_id=case_id)


async def cmd_resolve(req: Request, args: list[str]) -> None:
    """A tenant's report is resolved: /afgehandeld <nr>; the tenant hears it neutrally."""
    number = signal_number(req, args, "usage.resolve")
    signal = await req.uow.signals.get(number)
    roles = await req.uow.cases.roles_of(signal.case_id, req.me.id) if signal else []
    role = next((r for r in roles if r in CARE_TEAM or r is Role.LANDLORD), None)
    if signal is None or role is None or signal.kind not in TENANT_REPORTS or \
            not req.ctx.privacy.may_see_signal(roles, req.me.id, signal):
        raise errors.UnknownSignal(number=number)
    now = req.ctx.clock.now()
    await req.uow.signals.update(number, report_status="done")
    req.uow.timeline.record(case_id=signal.case_id, at=now, event=Event.REPORT_STATUS,
                            actor_id=req.me.id, actor_role=role, signal_id=number,
                            status="done")
    for window in await req.uow.windows.for_signal(number):
        await req.uow.windows.close(window.id, WindowStatus.MET, now)
        req.uow.deadlines_changed = True
    req.reply(req.t("report.resolved", number=number))
    await notify.to_person(
        req.uow, signal.posted_by,
        lambda lang: i18n.t(lang, "report.update", code=signal.case_code, number=number),
        now, case_id=signal.case_id)


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
    await _save(req, "kind", {"case": case.code})
    req.reply(req.t("report.choose_kind"),
              [(req.t(f"report.kind.{k.value}"), f"/melden_soort {k.value}")
               for k in REPORT_KINDS])


async def _save(req: Request, step: str, data: dict[str, str]) -> None:
    now = req.ctx.clock.now()
    await req.uow.conversations.save(req.me.id, "tenant_report", step, json.dumps(data), now,
                                     now + CONVERSATION_TTL)


async def cmd_report_kind(req: Request, args: list[str]) -> None:
    """(a button of the report) the kind of report."""
    state = await req.uow.conversations.get(req.me.id, req.ctx.clock.now())
    if state is None or state.kind != "tenant_report" or not args:
        raise errors.NotAllowed()
    data = json.loads(state.data)
    kind = SignalKind(args[0]) if args[0] in {k.value for k in REPORT_KINDS} else None
    if kind is None:
        raise errors.NotAllowed()
    data["kind"] = kind.value
    await _save(req, "what", data)
    req.reply(req.t("report.ask_what"))


async def answer(req: Request) -> bool:
    """Plain text while a guided conversation runs: its next answer. ``False`` if none runs."""
    me = req.person
    if me is None:
        return False
    now = req.ctx.clock.now()
    state = await req.uow.conversations.get(me.id, now)
    if state is None:
        return False
    text = req.incoming.text.strip()
    if len(text) > ANSWER_LIMIT:
        req.reply(req.t("report.too_long", limit=ANSWER_LIMIT))
        return True
    data = json.loads(state.data)
    if state.step == "what":
        data["what"] = text
        await _save(req, "when", data)
        req.reply(req.t("report.ask_when"))
    elif state.step == "when":
        data["when"] = text
        await _save(req, "where", data)
        req.reply(req.t("report.ask_where"))
    elif state.step == "where":
        data["where"] = text
        await _save(req, "confirm", data)
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
        (req.t("button.report_send"), "/melden_verstuur"),
        (req.t("button.report_coach_only"), "/melden_verstuur begeleider"),
        (req.t("button.cancel"), "/annuleer"),
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
    state = await req.uow.conversations.get(me.id, req.ctx.clock.now())
    if state is None or state.kind != "tenant_report" or state.step != "confirm":
        raise errors.NotAllowed()
    data = json.loads(state.data)
    kind = SignalKind(data["kind"])
    coach_only = bool(args) and args[0].lower() in ("begeleider", "coach")
    audience = report_audience(req, kind, coach_only=coach_only)
    text = i18n.t(req.lang, "report.text", what=data.get("what", ""),
                  when=data.get("when", ""), where=data.get("where", ""))
    posted = await signals.post_signal(
        PostSignal(person_id=me.id, case_code=data["case"], kind=kind, note=text,
                   audience=audience, note_confirmed=True, neutral=True), req.uow, req.ctx)
    await req.uow.conversations.clear(me.id)
    req.reply(req.t("report.sent", number=posted.signal.id, code=posted.signal.case_code))


async def cmd_cancel(req: Request, args: list[str]) -> None:
    """Stop a guided conversation: /annuleer."""
    ended = await req.uow.conversations.clear(req.me.id)
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
        at = me.digest_time or req.ctx.digests.daily_at.strftime("%H:%M")
        req.reply(req.t("digest.show", at=at) if at != "off" else req.t("digest.off"))
        return
    if args[0].lower() in ("uit", "off", "geen", "none"):
        me.digest_time = "off"
        req.reply(req.t("digest.off"))
        return
    hours = parse_hours(f"{args[0]}-{args[0]}")
    if hours is None:
        raise BadTime()
    me.digest_time = hours[0].strftime("%H:%M")
    req.reply(req.t("digest.set", at=me.digest_time))

