"""What every service needs besides its command and unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import NormSettings, Settings
from bot.domain.clock import Clock
from schedules.norms import Policies, build_policies


def _default_policies() -> Policies:
    return build_policies(Settings())


@dataclass(frozen=True)
class ServiceContext:
    clock: Clock
    norms: NormSettings = field(default_factory=NormSettings)
    #: each norm's length and chain, and the working-day calendar and quiet hours
    policies: Policies = field(default_factory=_default_policies)
    #: makes an invitation link for a transport (``telegram`` → ``https://t.me/bot?start=…``)
    invite_links: dict[str, Callable[[str], str]] = field(default_factory=dict)
    #: longest free text accepted with a signal
    note_limit: int = 2000
