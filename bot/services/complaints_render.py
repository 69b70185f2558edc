"""Renderings of the complaint procedure for one reader: every notice, question and line about
a complaint, letter or task is made here, for the reader's roles in the case, asking the
privacy policy (``bot/privacy.py``) what each role may see. Nothing else formats them.

Classes (``FIELD_CLASSES``): a complaint's description is ``complaint``, who complained is
``complainant`` (the landlord's alone; the care team learns only that the landlord knows),
how it is handled and the assessment are ``assessment``, a letter's note is ``letter``, an
intervention's note is ``care``. The facts (kind, dates, states, numbers) are ``facts``.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot import i18n
from bot.domain.complaint import (
    LADDER,
    Cell,
    Complaint,
    Condition,
    Letter,
)
from bot.domain.model import Role
from bot.i18n.keys import N_
from bot.persistence.complaints import Task
from bot.privacy import Info, Policy, Visibility


def reads(policy: Policy, roles: Iterable[Role], info: Info) -> bool:
    """Free text of class ``info``: some role of the reader's (never as the tenant) may read
    free text and that class."""
    return any(r is not Role.TENANT and min(policy.sees(r, Info.FREE_TEXT),
                                            policy.sees(r, info)) is Visibility.SHOWN
               for r in roles)


def knows_complaint(policy: Policy, roles: Iterable[Role]) -> bool:
    """Whether the reader may know that a complaint exists (its facts): a role that sees the
    facts and at least that a complaint is there. The tenant learns of complaints only from
    the team, in the conversation of action 2, not from the bot."""
    return any(r is not Role.TENANT and policy.sees(r, Info.FACTS) is Visibility.SHOWN
               and policy.sees(r, Info.COMPLAINT) >= Visibility.REDACTED for r in roles)


def complainant_line(lang: str, policy: Policy, roles: Iterable[Role],
                     complaint: Complaint) -> str:
    roles = list(roles)
    if complaint.anonymous:
        return i18n.t(lang, "complaint.complainant_anonymous")
    if policy.best([r for r in roles if r is not Role.TENANT],
                   Info.COMPLAINANT) is Visibility.SHOWN:
        return i18n.t(lang, "complaint.complainant", name=complaint.complainant)
    if policy.best(roles, Info.COMPLAINANT) is Visibility.REDACTED:
        return i18n.t(lang, "complaint.complainant_known")
    return ""


def facts(lang: str, complaint: Complaint, code: str) -> dict[str, object]:
    return {"number": complaint.id, "code": code,
            "kind": i18n.kind_name(lang, complaint.kind),
            "happened": i18n.when(lang, complaint.happened_at),
            "received": i18n.when(lang, complaint.received_at)}


def intake_notice(lang: str, policy: Policy, roles: Iterable[Role], complaint: Complaint,
                  code: str, n3_window: int, n3_due: object) -> str:
    """To the care team: a new complaint, and that N3 runs."""
    roles = list(roles)
    text = i18n.t(lang, "complaint.new", **facts(lang, complaint, code))
    if reads(policy, roles, Info.COMPLAINT):
        text += i18n.t(lang, "complaint.description", text=complaint.description)
    text += complainant_line(lang, policy, roles, complaint)
    return text + "\n" + i18n.t(lang, "complaint.handle_by", number=complaint.id,
                                window=n3_window, due=n3_due)


def handling_notice(lang: str, policy: Policy, roles: Iterable[Role], complaint: Complaint,
                    code: str, contact_window: int | None) -> str:
    """To the landlord: the team has started and says how it will be handled (action 1)."""
    text = i18n.t(lang, "complaint.handling_notice", **facts(lang, complaint, code))
    if complaint.handling and reads(policy, roles, Info.ASSESSMENT):
        text += i18n.t(lang, "complaint.handling_text", text=complaint.handling)
    return text + "\n" + i18n.t(lang, "complaint.keep_informed", number=complaint.id)


def cell_name(lang: str, cell: Cell) -> str:
    return i18n.t(lang, f"complaint.cell.{cell.value}")


def assessment_notice(lang: str, policy: Policy, roles: Iterable[Role], complaint: Complaint,
                      code: str, tasks: list[Task]) -> str:
    """To the landlord: the assessment after the hearing and the follow-ups that are theirs."""
    roles = list(roles)
    if not reads(policy, roles, Info.ASSESSMENT):
        return i18n.t(lang, "complaint.assessed_facts", **facts(lang, complaint, code))
    cell = complaint.cell
    assert cell is not None  # noqa: S101
    text = i18n.t(lang, "complaint.assessed_notice", cell=cell_name(lang, cell),
                  **facts(lang, complaint, code))
    if complaint.assessment_note:
        text += i18n.t(lang, "complaint.assessment_text", text=complaint.assessment_note)
    mine = [t for t in tasks if t.owner in roles]
    if mine:
        text += "\n" + "\n".join(task_line(lang, t, code) for t in mine)
    return text


def task_line(lang: str, task: Task, code: str) -> str:
    due = i18n.t(lang, "task.due", due=i18n.when(lang, task.due_at)) if task.due_at else ""
    about = i18n.t(lang, "task.about", number=task.complaint_id) if task.complaint_id else ""
    return i18n.t(lang, "task.line", number=task.id, code=code,
                  role=i18n.role_name(lang, task.owner), what=i18n.t(lang, f"task.{task.kind}"),
                  about=about, due=due)


def check_question(lang: str, complaint: Complaint, code: str, norm: str,
                   role: Role, policy: Policy) -> str:
    """The four-week question (N5) to the landlord, the police, the nuisance desk; the
    six-week question (N6) to the landlord. A role that may not know of complaints (the
    municipality) is asked about new reports in the case, without the complaint."""
    if norm == "N6":
        return i18n.t(lang, "check.question_six", **facts(lang, complaint, code))
    if knows_complaint(policy, [role]):
        return i18n.t(lang, "check.question_four", **facts(lang, complaint, code))
    return i18n.t(lang, "check.question_four_facts", code=code, number=complaint.id,
                  since=i18n.when(lang, complaint.received_at))


def answer_name(lang: str, answer: str) -> str:
    return i18n.t(lang, f"check.answer.{answer}")


def letter_line(lang: str, policy: Policy, roles: Iterable[Role], letter: Letter) -> str:
    roles = list(roles)
    marks = []
    for flag, key in ((letter.registered, "letter.mark.registered"),
                      (letter.signed_seen, "letter.mark.signed_seen"),
                      (letter.copy_landlord_file, "letter.mark.copy_landlord_file"),
                      (letter.copy_care_file, "letter.mark.copy_care_file"),
                      (letter.legal_advice, "letter.mark.legal_advice"),
                      (letter.advice_police, "letter.mark.advice_police"),
                      (letter.advice_on_call, "letter.mark.advice_on_call")):
        if flag:
            marks.append(i18n.t(lang, key))
    if letter.consulted:
        marks.append(i18n.t(lang, "letter.mark.consulted",
                            roles=i18n.role_list(lang, letter.consulted)))
    text = i18n.t(lang, "letter.line", number=letter.id, action=letter.action,
                  kind=i18n.t(lang, f"letter.kind.{letter.kind.value}"),
                  date=letter.sent_on.isoformat(),
                  marks=", ".join(marks) or i18n.t(lang, "letter.no_marks"))
    if letter.note and reads(policy, roles, Info.LETTER):
        text += i18n.t(lang, "letter.note", text=letter.note)
    return text


def letter_reminders(lang: str, letter: Letter) -> str:
    """What the guideline asks with this action that the record does not show yet."""
    rung = LADDER[letter.action]
    out = []
    if rung.police_advice and not letter.advice_police:
        out.append(i18n.t(lang, "letter.remind.police"))
    if rung.on_call_advice and not letter.advice_on_call:
        out.append(i18n.t(lang, "letter.remind.on_call"))
    if rung.copies and not (letter.copy_landlord_file and letter.copy_care_file):
        out.append(i18n.t(lang, "letter.remind.copies"))
    if rung.registered and not (letter.registered and letter.signed_seen):
        out.append(i18n.t(lang, "letter.remind.registered"))
    return "".join("\n" + line for line in out)


def court_conditions(lang: str, shown: dict[Condition, bool]) -> str:
    lines = [i18n.t(lang, "court.header")]
    for condition, met in shown.items():
        lines.append(i18n.t(lang, "court.line", mark="✓" if met else "✗",
                            condition=i18n.t(lang, f"court.{condition.value}"),
                            state=i18n.t(lang, "court.shown" if met else "court.not_shown")))
    return "\n".join(lines)


def complaint_line(lang: str, complaint: Complaint, code: str) -> str:
    return i18n.t(lang, "complaint.line", state=i18n.t(
        lang, f"complaint.state.{complaint.status.value}"), **facts(lang, complaint, code))


#: keys composed at run time or passed through a helper (``bot/i18n/keys.py`` explains why)
DYNAMIC_KEYS = (
    N_("complaint.cell.conscious_justified"), N_("complaint.cell.conscious_disputed"),
    N_("complaint.cell.unconscious_justified"), N_("complaint.cell.unjustified"),
    N_("complaint.state.received"), N_("complaint.state.in_handling"),
    N_("complaint.state.assessed"), N_("complaint.state.resolved"),
    N_("task.inform_landlord"), N_("task.agree_complainant_actions"),
    N_("task.normal_behaviour_tools"), N_("task.agreements_objection"),
    N_("task.normal_behaviour"), N_("task.behaviour_in_support_plan"),
    N_("task.feedback_landlord"), N_("task.inform_complainant_handling"),
    N_("task.six_week_ask_landlord"), N_("task.six_week_ask_complainant"),
    N_("task.restore_relation"), N_("task.consider_mediation"), N_("task.confirm_receipt"),
    N_("task.hearing"), N_("task.noise_measurement"), N_("task.discuss_letter"),
    N_("check.answer.none"), N_("check.answer.new"), N_("check.answer.resolved"),
    N_("check.answer.unresolved"), N_("command.answer_none"), N_("command.answer_new"),
    N_("command.answer_resolved"), N_("command.answer_unresolved"),
    N_("letter.kind.warning"), N_("letter.kind.second_warning"), N_("letter.kind.summons"),
    N_("letter.kind.court"), N_("letter.mark.registered"), N_("letter.mark.signed_seen"),
    N_("letter.mark.copy_landlord_file"), N_("letter.mark.copy_care_file"),
    N_("letter.mark.legal_advice"), N_("letter.mark.advice_police"),
    N_("letter.mark.advice_on_call"),
    N_("court.file"), N_("court.agreements"), N_("court.everything_done"),
    N_("intervention.kind.1"), N_("intervention.kind.2"), N_("intervention.kind.3"),
    N_("intervention.kind.4"), N_("intervention.kind.mediation"),
    N_("norm.N7c"), N_("norm.T"),
    N_("timeline.complaint_recorded"), N_("timeline.complaint_handling"),
    N_("timeline.complainant_contacted"), N_("timeline.complaint_assessed"),
    N_("timeline.noise_measurement_asked"), N_("timeline.check_asked"),
    N_("timeline.check_answered"), N_("timeline.nuisance_resolved"),
    N_("timeline.ladder_proposed"), N_("timeline.letter_recorded"),
    N_("timeline.intervention_recorded"), N_("timeline.mediation_referred"),
    N_("timeline.task_done"),
    # the intake conversation (bot/services/complaints_intake.py)
    N_("intake.choose_kind"), N_("intake.ask_happened"), N_("intake.ask_received"),
    N_("intake.ask_complainant"), N_("intake.ask_name"), N_("intake.ask_description"),
    N_("intake.preview"), N_("intake.cancelled"), N_("button.complainant_anonymous"),
    N_("button.complainant_known"), N_("button.complaint_send"),
    N_("button.letter_warning"), N_("button.tasks"),
    # handlers/complaints.py: usage lines passed to the shared parsers
    N_("usage.complaint"), N_("usage.complaints"), N_("usage.handling"), N_("usage.contact"),
    N_("usage.assess"), N_("usage.noise"), N_("usage.ask"), N_("usage.answer"),
    N_("usage.resolved_nuisance"), N_("usage.letter"), N_("usage.intervention"),
    N_("usage.mediation"), N_("usage.task_done"),
    # the command menu
    N_("menu.klacht"), N_("menu.klachten"), N_("menu.aanpak"), N_("menu.klagercontact"),
    N_("menu.beoordeling"), N_("menu.geluidsmeting"), N_("menu.navraag"),
    N_("menu.antwoord"), N_("menu.opgelost"), N_("menu.brief"), N_("menu.interventie"),
    N_("menu.bemiddeling"), N_("menu.taken"), N_("menu.taakgedaan"),
    N_("accesslog.what.tasks"), N_("accesslog.what.complaints"),
)
