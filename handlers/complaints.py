"""Commands of the complaint procedure: parse, call one service (``bot/services/complaints.py``),
format the reply. The landlord's intake is a guided conversation (``/klacht``) or one line
(``/klacht <zaak> <soort> | <gebeurd> | <ontvangen> | <klager> | <beschrijving>``)."""

from __future__ import annotations

from bot import i18n
from bot.domain import arguments, errors
from bot.domain import complaint as rules
from bot.domain.complaint_commands import (
    AnswerCheck,
    AskForNewReports,
    AskWhetherResolved,
    AssessComplaint,
    CompleteTask,
    MarkNuisanceResolved,
    RecordComplainantContact,
    RecordComplaint,
    RecordHandling,
    RecordIntervention,
    RecordLetter,
    ReferToMediation,
    RequestNoiseMeasurement,
)
from bot.domain.model import Role, normalise_word, parse_role
from bot.services import complaints, complaints_intake, conversations
from bot.services import complaints_render as show
from bot.services.cases import normalise_case_code
from handlers.commands import Request, UsageError, one_case


def _say(req: Request, said: list[conversations.Said]) -> None:
    for one in said:
        req.reply(one.text, one.choices, one.kind)


def complaint_number(req: Request, args: list[str], usage_key: str) -> int:
    """A complaint's number: 'K3', 'k3', '#3', '3'."""
    if not args:
        raise UsageError(usage=req.t(usage_key))
    return arguments.record_number(args[0], req.t(usage_key), prefixes="Kk#")


def _rest_after(req: Request, words: int) -> str:
    """The free text after the first ``words`` words, as typed."""
    parts = req.rest.split(None, words)
    return parts[words] if len(parts) > words else ""


async def cmd_complaint(req: Request, args: list[str]) -> None:
    """Record a complaint (landlord): a guided conversation, or one line with '|'."""
    me = req.me
    if "|" not in req.rest:
        if len(args) > 1:
            raise UsageError(usage=req.t("usage.complaint"))
        try:
            said = await conversations.start(
                conversations.StartConversation(me.id, complaints_intake.NAME,
                                                args[0] if args else None), req.uow, req.ctx)
        except conversations.WhichCase as which:
            req.reply(req.t("conversation.which_case"),
                      [(code, req.t("command.complaint_case", code=code))
                       for code in which.codes])
            return
        _say(req, said)
        return
    head, *fields = (part.strip() for part in req.rest.split("|"))
    words = head.split()
    if len(fields) != 4 or not words:
        raise UsageError(usage=req.t("usage.complaint"))
    if len(words) == 1:
        case_code = await one_case(req, [], "usage.complaint")
        kind_text = words[0]
    elif len(words) == 2 and normalise_case_code(words[0]) is not None:
        case_code, kind_text = words
    else:
        raise UsageError(usage=req.t("usage.complaint"))
    happened, received, complainant, description = fields
    recorded = await complaints.record_complaint(RecordComplaint(
        person_id=me.id, case_code=case_code, kind_text=kind_text, happened_text=happened,
        received_text=received, complainant_text=complainant, description=description),
        req.uow, req.ctx)
    req.reply(complaints_intake.recorded_text(req.lang, recorded))


async def cmd_complaints(req: Request, args: list[str]) -> None:
    """The complaints and letters of a case: /klachten [zaak]."""
    code = await one_case(req, args, "usage.complaints")
    code, lines = await complaints.list_complaints(req.me.id, code, req.uow, req.ctx)
    req.reply("\n".join([req.t("complaint.list_header", code=code, count=len(lines)), *lines]))


async def cmd_handling(req: Request, args: list[str]) -> None:
    """Action 1 (care team): /aanpak K<nr> <how it will be handled>."""
    number = complaint_number(req, args, "usage.handling")
    done = await complaints.record_handling(
        RecordHandling(req.me.id, number, _rest_after(req, 1)), req.uow, req.ctx)
    req.reply(req.t("complaint.handling_done", number=number, code=done.case_code))


async def cmd_contact(req: Request, args: list[str]) -> None:
    """The landlord let the complainant know: /klagercontact K<nr>."""
    number = complaint_number(req, args, "usage.contact")
    done = await complaints.record_contact(RecordComplainantContact(req.me.id, number),
                                           req.uow, req.ctx)
    req.reply(req.t("complaint.contact_done", number=number, code=done.case_code))


def _flag(req: Request, word: str, yes: tuple[str, ...], no: tuple[str, ...]) -> bool:
    value = rules.parse_yes_no(word, yes, no)
    if value is None:
        raise UsageError(usage=req.t("usage.assess"))
    return value


async def cmd_assess(req: Request, args: list[str]) -> None:
    """Action 2 (care team): /beoordeling K<nr> bewust|onbewust terecht|onterecht (tenant)
    terecht|onterecht (coach) [toelichting]."""
    number = complaint_number(req, args, "usage.assess")
    if len(args) < 4:
        raise UsageError(usage=req.t("usage.assess"))
    conscious = _flag(req, args[1], rules.CONSCIOUS_WORDS, rules.UNCONSCIOUS_WORDS)
    tenant = _flag(req, args[2], rules.JUSTIFIED_WORDS, rules.UNJUSTIFIED_WORDS)
    coach = _flag(req, args[3], rules.JUSTIFIED_WORDS, rules.UNJUSTIFIED_WORDS)
    result = await complaints.assess(AssessComplaint(
        req.me.id, number, conscious, tenant, coach, _rest_after(req, 4) or None),
        req.uow, req.ctx)
    lines = [req.t("complaint.assessed", number=number, code=result.case_code,
                   cell=show.cell_name(req.lang, result.cell))]
    lines += [show.task_line(req.lang, t, result.case_code) for t in result.tasks]
    if result.n6 is not None:
        lines.append(req.t("complaint.n6_opened", window=result.n6.id,
                           due=i18n.when(req.lang, result.n6.due_at)))
    if result.ladder_after is not None:
        lines.append(req.t("ladder.proposed", earlier=result.ladder_after.id))
    req.reply("\n".join(lines))


async def cmd_noise(req: Request, args: list[str]) -> None:
    """Ask the landlord for a noise measurement (care team): /geluidsmeting K<nr>."""
    number = complaint_number(req, args, "usage.noise")
    task = await complaints.request_noise_measurement(
        RequestNoiseMeasurement(req.me.id, number), req.uow, req.ctx)
    req.reply(req.t("complaint.noise_done", number=number, task=task.id))


async def cmd_ask(req: Request, args: list[str]) -> None:
    """The four-week check (N5): /navraag K<nr>; the six-week question (N6): /navraag K<nr> 6."""
    number = complaint_number(req, args, "usage.ask")
    six = len(args) > 1 and arguments.clean(args[1]).lower() in ("6", "zes", "six", "n6")
    if len(args) > 1 and not six:
        raise UsageError(usage=req.t("usage.ask"))
    if six:
        asked = await complaints.ask_whether_resolved(AskWhetherResolved(req.me.id, number),
                                                      req.uow, req.ctx)
    else:
        asked = await complaints.ask_for_new_reports(AskForNewReports(req.me.id, number),
                                                     req.uow, req.ctx)
    req.reply(req.t("check.asked", number=number, code=asked.case_code,
                    roles=i18n.role_list(req.lang, asked.roles)))


#: what a partner types as an answer, by the stored answer
ANSWER_WORDS = {
    "none": ("geen", "none", "nee", "no", "geen_nieuwe"),
    "new": ("nieuw", "nieuwe", "new", "ja", "yes"),
    "resolved": ("opgelost", "resolved"),
    "unresolved": ("niet_opgelost", "niet", "unresolved", "not_resolved"),
}


async def cmd_answer(req: Request, args: list[str]) -> None:
    """Answer the four- or six-week question: /antwoord K<nr> geen|nieuw|opgelost|niet."""
    number = complaint_number(req, args, "usage.answer")
    word = normalise_word(" ".join(args[1:])) if len(args) > 1 else ""
    answer = next((a for a, words in ANSWER_WORDS.items() if word in words), None)
    if answer is None:
        raise UsageError(usage=req.t("usage.answer"))
    result = await complaints.answer_check(AnswerCheck(req.me.id, number, answer), req.uow,
                                           req.ctx)
    req.reply(req.t("check.answer_done", number=number, code=result.case_code,
                    answer=show.answer_name(req.lang, answer)))


async def cmd_resolved(req: Request, args: list[str]) -> None:
    """Mark the nuisance resolved (landlord, care team): /opgelost [zaak]."""
    code = await one_case(req, args, "usage.resolved_nuisance")
    result = await complaints.mark_resolved(MarkNuisanceResolved(req.me.id, code), req.uow,
                                            req.ctx)
    key = "resolved.done_both" if result.resolved else "resolved.done_one"
    req.reply(req.t(key, code=result.case_code))


#: the words of a letter's marks, by the command's field
LETTER_WORDS = {
    "registered": ("aangetekend", "registered"),
    "signed_seen": ("voorgezien", "voor_gezien", "getekend", "signed"),
    "legal_advice": ("juridisch", "juridisch_advies", "legal", "legal_advice"),
    "copy_landlord_file": ("kopie_verhuurder", "copy_landlord"),
    "copy_care_file": ("kopie_zorg", "kopie_zorgdossier", "copy_care"),
    "copies": ("kopieen", "kopie", "copies"),
    "advice_police": ("advies_politie", "politie_advies", "police_advice"),
    "advice_on_call": ("advies_bereikbaar", "bereikbare_dienst", "on_call"),
    "agreements_broken": ("afspraken", "afspraken_geschonden", "agreements_broken"),
}
CONSULTED = ("overleg:", "consulted:")


async def cmd_letter(req: Request, args: list[str]) -> None:
    """Record a letter of the ladder: /brief <zaak> <actie 3-6> <datum> [marks] [overleg:rol,rol]
    [| toelichting]."""
    head, _, note = req.rest.partition("|")
    words = head.split()
    if words and normalise_case_code(words[0]) is None:
        words = [await one_case(req, [], "usage.letter"), *words]
    if len(words) < 3:
        raise UsageError(usage=req.t("usage.letter"))
    code, action_text, *rest = words
    try:
        action = arguments.record_number(action_text, req.t("usage.letter"))
    except errors.DomainError:
        raise complaints.UnknownAction(given=action_text) from None
    sent = [rest.pop(0)] if rest else []
    if rest and rules.TIME_OF_DAY.fullmatch(rest[0]):  # a date with a time
        sent.append(rest.pop(0))
    marks: dict[str, bool] = {}
    consulted: list[Role] = []
    for word in rest:
        lowered = word.lower()
        prefix = next((p for p in CONSULTED if lowered.startswith(p)), None)
        if prefix is not None:
            for name in word[len(prefix):].split(","):
                role = parse_role(name) if name else None
                if role is None:
                    raise errors.UnknownRole(given=name, choices=tuple(Role))
                consulted.append(role)
            continue
        field = next((f for f, w in LETTER_WORDS.items() if normalise_word(word) in w), None)
        if field is None:
            raise UsageError(usage=req.t("usage.letter"))
        if field == "copies":
            marks["copy_landlord_file"] = marks["copy_care_file"] = True
        else:
            marks[field] = True
    result = await complaints.record_letter(RecordLetter(
        person_id=req.me.id, case_code=code, action=action, sent_text=" ".join(sent),
        consulted=tuple(dict.fromkeys(consulted)), note=note.strip() or None, **marks),
        req.uow, req.ctx)
    text = req.t("letter.done", code=result.case_code) + "\n" + show.letter_line(
        req.lang, req.ctx.privacy, [Role.LANDLORD, Role.COACH], result.letter)
    text += show.letter_reminders(req.lang, result.letter)
    if result.conditions is not None:
        text += "\n" + show.court_conditions(req.lang, result.conditions)
    req.reply(text)


async def cmd_intervention(req: Request, args: list[str]) -> None:
    """Record an intervention 1-4 (care team): /interventie [zaak] <1-4> [| toelichting]."""
    head, _, note = req.rest.partition("|")
    words = head.split()
    if words and normalise_case_code(words[0]) is None:
        words = [await one_case(req, [], "usage.intervention"), *words]
    if len(words) != 2:
        raise UsageError(usage=req.t("usage.intervention"))
    result = await complaints.record_intervention(RecordIntervention(
        req.me.id, words[0], arguments.clean(words[1]), note.strip() or None), req.uow,
        req.ctx)
    req.reply(req.t("intervention.done", code=result.case_code,
                    kind=req.t(f"intervention.kind.{result.kind}")))


CONSENT_WORDS = {"tenant": ("deelnemer", "tenant"), "complainant": ("klager", "complainant")}


async def cmd_mediation(req: Request, args: list[str]) -> None:
    """Refer to neighbour mediation with both parties' consent (care team):
    /bemiddeling [zaak] toestemming deelnemer klager [| toelichting]."""
    head, _, note = req.rest.partition("|")
    words = head.split()
    if words and normalise_case_code(words[0]) is None:
        words = [await one_case(req, [], "usage.mediation"), *words]
    if not words:
        raise UsageError(usage=req.t("usage.mediation"))
    given = {normalise_word(w) for w in words[1:]}
    tenant = bool(given & set(CONSENT_WORDS["tenant"]))
    complainant = bool(given & set(CONSENT_WORDS["complainant"]))
    result = await complaints.refer_to_mediation(ReferToMediation(
        req.me.id, words[0], tenant, complainant, note.strip() or None), req.uow, req.ctx)
    req.reply(req.t("mediation.done", code=result.case_code))


async def cmd_tasks(req: Request, args: list[str]) -> None:
    """My open tasks: /taken [zaak]."""
    result = await complaints.list_tasks(req.me.id, args[0] if args else None, req.uow,
                                         req.ctx)
    if not result.lines:
        req.reply(req.t("task.none"))
        return
    req.reply("\n".join([req.t("task.header", count=len(result.lines)), *result.lines]))


async def cmd_task_done(req: Request, args: list[str]) -> None:
    """Mark a task done: /taakgedaan <nr>."""
    if not args:
        raise UsageError(usage=req.t("usage.task_done"))
    number = arguments.record_number(args[0], req.t("usage.task_done"), prefixes="Aa#")
    task = await complaints.complete_task(CompleteTask(req.me.id, number), req.uow, req.ctx)
    req.reply(req.t("task.done", number=task.id, what=req.t(f"task.{task.kind}")))
