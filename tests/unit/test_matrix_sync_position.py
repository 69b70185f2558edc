"""When the Matrix transport saves its sync position, without a homeserver: only after what it
covers has been handled, at once after a start, then at most every half minute (a write per
batch would stand between a signal and its delivery; a crash re-reads what came since, and the
core skips what it handled: tests/matrix/test_matrix_resilience.py kills the bot there), and at
a clean stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import MatrixSettings
from bot.transports import matrix
from bot.transports.matrix import MatrixTransport
from tests.unit.test_matrix_direct_rooms import BOT, Host


@dataclass
class Rooms:
    invite: dict[str, Any] = field(default_factory=dict)
    join: dict[str, Any] = field(default_factory=dict)
    leave: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    next_batch: str
    rooms: Rooms = field(default_factory=Rooms)


class Client:
    olm = None
    rooms: dict[str, Any] = {}  # noqa: RUF012 (read only)

    async def close(self) -> None:
        pass


async def test_the_position_is_saved_after_a_start_every_half_minute_and_at_a_stop() -> None:
    host = Host()
    host.state = {"sync": {"token": "t0"}}
    transport = MatrixTransport(
        MatrixSettings(homeserver="http://127.0.0.1:9", user_id=BOT, password="x"), host)
    transport._restore(host.state)
    client = Client()
    transport._client = client  # type: ignore[assignment]

    async def batch(token: str, *, first: bool = False) -> str:
        await transport._after_sync(client, Batch(token),  # type: ignore[arg-type]
                                    history=False, since="t0" if first else None)
        assert transport._token == token  # read up to here, in memory
        return host.state["sync"]["token"]

    assert await batch("t1", first=True) == "t1"  # the first batch after a start
    assert await batch("t2") == "t1"  # not in the way of what the batch caused
    transport._saved_at -= matrix.TOKEN_SAVE_INTERVAL + 1
    assert await batch("t3") == "t3"  # half a minute later
    assert await batch("t4") == "t3"
    await transport.stop()
    assert host.state["sync"]["token"] == "t4"  # a clean stop keeps how far it had read
