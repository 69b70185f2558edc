"""The command menu a chat network shows (Telegram's ``setMyCommands``), built from the command
table: the Dutch names for Dutch, the English aliases for English, and a short description
from the catalogue (``menu.<Dutch name>``). A command without a description is left out."""

from __future__ import annotations

from bot import i18n
from handlers.dispatch import COMMANDS, Handler

#: command words that serve both languages (their other alias is only a synonym)
SHARED_WORDS = frozenset({"start", "status", "help"})


def command_menu(lang: str) -> list[tuple[str, str]]:
    """``[(command, description), ...]`` in ``lang``, in the command table's order."""
    aliases: dict[Handler, list[str]] = {}
    for word, handler in COMMANDS.items():
        aliases.setdefault(handler, []).append(word)
    menu: list[tuple[str, str]] = []
    for words in aliases.values():
        dutch = words[0]
        key = f"menu.{dutch}"
        if key not in i18n.MESSAGES:
            continue
        name = dutch if lang == "nl" or dutch in SHARED_WORDS or len(words) == 1 else words[1]
        menu.append((name, i18n.t(lang, key)))
    return menu


def command_menus() -> dict[str, list[tuple[str, str]]]:
    """The menu in every language the bot speaks."""
    return {lang: command_menu(lang) for lang in i18n.LANGUAGES}
