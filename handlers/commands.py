"""One small handler per command: build the command, call the service, reply.

Handlers are transport-agnostic: they see an :class:`~bot.transports.base.Incoming` and answer
through the outbox. Every sentence comes from the message catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import i18n
from bot.domain import arguments, errors
from bot.domain.choices import Action, MessageKind, Option, as_option, option
from bot.domain.commands import (
    AcknowledgeSignal,
    ChooseLanguage,
    CreateCase,
    EnrolPerson,
    InviteToRole,
    PostSignal,
)
from bot.domain.model import (
    CARE_TEAM,
    Role,
    SignalKind,
    kinds_for,
    parse_role,
    parse_signal_kind,
)
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services import cases, people, queries, signals
from bot.services.context import ServiceContext
from bot.transports.base import Incoming


class UsageError(errors.DomainError):
    key = "error.usage"


class CoordinatorOnly(errors.NotAllowed):
    key = "error.coordinator_only"


NotANumber = arguments.NotANumber


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer to the chat the message came from."""

    text: str
    choices: tuple[Option, ...] = ()
    kind: MessageKind = MessageKind.MESSAGE


@dataclass
class Request:
    """One incoming message being handled, inside one unit of work."""

    incoming: Incoming
    uow: UnitOfWork
    ctx: ServiceContext
    person: orm.Person | None
    lang: str
    #: the text after the command word, as typed (free text keeps its spaces)
    rest: str = ""
    replies: list[Reply] = field(default_factory=list)

    def reply(self, text: str, choices: Sequence[Option | tuple[str, str]] | None = None,
              kind: MessageKind = MessageKind.MESSAGE) -> None:
        self.replies.append(Reply(text, tuple(as_option(c) for c in choices or []), kind))

    def t(self, key: str, **args: object) -> str:
        return i18n.t(self.lang, key, **args)

    @property
    def me(self) -> orm.Person:
        if self.person is None:
            raise errors.NotInvited()
        return self.person


async def cmd_start(req: Request, args: list[str]) -> None:
    """Accept an invitation: bind this chat identity to a role in a case."""
    if not args:
        if req.person is None:
            raise errors.NotInvited()
        req.reply(req.t("start.known"))
        return
    enrolled = await people.enrol(
        EnrolPerson(transport=req.incoming.transport, address=req.incoming.sender_id,
                    display_name=req.incoming.sender_name, language=req.lang,
                    code="".join(args)), req.uow, req.ctx)
    req.person = enrolled.person
    joined = enrolled.joined
    assert joined is not None  # noqa: S101
    role = i18n.role_name(req.lang, joined.role)
    key = "invite.already_member" if joined.already else "invite.welcome"
    req.reply(req.t(key, role=role, code=joined.case_code))


async def cmd_newcase(req: Request, args: list[str]) -> None:
    """Create a case (coordinator)."""
    if not req.me.is_coordinator:
        raise CoordinatorOnly()
    code = await cases.create_case(CreateCase(coordinator_id=req.me.id), req.uow, req.ctx)
    req.reply(req.t("case.created", code=code))


async def cmd_invite(req: Request, args: list[str]) -> None:
    """Invite someone to a role in a case (coordinator)."""
    if not req.me.is_coordinator:
        raise CoordinatorOnly()
    if len(args) < 2:
        raise UsageError(usage=req.t("usage.invite"))
    role = parse_role(args[1])
    if role is None:
        raise errors.UnknownRole(given=args[1], choices=tuple(Role))
    organisation = " ".join(args[2:]) or None
    issued = await cases.invite(
        InviteToRole(coordinator_id=req.me.id, case_code=args[0], role=role,
                     organisation=organisation), req.uow, req.ctx)
    text = req.t("invite.created", role=i18n.role_name(req.lang, role), code=issued.case_code,
                 invite=issued.code, until=i18n.when(req.lang, issued.expires_at))
    for transport, link in req.ctx.invite_links.items():
        if transport != "console":
            # a network whose link cannot carry the code says how to send it (Matrix)
            key = f"invite.link.{transport}"
            text += "\n" + (req.t(key, link=link(issued.code), invite=issued.code)
                            if key in i18n.MESSAGES else
                            req.t("invite.link", link=link(issued.code.replace("-", ""))))
    req.reply(text)


async def cmd_signal(req: Request, args: list[str]) -> None:
    """Pass on a signal: /signaal <zaak> <soort> [toelichting]."""
    me = req.me
    words = req.rest.split(None, 2)
    my_codes = await my_case_codes(req)
    if words and cases.normalise_case_code(words[0]) is not None:
        case_code, words = words[0], words[1:]
    elif len(my_codes) == 1:
        # with one case, the case may be left out: /signaal huurachterstand
        case_code, words = my_codes[0], req.rest.split(None, 1)
    elif not my_codes:
        raise errors.NotAllowed()
    elif not words:
        req.reply(req.t("signal.choose_case"),
                  [(code, req.t("command.signal_case", code=code)) for code in my_codes])
        return
    elif parse_signal_kind(words[0]) is not None:
        # a kind without its case, by someone in several cases: which case?
        req.reply(req.t("signal.choose_case"),
                  [(code, req.t("command.signal_case_rest", code=code, rest=req.rest))
                   for code in my_codes])
        return
    else:
        raise errors.UnknownCase(code=words[0])
    case, roles = await signals.case_of_member(req.uow, me.id, case_code)
    allowed = tuple(dict.fromkeys(k for role in roles for k in kinds_for(role)))
    if not words:
        req.reply(req.t("signal.choose_kind", code=case.code),
                  [(i18n.kind_name(req.lang, k),
                    req.t("command.signal_kind", code=case.code, kind=k.value))
                   for k in allowed])
        return
    kind = parse_signal_kind(words[0])
    if kind is None:
        raise errors.UnknownSignalKind(given=words[0], choices=allowed)
    note = words[1] if len(words) > 1 else None
    complainant = None
    if note:
        found = COMPLAINANT.search(note)
        if found:
            complainant = found.group(2).strip() or None
            note = note[:found.start()].strip() or None
    posted = await signals.post_signal(
        PostSignal(person_id=me.id, case_code=case.code, kind=kind, note=note,
                   complainant=complainant), req.uow, req.ctx)
    now = req.ctx.clock.now()
    due = posted.window.due_at
    facts = {"number": posted.signal.id, "kind": i18n.kind_name(req.lang, kind),
             "code": case.code, "due": i18n.when(req.lang, due)}
    if posted.addressee_role is not None:
        req.reply(req.t("signal.posted", addressees=_addressees(req.lang, posted),
                        left=i18n.time_left(req.lang, due, now), **facts))
    else:
        req.reply(req.t("signal.posted_no_addressee",
                        roles=i18n.role_list(req.lang, posted.window.responsible[:1]), **facts))
    if posted.signal.note_status == "draft":
        note_preview(req, posted.signal.id, posted.note_audience)


def note_preview(req: Request, number: int, readers: list[tuple[Role, str]]) -> None:
    """Before a note goes, its poster sees who will read it, and chooses."""
    if not readers:
        req.reply(req.t("note.preview_nobody"))
        return
    req.reply(req.t("note.preview", readers=readers_text(req.lang, readers)), [
        option(Action.NOTE, number, req.t(key), label_key=key, value=value,
               command=req.t(command, number=number))
        for key, value, command in (
            ("button.note_send", "verstuur", "command.note_send"),
            ("button.note_team", "zorgteam", "command.note_team"),
            ("button.note_withhold", "niet", "command.note_withhold"))])


def readers_text(lang: str, readers: list[tuple[Role, str]]) -> str:
    if not readers:
        return i18n.t(lang, "note.nobody")
    return ", ".join(f"{i18n.role_name(lang, role)} ({name})" if name
                     else i18n.role_name(lang, role) for role, name in readers)


#: "… klager: buurvrouw nr. 12" at the end of a note names the complainant (landlord only)
COMPLAINT_WORDS = ("klager", "klaagster", "complainant", "melder")
COMPLAINANT = re.compile(r"(?i)\b(" + "|".join(COMPLAINT_WORDS) + r")\s*:\s*(.+)$")


def _addressees(lang: str, posted: signals.SignalPosted) -> str:
    role = i18n.role_name(lang, posted.addressee_role or posted.window.responsible[0])
    return f"{role} ({', '.join(posted.addressees)})" if posted.addressees else role


async def cmd_ack(req: Request, args: list[str]) -> None:
    """Acknowledge a signal: /ok <nr>."""
    me = req.me
    if not args:
        raise UsageError(usage=req.t("usage.ack"))
    number = arguments.signal_number(args[0], req.t("usage.ack"))
    result = await signals.acknowledge(AcknowledgeSignal(person_id=me.id, signal_id=number),
                                       req.uow, req.ctx)
    signal = result.signal
    text = req.t("ack.done", number=signal.id, kind=i18n.kind_name(req.lang, signal.kind),
                 code=signal.case_code, poster=i18n.role_name(req.lang, signal.poster_role))
    if result.after_lapse:
        text += req.t("ack.after_lapse")
    req.reply(text)


async def cmd_cases(req: Request, args: list[str]) -> None:
    """List my cases."""
    req.reply(await queries.list_cases(req.me, req.uow, req.ctx))


async def my_case_codes(req: Request) -> list[str]:
    """The codes of the cases I hold a role in, oldest first."""
    return list(dict.fromkeys(c.code for c, _ in await req.uow.cases.cases_of(req.me.id)))


async def one_case(req: Request, args: list[str], usage_key: str) -> str:
    """The case a command is about: the one named, or my only case."""
    if args:
        return args[0]
    codes = await my_case_codes(req)
    if len(codes) == 1:
        return codes[0]
    raise UsageError(usage=req.t(usage_key))


async def cmd_status(req: Request, args: list[str]) -> None:
    """Where a case stands, as my role may see it."""
    code = await one_case(req, args, "usage.status")
    req.reply(await queries.case_status(req.me, code, req.uow, req.ctx))


async def cmd_language(req: Request, args: list[str]) -> None:
    """Choose my language."""
    if not args:
        raise people.UnknownLanguage()
    req.lang = await people.choose_language(ChooseLanguage(req.me.id, args[0]), req.uow,
                                            req.ctx)
    req.reply(req.t("language.set"))


async def cmd_help(req: Request, args: list[str]) -> None:
    """What I may do in my roles."""
    me = req.me
    roles = list(dict.fromkeys(r for _, r in await req.uow.cases.cases_of(me.id)))
    names = [i18n.role_name(req.lang, r) for r in roles]
    if me.is_coordinator:
        names.append(req.t("help.coordinator"))
    lines = [req.t("help.header",
                   roles=req.t("help.roles", roles=", ".join(names)) if names else "")]
    if me.is_coordinator:
        lines += [req.t("help.newcase"), req.t("help.invite"), req.t("help.closecase"),
                  req.t("help.accesslog")]
    if roles:
        lines += [req.t("help.signal"), req.t("help.ack"), req.t("help.deadlines"),
                  req.t("help.done")]
    if roles:
        lines += [req.t("help.view"), req.t("help.summary"), req.t("help.meeting"),
                  req.t("help.dossier")]
    if any(r is not Role.TENANT for r in roles):
        lines.append(req.t("help.note"))
    if any(r in (Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY) for r in roles):
        lines += [req.t("help.evidence"), req.t("help.attach")]
    if any(r in CARE_TEAM or r is Role.LANDLORD for r in roles):
        lines.append(req.t("help.export"))
    if any(r in CARE_TEAM for r in roles):
        lines.append(req.t("help.release_judge"))
    if Role.TENANT in roles:
        lines.append(req.t("help.report"))
    if any(r in CARE_TEAM for r in roles):
        lines += [req.t("help.window"), req.t("help.pause"), req.t("help.reason"),
                  req.t("help.away"),
                  req.t("help.release"), req.t("help.digest")]
    # the complaint procedure (handlers/complaints.py)
    if Role.LANDLORD in roles:
        lines += [req.t("help.complaint"), req.t("help.contact"), req.t("help.letter")]
    if any(r in CARE_TEAM for r in roles):
        lines += [req.t("help.handling"), req.t("help.assess"), req.t("help.noise"),
                  req.t("help.ask"), req.t("help.intervention"), req.t("help.mediation")]
    if any(r in (Role.LANDLORD, Role.POLICE, Role.MUNICIPALITY) for r in roles):
        lines.append(req.t("help.answer"))
    if any(r in CARE_TEAM or r is Role.LANDLORD for r in roles):
        lines += [req.t("help.complaints"), req.t("help.resolved_nuisance")]
    if roles:
        lines += [req.t("help.tasks"), req.t("help.task_done")]
    if roles:
        lines.append(req.t("help.quiet"))
    lines += _trajectory_help(req, roles)
    lines += [req.t("help.cases"), req.t("help.status"), req.t("help.start"),
              req.t("help.language"), req.t("help.mydata"), req.t("help.forget")]
    if me.is_coordinator:
        lines.append(req.t("help.evaluation_report"))
        lines.append(req.t("help.roles_list", roles=", ".join(
            f"{r.value} ({i18n.role_name(req.lang, r)})" for r in Role)))
    if roles:
        kinds: list[SignalKind] = list(dict.fromkeys(k for r in roles for k in kinds_for(r)))
        lines.append(req.t("help.kinds_list", kinds=", ".join(
            f"{k.value} ({i18n.kind_name(req.lang, k)})" for k in kinds)))
    req.reply("\n".join(lines))


def _trajectory_help(req: Request, roles: list[Role]) -> list[str]:
    """The trajectory's, rent arrears' and reflection's commands, for the roles that use
    them (handlers/trajectories.py)."""
    from bot.domain import trajectory  # noqa: PLC0415
    from bot.services import reflection  # noqa: PLC0415

    held = set(roles)
    lines = []
    if held & (trajectory.PROPOSERS | trajectory.AGREEMENT_WRITERS | trajectory.EVALUATORS
               | trajectory.CONSENT_RECORDERS | {Role.MUNICIPALITY}):
        lines.append(req.t("help.trajectory"))
    if held & trajectory.CONSENT_RECORDERS:
        lines.append(req.t("help.consent"))
    if held & trajectory.AGREEMENT_WRITERS:
        lines.append(req.t("help.agreement"))
    if held & trajectory.EVALUATORS:
        lines.append(req.t("help.evaluate"))
    if held & reflection.ROLES:
        lines.append(req.t("help.reflect"))
    if Role.LANDLORD in held:
        lines.append(req.t("help.judgment"))
    return lines
