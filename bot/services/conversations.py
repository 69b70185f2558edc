"""The runner of guided conversations: transport-neutral, persistent, one per person and case.

Shaped after python-telegram-bot's ConversationHandler (named states, an entry point,
fallbacks, a timeout, persistence), but ours keeps its state in our database, keyed by person
and case, so a conversation survives a restart and a person can be in several at once, one per
case. Each state (``bot/domain/conversation.py``) has its prompt, how it is answered (a pick
among options, or free text with its check) and the state that follows.

- entry point: ``start`` (a handler's command, e.g. ``/melden``), in one of the person's cases
  where they hold one of the definition's roles; starting again in that case starts afresh;
- answers: typed text goes to the conversation that asked last; a pick (a button, a typed
  number, a reaction) carries the conversation's id and state, so it reaches exactly the
  question it was offered with and is refused once that question is no longer open;
- fallbacks: ``/annuleer`` (``cancel``) in any state, or an option with the value
  :data:`~bot.domain.conversation.CANCEL`; every other command simply runs, and the
  conversation waits;
- timeout: a conversation left alone for its spec's ``timeout`` ends by itself;
- when the last state is answered, the definition's ``finish`` carries out the use case (in
  the same unit of work) and says what to answer.

How to add a conversation (one definition, in a module of its own under ``bot/services/``):

1. write its :class:`~bot.domain.conversation.Spec`: the states in order, each with its
   ``prompt_key`` (add the sentence, Dutch and English, to the catalogue in ``bot/i18n/``),
   its ``picks`` or ``max_length``/``check``, and ``next``;
2. write ``facts`` if a prompt needs more than the case code (a preview of who will read it),
   and ``finish``, which calls the service of the use case with the answers;
3. ``register(Definition(spec=..., roles=..., finish=..., refusal_key=...,
   cancelled_key=...))`` at the module's import (``bot/services/tenant_report.py`` is the
   example to copy);
4. give it an entry command in ``handlers/`` (the handler imports the module, so it is
   registered) that calls :func:`start` with its name and turns what is said into replies.

No hidden public commands: a pick on a prompt is an ``answer`` choice stored with the message
(``bot/domain/choices.py``), which works only on that message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot import i18n
from bot.domain import errors
from bot.domain.choices import MessageKind, Option, answer
from bot.domain.conversation import DONE, AnswerGone, Spec, State, advance
from bot.domain.model import Role
from bot.persistence import orm
from bot.persistence.uow import UnitOfWork
from bot.services.cases import normalise_case_code
from bot.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class Said:
    """One message the conversation says to the person, in their language."""

    text: str
    choices: tuple[Option, ...] = ()
    kind: MessageKind = MessageKind.MESSAGE


@dataclass(frozen=True, slots=True)
class Turn:
    """A conversation being answered, in one unit of work."""

    uow: UnitOfWork
    ctx: ServiceContext
    person: orm.Person
    case: orm.Case
    answers: Mapping[str, str]

    @property
    def lang(self) -> str:
        return self.person.language


Facts = Callable[[Turn, State], Awaitable[dict[str, object]]]
Finish = Callable[[Turn], Awaitable[list[Said]]]


async def _no_facts(turn: Turn, state: State) -> dict[str, object]:
    return {}


@dataclass(frozen=True, slots=True)
class Definition:
    """Everything that makes one conversation: its states and what it does at the end."""

    spec: Spec
    #: who may start it: a role in the case
    roles: frozenset[Role]
    #: carries out the use case with the answers (in the same unit of work)
    finish: Finish
    #: the answer to someone holding none of ``roles`` in any case
    refusal_key: str
    #: the answer when it is cancelled
    cancelled_key: str
    #: placeholders of a prompt beyond ``code`` (the case)
    facts: Facts = field(default=_no_facts)
    #: it may also run in a closed case (a reflection on the closing)
    closed_cases: bool = False

    @property
    def name(self) -> str:
        return self.spec.name


DEFINITIONS: dict[str, Definition] = {}


def register(definition: Definition) -> Definition:
    DEFINITIONS[definition.name] = definition
    return definition


# --- commands, results and errors ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StartConversation:
    person_id: int
    name: str
    #: the case as typed; ``None`` when the person has one case where they may start it
    case_code: str | None = None


@dataclass(frozen=True, slots=True)
class CancelConversation:
    person_id: int
    case_code: str | None = None


class NotForYou(errors.DomainError):
    """The person holds none of the roles that start this conversation."""


class WhichCase(errors.DomainError):
    """The person may start it in several cases: ``codes`` lists them (the handler offers
    them as choices)."""

    key = "conversation.which_case"

    def __init__(self, codes: tuple[str, ...]) -> None:
        super().__init__()
        self.codes = codes


class NothingToCancel(errors.DomainError):
    key = "conversation.none"


# --- the runner -------------------------------------------------------------------------------

async def start(cmd: StartConversation, uow: UnitOfWork, ctx: ServiceContext) -> list[Said]:
    """The entry point: begin (or begin again) in the case, and ask the first question."""
    definition = DEFINITIONS[cmd.name]
    person = await uow.persons.get(cmd.person_id)
    if person is None:
        raise errors.NotInvited()
    cases = list({c.id: c for c, r in await uow.cases.cases_of(person.id)
                  if r in definition.roles}.values())
    if not cases:
        error = NotForYou()
        error.key = definition.refusal_key
        raise error
    if cmd.case_code is not None:
        code = normalise_case_code(cmd.case_code)
        case = next((c for c in cases if c.code == code), None)
        if case is None:
            raise errors.UnknownCase(code=cmd.case_code)
    elif len(cases) == 1:
        case = cases[0]
    else:
        raise WhichCase(tuple(c.code for c in cases))
    if case.status != "open" and not (definition.closed_cases and case.purged_at is None):
        raise errors.CaseClosed(code=case.code)
    now = ctx.clock.now()
    row = await uow.conversations.start(
        person_id=person.id, case_id=case.id, name=definition.name,
        state=definition.spec.first.name, data={}, now=now,
        expires_at=now + definition.spec.timeout)
    return [await _ask(definition, row, Turn(uow, ctx, person, case, {}))]


async def answer_text(person_id: int, text: str, uow: UnitOfWork, ctx: ServiceContext
                      ) -> list[Said] | None:
    """Plain text from a person: the answer to the conversation that asked last; ``None``
    when none runs (then it is no answer to anything)."""
    running = await uow.conversations.of_person(person_id, ctx.clock.now())
    if not running:
        return None
    return await _step(running[0], uow, ctx, text=text)


async def answer_pick(person_id: int, conversation_id: int, value: str, uow: UnitOfWork,
                      ctx: ServiceContext) -> list[Said]:
    """A pick on a conversation's question: ``value`` is ``<state>/<option>``, as stored with
    the prompt's choices; refused when that question is no longer open."""
    row = await uow.conversations.get(conversation_id, ctx.clock.now())
    state, _, picked = value.partition("/")
    if row is None or row.person_id != person_id or row.state != state:
        raise AnswerGone()
    return await _step(row, uow, ctx, picked=picked)


async def cancel(cmd: CancelConversation, uow: UnitOfWork, ctx: ServiceContext) -> list[Said]:
    """The fallback ``/annuleer``: stop the conversation of the case named, or the one that
    asked last."""
    running = await uow.conversations.of_person(cmd.person_id, ctx.clock.now())
    if cmd.case_code is not None:
        case = await uow.cases.by_code(normalise_case_code(cmd.case_code) or "")
        running = [r for r in running if case is not None and r.case_id == case.id]
    if not running:
        raise NothingToCancel()
    row = running[0]
    person = await uow.persons.get(cmd.person_id)
    lang = person.language if person else i18n.DEFAULT_LANGUAGE
    await uow.conversations.end(row)
    definition = DEFINITIONS.get(row.name)
    return [Said(i18n.t(lang, definition.cancelled_key if definition else
                        "conversation.cancelled"))]


async def _step(row: orm.Conversation, uow: UnitOfWork, ctx: ServiceContext, *,
                text: str | None = None, picked: str | None = None) -> list[Said]:
    definition = DEFINITIONS.get(row.name)
    person = await uow.persons.get(row.person_id)
    case = await uow.cases.get(row.case_id)
    if definition is None or person is None or case is None:
        await uow.conversations.end(row)  # a conversation of a definition no longer known
        raise AnswerGone()
    moved = advance(definition.spec, row.state, dict(row.data), text=text, picked=picked)
    turn = Turn(uow, ctx, person, case, moved.answers)
    if moved.cancelled:
        await uow.conversations.end(row)
        return [Said(i18n.t(person.language, definition.cancelled_key))]
    if moved.state == DONE:
        await uow.conversations.end(row)
        return await definition.finish(turn)
    now = ctx.clock.now()
    row.state, row.data = moved.state, moved.answers
    row.updated_at, row.expires_at = now, now + definition.spec.timeout
    await uow.flush()
    return [await _ask(definition, row, turn)]


async def _ask(definition: Definition, row: orm.Conversation, turn: Turn) -> Said:
    """The question of the state the conversation is in, with its options as choices that
    carry this conversation's id and state. With several running, it names its case."""
    state = definition.spec.state(row.state)
    if state is None:
        raise AnswerGone()
    lang = turn.lang
    facts = {"code": turn.case.code, **await definition.facts(turn, state)}
    text = i18n.t(lang, state.prompt_key, **facts)
    if len(await turn.uow.conversations.of_person(row.person_id, turn.ctx.clock.now())) > 1:
        text = i18n.t(lang, "conversation.in_case", code=turn.case.code) + text
    await turn.uow.conversations.asked(row)
    choices = tuple(answer(row.id, f"{state.name}/{pick.value}", i18n.t(lang, pick.label_key),
                           label_key=pick.label_key) for pick in state.picks)
    return Said(text, choices, MessageKind.PROMPT)

