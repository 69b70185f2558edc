"""From an incoming message to a service call and replies, in one unit of work.

The command table is the one place that names the commands (Dutch, with English aliases;
``bot/domain/choices.py`` writes the few that choices stand for, checked against it by a test).
A pick (a button, a typed number, a reaction: ``Incoming.choice_index``) is resolved through
the choices stored with the message (``bot/services/choices.py``) and carried out as its
command, or as the answer to a guided conversation; a pick among several then closes the list.
A domain error becomes a clear answer in the person's language, and nothing of the failed
attempt is kept; an unexpected error is logged without content and answered likewise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot import i18n, metrics
from bot.domain import errors
from bot.domain.choices import Action
from bot.domain.commands import NoteChatMembers
from bot.domain.model import Norm, Role, SignalKind, WindowStatus
from bot.persistence.uow import UnitOfWork
from bot.services import chats, choices, inbox
from bot.services.cases import join_spaced_codes
from bot.services.context import ServiceContext
from bot.transports.base import Audience, Incoming
from handlers import (
    clocks,
    commands,
    complaints,
    dossier,
    groups,
    needtoknow,
    privacy,
    trajectories,
)
from handlers.commands import Reply, Request

log = logging.getLogger(__name__)

Handler = Callable[[Request, list[str]], Awaitable[None]]

#: command word → handler; the first word of each pair is the Dutch name
COMMANDS: dict[str, Handler] = {
    "start": commands.cmd_start,
    "nieuwezaak": commands.cmd_newcase, "newcase": commands.cmd_newcase,
    "uitnodigen": commands.cmd_invite, "invite": commands.cmd_invite,
    "signaal": commands.cmd_signal, "signal": commands.cmd_signal,
    "ok": commands.cmd_ack, "ack": commands.cmd_ack,
    "zaken": commands.cmd_cases, "cases": commands.cmd_cases,
    "status": commands.cmd_status,
    "taal": commands.cmd_language, "language": commands.cmd_language,
    "help": commands.cmd_help, "hulp": commands.cmd_help,
    "termijnen": clocks.cmd_deadlines, "deadlines": clocks.cmd_deadlines,
    "gedaan": clocks.cmd_done, "done": clocks.cmd_done,
    "termijn": clocks.cmd_window, "window": clocks.cmd_window,
    "pauzeer": clocks.cmd_pause, "pause": clocks.cmd_pause,
    "hervat": clocks.cmd_resume, "resume": clocks.cmd_resume,
    "verleng": clocks.cmd_extend, "extend": clocks.cmd_extend,
    "reden": clocks.cmd_reason, "reason": clocks.cmd_reason,
    "afwezig": clocks.cmd_away, "away": clocks.cmd_away,
    "terug": clocks.cmd_back, "back": clocks.cmd_back,
    "stil": clocks.cmd_quiet, "quiet": clocks.cmd_quiet,
    "toelichting": needtoknow.cmd_note, "note": needtoknow.cmd_note,
    "bekijk": needtoknow.cmd_view, "view": needtoknow.cmd_view,
    "vrijgeven": needtoknow.cmd_release, "release": needtoknow.cmd_release,
    "afgehandeld": needtoknow.cmd_resolve, "resolved": needtoknow.cmd_resolve,
    "melden": needtoknow.cmd_report, "report": needtoknow.cmd_report,
    "annuleer": needtoknow.cmd_cancel, "cancel": needtoknow.cmd_cancel,
    "samenvatting": needtoknow.cmd_summary, "summary": needtoknow.cmd_summary,
    "overleg": needtoknow.cmd_meeting, "meeting": needtoknow.cmd_meeting,
    "dossier": needtoknow.cmd_dossier, "file": needtoknow.cmd_dossier,
    "vergeetmij": privacy.cmd_forget_me, "forgetme": privacy.cmd_forget_me,
    "overzicht": needtoknow.cmd_digest, "digest": needtoknow.cmd_digest,
    "koppel": groups.cmd_link, "link": groups.cmd_link,
    "ontkoppel": groups.cmd_unlink, "unlink": groups.cmd_unlink,
    "sluitzaak": privacy.cmd_close_case, "closecase": privacy.cmd_close_case,
    "toegangslog": privacy.cmd_access_log, "accesslog": privacy.cmd_access_log,
    "mijngegevens": privacy.cmd_my_data, "mydata": privacy.cmd_my_data,
    # trajectories (the last chance, the breakthrough track), rent arrears, reflection, the
    # evaluation report (handlers/trajectories.py)
    "traject": trajectories.cmd_trajectory, "trajectory": trajectories.cmd_trajectory,
    "instemming": trajectories.cmd_consent, "consent": trajectories.cmd_consent,
    "afspraak": trajectories.cmd_agreement, "agreement": trajectories.cmd_agreement,
    "huurcontract": trajectories.cmd_lease, "lease": trajectories.cmd_lease,
    "evaluatie": trajectories.cmd_evaluate, "evaluate": trajectories.cmd_evaluate,
    "trajectsluiten": trajectories.cmd_close_trajectory,
    "closetrajectory": trajectories.cmd_close_trajectory,
    "reflectie": trajectories.cmd_reflect, "reflect": trajectories.cmd_reflect,
    "vonnis": trajectories.cmd_judgment, "judgment": trajectories.cmd_judgment,
    "evaluatierapport": trajectories.cmd_evaluation_report,
    "evaluationreport": trajectories.cmd_evaluation_report,
    # the complaint procedure (handlers/complaints.py)
    "klacht": complaints.cmd_complaint, "complaint": complaints.cmd_complaint,
    "klachten": complaints.cmd_complaints, "complaints": complaints.cmd_complaints,
    "aanpak": complaints.cmd_handling, "handling": complaints.cmd_handling,
    "klagercontact": complaints.cmd_contact, "contact": complaints.cmd_contact,
    "beoordeling": complaints.cmd_assess, "assess": complaints.cmd_assess,
    "geluidsmeting": complaints.cmd_noise, "noisemeasurement": complaints.cmd_noise,
    "navraag": complaints.cmd_ask, "check": complaints.cmd_ask,
    "antwoord": complaints.cmd_answer, "answer": complaints.cmd_answer,
    "opgelost": complaints.cmd_resolved, "fixed": complaints.cmd_resolved,
    "brief": complaints.cmd_letter, "letter": complaints.cmd_letter,
    "interventie": complaints.cmd_intervention, "intervention": complaints.cmd_intervention,
    "bemiddeling": complaints.cmd_mediation, "mediation": complaints.cmd_mediation,
    "taken": complaints.cmd_tasks, "tasks": complaints.cmd_tasks,
    "taakgedaan": complaints.cmd_task_done, "taskdone": complaints.cmd_task_done,
    # the nuisance file (handlers/dossier.py)
    "bewijs": dossier.cmd_evidence, "evidence": dossier.cmd_evidence,
    "bijlage": dossier.cmd_attach, "attach": dossier.cmd_attach,
    "vrijgevenrechter": dossier.cmd_release_judge, "releasejudge": dossier.cmd_release_judge,
    "overlastdossier": dossier.cmd_export, "nuisancefile": dossier.cmd_export,
}

#: the commands that work in a group; the bot ignores everything else said there, and any
#: refusal in a group goes unanswered (the bot does not chatter in groups)
GROUP_COMMANDS = frozenset({"koppel", "link", "ontkoppel", "unlink"})


class UnknownCommand(errors.DomainError):
    key = "error.unknown_command"


class NotACommand(errors.DomainError):
    key = "error.not_a_command"


def parse_command(text: str) -> tuple[str, str] | None:
    """'/signaal@KorteLijnBot Z-7K3M huur' → ('signaal', 'Z-7K3M huur')."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    word = head.split("@", 1)[0].lower()
    return word, rest.strip()


def format_args(lang: str, args: dict[str, Any]) -> dict[str, str]:
    """Error arguments in the person's language: roles, kinds and moments by name."""
    out: dict[str, str] = {}
    for key, value in args.items():
        if isinstance(value, Role):
            out[key] = i18n.role_name(lang, value)
        elif isinstance(value, Norm):
            out[key] = f"{value.value} ({i18n.t(lang, f'norm.{value.value}')})"
        elif isinstance(value, SignalKind):
            out[key] = i18n.kind_name(lang, value)
        elif isinstance(value, WindowStatus):
            out[key] = i18n.t(lang, f"window.state.{value.value}")
        elif isinstance(value, datetime):
            out[key] = i18n.when(lang, value)
        elif isinstance(value, errors.MessageKey):
            out[key] = i18n.t(lang, value)
        elif isinstance(value, errors.RoleNames):
            out[key] = i18n.role_list(lang, value)
        elif isinstance(value, tuple | list):
            out[key] = ", ".join(
                f"{v.value} ({i18n.role_name(lang, v)})" if isinstance(v, Role)
                else f"{v.value} ({i18n.kind_name(lang, v)})" if isinstance(v, SignalKind)
                else f"{v.value} ({i18n.t(lang, f'norm.{v.value}')})" if isinstance(v, Norm)
                else str(v) for v in value)
        else:
            out[key] = "?" if value is None else printable(str(value)) \
                if key in MADE_BY_THE_BOT else shown(str(value))
    return out


#: error arguments the bot makes itself (a usage line, the words or numbers accepted, examples),
#: never what was typed: shown whole, since they say what is accepted
MADE_BY_THE_BOT = frozenset({"usage", "choices", "examples", "accepted", "valid"})

#: how much of what a person typed an error message repeats
SHOWN_LIMIT = 40


def printable(made: str) -> str:
    """What the bot made itself, whole, but printable: it may hold people's names (a list of
    choices), and a name from a chat profile may carry control or direction characters."""
    return "".join(c if c.isprintable() or c == "\n" else " " for c in made).strip()


def shown(given: str) -> str:
    """What a person typed, as an answer may repeat it: printable, and short."""
    cleaned = printable(given.replace("\n", " "))
    return cleaned if len(cleaned) <= SHOWN_LIMIT else cleaned[:SHOWN_LIMIT] + "…"


#: asks a transport who is in a group: ``(transport, chat id) → Audience`` (``None`` when the
#: transport cannot tell)
AudienceLookup = Callable[[str, str], Awaitable[Audience | None]]

#: group commands after which the bot counts the group's members again
COUNTING_COMMANDS = frozenset({"koppel", "link"})


class Dispatcher:
    def __init__(self, new_uow: Callable[[], UnitOfWork], ctx: ServiceContext, *,
                 coordinators: set[tuple[str, str]], default_language: str = "nl",
                 on_committed: Callable[[UnitOfWork], None] | None = None,
                 audience: AudienceLookup | None = None) -> None:
        self._new_uow = new_uow
        self._ctx = ctx
        self._coordinators = coordinators
        self._default_language = default_language
        self._on_committed = on_committed or (lambda _uow: None)
        self._audience = audience

    async def handle(self, incoming: Incoming) -> None:
        # what is composed while handling it is for now: a date this year leaves the year out
        with i18n.as_of(self._ctx.clock.now()):
            if incoming.event != "message":
                await self._membership(incoming)
                return
            await self._handle(incoming)

    async def _handle(self, incoming: Incoming) -> None:
        lang = i18n.language_of(incoming.language_hint, self._default_language)
        person_id: int | None = None
        try:
            async with self._new_uow() as uow:
                sender = await inbox.admit(
                    uow, self._ctx, transport=incoming.transport, address=incoming.sender_id,
                    name=incoming.sender_name, language=lang, update_key=incoming.update_key,
                    coordinator=(incoming.transport, incoming.sender_id) in self._coordinators)
                if sender.seen:
                    log.info("update from %s seen before; skipped", incoming.transport)
                    metrics.update_handled(incoming.transport, "duplicate")
                    return
                person = sender.person
                if person is not None:
                    lang, person_id = person.language, person.id
                parsed = parse_command(incoming.text)
                if incoming.is_group and person is not None:
                    await inbox.note_writer(uow, self._ctx, incoming.transport,
                                            incoming.chat_id, incoming.sender_id)
                if incoming.is_group and (parsed is None or parsed[0] not in GROUP_COMMANDS):
                    await uow.commit()  # silent in groups; who writes there is remembered
                    metrics.update_handled(incoming.transport, "handled")
                    return
                if person is None and (parsed is None or parsed[0] != "start"):
                    raise errors.NotInvited()
                word, rest = parsed if parsed is not None else ("", incoming.text)
                if parsed is not None:
                    rest = join_spaced_codes(rest)  # codes as read aloud: "z 7k3m"
                picked = await self._pick(uow, incoming)
                if picked is not None and picked.choice.action != Action.ANSWER:
                    # a picked choice is carried out as its command, as if typed
                    chosen = parse_command(picked.choice.command)
                    if chosen is None or chosen[0] not in COMMANDS:
                        raise choices.ChoiceGone()
                    parsed, (word, rest) = chosen, chosen
                req = Request(incoming=incoming, uow=uow, ctx=self._ctx, person=person,
                              lang=lang, rest=rest)
                if picked is not None and picked.choice.action == Action.ANSWER:
                    await needtoknow.answer_pick(req, picked.choice.subject_id or 0,
                                                 picked.choice.value or "")
                elif parsed is None:
                    # plain text: the next answer of a guided conversation, if one runs
                    if not await needtoknow.answer(req):
                        raise NotACommand()
                else:
                    handler = COMMANDS.get(word)
                    if handler is None:
                        raise UnknownCommand(command="/" + word)
                    await handler(req, rest.split())
                person_id = req.person.id if req.person else None
                if picked is not None and picked.among_several:
                    # the list closes first, then come the answers (a number typed next
                    # refers to them, not to the closed list)
                    await choices.show_picked(picked, uow, self._ctx.clock.now())
                for reply in req.replies:
                    await self._answer(uow, incoming, reply, person_id)
                await uow.commit()
            self._on_committed(uow)
            metrics.update_handled(incoming.transport, "handled")
            if incoming.is_group and parsed is not None and parsed[0] in COUNTING_COMMANDS:
                await self._count(incoming)
        except errors.DomainError as error:
            metrics.update_handled(incoming.transport, "refused")
            if incoming.is_group:
                await self._stay_silent(incoming)
                return
            text = i18n.t(lang, error.key, **format_args(lang, error.args_for_message))
            await self._answer_alone(incoming, text, person_id)
        except Exception:
            # no content in the log: only what kind of message failed
            log.exception("handling a message from %s failed", incoming.transport)
            metrics.update_handled(incoming.transport, "error")
            await self._answer_alone(incoming, i18n.t(lang, "error.internal"), person_id)

    async def _membership(self, incoming: Incoming) -> None:
        """A group's members changed (the network said so): note who, and count again."""
        member = (incoming.member_id,) if incoming.member_id else ()
        joined = member if incoming.event == "member_joined" else ()
        left = member if incoming.event == "member_left" else ()
        await self._count(incoming, joined=joined, left=left)

    async def _count(self, incoming: Incoming, *, joined: tuple[str, ...] = (),
                     left: tuple[str, ...] = ()) -> None:
        """Ask the transport who is in the group, and store it with the shared chat."""
        audience = None
        if self._audience is not None:
            try:
                audience = await self._audience(incoming.transport, incoming.chat_id)
            except Exception:
                # unknown then: the stored count stays, and a chat never counted holds a
                # stranger
                log.warning("could not count the members of a group on %s",
                            incoming.transport)
        command = NoteChatMembers(
            transport=incoming.transport, address=incoming.chat_id, joined=joined, left=left,
            listed=tuple(sorted(audience.member_ids))
            if audience is not None and audience.member_ids else None,
            total=audience.total if audience is not None else None,
            counted=audience is not None,
            followed=audience.followed if audience is not None else False)
        try:
            async with self._new_uow() as uow:
                if incoming.update_key is not None and await uow.updates.seen(
                        incoming.transport, incoming.update_key):
                    return
                await inbox.record_update(uow, self._ctx, incoming.transport,
                                          incoming.update_key)
                await chats.note_members(command, uow, self._ctx)
                await uow.commit()
        except Exception:
            log.exception("could not record a change of members on %s", incoming.transport)

    async def _answer(self, uow: UnitOfWork, incoming: Incoming, reply: Reply,
                      person_id: int | None) -> None:
        await inbox.queue_reply(uow, self._ctx, transport=incoming.transport,
                                chat_id=incoming.chat_id, text=reply.text,
                                choices=reply.choices, person_id=person_id,
                                # on Matrix every answer is a reply (m.in_reply_to)
                                reply_to=incoming.message_id
                                if incoming.is_group or incoming.transport == "matrix"
                                else None,
                                kind=reply.kind)

    async def _pick(self, uow: UnitOfWork, incoming: Incoming) -> choices.ChoicePicked | None:
        """A button, a typed number or a reaction: the stored choice it picks (once)."""
        if not incoming.is_choice or incoming.choice_index is None:
            return None
        return await choices.pick(choices.PickChoice(
            transport=incoming.transport, chat_id=incoming.chat_id,
            index=incoming.choice_index, outbox_id=incoming.choice_outbox_id,
            message_id=incoming.choice_message_id), uow, self._ctx.clock.now())

    async def _stay_silent(self, incoming: Incoming) -> None:
        """A refusal in a group: no answer; only remember the update as handled (raises when
        that fails, so the transport does not confirm the update and it comes again)."""
        if incoming.update_key is None:
            return
        try:
            async with self._new_uow() as uow:
                await inbox.record_update(uow, self._ctx, incoming.transport,
                                          incoming.update_key)
                await uow.commit()
        except Exception:
            log.exception("could not record an update from %s", incoming.transport)
            raise

    async def _answer_alone(self, incoming: Incoming, text: str, person_id: int | None
                            ) -> None:
        """Answer in a fresh transaction: whatever the failed attempt wrote is gone. When even
        that fails, an update the network may deliver again (``update_key``) is not recorded:
        raise, so the transport does not confirm it and it is handled when it comes again."""
        try:
            async with self._new_uow() as uow:
                await inbox.record_update(uow, self._ctx, incoming.transport,
                                          incoming.update_key)
                await self._answer(uow, incoming, Reply(text), person_id)
                await uow.commit()
            self._on_committed(uow)
        except Exception:
            log.exception("could not queue an answer on %s", incoming.transport)
            if incoming.update_key is not None:
                raise
