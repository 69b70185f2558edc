"""``kortelijn doctor``: checks a deployment and says, in plain words, what to fix.

In order: the configuration (a file that parses, no unknown option, every value of the right
type, what production mode needs), the database (reachable, its schema current), the
encryption key against the data (a sample of every encrypted column opens), each configured
transport (Telegram: the token through getMe at ``base_url``; Matrix: the homeserver answers
``/_matrix/client/versions``, and the device's keys are in ``store_path`` if one is set), and
this machine's clock against the database's. Nothing is written, and no secret is printed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

import aiohttp
from pydantic import ValidationError
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import crypto
from bot.config import (
    ConfigError,
    Settings,
    config_path,
    load_settings,
    unknown_environment,
    unknown_options,
)
from bot.domain.clock import Clock, SystemClock
from bot.persistence.database import create_engine, head_revision, schema_revision
from bot.persistence.rekey import encrypted_columns, opened

#: more than this between this machine's clock and the database's is a problem
MAX_SKEW = timedelta(seconds=5)
#: values sampled per encrypted column
SAMPLE = 3
#: how long to wait for the database or a homeserver
TIMEOUT_S = 10.0

Level = Literal["ok", "note", "fix"]
_MARK = {"ok": "  ok ", "note": "note ", "fix": " FIX "}


def _column_names(connection: Any, table: str) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns(table)}


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    text: str

    def line(self) -> str:
        return f"{_MARK[self.level]} {self.topic}: {self.text}"


class Doctor:
    def __init__(self, config_file: str | Path | None = None, *,
                 clock: Clock | None = None) -> None:
        self._config_file = config_file
        self._clock = clock or SystemClock()
        self.findings: list[Finding] = []

    def _add(self, level: Level, topic: str, words: str) -> None:
        self.findings.append(Finding(level, topic, words))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "fix"]

    async def run(self) -> list[Finding]:
        settings = self.check_configuration()
        if settings is None:
            return self.findings
        engine = create_engine(settings.database.url)
        try:
            if await self.check_database(engine, settings):
                await self.check_key(engine, settings)
                await self.check_clock(engine)
        finally:
            await engine.dispose()
        await self.check_telegram(settings)
        await self.check_matrix(settings)
        return self.findings

    # --- configuration ----------------------------------------------------------------------
    def check_configuration(self) -> Settings | None:
        path = config_path(self._config_file)
        if path is not None:
            if not path.is_file():
                self._add("fix", "configuration", f"the file {path} does not exist; name "
                          "the right one with --config FILE (or KORTELIJN_CONFIG)")
                return None
            try:
                data = tomllib.loads(path.read_text())
            except tomllib.TOMLDecodeError as error:
                self._add("fix", "configuration", f"{path} is not valid TOML ({error}); "
                          "compare it with deploy/kortelijn.example.toml")
                return None
            for option in unknown_options(data):
                self._add("fix", "configuration", f"{path}: {option} is not an option of "
                          "KorteLijn (a typing error?); deploy/kortelijn.example.toml lists "
                          "every option")
        for name in unknown_environment():
            self._add("fix", "configuration", f"the environment variable {name} names no "
                      "option (a typing error?)")
        try:
            settings = load_settings(path)
        except ValidationError as error:
            for item in error.errors():
                where = _location(item["loc"])
                if item["type"] == "extra_forbidden":
                    continue  # reported above as an unknown option
                self._add("fix", "configuration", f"{where}: {item['msg']}")
            return None
        except (ConfigError, ValueError) as error:
            self._add("fix", "configuration", str(error))
            return None
        source = f"{path}" if path is not None else "the defaults and the environment"
        self._check_production(settings)
        if not self.problems:
            self._add("ok", "configuration", f"read from {source}; mode {settings.bot.mode}")
        return settings

    def _check_production(self, settings: Settings) -> None:
        telegram = settings.telegram
        if telegram.mode == "webhook" and not telegram.webhook_url:
            self._add("fix", "configuration", "[telegram] mode is webhook but webhook_url is "
                      "not set: set the public HTTPS address Telegram posts to")
        if settings.bot.mode != "production":
            return
        if settings.security.key is None:
            self._add("fix", "configuration", "production mode needs the encryption key: set "
                      "KORTELIJN_SECURITY__KEY (make one with `kortelijn genkey` and keep a "
                      "copy apart from the backups)")
        if make_url(settings.database.url).get_backend_name() == "sqlite":
            self._add("note", "configuration", "production on SQLite runs one instance only; "
                      "PostgreSQL ([database] url) is the production database")
        if not settings.chat_accounts:
            self._add("fix", "configuration", "production mode without a chat account: set "
                      "[telegram] token or [matrix] homeserver and user_id")

    # --- database ---------------------------------------------------------------------------
    async def check_database(self, engine: AsyncEngine, settings: Settings) -> bool:
        shown = make_url(settings.database.url).render_as_string(hide_password=True)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                revision = await schema_revision(engine)
        except Exception as error:
            self._add("fix", "database", f"cannot reach {shown} ({type(error).__name__}: "
                      f"{_first_line(error)}); check [database] url "
                      "(KORTELIJN_DATABASE__URL), that the server runs and lets this user in")
            return False
        self._add("ok", "database", f"{shown} answers")
        head = head_revision()
        if revision is None:
            self._add("fix", "migrations", "the database has no schema yet: run "
                      "`kortelijn migrate`")
            return False
        if revision != head:
            self._add("fix", "migrations", f"the schema is at {revision}, this version needs "
                      f"{head}: run `kortelijn migrate` (if {revision} is newer, this is an "
                      "older KorteLijn than the one that migrated: install the newer one)")
            return False
        self._add("ok", "migrations", f"the schema is current ({head})")
        return True

    async def check_key(self, engine: AsyncEngine, settings: Settings) -> None:
        security = settings.security
        if security.key is None and settings.bot.mode == "production":
            return  # said under configuration
        if security.key is None and not security.key_file.exists():
            ring = None
        else:
            try:
                ring = crypto.keyring_from_settings(settings)
            except (ConfigError, ValueError) as error:
                self._add("fix", "encryption key", str(error))
                return
        #: (value, its column as the authenticated data names it, its row's key)
        samples: list[tuple[str, str, str | None]] = []
        async with engine.connect() as conn:
            for table, column, deterministic in encrypted_columns():
                # a row's key binds its random-nonce values (revision 0011; before it, none)
                keyed = not deterministic and crypto.ROW_KEY in await conn.run_sync(
                    _column_names, table)
                rows = await conn.execute(text(
                    f"SELECT {crypto.ROW_KEY if keyed else 'NULL'}, {column} "  # noqa: S608
                    f"FROM {table} WHERE {column} IS NOT NULL "
                    f"ORDER BY id DESC LIMIT {SAMPLE}"))
                samples.extend((value, f"{table}.{column}", row) for row, value in rows
                               if value)
        if not samples:
            self._add("ok", "encryption key", "no encrypted data yet")
            return
        if ring is None:
            self._add("fix", "encryption key", "the database holds encrypted data but no key "
                      f"is configured and {security.key_file} is missing: set "
                      "KORTELIJN_SECURITY__KEY to the key it was written with (or restore "
                      "the key file)")
            return
        unopened: set[str] = set()
        old = 0
        for value, place, row in samples:
            try:
                # bound to its row (since 0011), to its column (since 0008) or to nothing
                opened(ring, place, value, row)
            except crypto.DecryptionError:
                unopened.add(value.split(":", 2)[1] if value.count(":") >= 2 else "?")
                continue
            old += not ring.is_current(value)
        if unopened:
            self._add("fix", "encryption key", f"data written with key id(s) "
                      f"{', '.join(sorted(unopened))} does not open with the configured "
                      f"key(s) ({ring.key_id} writes): set [security] key to the key the data "
                      "was written with, or add it to old_keys")
            return
        self._add("ok", "encryption key", f"a sample of {len(samples)} encrypted values opens")
        if old:
            self._add("note", "encryption key", f"{old} sampled value(s) are under an old key: "
                      "run `kortelijn rekey`, then the old key can go")

    async def check_clock(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            self._add("ok", "clock", "SQLite runs on this machine's clock")
            return
        async with engine.connect() as conn:
            before = self._clock.now()
            database_now = (await conn.execute(text("SELECT clock_timestamp()"))).scalar_one()
            after = self._clock.now()
        skew = database_now - (before + (after - before) / 2)
        seconds = skew.total_seconds()
        if abs(skew) > MAX_SKEW:
            side = "behind" if seconds > 0 else "ahead of"
            self._add("fix", "clock", f"this machine's clock is {abs(seconds):.0f} s {side} "
                      "the database server's: keep both on NTP (timedatectl set-ntp true), "
                      "or deadlines fall at the wrong moment")
        else:
            self._add("ok", "clock", f"within {abs(seconds):.1f} s of the database server's")

    # --- transports -------------------------------------------------------------------------
    async def check_telegram(self, settings: Settings) -> None:
        telegram = settings.telegram
        if telegram.token is None:
            return
        token = telegram.token.get_secret_value()
        timeout = aiohttp.ClientTimeout(total=telegram.request_timeout.total_seconds())
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http, \
                    http.get(f"{telegram.base_url}{token}/getMe") as response:
                status = response.status
                body: Any = await response.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            self._add("fix", "telegram", f"the Bot API at {telegram.base_url} cannot be "
                      f"reached ({type(error).__name__}); check [telegram] base_url and "
                      "that this machine may connect to it")
            return
        if status in (401, 404):
            self._add("fix", "telegram", "the Bot API refused the token: copy it again from "
                      "@BotFather into KORTELIJN_TELEGRAM__TOKEN")
            return
        result = body.get("result") if isinstance(body, dict) and body.get("ok") else None
        if status != 200 or not isinstance(result, dict):
            self._add("fix", "telegram", f"the Bot API answered getMe with HTTP {status}; "
                      "check [telegram] base_url")
            return
        self._add("ok", "telegram", f"the token is valid: the bot is @{result.get('username')}")

    async def check_matrix(self, settings: Settings) -> None:
        matrix = settings.matrix
        if not matrix.homeserver:
            return
        url = matrix.homeserver.rstrip("/") + "/_matrix/client/versions"
        try:
            async with aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http, \
                    http.get(url) as response:
                status = response.status
                body: Any = await response.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            self._add("fix", "matrix", f"the homeserver {matrix.homeserver} cannot be reached "
                      f"({type(error).__name__}); check [matrix] homeserver")
            return
        if status != 200 or not isinstance(body, dict) or not body.get("versions"):
            self._add("fix", "matrix", f"{matrix.homeserver} does not answer as a Matrix "
                      f"homeserver (HTTP {status} on /_matrix/client/versions); check "
                      "[matrix] homeserver")
            return
        self._add("ok", "matrix", f"the homeserver answers (Matrix {body['versions'][-1]})")
        if not matrix.user_id:
            self._add("fix", "matrix", "[matrix] user_id is not set: the bot's account, e.g. "
                      "@kortelijn:example.org")
        store = getattr(matrix, "store_path", None)
        if store and matrix.user_id:
            self._check_matrix_store(Path(store), matrix.user_id,
                                     getattr(matrix, "device_id", None))

    def _check_matrix_store(self, store: Path, user_id: str, device_id: str | None) -> None:
        """The device's keys: matrix-nio's store file ``<user>_<device>.db`` in the folder,
        with the account (its identity keys) in it."""
        pattern = f"{user_id}_{device_id}.db" if device_id else f"{user_id}_*.db"
        files = sorted(store.glob(pattern)) if store.is_dir() else []
        for path in files:
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                    count = conn.execute("SELECT count(*) FROM accounts WHERE user_id = ?",
                                         (user_id,)).fetchone()[0]
            except sqlite3.Error:
                continue
            if count:
                self._add("ok", "matrix", f"the device's keys are in {path}")
                return
        if device_id is None and not files:
            # no device named and no store yet: a first start, which makes both
            self._add("note", "matrix", f"no device keys for {user_id} in {store} yet: the "
                      "first start makes them (if the bot ran before, restore the store "
                      "folder from the backup)")
            return
        self._add("fix", "matrix", f"no device keys for {user_id} in {store}: restore the "
                  "store folder from the backup (a new device must be verified again in "
                  "every encrypted room), or let a first start make it")


def _location(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "configuration"
    head, *rest = (str(part) for part in loc)
    return f"[{head}] {'.'.join(rest)}" if rest else f"[{head}]"


def _first_line(error: BaseException) -> str:
    words = str(error).strip().splitlines()
    return words[0][:200] if words else "no details"


def report(findings: list[Finding], out: TextIO) -> int:
    """Print the findings; 1 when something must be fixed, else 0."""
    for finding in findings:
        print(finding.line(), file=out)
    problems = sum(f.level == "fix" for f in findings)
    if problems:
        print(f"kortelijn doctor: {problems} thing(s) to fix (marked FIX)", file=out)
        return 1
    print("kortelijn doctor: all checks passed", file=out)
    return 0
