"""``kortelijn doctor`` against broken configurations: each problem is named with what to do,
and the exit status says whether anything must be fixed. Telegram is the Bot API stand-in,
the database is real (both kinds), the homeserver a loopback HTTP server."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot import crypto
from bot.doctor import Doctor, Finding, report
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.persistence.database import create_engine, downgrade, migrate, session_factory
from tests.conftest import PG_URL, TEST_KEY
from tests.support.fake_bot_api import FakeBotApi

OTHER_KEY = crypto.generate_key()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


async def migrated_with_data(url: str) -> None:
    """A migrated database with one encrypted row (a person's name), under TEST_KEY."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with session_factory(engine)() as session:
            session.add(orm.Person(display_name="Coco", language="nl",
                                   created_at=datetime.now(UTC)))
            await session.commit()
    finally:
        await engine.dispose()


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kortelijn.toml"
    path.write_text(body)
    return path


def append(path: Path, body: str) -> None:
    path.write_text(path.read_text() + body)


async def check(path: Path | None = None, clock: ManualClock | None = None) -> list[Finding]:
    return await Doctor(path, clock=clock).run()


def fixes(findings: list[Finding]) -> list[str]:
    return [f.line() for f in findings if f.level == "fix"]


def text_of(findings: list[Finding]) -> str:
    return "\n".join(f.line() for f in findings)


@pytest.fixture
async def healthy(database_url: str, api: FakeBotApi, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    await migrated_with_data(database_url)
    monkeypatch.setenv("KORTELIJN_DATABASE__URL", database_url)
    monkeypatch.setenv("KORTELIJN_TELEGRAM__TOKEN", api.token)
    return config(tmp_path, f'[bot]\nmode = "production"\n\n[telegram]\n'
                            f'base_url = "{api.base_url}"\n')


async def test_a_healthy_deployment(healthy: Path, api: FakeBotApi) -> None:
    findings = await check(healthy)
    assert fixes(findings) == []
    topics = {f.topic for f in findings if f.level == "ok"}
    assert topics >= {"configuration", "database", "migrations", "encryption key", "clock",
                      "telegram"}
    assert "the bot is @KorteLijnTestBot" in text_of(findings)
    assert api.token not in text_of(findings)


async def test_unknown_options_in_the_file_and_the_environment(
        healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    append(healthy, 'tokn = "x"\n\n[metrcs]\naddress = ""\n')
    monkeypatch.setenv("KORTELIJN_DELIVERY__MAX_ATEMPTS", "3")
    problems = "\n".join(fixes(await check(healthy)))
    assert "[telegram] tokn is not an option" in problems
    assert "[metrcs] is not an option" in problems
    assert "KORTELIJN_DELIVERY__MAX_ATEMPTS names no option" in problems


async def test_wrong_types(tmp_path: Path) -> None:
    path = config(tmp_path, '[delivery]\nmax_attempts = "many"\n\n[norms]\n'
                            'signal_follow_up = "soon"\n')
    problems = fixes(await check(path))
    assert any("[delivery] max_attempts: Input should be a valid integer" in p
               for p in problems), problems
    assert any("[norms] signal_follow_up" in p for p in problems), problems


async def test_not_toml_and_no_file(tmp_path: Path) -> None:
    assert "is not valid TOML" in fixes(await check(config(tmp_path, "[bot\nmode=")))[0]
    assert "does not exist" in fixes(await check(tmp_path / "nothing.toml"))[0]


async def test_production_without_the_key(healthy: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KORTELIJN_SECURITY__KEY")
    problems = fixes(await check(healthy))
    assert len(problems) == 1
    assert "production mode needs the encryption key: set KORTELIJN_SECURITY__KEY" in problems[0]


async def test_the_database_unreachable(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORTELIJN_DATABASE__URL",
                       "postgresql+asyncpg://kortelijn:geheim@127.0.0.1:1/kortelijn")
    problems = fixes(await check())
    assert len(problems) == 1
    assert "cannot reach postgresql+asyncpg://kortelijn:***@127.0.0.1:1/kortelijn" in problems[0]
    assert "geheim" not in problems[0]


async def test_the_schema_missing_or_behind(database_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORTELIJN_DATABASE__URL", database_url)
    assert "has no schema yet: run `kortelijn migrate`" in fixes(await check())[0]
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        await downgrade(engine, "0004")
    finally:
        await engine.dispose()
    assert "the schema is at 0004" in fixes(await check())[0]


async def test_the_key_does_not_fit_the_data(database_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    await migrated_with_data(database_url)
    monkeypatch.setenv("KORTELIJN_DATABASE__URL", database_url)
    monkeypatch.setenv("KORTELIJN_SECURITY__KEY", OTHER_KEY)
    problems = fixes(await check())
    assert len(problems) == 1
    assert "does not open with the configured key(s)" in problems[0]
    # with the earlier key among old_keys it opens, and a rekey is advised
    monkeypatch.setenv("KORTELIJN_SECURITY__OLD_KEYS", f'["{TEST_KEY}"]')
    findings = await check()
    assert fixes(findings) == []
    assert "run `kortelijn rekey`" in text_of(findings)


async def test_telegram_token_refused_or_api_unreachable(
        healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORTELIJN_TELEGRAM__TOKEN", "999:WrongTokenWrongTokenWrongToken")
    problems = fixes(await check(healthy))
    assert problems == [" FIX  telegram: the Bot API refused the token: copy it again from "
                        "@BotFather into KORTELIJN_TELEGRAM__TOKEN"]
    monkeypatch.setenv("KORTELIJN_TELEGRAM__BASE_URL", "http://127.0.0.1:1/bot")
    problems = fixes(await check(healthy))
    assert len(problems) == 1
    assert "the Bot API at http://127.0.0.1:1/bot cannot be reached" in problems[0]


@pytest.mark.skipif(not PG_URL, reason="KORTELIJN_TEST_DATABASE_URL is not set")
@pytest.mark.postgres
async def test_clock_skew_against_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    await migrated_with_data(PG_URL)
    monkeypatch.setenv("KORTELIJN_DATABASE__URL", PG_URL)
    fast = ManualClock(datetime.now(UTC) + timedelta(seconds=90))
    problems = fixes(await check(clock=fast))
    assert len(problems) == 1
    assert_ahead(problems[0])


def assert_ahead(problem: str) -> None:
    """90 s ahead, less the time the check took (the fast clock stands still meanwhile)."""
    found = re.search(r"this machine's clock is (\d+) s ahead of the database server's",
                      problem)
    assert found is not None, problem
    assert 60 <= int(found[1]) <= 90, problem


async def homeserver(answer: web.Response) -> web.AppRunner:
    async def versions(_request: web.Request) -> web.Response:
        return answer

    app = web.Application()
    app.router.add_get("/_matrix/client/versions", versions)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_matrix_homeserver(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = await homeserver(web.json_response({"versions": ["r0.6.1", "v1.11"]}))
    port = runner.addresses[0][1]
    try:
        monkeypatch.setenv("KORTELIJN_MATRIX__HOMESERVER", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("KORTELIJN_MATRIX__USER_ID", "@kortelijn:localhost")
        findings = await check(healthy)
        assert fixes(findings) == []
        assert "matrix: the homeserver answers (Matrix v1.11)" in text_of(findings)
    finally:
        await runner.cleanup()
    runner = await homeserver(web.Response(status=404))
    port = runner.addresses[0][1]
    try:
        monkeypatch.setenv("KORTELIJN_MATRIX__HOMESERVER", f"http://127.0.0.1:{port}")
        problems = fixes(await check(healthy))
        assert len(problems) == 1
        assert "does not answer as a Matrix homeserver (HTTP 404" in problems[0]
    finally:
        await runner.cleanup()


def test_the_matrix_device_store(tmp_path: Path) -> None:
    doctor = Doctor()
    doctor._check_matrix_store(tmp_path, "@kortelijn:localhost", "DEVICE")
    assert "no device keys for @kortelijn:localhost" in fixes(doctor.findings)[0]
    with sqlite3.connect(tmp_path / "@kortelijn:localhost_DEVICE.db") as conn:
        conn.execute("CREATE TABLE accounts (account BLOB, user_id TEXT, device_id TEXT, "
                     "shared INTEGER)")
        conn.execute("INSERT INTO accounts VALUES (x'00', '@kortelijn:localhost', "
                     "'DEVICE', 1)")
    doctor = Doctor()
    doctor._check_matrix_store(tmp_path, "@kortelijn:localhost", "DEVICE")
    assert [f.level for f in doctor.findings] == ["ok"]


async def test_the_command_exits_non_zero_and_says_what_to_fix(tmp_path: Path) -> None:
    path = config(tmp_path, '[bot]\nmode = "production"\n\n[telegram]\ntokn = "x"\n')
    env = {**os.environ, "KORTELIJN_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"}
    env.pop("KORTELIJN_SECURITY__KEY")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "doctor", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 1
    lines = out.decode().splitlines()
    assert any("[telegram] tokn is not an option" in line for line in lines), lines
    assert any("production mode needs the encryption key" in line for line in lines), lines
    assert lines[-1].startswith("kortelijn doctor: ")
    assert "Traceback" not in err.decode()


async def test_a_matrix_homeserver_that_cannot_be_reached(
        healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORTELIJN_MATRIX__HOMESERVER", "http://127.0.0.1:1")
    monkeypatch.setenv("KORTELIJN_MATRIX__USER_ID", "@kortelijn:localhost")
    problems = fixes(await check(healthy))
    assert problems == [" FIX  matrix: the homeserver http://127.0.0.1:1 cannot be reached "
                        "(ClientConnectorError); check [matrix] homeserver"]


BROKEN = {
    "unknown option": "[telegram] tokn is not an option",
    "wrong type": "[delivery] max_attempts: Input should be a valid integer",
    "no key in production": "production mode needs the encryption key: set "
                            "KORTELIJN_SECURITY__KEY",
    "another key": "does not open with the configured key(s)",
    "homeserver unreachable": "the homeserver http://127.0.0.1:1 cannot be reached",
    "token refused": "the Bot API refused the token: copy it again from @BotFather",
    "clock skew": "s ahead of the database server's: keep both on NTP",
}


@pytest.mark.parametrize("broken", list(BROKEN))
async def test_each_kind_of_broken_deployment_is_named_and_fails_the_run(
        healthy: Path, database_url: str, broken: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One thing broken in an otherwise healthy production deployment (the list of issue
    12): the report names it, alone, with what to do, and the exit status is 1."""
    assert fixes(await check(healthy)) == []  # healthy, before one thing breaks
    clock = None
    if broken == "unknown option":
        append(healthy, 'tokn = "x"\n')
    elif broken == "wrong type":
        append(healthy, '\n[delivery]\nmax_attempts = "many"\n')
    elif broken == "no key in production":
        monkeypatch.delenv("KORTELIJN_SECURITY__KEY")
    elif broken == "another key":
        monkeypatch.setenv("KORTELIJN_SECURITY__KEY", OTHER_KEY)
    elif broken == "homeserver unreachable":
        monkeypatch.setenv("KORTELIJN_MATRIX__HOMESERVER", "http://127.0.0.1:1")
        monkeypatch.setenv("KORTELIJN_MATRIX__USER_ID", "@kortelijn:localhost")
    elif broken == "token refused":
        monkeypatch.setenv("KORTELIJN_TELEGRAM__TOKEN", "999:WrongTokenWrongTokenWrongToken")
    else:
        if not database_url.startswith("postgresql"):
            pytest.skip("SQLite runs on this machine's clock")
        clock = ManualClock(datetime.now(UTC) + timedelta(seconds=90))
    findings = await check(healthy, clock=clock)
    out = io.StringIO()
    assert report(findings, out) == 1
    problems = fixes(findings)
    assert len(problems) == 1, problems
    assert BROKEN[broken] in problems[0]
    if broken == "clock skew":
        assert_ahead(problems[0])
    assert out.getvalue().splitlines()[-1] == "kortelijn doctor: 1 thing(s) to fix (marked FIX)"
