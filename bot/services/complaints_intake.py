"""The landlord's complaint intake (``/klacht``), as a guided conversation: the kind, when it
happened, when the landlord received it, the complainant (anonymous: then no identity is
stored at all; or known to the landlord only), the description; then a preview of who will
read it, and send or cancel. One definition, run by ``bot/services/conversations.py``; its
end is ``bot/services/complaints.py`` ``record_complaint``, as for the one command line."""

from __future__ import annotations

from collections.abc import Mapping

from bot import i18n
from bot.domain import complaint as rules
from bot.domain.complaint_commands import RecordComplaint
from bot.domain.conversation import CANCEL, DONE, Pick, Spec, State
from bot.domain.model import CARE_TEAM, Role
from bot.services import complaints
from bot.services.conversations import Definition, Said, Turn, register

NAME = "complaint_intake"
ANSWER_LIMIT = 2000
SEND, ANONYMOUS, KNOWN = "send", "anonymous", "known"
def _after_complainant(answers: Mapping[str, str]) -> str:
    return "name" if answers.get("complainant") == KNOWN else "description"


SPEC = Spec(name=NAME, states=(
    State("kind", "intake.choose_kind",
          picks=tuple(Pick(k.value, f"kind.{k.value}") for k in rules.COMPLAINT_KINDS),
          next="happened"),
    State("happened", "intake.ask_happened", max_length=40, check=rules.moment_form,
          next="received"),
    State("received", "intake.ask_received", max_length=40, check=rules.moment_form,
          next="complainant"),
    State("complainant", "intake.ask_complainant",
          picks=(Pick(ANONYMOUS, "button.complainant_anonymous"),
                 Pick(KNOWN, "button.complainant_known")),
          next=_after_complainant),
    State("name", "intake.ask_name", max_length=200, next="description"),
    State("description", "intake.ask_description", max_length=ANSWER_LIMIT, next="confirm"),
    State("confirm", "intake.preview",
          picks=(Pick(SEND, "button.complaint_send"), Pick(CANCEL, "button.cancel")),
          next=DONE),
))


async def _facts(turn: Turn, state: State) -> dict[str, object]:
    if state.name != "confirm":
        return {}
    readers = []
    for member in await turn.uow.cases.members(turn.case.id, tuple(CARE_TEAM)):
        if member.person_id != turn.person.id:
            person = await turn.uow.persons.get(member.person_id)
            readers.append(f"{i18n.role_name(turn.lang, member.role)} "
                           f"({person.display_name if person else '?'})")
    return {"readers": ", ".join(readers) or i18n.t(turn.lang, "note.nobody")}


async def _finish(turn: Turn) -> list[Said]:
    answers = turn.answers
    complainant = answers.get("name", "") if answers.get("complainant") == KNOWN else \
        rules.ANONYMOUS_WORDS[0]
    recorded = await complaints.record_complaint(RecordComplaint(
        person_id=turn.person.id, case_code=turn.case.code, kind_text=answers["kind"],
        happened_text=answers["happened"], received_text=answers["received"],
        complainant_text=complainant, description=answers["description"]),
        turn.uow, turn.ctx)
    return [Said(recorded_text(turn.lang, recorded))]


def recorded_text(lang: str, recorded: complaints.ComplaintRecorded) -> str:
    """The landlord's answer after an intake (conversation or command line)."""
    c = recorded.complaint
    text = i18n.t(lang, "complaint.recorded", number=c.id, code=recorded.case_code,
                  kind=i18n.kind_name(lang, c.kind),
                  n3=recorded.n3.id, due=i18n.when(lang, recorded.n3.due_at),
                  roles=i18n.role_list(lang, recorded.told) if recorded.told
                  else i18n.t(lang, "note.nobody"))
    if recorded.n2.due_at < recorded.n3.opened_at:
        text += i18n.t(lang, "complaint.n2_late", due=i18n.when(lang, recorded.n2.due_at))
    return text + "\n" + i18n.t(lang, "complaint.confirm_receipt", number=c.id)


DEFINITION = register(Definition(
    spec=SPEC, roles=frozenset({Role.LANDLORD}), finish=_finish, facts=_facts,
    refusal_key="complaint.error.landlord_only", cancelled_key="intake.cancelled"))
