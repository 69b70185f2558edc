"""The layering of docs/ARCHITECTURE.md: the domain imports no ORM, transport or scheduler;
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
    # the time code is the domain's: services use no scheduler and nothing of schedules/
    "bot/services": ("schedules", "apscheduler", "handlers", *TRANSPORT_LIBRARIES,
                     "bot.transports"),
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
    ("from schedules.calendar import Span\n", "bot/services"),
])
def test_the_check_catches_a_violation(source: str, folder: str) -> None:
    assert violations(source, RULES[folder])


# --- handlers write nothing: every change is a service's (docs/ARCHITECTURE.md) -------------

#: the repositories' methods that write, by the unit of work's attribute
WRITES: dict[str, frozenset[str]] = {
    "updates": frozenset({"record"}),
    "persons": frozenset({"add", "organisation"}),
    "cases": frozenset({"add", "add_member", "add_invitation", "claim_invitation"}),
    "signals": frozenset({"add", "update", "acknowledge"}),
    "windows": frozenset({"open", "open_many", "insert_steps", "add_steps", "set_status",
                          "close", "skip_pending", "delete_pending", "claim_step"}),
    "absences": frozenset({"set", "end"}),
    "timeline": frozenset({"record", "record_many"}),
    "outbox": frozenset({"add", "pick"}),
    "conversations": frozenset({"start", "asked", "end", "drop_expired"}),
    "case_chats": frozenset({"link", "unlink", "seen", "left", "replace_members"}),
}
#: modules that write messages or rows by themselves
WRITING_MODULES = ("bot.notify", "bot.outbox", "bot.persistence.orm", "sqlalchemy")
#: the one place that may end a unit of work: the dispatcher, which opens it
COMMITS_ALLOWED = frozenset({"handlers/dispatch.py"})
#: attributes a handler may set: the request's language and person (who is answered)
SETTABLE = frozenset({("req", "lang"), ("req", "person")})


def writes_in(source: str, path: str = "handlers/x.py") -> list[str]:
    """What in a handler module writes to the database or the outbox."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if isinstance(owner, ast.Attribute) and method in WRITES.get(owner.attr, ()):
                found.append(f"line {node.lineno}: {owner.attr}.{method}()")
            if method in ("flush", "execute", "delete", "merge") or (
                    method == "commit" and path not in COMMITS_ALLOWED):
                found.append(f"line {node.lineno}: {method}()")
        elif isinstance(node, ast.Attribute) and node.attr == "session":
            found.append(f"line {node.lineno}: .session")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    base = target.value
                    name = base.id if isinstance(base, ast.Name) else "?"
                    if (name, target.attr) not in SETTABLE and name != "self":
                        found.append(f"line {node.lineno}: sets {name}.{target.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            # the ORM's classes name types (``orm.Person``); its tables are no handler's
            found.extend(f"line {node.lineno}: imports {name}"
                         for name in imports_of(ast.unparse(node))
                         if name != "bot.persistence.orm" and any(
                             name == m or name.startswith(m + ".") for m in WRITING_MODULES))
    return found


def test_no_handler_writes_to_the_database_or_the_outbox() -> None:
    files = sorted((ROOT / "handlers").rglob("*.py"))
    assert files
    found = {rel: bad for path in files
             if (bad := writes_in(path.read_text(), rel := str(path.relative_to(ROOT))))}
    assert found == {}


@pytest.mark.parametrize("source", [
    "async def f(req):\n    await req.uow.signals.update(3, released_to_tenant=True)\n",
    "def f(req):\n    req.uow.timeline.record(case_id=1, at=None, event='x')\n",
    "async def f(uow):\n    await uow.outbox.add(transport='t', address='a', text='x', now=0)\n",
    "async def f(req):\n    await req.uow.absences.set(1, 2, 0, 0)\n",
    "async def f(req):\n    await req.uow.conversations.end(None)\n",
    "async def f(req):\n    await req.uow.outbox.pick(1, 0, None)\n",
    "def f(req):\n    req.me.language = 'en'\n",
    "def f(req):\n    req.uow.deadlines_changed = True\n",
    "async def f(req):\n    await req.uow.session.execute(None)\n",
    "async def f(req):\n    await req.uow.commit()\n",
    "from bot import notify\n",
    "from bot.notify import to_person\n",
    "import bot.outbox\n",
    "from sqlalchemy import update\n",
])
def test_the_write_check_catches_a_violation(source: str) -> None:
    assert writes_in(source)


def test_the_write_check_lets_a_handler_parse_call_and_format() -> None:
    source = (
        "async def cmd(req, args):\n"
        "    req.lang = await people.choose_language(ChooseLanguage(req.me.id, args[0]),\n"
        "                                            req.uow, req.ctx)\n"
        "    codes = await req.uow.cases.cases_of(req.me.id)\n"
        "    req.reply(req.t('language.set'))\n")
    assert writes_in(source) == []
    assert writes_in("async def f(uow):\n    await uow.commit()\n", "handlers/dispatch.py") == []
