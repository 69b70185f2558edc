"""The tenant's own report (``/melden``), as a guided conversation: what it is about, what
happened, when, where; then a preview of who will read it, and send (to the default readers
or the coach alone) or cancel. One definition, run by ``bot/services/conversations.py``."""

from __future__ import annotations

from bot import i18n
from bot.domain.commands import PostSignal
from bot.domain.conversation import CANCEL, DONE, Pick, Spec, State
from bot.domain.model import CARE_TEAM, Role, SignalKind
from bot.services import signals
from bot.services.context import ServiceContext
from bot.services.conversations import Definition, Said, Turn, register

NAME = "tenant_report"
#: longest answer to one question
ANSWER_LIMIT = 1000
SEND, COACH_ONLY = "send", "coach"
#: what a tenant reports, in the order offered
KINDS = (SignalKind.HARASSED_TENANT, SignalKind.UNJUST_COMPLAINT)

SPEC = Spec(name=NAME, states=(
    State("kind", "report.choose_kind",
          picks=tuple(Pick(k.value, f"report.kind.{k.value}") for k in KINDS),
          next="what"),
    State("what", "report.ask_what", max_length=ANSWER_LIMIT, next="when"),
    State("when", "report.ask_when", max_length=ANSWER_LIMIT, next="where"),
    State("where", "report.ask_where", max_length=ANSWER_LIMIT, next="confirm"),
    State("confirm", "report.preview",
          picks=(Pick(SEND, "button.report_send"), Pick(COACH_ONLY, "button.report_coach_only"),
                 Pick(CANCEL, "button.cancel")),
          next=DONE),
))


def report_audience(ctx: ServiceContext, kind: SignalKind, *, coach_only: bool
                    ) -> frozenset[Role]:
    """Who reads a tenant's report: the care team and the landlord (the guideline's two
    places to report), or the care team alone; never more than the policy allows."""
    wanted = CARE_TEAM if coach_only else CARE_TEAM | {Role.LANDLORD}
    return frozenset(wanted & set(ctx.privacy.allowed_audience(kind)))


async def _facts(turn: Turn, state: State) -> dict[str, object]:
    if state.name != "confirm":
        return {}
    kind = SignalKind(turn.answers["kind"])
    audience = report_audience(turn.ctx, kind, coach_only=False)
    readers = []
    for member in await turn.uow.cases.members(turn.case.id):
        if member.person_id != turn.person.id and member.role in audience:
            person = await turn.uow.persons.get(member.person_id)
            readers.append(f"{i18n.role_name(turn.lang, member.role)} "
                           f"({person.display_name if person else '?'})")
    return {"kind": i18n.kind_name(turn.lang, kind),
            "readers": ", ".join(readers) or i18n.t(turn.lang, "note.nobody")}


async def _finish(turn: Turn) -> list[Said]:
    """Send the report as the tenant's signal, with the audience chosen."""
    kind = SignalKind(turn.answers["kind"])
    audience = report_audience(turn.ctx, kind,
                               coach_only=turn.answers.get("confirm") == COACH_ONLY)
    text = i18n.t(turn.lang, "report.text", what=turn.answers["what"],
                  when=turn.answers["when"], where=turn.answers["where"])
    posted = await signals.post_signal(
        PostSignal(person_id=turn.person.id, case_code=turn.case.code, kind=kind, note=text,
                   audience=audience, note_confirmed=True, neutral=True), turn.uow, turn.ctx)
    return [Said(i18n.t(turn.lang, "report.sent", number=posted.signal.id,
                        code=posted.signal.case_code))]


DEFINITION = register(Definition(
    spec=SPEC, roles=frozenset({Role.TENANT}), finish=_finish, facts=_facts,
    refusal_key="report.only_tenant", cancelled_key="report.cancelled"))
