"""The pure part of guided conversations: a state accepts what it asks for, refuses anything
else with a sentence that says what it does accept, and leads to the next state; and the
choices of a message as data (what they do, how they are typed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import choices
from bot.domain.conversation import (
    CANCEL,
    DONE,
    AnswerGone,
    AnswerTooLong,
    EmptyAnswer,
    Pick,
    PickAnOption,
    Spec,
    State,
    advance,
)
from bot.i18n import MESSAGES
from bot.services import tenant_report
from handlers.dispatch import COMMANDS, parse_command

SPEC = Spec(name="test", states=(
    State("colour", "report.choose_kind", picks=(Pick("red", "button.ack"),
                                                 Pick(CANCEL, "button.cancel")),
          next=lambda answers: "why" if answers["colour"] == "red" else DONE),
    State("why", "report.ask_what", max_length=10, check=str.upper),
))


@given(st.text(min_size=1, max_size=10).filter(lambda t: t.strip() == t and t != ""))
def test_free_text_within_its_length_is_kept_and_the_conversation_is_done(text: str) -> None:
    moved = advance(SPEC, "why", {"colour": "red"}, text=text)
    assert moved.done
    assert moved.answers == {"colour": "red", "why": text.upper()}


@given(st.text(min_size=11, max_size=40).filter(lambda t: len(t.strip()) > 10))
def test_free_text_too_long_is_refused_with_the_limit(text: str) -> None:
    with pytest.raises(AnswerTooLong) as refused:
        advance(SPEC, "why", {"colour": "red"}, text=text)
    assert refused.value.args_for_message == {"limit": 10}


@given(st.text(alphabet=" \t\n", max_size=5))
def test_an_empty_answer_is_refused(text: str) -> None:
    with pytest.raises(EmptyAnswer):
        advance(SPEC, "why", {}, text=text)


def test_a_pick_state_takes_its_options_only() -> None:
    assert advance(SPEC, "colour", {}, picked="red").state == "why"
    with pytest.raises(PickAnOption) as refused:
        advance(SPEC, "colour", {}, text="red")
    assert refused.value.args_for_message == {"count": 2}
    with pytest.raises(AnswerGone):
        advance(SPEC, "colour", {}, picked="blue")
    with pytest.raises(AnswerGone):  # a pick where text is asked: a stale button
        advance(SPEC, "why", {}, picked="red")
    with pytest.raises(AnswerGone):  # a state that is no longer part of the conversation
        advance(SPEC, "gone", {}, text="x")
    cancelled = advance(SPEC, "colour", {"earlier": "x"}, picked=CANCEL)
    assert (cancelled.cancelled, cancelled.done) == (True, True)


def test_a_spec_refuses_a_state_that_leads_nowhere() -> None:
    with pytest.raises(ValueError, match="leads to no state"):
        Spec(name="broken", states=(State("a", "report.ask_what", next="b"),))


def test_the_tenants_report_is_one_definition_with_every_sentence() -> None:
    spec = tenant_report.SPEC
    assert [s.name for s in spec.states] == ["kind", "what", "when", "where", "confirm"]
    keys = {s.prompt_key for s in spec.states} | {
        p.label_key for s in spec.states for p in s.picks}
    assert keys <= set(MESSAGES)
    answers: dict[str, str] = {}
    state = spec.first.name
    for name, given_answer in (("kind", None), ("what", "a"), ("when", "b"), ("where", "c"),
                               ("confirm", None)):
        assert state == name
        pick = "harassed_tenant" if name == "kind" else "send" if name == "confirm" else None
        moved = advance(spec, state, answers, text=given_answer, picked=pick)
        state, answers = moved.state, moved.answers
    assert state == DONE
    assert answers == {"kind": "harassed_tenant", "what": "a", "when": "b", "where": "c",
                       "confirm": "send"}


def test_choices_as_data_and_as_typed() -> None:
    ack = choices.option(choices.Action.ACKNOWLEDGE, 3, "Bevestigen", label_key="button.ack")
    assert (ack.command, ack.action, ack.subject_id) == ("/ok 3", "acknowledge", 3)
    note = choices.option(choices.Action.NOTE, 4, "Versturen", value="verstuur")
    assert note.command == "/toelichting 4 verstuur"
    assert choices.option(choices.Action.COMPLETE, 5, "Gedaan").command == "/gedaan T5"
    reply = choices.answer(9, "kind/harassed_tenant", "Lastiggevallen")
    assert (reply.command, reply.action, reply.subject_id) == ("", "answer", 9)
    assert choices.as_option(("Z-7K3M", "/signaal Z-7K3M")).action is choices.Action.COMMAND


def test_every_command_a_choice_stands_for_is_in_the_command_table() -> None:
    for template in choices.COMMAND_TEMPLATES.values():
        parsed = parse_command(template.format(subject=1, value="x"))
        assert parsed is not None
        assert parsed[0] in COMMANDS, template
