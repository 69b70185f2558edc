"""Commands of a trajectory (the last chance, the breakthrough track), of rent arrears (an
eviction judgment), of reflection and of the evaluation report. Each parses, calls one service
and formats its result."""

from __future__ import annotations

from bot import i18n
from bot.domain.trajectory import (
    CloseTrajectory,
    EvaluateTrajectory,
    LinkLease,
    ProposeTrajectory,
    RecordAgreement,
    RecordConsent,
    StartTrajectory,
    parse_closure,
    parse_kind,
    parse_outcome,
)
from bot.i18n.keys import N_
from bot.services import cases, conversations, reflection, rent_arrears, trajectories
from bot.services.trajectories import TrajectoryChanged
from handlers.commands import CoordinatorOnly, Request, UsageError, my_case_codes
from handlers.needtoknow import _say

#: words that mean "the tenant acknowledges the nuisance" after /instemming
ACKNOWLEDGED = frozenset({"erkend", "erkenning", "erkent", "acknowledged", "acknowledges"})
START_WORDS = frozenset({"start", "begin"})
#: the answers after a change, picked by the command (``_changed``)
_ANSWERS = (N_("trajectory.proposed"), N_("trajectory.consent_done"),
            N_("trajectory.agreement_done"), N_("trajectory.lease_done"),
            N_("trajectory.start_done"))
#: the command menu's descriptions (handlers/menu.py), one per Dutch command word
_MENU = (N_("menu.traject"), N_("menu.instemming"), N_("menu.afspraak"), N_("menu.huurcontract"),
         N_("menu.evaluatie"), N_("menu.trajectsluiten"), N_("menu.reflectie"),
         N_("menu.vonnis"), N_("menu.evaluatierapport"))


async def _case_and_rest(req: Request, usage_key: str) -> tuple[str, str]:
    """The case named first, or my only case; and the rest of the line as typed."""
    words = req.rest.split(None, 1)
    if words and cases.normalise_case_code(words[0]) is not None:
        return words[0], words[1] if len(words) > 1 else ""
    codes = await my_case_codes(req)
    if len(codes) == 1:
        return codes[0], req.rest.strip()
    raise UsageError(usage=req.t(usage_key))


def _changed(req: Request, key: str, changed: TrajectoryChanged) -> None:
    text = req.t(key, code=changed.case_code,
                 kind=trajectories.kind_name(req.lang, changed.trajectory))
    if changed.started is not None:
        text += "\n" + req.t("trajectory.started", window=changed.started.id,
                             due=i18n.when(req.lang, changed.started.due_at))
    elif changed.missing:
        text += "\n" + req.t("trajectory.still_missing",
                             missing=trajectories.missing_text(req.lang, changed.missing))
    req.reply(text)


async def cmd_trajectory(req: Request, args: list[str]) -> None:
    """/traject [zaak] [laatstekans|doorbraak|start]: see it, propose one, or start it."""
    code, rest = await _case_and_rest(req, "trajectory.usage.trajectory")
    word = rest.split()[0] if rest.split() else ""
    if not word:
        req.reply(await trajectories.view_trajectory(req.uow, req.ctx, req.me, code))
        return
    if word.lower() in START_WORDS:
        _changed(req, "trajectory.start_done", await trajectories.start_trajectory(
            StartTrajectory(req.me.id, code), req.uow, req.ctx))
        return
    kind = parse_kind(word)
    if kind is None:
        raise UsageError(usage=req.t("trajectory.usage.trajectory"))
    _changed(req, "trajectory.proposed", await trajectories.propose_trajectory(
        ProposeTrajectory(req.me.id, code, kind), req.uow, req.ctx))


async def cmd_consent(req: Request, args: list[str]) -> None:
    """/instemming [zaak] [erkend]: the tenant's consent (and acknowledgement)."""
    code, rest = await _case_and_rest(req, "trajectory.usage.consent")
    acknowledged = any(w.lower() in ACKNOWLEDGED for w in rest.split())
    _changed(req, "trajectory.consent_done", await trajectories.record_consent(
        RecordConsent(req.me.id, code, acknowledged), req.uow, req.ctx))


async def cmd_agreement(req: Request, args: list[str]) -> None:
    """/afspraak [zaak] <tekst>: the support agreement."""
    code, rest = await _case_and_rest(req, "trajectory.usage.agreement")
    _changed(req, "trajectory.agreement_done", await trajectories.record_agreement(
        RecordAgreement(req.me.id, code, rest), req.uow, req.ctx))


async def cmd_lease(req: Request, args: list[str]) -> None:
    """/huurcontract [zaak] <verwijzing>: the new lease the agreement is part of."""
    code, rest = await _case_and_rest(req, "trajectory.usage.lease")
    _changed(req, "trajectory.lease_done", await trajectories.link_lease(
        LinkLease(req.me.id, code, rest), req.uow, req.ctx))


async def cmd_evaluate(req: Request, args: list[str]) -> None:
    """/evaluatie [zaak] goed|bijsturen|niet_nagekomen [toelichting]."""
    code, rest = await _case_and_rest(req, "trajectory.usage.evaluate")
    words = rest.split(None, 1)
    outcome = parse_outcome(words[0]) if words else None
    if outcome is None:
        raise UsageError(usage=req.t("trajectory.usage.evaluate"))
    done = await trajectories.evaluate_trajectory(
        EvaluateTrajectory(req.me.id, code, outcome, words[1] if len(words) > 1 else None),
        req.uow, req.ctx)
    text = req.t("trajectory.evaluated", code=done.case_code, period=done.period,
                 outcome=req.t(f"trajectory.outcome.{outcome.value}"))
    if done.following is not None:
        text += req.t("trajectory.next_evaluation", window=done.following.id,
                      due=i18n.when(req.lang, done.following.due_at))
    req.reply(text)


async def cmd_close_trajectory(req: Request, args: list[str]) -> None:
    """/trajectsluiten [zaak] positief|negatief [toelichting]; a reflection follows."""
    code, rest = await _case_and_rest(req, "trajectory.usage.close")
    words = rest.split(None, 1)
    closure = parse_closure(words[0]) if words else None
    if closure is None:
        raise UsageError(usage=req.t("trajectory.usage.close"))
    done = await trajectories.close_trajectory(
        CloseTrajectory(req.me.id, code, closure, words[1] if len(words) > 1 else None),
        req.uow, req.ctx)
    req.reply(req.t("trajectory.closed", code=done.case_code,
                    closure=req.t(f"trajectory.closure.{closure.value}")))
    _say(req, [s for s in done.reflection if isinstance(s, conversations.Said)])


async def cmd_reflect(req: Request, args: list[str]) -> None:
    """/reflectie [zaak]: reflect on a closing (also of a closed case)."""
    try:
        said = await reflection.start_reflection(req.me.id, args[0] if args else None,
                                                 req.uow, req.ctx)
    except conversations.WhichCase as which:
        req.reply(req.t("conversation.which_case"),
                  [(code, req.t("command.reflect", code=code)) for code in which.codes])
        return
    _say(req, said)


async def cmd_judgment(req: Request, args: list[str]) -> None:
    """/vonnis [zaak]: the landlord records an eviction judgment (N11: the crisis team)."""
    code, _ = await _case_and_rest(req, "arrears.usage.judgment")
    done = await rent_arrears.record_eviction_judgment(
        rent_arrears.RecordEvictionJudgment(req.me.id, code), req.uow, req.ctx)
    key = "arrears.judgment_done_alerted" if done.crisis_team else (
        "arrears.judgment_done_no_team" if done.missed_rent else "arrears.judgment_done")
    req.reply(req.t(key, code=done.case_code, count=len(done.crisis_team)))


async def cmd_evaluation_report(req: Request, args: list[str]) -> None:
    """/evaluatierapport [jaar]: the report on the cooperation (coordinator), no case content."""
    from bot.services import evaluation_report  # noqa: PLC0415 - fpdf is loaded on demand

    if not req.me.is_coordinator:
        raise CoordinatorOnly()
    made = await evaluation_report.make_on_demand(
        evaluation_report.MakeEvaluationReport(
            req.me.id, args[0] if args else None, transport=req.incoming.transport,
            chat_id=req.incoming.chat_id), req.uow, req.ctx)
    req.reply(req.t("report.eval.sent", start=i18n.when(req.lang, made.report.start),
                    end=i18n.when(req.lang, made.report.end)))
