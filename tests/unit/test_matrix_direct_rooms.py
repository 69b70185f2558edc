"""The first message to someone the bot must reach in a direct room it opens itself, without a
homeserver: it is written only once nio lists the person in the new room.

A homeserver makes a room, then invites; the bot's sync can bring the room with the bot alone
first. nio encrypts for the members it knows and shares a room's key once, so a message sent
in between would stay unreadable for the person (the Synapse tests in tests/matrix/ saw
exactly that). These tests drive the transport with a stand-in for nio's client, with the
syncs played by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import nio
import pytest

from bot.config import MatrixSettings
from bot.transports import matrix
from bot.transports.base import NotYet, Outgoing
from bot.transports.matrix import MatrixTransport

BOT = "@kortelijn:test"
BRAM = "@bram:test"


class Host:
    """The core's side, in memory."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, str]] = {}

    async def load_state(self) -> dict[str, dict[str, str]]:
        return self.state

    async def save_state(self, changes: Iterable[tuple[str, str, str | None]]) -> None:
        for kind, key, value in changes:
            if value is None:
                self.state.get(kind, {}).pop(key, None)
            else:
                self.state.setdefault(kind, {})[key] = value

    async def is_enrolled(self, address: str) -> bool:
        return True

    async def may_invite_bot(self, address: str) -> bool:
        return True


class Client:
    """What the transport asks of nio's client when it sends; the rooms as the syncs left
    them."""

    def __init__(self) -> None:
        self.rooms: dict[str, nio.MatrixRoom] = {}
        self.olm = object()  # encryption on
        self.created: list[str] = []
        #: (room id, the members nio listed when the message went)
        self.sent: list[tuple[str, set[str]]] = []
        self.left: list[str] = []

    async def room_create(self, **_: Any) -> nio.RoomCreateResponse:
        room_id = f"!room{len(self.created) + 1}:test"
        self.created.append(room_id)
        return nio.RoomCreateResponse(room_id)

    async def room_send(self, room_id: str, _type: str, _content: dict[str, Any],
                        **_: Any) -> nio.RoomSendResponse:
        self.sent.append((room_id, set(self.rooms[room_id].users)))
        return nio.RoomSendResponse(f"$event{len(self.sent)}", room_id)

    async def room_leave(self, room_id: str) -> None:
        self.left.append(room_id)


def transport_with(client: Client, host: Host) -> MatrixTransport:
    transport = MatrixTransport(
        MatrixSettings(homeserver="http://127.0.0.1:9", user_id=BOT, password="x"), host)
    transport._client = client  # type: ignore[assignment]
    transport._ready.set()
    return transport


def sync(transport: MatrixTransport, client: Client, room_id: str, *,
         invited: Iterable[str] = ()) -> None:
    """A sync that brings ``room_id`` with the bot joined (and ``invited``)."""
    room = client.rooms.setdefault(room_id, nio.MatrixRoom(room_id, BOT, encrypted=True))
    room.add_member(BOT, None, None)
    for user in invited:
        room.add_member(user, None, None, invited=True)
    transport._synced.set()  # as after each handled sync
    transport._synced.clear()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)  # let the send run up to its next wait (no time passes)


async def test_a_new_direct_room_is_written_to_once_the_person_shows_in_it() -> None:
    client, host = Client(), Host()
    transport = transport_with(client, host)
    sending = asyncio.create_task(transport.send(Outgoing(chat_id=BRAM, text="Nieuw signaal",
                                                          outbox_id=7)))
    await settle()
    assert client.created == ["!room1:test"]
    # the room and its person are kept at once (a restart reaches Bram in the same room)
    assert host.state["dm"] == {BRAM: "!room1:test"}

    sync(transport, client, "!room1:test")  # the room, with the bot alone
    await settle()
    assert client.sent == [], "written to before the person was in the room"
    assert not sending.done()

    sync(transport, client, "!room1:test", invited=[BRAM])  # then the invitation
    assert await sending == "$event1"
    assert client.sent == [("!room1:test", {BOT, BRAM})]
    assert client.created == ["!room1:test"]


async def test_a_room_just_opened_waits_for_its_invitation_and_is_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The invitation has not synced within the wait: the message is held (``NotYet``: no
    attempt counted) and goes to the same room next time, no second room is opened."""
    monkeypatch.setattr(matrix, "ROOM_WAIT", 0.0)
    client, host = Client(), Host()
    transport = transport_with(client, host)
    sync_soon = asyncio.get_running_loop().call_soon
    sync_soon(lambda: sync(transport, client, "!room1:test"))
    with pytest.raises(NotYet):
        await transport.send(Outgoing(chat_id=BRAM, text="Nieuw signaal", outbox_id=7))
    assert client.sent == []

    sync(transport, client, "!room1:test", invited=[BRAM])
    await transport.send(Outgoing(chat_id=BRAM, text="Nieuw signaal", outbox_id=7))
    assert client.created == ["!room1:test"]
    assert client.sent == [("!room1:test", {BOT, BRAM})]


async def test_a_direct_room_its_person_has_left_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A direct room from an earlier run that nio shows without its person (a leave the bot
    missed): it is let go, and the next attempt opens a new room, instead of waiting for
    ever."""
    monkeypatch.setattr(matrix, "ROOM_WAIT", 0.0)
    client, host = Client(), Host()
    host.state = {"dm": {BRAM: "!old:test"}, "room": {"!old:test": f"direct {BRAM}"}}
    transport = transport_with(client, host)
    transport._restore(host.state)
    sync(transport, client, "!old:test")  # Bram is not in it any more
    with pytest.raises(NotYet):
        await transport.send(Outgoing(chat_id=BRAM, text="Nieuw signaal", outbox_id=7))
    assert client.left == ["!old:test"]
    assert BRAM not in host.state["dm"]

    monkeypatch.setattr(matrix, "ROOM_WAIT", 10.0)
    sending = asyncio.create_task(transport.send(Outgoing(chat_id=BRAM, text="Nieuw signaal",
                                                          outbox_id=7)))
    await settle()
    assert client.created == ["!room1:test"]
    sync(transport, client, "!room1:test", invited=[BRAM])
    await sending
    assert client.sent == [("!room1:test", {BOT, BRAM})]
