"""The Matrix tests' homeserver: one real Synapse on 127.0.0.1 for the whole session (installed
through ``make synapse`` when missing), with fresh accounts per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.synapse import Synapse


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a parallel run (``make test``: pytest-xdist, ``--dist loadgroup``) the tests that
    share the session's Synapse run in one worker, so one homeserver serves them all (with
    pytest 9 the scheduler in tests/conftest.py groups them by this folder: pytest-xdist 3.8
    cannot read this mark back there)."""
    for item in items:
        if "tests/matrix/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("synapse"))


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_synapse(tmp_path: Path) -> Iterator[Synapse]:
    """A homeserver of this test's own, for tests that stop or restart it."""
    server = Synapse(tmp_path / "synapse")
    server.start()
    yield server
    server.stop()
