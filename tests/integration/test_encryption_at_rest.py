"""Encryption at rest, on both databases: after a signal with a note was posted and delivered,
neither the note nor anyone's name or chat id is in any table in plain text; the bot itself
reads it all back; a wrong key reads nothing. Migration 0004 encrypts what a development
database already held, and its downgrade gives it back. ``kortelijn rekey`` moves everything
to a new key."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import crypto
from bot.domain.clock import ManualClock
from bot.persistence import orm
from bot.persistence.database import create_engine, downgrade, migrate, session_factory
from bot.persistence.orm import Base
from bot.persistence.rekey import encrypted_columns, rekey
from bot.persistence.uow import UnitOfWork
from tests.support.harness import ConsoleHarness

#: no character of the cipher texts' alphabet (base64url) is a space, so this cannot turn up
#: in cipher text by chance
MARKER = "geheime toelichting 7f3a9c over de huur"
#: long names, so a chance match in random cipher text is out of the question
LANDLORD, COACH = "Wilhelmina", "Bartholomeus"


async def raw_values(engine: AsyncEngine) -> list[str]:
    """Every value of every table, read with plain SQL (no column type decrypts anything)."""
    return [value for _, value in await placed_values(engine)]


async def placed_values(engine: AsyncEngine) -> list[tuple[str, str]]:
    """Every value of every table with its place, ``table.column``, read with plain SQL."""
    values: list[tuple[str, str]] = []
    async with engine.connect() as conn:
        present = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        for table in [t for t in Base.metadata.sorted_tables if t.name in present]:
            result = await conn.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608
            names = list(result.keys())
            values += [(f"{table.name}.{name}", str(value)) for row in result.all()
                       for name, value in zip(names, row, strict=True) if value is not None]
    return values


async def bound_values(engine: AsyncEngine) -> list[tuple[str, str, str | None]]:
    """Every encrypted value with its place and (a random-nonce one) its row's key, read with
    plain SQL."""
    found: list[tuple[str, str, str | None]] = []
    async with engine.connect() as conn:
        for table, column, deterministic in encrypted_columns():
            row = "NULL" if deterministic else "row_key"
            found += [(f"{table}.{column}", value, key) for key, value in (await conn.execute(
                text(f"SELECT {row}, {column} FROM {table} "  # noqa: S608
                     f"WHERE {column} IS NOT NULL AND {column} != ''"))).all()]
    return found


async def played_case(bot: ConsoleHarness) -> str:
    """A case where the landlord posted a signal with ``MARKER`` and the coach received it."""
    case = await bot.new_case()
    await bot.join(LANDLORD, case, "verhuurder")
    await bot.join(COACH, case, "begeleider")
    await bot.type(f"/als {LANDLORD}")
    lines = await bot.type(f"/signaal {case} huurachterstand {MARKER}")
    if not any(MARKER in line for line in bot.to(COACH, lines)):
        lines = await bot.type("1")  # the note waits for the poster's go-ahead: send it
    assert any(MARKER in line for line in bot.to(COACH, lines)), lines
    await bot.type(f"/als {COACH}")
    await bot.type("/ok 1")
    return case


async def test_notes_names_and_chat_ids_are_not_stored_in_plain_text(
        database_url: str, clock: ManualClock) -> None:
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        await played_case(bot)
        assert bot.app is not None
        async with bot.app.new_uow() as uow:  # the bot reads it all back
            signal = (await uow.session.execute(select(orm.SignalRow))).scalar_one()
            assert signal.note == MARKER
            found = await uow.persons.by_identity("console", LANDLORD.lower())
            assert found is not None
            assert found.display_name == LANDLORD
        values = await raw_values(bot.app.engine)
    finally:
        await bot.stop()
    joined = "\n".join(values).casefold()
    assert MARKER.casefold() not in joined
    for name in (LANDLORD, COACH):
        # names, and the console's chat ids (which are the names, folded)
        assert name.casefold() not in joined, name
    assert any(v.startswith("v3:") for v in values)  # random-nonce values, bound to their row
    assert any(v.startswith("d2:") for v in values)  # the outbox's chat addresses
    if make_url(database_url).get_backend_name() == "sqlite":
        # not in the file either (nor in its write-ahead log)
        database = Path(str(make_url(database_url).database))
        for path in (database, Path(f"{database}-wal")):
            if path.exists():
                assert MARKER.encode() not in path.read_bytes()
                assert LANDLORD.encode() not in path.read_bytes()


async def test_a_wrong_key_cannot_read_them(database_url: str, clock: ManualClock) -> None:
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        await played_case(bot)
        assert bot.app is not None
        engine = bot.app.engine
        right = crypto.keyring()
        wrong = crypto.Keyring([crypto.parse_key(crypto.generate_key())])
        encrypted = await bound_values(engine)
        assert encrypted
        for place, value, row in encrypted:
            with pytest.raises(crypto.DecryptionError):
                wrong.decrypt(value, place, row)
        assert MARKER in [right.decrypt(v, place, row) for place, v, row in encrypted]
        crypto.install(wrong)
        try:
            async with bot.app.new_uow() as uow:
                with pytest.raises(crypto.DecryptionError):
                    await uow.session.execute(select(orm.SignalRow.note))
                # and the wrong key's look-up hash finds nobody
                assert await uow.persons.by_identity("console", LANDLORD.lower()) is None
        finally:
            crypto.install(right)
    finally:
        await bot.stop()


async def _fill_plain_0003(engine: AsyncEngine) -> None:
    """What a development database held before 0004: everything in plain text."""
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO persons (id, display_name, language, is_coordinator, created_at) "
            "VALUES (1, :name, 'nl', true, '2026-11-23 08:00:00')"), {"name": LANDLORD})
        await conn.execute(text(
            "INSERT INTO identities (id, person_id, transport, address, created_at) "
            "VALUES (1, 1, 'telegram', '4242424242', '2026-11-23 08:00:00')"))
        await conn.execute(text(
            "INSERT INTO cases (id, code, status, created_at) "
            "VALUES (1, 'Z-ABCD', 'open', '2026-11-23 08:00:00')"))
        await conn.execute(text(
            "INSERT INTO organisations (id, name) VALUES (1, 'Zorggroep Noord')"))
        await conn.execute(text(
            "INSERT INTO signals (id, case_id, kind, posted_by, poster_role, posted_at, note, "
            "complainant, note_status, released_to_tenant) VALUES (1, 1, 'noise', 1, "
            "'landlord', '2026-11-23 08:00:00', :note, 'buurman Jansen', 'sent', false)"),
            {"note": MARKER})
        await conn.execute(text(
            "INSERT INTO timeline (id, case_id, at, event, data) "
            "VALUES (1, 1, '2026-11-23 08:00:00', 'signal_posted', :data)"),
            {"data": '{"reason": "' + MARKER + '"}'})
        await conn.execute(text(
            "INSERT INTO outbox (id, transport, address, person_id, case_id, text, choices, "
            "status, attempts, created_at, next_attempt_at) VALUES (1, 'telegram', "
            "'4242424242', 1, 1, :text, :choices, 'pending', 0, '2026-11-23 08:00:00', "
            "'2026-11-23 08:00:00')"),
            {"text": MARKER, "choices": '[["' + COACH + '", "/ok 1"]]'})
        await conn.execute(text(
            "INSERT INTO case_chats (id, case_id, transport, address, linked_at) "
            "VALUES (1, 1, 'telegram', '-100777', '2026-11-23 08:00:00')"))
        await conn.execute(text(
            "INSERT INTO conversations (id, person_id, kind, step, data, updated_at, "
            "expires_at) VALUES (1, 1, 'report', 'what', :data, '2026-11-23 08:00:00', "
            "'2026-11-23 09:00:00')"), {"data": '{"case": "Z-ABCD", "what": "' + MARKER + '"}'})


async def _read_back(engine: AsyncEngine) -> None:
    async with UnitOfWork(session_factory(engine)) as uow:
        person = await uow.persons.by_identity("telegram", "4242424242")
        assert person is not None
        assert person.display_name == LANDLORD
        signal = (await uow.session.execute(select(orm.SignalRow))).scalar_one()
        assert (signal.note, signal.complainant) == (MARKER, "buurman Jansen")
        # 0008: the organisation's name encrypted, and found by its keyed hash
        organisation = await uow.persons.organisation("Zorggroep Noord")
        assert organisation.id == 1
        timeline = (await uow.session.execute(select(orm.TimelineRow))).scalar_one()
        assert timeline.data == {"reason": MARKER}
        row = (await uow.session.execute(select(orm.OutboxRow))).scalar_one()
        assert (row.address, row.text) == ("4242424242", MARKER)
        # its choices moved into their own rows (0007), with what they do as data
        assert [(c.idx, c.label, c.command, c.action, c.subject_id) for c in row.choices] == [
            (0, COACH, "/ok 1", "acknowledge", 1)]
        assert await uow.outbox.sent_as("telegram", "4242424242", "x") is None
        chat = await uow.case_chats.of_chat("telegram", "-100777")
        assert chat is not None
        assert chat.case_id == 1
        conversation = (await uow.session.execute(select(orm.Conversation))).scalar_one()
        assert MARKER in conversation.data["what"]


async def test_migration_0004_encrypts_what_a_development_database_held(
        database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine, "0003")
        await _fill_plain_0003(engine)
        await migrate(engine)
        joined = "\n".join(await raw_values(engine))
        assert MARKER not in joined
        assert LANDLORD not in joined
        assert "4242424242" not in joined
        assert "-100777" not in joined
        assert "Jansen" not in joined
        assert "Zorggroep" not in joined
        await _read_back(engine)
        # a new identity for the same address is refused by the keyed hash's constraint
        async with UnitOfWork(session_factory(engine)) as uow:
            uow.session.add(orm.Identity(person_id=1, transport="telegram",
                                         address="4242424242", created_at=datetime.now(UTC)))
            with pytest.raises(IntegrityError):
                await uow.flush()
        # and back down: plain text again, as 0003 had it
        await downgrade(engine, "0003")
        async with engine.connect() as conn:
            note = (await conn.execute(text("SELECT note FROM signals"))).scalar_one()
            address = (await conn.execute(text("SELECT address FROM outbox"))).scalar_one()
        assert (note, address) == (MARKER, "4242424242")
    finally:
        await engine.dispose()


async def test_rekey_moves_everything_to_the_new_key(database_url: str) -> None:
    old_key, new_key = (crypto.parse_key(crypto.generate_key()) for _ in range(2))
    crypto.install(crypto.Keyring([old_key]))
    engine = create_engine(database_url)
    try:
        await migrate(engine, "0003")
        await _fill_plain_0003(engine)
        await migrate(engine)
        crypto.install(crypto.Keyring([new_key, old_key]))
        assert await rekey(engine) > 0
        assert await rekey(engine) == 0  # nothing left under the old key
        crypto.install(crypto.Keyring([new_key]))  # the old key is gone
        await _read_back(engine)
        assert ("outbox", "address", True) in encrypted_columns()
        assert ("signals", "note", False) in encrypted_columns()
    finally:
        await engine.dispose()


async def test_dev_mode_keeps_its_key_across_a_restart(
        database_url: str, clock: ManualClock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KORTELIJN_SECURITY__KEY")
    key_file = tmp_path / "var" / "kortelijn.key"
    bot = ConsoleHarness(database_url, clock, {"security": {"key_file": str(key_file)}})
    await bot.start()
    try:
        case = await bot.new_case()
        await bot.join(LANDLORD, case, "verhuurder")
        assert key_file.exists()
        crypto.install(crypto.Keyring([crypto.parse_key(crypto.generate_key())]))
        await bot.restart()  # reads the key file again
        await bot.type(f"/als {LANDLORD}")
        lines = await bot.type("/zaken")
        assert any(case in line for line in bot.to(LANDLORD, lines)), lines
    finally:
        await bot.stop()


async def test_the_cli_refuses_production_without_a_key(tmp_path: Path) -> None:
    env = {**os.environ, "KORTELIJN_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/k.db",
           "KORTELIJN_BOT__MODE": "production"}
    env.pop("KORTELIJN_SECURITY__KEY", None)
    env.pop("KORTELIJN_TEST_DATABASE_URL", None)
    for command_word in ("run", "migrate"):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", command_word, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
        assert proc.returncode == 2
        message = err.decode()
        assert "Traceback" not in message
        assert "KORTELIJN_SECURITY__KEY" in message
        assert "kortelijn genkey" in message
    genkey = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "genkey", stdout=asyncio.subprocess.PIPE, env=env)
    out, _ = await genkey.communicate()
    assert len(crypto.parse_key(out.decode().strip())) == 32


async def test_a_cipher_text_moved_to_another_column_does_not_open(
        database_url: str, clock: ManualClock) -> None:
    """The authenticated data names the column: a note copied over another note's
    complainant, or over a message text, or a name over another table's column, is refused
    when read (revision 0008)."""
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        await played_case(bot)
        assert bot.app is not None
        engine = bot.app.engine
        async with engine.begin() as conn:
            note = (await conn.execute(text(
                "SELECT note FROM signals WHERE note IS NOT NULL"))).scalar_one()
            await conn.execute(text("UPDATE signals SET complainant = :v"), {"v": note})
        async with bot.app.new_uow() as uow:
            with pytest.raises(crypto.DecryptionError):
                await uow.signals.get(1)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE signals SET complainant = NULL"))
            name = (await conn.execute(text(
                "SELECT display_name FROM persons ORDER BY id LIMIT 1"))).scalar_one()
            await conn.execute(text("UPDATE outbox SET text = :v"), {"v": name})
        async with bot.app.new_uow() as uow:
            assert (await uow.signals.get(1)) is not None  # in its own column it opens
            with pytest.raises(crypto.DecryptionError):
                await uow.session.execute(select(orm.OutboxRow.text))
    finally:
        await bot.stop()


async def test_organisation_names_are_encrypted_and_found(
        database_url: str, clock: ManualClock) -> None:
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        case = await bot.new_case()
        await bot.type(f"/uitnodigen {case} verhuurder Woonzorg Oost")
        await bot.type(f"/uitnodigen {case} verhuurder Woonzorg Oost")
        assert bot.app is not None
        joined = "\n".join(await raw_values(bot.app.engine))
        assert "Woonzorg" not in joined
        async with bot.app.new_uow() as uow:
            names = [o.name for o in (await uow.session.execute(
                select(orm.Organisation))).scalars()]
        assert names == ["Woonzorg Oost"]  # one organisation, found again by its hash
    finally:
        await bot.stop()


async def test_a_cipher_text_moved_to_another_row_does_not_open(
        database_url: str, clock: ManualClock) -> None:
    """The authenticated data names the row (its ``row_key``, revision 0011): one person's
    name copied over another's, or one timeline event's details over another's, is refused
    when read; back in its own row it opens again."""
    bot = ConsoleHarness(database_url, clock)
    await bot.start()
    try:
        await played_case(bot)
        assert bot.app is not None
        engine = bot.app.engine
        async with engine.begin() as conn:
            rows = (await conn.execute(text(
                "SELECT id, display_name FROM persons ORDER BY id"))).all()
            (first, first_name), (second, second_name) = rows[0], rows[1]
            await conn.execute(text("UPDATE persons SET display_name = :v WHERE id = :id"),
                               {"v": first_name, "id": second})
        async with bot.app.new_uow() as uow:
            assert (await uow.persons.get(first)) is not None  # in its own row it opens
        async with bot.app.new_uow() as uow:
            with pytest.raises(crypto.DecryptionError):
                await uow.persons.get(second)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE persons SET display_name = :v WHERE id = :id"),
                               {"v": second_name, "id": second})
            events = (await conn.execute(text(
                "SELECT id, data FROM timeline ORDER BY id"))).all()
            assert len(events) >= 2
            await conn.execute(text("UPDATE timeline SET data = :v WHERE id = :id"),
                               {"v": events[0][1], "id": events[1][0]})
        async with bot.app.new_uow() as uow:
            assert (await uow.persons.get(second)) is not None
            with pytest.raises(crypto.DecryptionError):
                await uow.session.execute(select(orm.TimelineRow.data))
    finally:
        await bot.stop()


async def test_migration_0011_binds_what_was_stored_to_its_rows(database_url: str) -> None:
    """Data stored before 0011 (bound to its column only) still reads after the migration
    binds it to its rows, and after a way down and up again."""
    engine = create_engine(database_url)
    try:
        await migrate(engine, "0003")
        await _fill_plain_0003(engine)
        await migrate(engine, "0010")
        before = [v for _, v in await placed_values(engine)]
        assert any(v.startswith("v2:") for v in before)
        assert not any(v.startswith("v3:") for v in before)  # no row keys yet
        await migrate(engine)
        after = await bound_values(engine)
        assert after
        assert all(v.startswith(("v3:", "d2:")) for _, v, _ in after)
        assert all(row for place, v, row in after if v.startswith("v3:"))
        await _read_back(engine)
        await downgrade(engine, "0010")
        assert not any(v.startswith("v3:") for _, v in await placed_values(engine))
        await migrate(engine)
        await _read_back(engine)
    finally:
        await engine.dispose()
