"""Drives the whole bot on Telegram only (the console off), over the Bot API stand-in on
127.0.0.1, in-process.

People type and press buttons through the stand-in (``says``, ``presses``); what each chat
shows is read back from it. The bot's deadlines run on a :class:`ManualClock`, and the
stand-in's flood limits and the transport's pacing read that same clock (as seconds), so time
passes only when the test says so: each person's action comes a few seconds after the last,
as on a phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.app import KorteLijn
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.transports.telegram import TelegramTransport
from handlers.menu import command_menus
from tests.support.fake_bot_api import FakeBotApi, StoredMessage

DEEP_LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")
CASE = re.compile(r"\bZ-[2-9A-HJKMNP-Z]{4}\b")

#: how long after the previous action a person acts
THINKING = timedelta(seconds=2)


class TelegramHarness:
    def __init__(self, database_url: str, clock: ManualClock, *,
                 coordinator: int = 1, sections: dict[str, Any] | None = None) -> None:
        #: more settings sections (``{"dossier": {...}}``)
        self.sections = sections or {}
        self.clock = clock
        self.coordinator = coordinator
        self.api = FakeBotApi(clock=self.seconds)
        self.database_url = database_url
        self.app: KorteLijn | None = None

    def seconds(self) -> float:
        return self.clock.now().timestamp()

    async def _pass_time(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    async def start(self) -> KorteLijn:
        await self.api.start()
        return await self._start_bot()

    async def restart(self) -> KorteLijn:
        """Stop the bot and build a new one on the same database, as a new process would;
        the Bot API stand-in (the phones) runs on."""
        if self.app is not None:
            await self.app.stop()
            self.app = None
        return await self._start_bot()

    async def _start_bot(self) -> KorteLijn:
        settings = Settings.model_validate({
            **self.sections,
            "database": {"url": self.database_url},
            "bot": {"coordinators": [f"telegram:{self.coordinator}"]},
            "telegram": {"token": self.api.token, "base_url": self.api.base_url,
                         "request_timeout": "5s", "poll_timeout": "5s"},
        })
        transport = TelegramTransport(settings.telegram, commands=command_menus(),
                                      clock=self.seconds, sleep=self._pass_time,
                                      attachment_limit=settings.dossier.attachment_limit)
        self.app = KorteLijn(settings, clock=self.clock, transports=[transport], console=False)
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None
        await self.api.stop()

    # --- people ---------------------------------------------------------------------------
    def says(self, user_id: int, text: str, name: str, **kwargs: Any) -> dict[str, Any]:
        """A person sends a text message (in their private chat unless ``chat_id`` is given)."""
        self.clock.advance(THINKING)
        update = self.api.user_sends(user_id, text, first_name=name, **kwargs)
        assert update is not None, "the bot does not see this message (group privacy)"
        return update

    def sends_file(self, user_id: int, data: bytes, caption: str, name: str, **kwargs: Any
                   ) -> dict[str, Any]:
        """A person sends a document (``kind="photo"`` for a photo) with a caption."""
        self.clock.advance(THINKING)
        return self.api.user_sends_file(user_id, data, caption=caption, first_name=name,
                                        **kwargs)

    def presses(self, user_id: int, message: StoredMessage, data: str, *,
                check_button: bool = True) -> dict[str, Any]:
        self.clock.advance(THINKING)
        return self.api.user_presses(user_id, message.message_id, message.chat_id, data,
                                     check_button=check_button)

    async def until(self, predicate: Callable[[], object], within: float = 5.0) -> None:
        """Wait until the stand-in shows what the predicate expects (a deadline, not a sleep),
        and until the delivery round that showed it is over (its answers are in, so the
        transport counted its messages before the next person acts)."""
        await self.api.wait_for(predicate, within=within)
        if self.app is not None:
            await self.app.delivery.deliver_due()

    # --- what a chat shows ----------------------------------------------------------------
    def chat(self, chat_id: int) -> list[StoredMessage]:
        """The bot's messages in a chat, oldest first, as they look now (edits applied)."""
        return self.api.sent(chat_id)

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.chat(chat_id)]

    def has(self, chat_id: int, fragment: str) -> bool:
        return any(fragment in text for text in self.texts(chat_id))

    def last_with(self, chat_id: int, fragment: str) -> StoredMessage:
        found = [m for m in self.chat(chat_id) if fragment in m.text]
        assert found, f"no message with {fragment!r} in chat {chat_id}: {self.texts(chat_id)}"
        return found[-1]
