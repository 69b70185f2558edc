"""The test homeserver itself: it starts, registers people by shared secret, deduplicates a
send by its transaction id, and keeps its data across a restart."""

from __future__ import annotations

import secrets
import urllib.error

import nio
import pytest

from tests.support.synapse import Synapse


def _name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


async def test_register_and_deduplicate_by_transaction_id(synapse: Synapse) -> None:
    alice = synapse.register(_name("alice"))
    assert alice.user_id.startswith("@alice")
    assert alice.access_token
    client = nio.AsyncClient(synapse.url, alice.user_id, device_id=alice.device_id)
    client.restore_login(alice.user_id, alice.device_id, alice.access_token)
    try:
        room = await client.room_create(name="t")
        assert isinstance(room, nio.RoomCreateResponse)
        content = {"msgtype": "m.text", "body": "once"}
        first = await client.room_send(room.room_id, "m.room.message", content, tx_id="row-1")
        again = await client.room_send(room.room_id, "m.room.message", content, tx_id="row-1")
        other = await client.room_send(room.room_id, "m.room.message", content, tx_id="row-2")
        assert isinstance(first, nio.RoomSendResponse)
        assert isinstance(again, nio.RoomSendResponse)
        assert isinstance(other, nio.RoomSendResponse)
        assert again.event_id == first.event_id
        assert other.event_id != first.event_id
    finally:
        await client.close()


def test_wrong_shared_secret_is_refused(synapse: Synapse) -> None:
    real, synapse.shared_secret = synapse.shared_secret, "not-the-secret"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            synapse.register(_name("mallory"))
        assert refused.value.code in (401, 403)
    finally:
        synapse.shared_secret = real
