"""What every service needs besides its command and unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import (
    ComplaintSettings,
    DigestSettings,
    DossierSettings,
    NormSettings,
    PatternSettings,
    RetentionSettings,
    Settings,
)
from bot.domain.clock import Clock
from bot.domain.norms import Policies
from bot.privacy import Policy
from bot.services.policies import build_policies


def _default_policies() -> Policies:
    return build_policies(Settings())


@dataclass(frozen=True)
class ServiceContext:
    clock: Clock
    norms: NormSettings = field(default_factory=NormSettings)
    #: each norm's length and chain, and the working-day calendar and quiet hours
    policies: Policies = field(default_factory=_default_policies)
    #: who may see what (the deployment's, never looser than docs/PRIVACY.md's table)
    privacy: Policy = field(default_factory=Policy)
    #: when signals of different kinds make a household pattern
    patterns: PatternSettings = field(default_factory=PatternSettings)
    digests: DigestSettings = field(default_factory=DigestSettings)
    #: the language of shared case chats (a group has no language of its own)
    chat_language: str = "nl"
    #: makes an invitation link for a transport (``telegram`` → ``https://t.me/bot?start=…``)
    invite_links: dict[str, Callable[[str], str]] = field(default_factory=dict)
    #: longest free text accepted with a signal
    note_limit: int = 2000
    #: how long a closed case and the access log are kept
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    #: where a copy of each evaluation report (PDF, CSV) is also written on the server;
    #: ``None``: none (they are sent as documents: bot/services/evaluation_report.py)
    reports_dir: Path | None = None
    #: the complaint procedure: the ladder's period, the longest text
    complaints: ComplaintSettings = field(default_factory=ComplaintSettings)
    #: attachments' size limit, where the console writes exports (the nuisance file)
    dossier: DossierSettings = field(default_factory=DossierSettings)
