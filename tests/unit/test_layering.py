"""The layering of DESIGN.md: the domain imports no ORM, transport or scheduler; handlers
import no transport library; transports reach no service or table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

TRANSPORT_LIBRARIES = ("telegram", "nio", "aiohttp", "httpx", "mautrix")
RULES: dict[str, tuple[str, ...]] = {
    "bot/domain": ("sqlalchemy", "alembic", "apscheduler", *TRANSPORT_LIBRARIES,
                   "bot.persistence", "bot.transports", "bot.services", "schedules", "handlers"),
    "handlers": (*TRANSPORT_LIBRARIES, "apscheduler", "bot.transports.console",
                 "bot.transports.telegram", "bot.transports.matrix"),
    "bot/transports": ("bot.services", "bot.persistence", "handlers", "schedules",
                       "sqlalchemy"),
}


def imports_of(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(source: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports_of(source)
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("folder", sorted(RULES))
def test_layer_imports_nothing_forbidden(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    found = {str(path.relative_to(ROOT)): bad for path in files
             if (bad := violations(path.read_text(), RULES[folder]))}
    assert found == {}


@pytest.mark.parametrize(("source", "folder"), [
    ("import sqlalchemy\n", "bot/domain"),
    ("from sqlalchemy.orm import Mapped\n", "bot/domain"),
    ("from apscheduler.triggers.date import DateTrigger\n", "bot/domain"),
    ("import telegram\n", "bot/domain"),
    ("from telegram.ext import Application\n", "handlers"),
    ("import nio\n", "handlers"),
])
def test_the_check_catches_a_violation(source: str, folder: str) -> None:
    assert violations(source, RULES[folder])
