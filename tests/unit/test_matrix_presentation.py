"""Matrix without a homeserver: settings from the environment, the transport chosen when an
account is set (the console then only by option), and how messages look and how a reaction or
a typed number is read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import KorteLijn
from bot.config import ConfigError, MatrixSettings, load_settings
from bot.transports.base import Choice, Outgoing
from bot.transports.matrix import (
    KEYCAPS,
    MatrixTransport,
    choice_number,
    reaction_index,
    render,
    strip_reply_fallback,
)


def test_every_option_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"HOMESERVER": "http://127.0.0.1:8008", "USER_ID": "@kl:test",
                       "PASSWORD": "geheim", "DEVICE_ID": "KL1", "DEVICE_NAME": "KL",
                       "STORE_PATH": "var/kl-store", "ENCRYPTION": "false",
                       "UNREDEEMED_ROOM_AFTER": "3d", "SYNC_TIMEOUT": "10s",
                       "REQUEST_TIMEOUT": "20s", "FIRST_BACKOFF": "2s",
                       "MAX_BACKOFF": "1m"}.items():
        monkeypatch.setenv(f"KORTELIJN_MATRIX__{key}", value)
    matrix = load_settings().matrix
    assert matrix.homeserver == "http://127.0.0.1:8008"
    assert matrix.password is not None
    assert matrix.password.get_secret_value() == "geheim"
    assert "geheim" not in repr(matrix)
    assert (matrix.device_id, matrix.device_name) == ("KL1", "KL")
    assert matrix.store_path == Path("var/kl-store")
    assert matrix.encryption is False
    assert matrix.unredeemed_room_after == timedelta(days=3)
    assert matrix.sync_timeout == timedelta(seconds=10)
    assert matrix.max_backoff == timedelta(minutes=1)


def test_defaults_encrypt_and_keep_a_store() -> None:
    matrix = MatrixSettings()
    assert matrix.encryption is True
    assert matrix.store_path == Path("var/matrix")


def test_an_account_needs_a_secret() -> None:
    with pytest.raises(ConfigError):
        MatrixTransport(MatrixSettings(homeserver="http://x", user_id="@a:x"), host=None)  # type: ignore[arg-type]


def test_a_matrix_account_runs_on_matrix_and_the_console_only_by_option(
        tmp_path: Path) -> None:
    sections = {"database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"},
                "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": "@kl:test",
                           "password": "x"}}
    app = KorteLijn(load_settings(**sections))
    assert sorted(app.transports) == ["matrix"]
    assert app.ctx.invite_links["matrix"]("ABCD-EFGH-JKMN") == "https://matrix.to/#/@kl:test"
    assert sorted(KorteLijn(load_settings(**sections), console=True).transports) == [
        "console", "matrix"]


@pytest.mark.parametrize(("key", "index"), [
    ("\u2705", 0), ("\u2705\ufe0f", 0), ("1\ufe0f\u20e3", 0), ("1\u20e3", 0),
    ("3\ufe0f\u20e3", 2), ("\U0001f51f", 9), ("\U0001f44d", None), ("0\u20e3", None),
    ("x", None), ("", None)])
def test_reactions(key: str, index: int | None) -> None:
    assert reaction_index(key) == index


def test_every_offered_keycap_reads_back_as_its_number() -> None:
    assert [reaction_index(k) for k in KEYCAPS] == list(range(10))


@pytest.mark.parametrize(("text", "index"), [
    ("1", 0), (" 2 ", 1), ("3.", 2), ("4)", 3), ("12", 11), ("0", None), ("1 2", None),
    ("/ok 1", None), ("een", None), ("١", None)])
def test_typed_numbers(text: str, index: int | None) -> None:
    assert choice_number(text) == index


@given(st.text())
def test_any_text_is_read_without_error(text: str) -> None:
    number = choice_number(text)
    assert number is None or 0 <= number < 99
    assert isinstance(strip_reply_fallback(text), str)


def test_reply_fallback_is_stripped() -> None:
    assert strip_reply_fallback("> <@bot:x> Nieuw signaal\n> tweede\n\n1") == "1"
    assert strip_reply_fallback("gewoon") == "gewoon"


def test_a_choice_reads_well_in_plain_text_and_html_is_escaped() -> None:
    message = Outgoing(chat_id="@a:x", text="Nieuw signaal <#1>\nBevestig",
                       choices=(Choice("Bevestigen", "/ok 1"),))
    content = render(message, "nl")
    assert content["msgtype"] == "m.notice"
    assert content["body"].startswith("Nieuw signaal <#1>\nBevestig\n\n1. \u2705 Bevestigen")
    assert "Reageer met \u2705 of stuur 1." in content["body"]
    assert "&lt;#1&gt;" in content["formatted_body"]
    assert "<br>" in content["formatted_body"]
    assert "/ok 1" not in content["body"]  # the command stays in the core

    several = render(Outgoing(chat_id="@a:x", text="Kies", reply_to="$e",
                              choices=(Choice("Ja", "/a"), Choice("Nee", "/b"))), "en")
    assert several["msgtype"] == "m.text"
    assert several["m.relates_to"] == {"m.in_reply_to": {"event_id": "$e"}}
    assert "2. 2\ufe0f\u20e3 Nee" in several["body"]
    assert "Send the number" in several["body"]


def test_an_edit_replaces_the_message() -> None:
    content = render(Outgoing(chat_id="!r:x", text="Bevestigd", edit_of="$orig"), "nl")
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}
    assert content["m.new_content"]["body"] == "Bevestigd"
    assert content["body"] == "* Bevestigd"
