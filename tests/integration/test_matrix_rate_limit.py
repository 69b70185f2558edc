"""A homeserver's 429 over a real HTTP connection on 127.0.0.1 (a stand-in answering as
Synapse does): nio hands it back at once instead of sleeping and retrying inside the call
(its default, which would block the delivery of that message's slot for as long as the
server likes), and the transport makes that room wait the ``retry_after_ms`` asked, while a
message to another room goes at once. The whole path on a real Synapse, through the outbox,
is in tests/matrix/test_matrix_resilience.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nio
import pytest
from aiohttp import web

from bot.config import MatrixSettings
from bot.transports.base import NotYet, Outgoing
from bot.transports.matrix import MatrixTransport

BOT = "@kortelijn:test"


class Homeserver:
    def __init__(self) -> None:
        self.sends: list[str] = []

    async def send(self, request: web.Request) -> web.Response:
        room = request.match_info["room"]
        self.sends.append(room)
        if room == "!busy:test":
            return web.json_response({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many",
                                      "retry_after_ms": 60000}, status=429)
        return web.json_response({"event_id": f"$sent{len(self.sends)}"})


@pytest.fixture
async def homeserver() -> AsyncIterator[tuple[Homeserver, str]]:
    server = Homeserver()
    app = web.Application()
    app.router.add_put("/_matrix/client/{version}/rooms/{room}/send/{type}/{txn}",
                       server.send)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield server, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_429_holds_back_only_its_room_and_never_blocks(
        homeserver: tuple[Homeserver, str]) -> None:
    server, url = homeserver
    transport = MatrixTransport(
        MatrixSettings(homeserver=url, user_id=BOT, password="x", encryption=False),
        host=None)  # type: ignore[arg-type]
    client = nio.AsyncClient(url, BOT, config=transport._config())
    client.restore_login(BOT, "KORTELIJN", "token")
    transport._client = client
    transport._ready.set()
    try:
        # handed back at once (nio's default would sleep the minute and try again)
        with pytest.raises(NotYet) as held:
            await asyncio.wait_for(
                transport.send(Outgoing(chat_id="!busy:test", text="Bericht", outbox_id=1)), 5)
        assert held.value.wait == pytest.approx(60.0)
        assert server.sends == ["!busy:test"]
        # the room waits what the homeserver asked: no request until then
        with pytest.raises(NotYet) as again:
            await transport.send(Outgoing(chat_id="!busy:test", text="Bericht", outbox_id=1))
        assert 50 < again.value.wait <= 60
        assert server.sends == ["!busy:test"]
        # another room goes on
        sent = await asyncio.wait_for(
            transport.send(Outgoing(chat_id="!calm:test", text="Bericht", outbox_id=2)), 5)
        assert sent == "$sent2"
    finally:
        await client.close()
