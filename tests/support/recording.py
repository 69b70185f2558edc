"""A transport that records what it is asked to send, and fails when told to."""

from __future__ import annotations

from collections import deque

from bot.transports.base import DeliveryError, IncomingHandler, Outgoing


class RecordingTransport:
    def __init__(self, name: str = "console") -> None:
        self.name = name
        self.sent: list[Outgoing] = []
        self.failures: deque[DeliveryError] = deque()
        self.attempts = 0

    async def start(self, on_incoming: IncomingHandler) -> None:
        self.on_incoming = on_incoming

    async def stop(self) -> None:
        return None

    async def send(self, message: Outgoing) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.popleft()
        self.sent.append(message)
        return f"m{len(self.sent)}"

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [m.text for m in self.sent if chat_id is None or m.chat_id == chat_id]
