"""A guided conversation as data: named states, each with its prompt, how it is answered
(a pick among options, or free text with its check) and the state that follows.

Pure (no I/O): :func:`advance` takes a conversation's state and answers so far and one answer,
and returns where the conversation goes, or refuses the answer with a sentence key that says
what is accepted. The runner (``bot/services/conversations.py``) keeps the state in the
database and renders the prompts; see there how to add a conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain import errors

#: the state after the last: the conversation is complete and its use case is carried out
DONE = "done"
#: the value of an option that stops the conversation (as /annuleer does)
CANCEL = "cancel"


class BadAnswer(errors.DomainError):
    """An answer the state does not accept; ``key`` says what it does accept."""

    key = "conversation.bad_answer"


class EmptyAnswer(BadAnswer):
    key = "conversation.empty"


class AnswerTooLong(BadAnswer):
    key = "report.too_long"


class PickAnOption(BadAnswer):
    """Text typed where the state waits for a pick."""

    key = "conversation.pick_an_option"


class AnswerGone(errors.DomainError):
    """A pick on a question that is no longer open (the conversation moved on or ended)."""

    key = "conversation.choice_gone"


@dataclass(frozen=True, slots=True)
class Pick:
    """One option of a state answered by picking."""

    value: str
    label_key: str


@dataclass(frozen=True, slots=True)
class State:
    """One question of a conversation."""

    name: str
    #: the catalogue key of the question; its placeholders come from the definition's facts
    prompt_key: str
    #: when set, the state is answered by picking one of these (a button, a number)
    picks: tuple[Pick, ...] = ()
    #: free text: its longest accepted length
    max_length: int = 1000
    #: a check of a typed answer: returns the value to keep, or raises :class:`BadAnswer`
    check: Callable[[str], str] | None = None
    #: the next state's name (or :data:`DONE`), or a function of the answers so far
    next: str | Callable[[Mapping[str, str]], str] = DONE

    def follows(self, answers: Mapping[str, str]) -> str:
        return self.next(answers) if callable(self.next) else self.next


@dataclass(frozen=True, slots=True)
class Spec:
    """The states of a conversation; the first is where it starts (its entry point)."""

    name: str
    states: tuple[State, ...]
    #: a conversation left alone this long ends by itself
    timeout: timedelta = timedelta(hours=24)
    _by_name: dict[str, State] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {s.name: s for s in self.states})
        for state in self.states:
            if isinstance(state.next, str) and state.next != DONE and \
                    state.next not in self._by_name:
                raise ValueError(f"{self.name}: {state.name} leads to no state {state.next}")

    @property
    def first(self) -> State:
        return self.states[0]

    def state(self, name: str) -> State | None:
        return self._by_name.get(name)


@dataclass(frozen=True, slots=True)
class Advanced:
    """Where an accepted answer takes the conversation."""

    state: str
    answers: dict[str, str]
    #: the answer was :data:`CANCEL`: the conversation stops, nothing is carried out
    cancelled: bool = False

    @property
    def done(self) -> bool:
        return self.state == DONE


def advance(spec: Spec, state_name: str, answers: Mapping[str, str], *,
            text: str | None = None, picked: str | None = None) -> Advanced:
    """Take one answer (typed ``text`` or a ``picked`` option's value) in a state."""
    state = spec.state(state_name)
    if state is None:
        raise AnswerGone()
    if state.picks:
        if picked is None:
            raise PickAnOption(count=len(state.picks))
        if picked == CANCEL:
            return Advanced(state=DONE, answers=dict(answers), cancelled=True)
        if picked not in {p.value for p in state.picks}:
            raise AnswerGone()
        value = picked
    else:
        if picked is not None:
            raise AnswerGone()
        value = (text or "").strip()
        if not value:
            raise EmptyAnswer()
        if len(value) > state.max_length:
            raise AnswerTooLong(limit=state.max_length)
        if state.check is not None:
            value = state.check(value)
    kept = {**answers, state.name: value}
    return Advanced(state=state.follows(kept), answers=kept)
