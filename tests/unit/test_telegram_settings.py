"""Telegram's settings: from the environment as well as the file, secrets kept secret, the
transport chosen when a token is set (the console then only by option), and the command menu
built from the command table in Dutch and English."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import KorteLijn
from bot.config import ConfigError, Settings, TelegramSettings, load_settings
from bot.transports.telegram import TelegramTransport
from handlers.dispatch import COMMANDS
from handlers.menu import command_menu, command_menus

TOKEN = "123456789:AAF4keT0kenF0rTestsOnly-kortelijn_x"


def test_token_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORTELIJN_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("KORTELIJN_TELEGRAM__BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("KORTELIJN_TELEGRAM__MODE", "webhook")
    monkeypatch.setenv("KORTELIJN_TELEGRAM__WEBHOOK_URL", "https://bot.example.org/tg")
    settings = load_settings()
    telegram = settings.telegram
    assert telegram.token is not None
    assert telegram.token.get_secret_value() == TOKEN
    assert telegram.base_url == "http://127.0.0.1:8081/bot"
    assert (telegram.mode, telegram.webhook_url) == ("webhook", "https://bot.example.org/tg")
    assert settings.chat_accounts == ["telegram"]
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


def test_defaults_are_telegrams_own_server_and_long_polling() -> None:
    telegram = TelegramSettings()
    assert telegram.base_url == "https://api.telegram.org/bot"
    assert telegram.mode == "polling"
    assert telegram.webhook_listen == "127.0.0.1"


def test_a_webhook_secret_must_be_what_telegram_accepts() -> None:
    with pytest.raises(ValidationError):
        TelegramSettings.model_validate({"webhook_secret": "geen spaties!"})
    assert TelegramSettings.model_validate({"webhook_secret": "goed_en-lang"}).webhook_secret


def test_webhook_mode_needs_a_url() -> None:
    with pytest.raises(ConfigError, match="webhook_url"):
        TelegramTransport(TelegramSettings.model_validate({"token": TOKEN, "mode": "webhook"}))


def test_with_a_token_the_bot_runs_on_telegram_and_the_console_only_by_option(
        tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"},
        "telegram": {"token": TOKEN}})
    app = KorteLijn(settings)
    assert set(app.transports) == {"telegram"}
    assert app.console is None
    assert "telegram" in app.ctx.invite_links
    with_console = KorteLijn(settings, console=True)
    assert set(with_console.transports) == {"telegram", "console"}
    without = KorteLijn(Settings.model_validate({
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"}}))
    assert set(without.transports) == {"console"}


def test_the_command_menu_has_dutch_names_and_english_aliases() -> None:
    menus = command_menus()
    assert set(menus) == {"nl", "en"}
    nl, en = dict(command_menu("nl")), dict(command_menu("en"))
    assert nl["nieuwezaak"] == "Een nieuwe zaak aanmaken"
    assert en["newcase"] == "Create a new case"
    assert {"start", "status", "help"} <= set(nl) & set(en)
    assert "hulp" not in en
    assert len(nl) == len(en)
    assert all(word in COMMANDS for word in (*nl, *en))
