"""Health and metrics over HTTP, on ``[metrics] address`` (default ``127.0.0.1:9464``):

* ``/healthz``: the process is alive and its event loop answers (200);
* ``/readyz``: the database answers, its schema is current, every transport is connected,
  and whether this instance is the leader (runs the timed work) or a follower, and which
  chat accounts' updates it takes (``receiving``): 200 when ready, 503 otherwise, with the
  checks as JSON (never a person or a case). With several instances a transport whose
  account another instance receives (Matrix: one device) shows ``standby``, which is ready;
* ``/metrics``: Prometheus' text format (``bot/metrics.py``).

A transport says it is connected through an optional ``connected`` property; one without it
counts as connected once the bot runs (the console). A single instance is the leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import split_address
from bot.domain.clock import Clock
from bot.metrics import Metrics
from bot.persistence.database import head_revision, schema_revision

log = logging.getLogger(__name__)

#: how long /readyz waits for the database before it calls it unreachable
DATABASE_TIMEOUT_S = 3.0


def transport_connected(transport: object) -> bool:
    return bool(getattr(transport, "connected", True))


class HealthServer:
    def __init__(self, address: str, engine: AsyncEngine, clock: Clock,
                 transports: Mapping[str, object],
                 role: Callable[[], str] = lambda: "leader",
                 receiving: Callable[[str], bool] = lambda _name: True) -> None:
        parts = split_address(address)
        if parts is None:
            raise ValueError(f"metrics.address: not host:port: {address!r}")
        self._host, self._port = parts
        self._engine = engine
        self._transports = transports
        self._role = role
        self._receiving = receiving
        self.metrics = Metrics(engine, clock, self._connected,
                               lambda: self._role() == "leader")
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def _states(self) -> dict[str, str]:
        """connected; standby (not started here: another instance has its account); or
        disconnected."""
        states = {}
        for name, transport in self._transports.items():
            if transport_connected(transport):
                states[name] = "connected"
            elif not self._receiving(name):
                states[name] = "standby"
            else:
                states[name] = "disconnected"
        return states

    def _connected(self) -> dict[str, bool]:
        return {name: state != "disconnected" for name, state in self._states().items()}

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        # the bound socket tells the port when 0 (any free port) was asked for
        self.port = int(self._runner.addresses[0][1])
        log.info("health and metrics on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether this instance is ready, and each check's answer."""
        checks: dict[str, Any] = {}
        ready = True
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_S):
                async with self._engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                revision = await schema_revision(self._engine)
            checks["database"] = "reachable"
        except Exception as error:
            checks["database"] = f"unreachable ({type(error).__name__})"
            revision, ready = None, False
        if checks["database"] == "reachable":
            head = head_revision()
            if revision == head:
                checks["migrations"] = f"current ({head})"
            else:
                checks["migrations"] = f"behind: at {revision or 'none'}, needs {head}"
                ready = False
        states = self._states()
        checks["transports"] = dict(sorted(states.items()))
        ready = ready and "disconnected" not in states.values()
        checks["role"] = self._role()
        checks["receiving"] = sorted(name for name in states if self._receiving(name))
        return ready, checks

    async def _readyz(self, _request: web.Request) -> web.Response:
        ready, checks = await self.readiness()
        return web.json_response({"status": "ready" if ready else "not ready", **checks},
                                 status=200 if ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = await self.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
