"""What every service needs besides its command and unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import NormSettings
from bot.domain.clock import Clock


@dataclass(frozen=True)
class ServiceContext:
    clock: Clock
    norms: NormSettings = field(default_factory=NormSettings)
    #: makes an invitation link for a transport (``telegram`` → ``https://t.me/bot?start=…``)
    invite_links: dict[str, Callable[[str], str]] = field(default_factory=dict)
    #: longest free text accepted with a signal
    note_limit: int = 2000
