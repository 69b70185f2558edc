"""Alembic environment: runs on the connection that :func:`bot.persistence.database.migrate`
hands it (so one code path serves SQLite and PostgreSQL, sync or async)."""

from __future__ import annotations

from alembic import context

from bot.persistence.orm import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through bot.persistence.database.migrate()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
