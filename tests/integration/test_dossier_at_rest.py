"""The nuisance file's binary columns at rest (attachments, documents waiting in the outbox):
encrypted and bound to their column, on both databases, and moved to a new key by
``kortelijn rekey`` like every other encrypted value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from bot import crypto
from bot.persistence import orm
from bot.persistence.database import create_engine, migrate, session_factory
from bot.persistence.rekey import binary_columns, rekey
from bot.persistence.uow import UnitOfWork

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONTENT = b"%PDF-1.7 a scanned warning letter 5e1d"


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """This module's database, of each kind, at the newest migration (not migrated anew for
    each test: tests/conftest.py); the migrations are tested in test_migrations.py."""
    return migrated_database_url


def test_binary_values_are_bound_to_their_column() -> None:
    ring = crypto.Keyring([crypto.parse_key(crypto.generate_key())])
    stored = ring.encrypt_bytes(CONTENT, "attachments.content")
    assert CONTENT not in stored
    assert ring.decrypt_bytes(stored, "attachments.content") == CONTENT
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt_bytes(stored, "outbox_documents.content")
    other = crypto.Keyring([crypto.parse_key(crypto.generate_key())])
    with pytest.raises(crypto.DecryptionError):
        other.decrypt_bytes(stored, "attachments.content")
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt_bytes(b"plain bytes", "attachments.content")
    assert ("attachments", "content") in binary_columns()
    assert ("outbox_documents", "content") in binary_columns()


async def test_rekey_moves_attachments_to_the_new_key(database_url: str) -> None:
    old_key, new_key = (crypto.parse_key(crypto.generate_key()) for _ in range(2))
    crypto.install(crypto.Keyring([old_key]))
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with UnitOfWork(session_factory(engine)) as uow:
            person = await uow.persons.add(display_name="Lotte", language="nl",
                                           transport="console", address="lotte", now=NOW)
            case = await uow.cases.add("Z-TEST", person.id, NOW)
            uow.session.add(orm.AttachmentRow(
                case_id=case.id, ref="evidence:1", filename="brief.pdf",
                mime="application/pdf", size=len(CONTENT), content=CONTENT,
                added_by=person.id, added_role="landlord", added_at=NOW))
            await uow.commit()
        async with engine.connect() as conn:
            raw = bytes((await conn.execute(text("SELECT content FROM attachments")))
                        .scalar_one())
        assert CONTENT not in raw
        crypto.install(crypto.Keyring([new_key, old_key]))
        assert await rekey(engine) > 0
        assert await rekey(engine) == 0  # nothing left under the old key
        crypto.install(crypto.Keyring([new_key]))  # the old key is gone
        async with UnitOfWork(session_factory(engine)) as uow:
            row = (await uow.session.execute(select(orm.AttachmentRow))).scalar_one()
            assert row.content == CONTENT
            assert row.filename == "brief.pdf"
    finally:
        await engine.dispose()
