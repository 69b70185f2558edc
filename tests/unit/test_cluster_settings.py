"""The settings of several instances: ``[cluster] takeover`` (default 15 s, also from the
environment), the instance's name, and ``[delivery] lease``; and the per-account lock keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.leader import LEADER_LOCK, account_lock


def test_takeover_defaults_to_15_seconds_and_is_read_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.cluster.takeover == timedelta(seconds=15)
    assert settings.cluster.instance == ""
    assert settings.delivery.lease == timedelta(seconds=60)
    monkeypatch.setenv("KORTELIJN_CLUSTER__TAKEOVER", "5s")
    monkeypatch.setenv("KORTELIJN_CLUSTER__INSTANCE", "bot-1")
    monkeypatch.setenv("KORTELIJN_DELIVERY__LEASE", "2m")
    settings = Settings()
    assert settings.cluster.takeover == timedelta(seconds=5)
    assert settings.cluster.instance == "bot-1"
    assert settings.delivery.lease == timedelta(minutes=2)


@pytest.mark.parametrize("value", ["0s", "soon"])
def test_a_takeover_that_is_no_positive_duration_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="takeover"):
        Settings.model_validate({"cluster": {"takeover": value}})


def test_each_account_has_its_own_lock_never_the_leaders() -> None:
    keys = {account_lock("telegram", "123"), account_lock("telegram", "456"),
            account_lock("matrix", "@bot:example.org")}
    assert len(keys) == 3
    assert LEADER_LOCK not in keys
    assert all(-2**63 <= key < 2**63 for key in keys)
    assert account_lock("telegram", "123") == account_lock("telegram", "123")
