"""The nuisance file (overlastdossier): what a case's file is made of, as the exporter sees it.

The guideline (action 6) asks for a file a judge can weigh: every letter, the correspondence with
third parties, the timeline of what the team did, and the evidence, each item typed and dated
with who supplied it. Each complaint stays a separate entry: many dated complaints weigh more
than one summary.

The file is assembled from *providers*: each part of the core that owns a kind of entry
(complaints and letters, evidence, trajectories, the timeline) registers one function that lists
a case's entries. The exporter (``bot/services/dossier.py``) asks every provider, filters each
entry through the one policy by its information class for the role that asks, sorts by date and
renders PDF or Markdown. A provider never filters: it lists everything and labels it.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.model import Role

if TYPE_CHECKING:
    from bot.privacy import Info


class EntryKind(enum.StrEnum):
    """What a file entry is; its title comes from the catalogue (``dossier.kind.<value>``)."""

    COMPLAINT = "complaint"
    #: the coach's assessment after hearing the tenant (action 2)
    ASSESSMENT = "assessment"
    #: a ladder letter (actions 3-6): warning, second warning, summons, ...
    LETTER = "letter"
    #: correspondence with a third party
    CORRESPONDENCE = "correspondence"
    #: something the team did (the timeline)
    ACTION = "action"
    #: an intervention (1-4) or a mediation referral
    INTERVENTION = "intervention"
    NEIGHBOUR_STATEMENT = "neighbour_statement"
    PHONE_NOTE = "phone_note"
    VISIT_NOTE = "visit_note"
    PHOTO = "photo"
    VIDEO = "video"
    SOUND = "sound"
    MEASUREMENT = "measurement"
    POLICE_REPORT = "police_report"
    #: sfeerrapportage by the wijkagent
    ATMOSPHERE_REPORT = "atmosphere_report"
    #: gedragsaanwijzing by the mayor, recorded by the municipality
    BEHAVIOUR_DIRECTIVE = "behaviour_directive"
    TRAJECTORY = "trajectory"
    EVALUATION = "evaluation"


@dataclass(frozen=True)
class DossierEntry:
    """One typed, dated item of the file.

    ``info`` is the class of ``text`` (and of the attachments); ``facts`` are lines of the
    ``facts`` class that any role that sees the entry at all may read (a date, a kind, "sent
    registered"). ``supplied_by`` is a role, never a name: names are added by the exporter only
    for roles that see ``tenant_identity``. ``released_for_judge`` marks what the care team
    released for the judge's copy.
    """

    kind: EntryKind
    at: datetime
    info: Info
    supplied_by: Role | None
    title: str
    text: str = ""
    facts: tuple[str, ...] = ()
    attachment_ids: tuple[int, ...] = ()
    released_for_judge: bool = False
    #: the provider's own key, so that the log of an export can name entries without content
    ref: str = ""
    extra: dict[str, str] = field(default_factory=dict)


#: a provider lists every entry of a case, unfiltered: ``await provider(uow, case_id)``, with a
#: unit of work of ``bot/persistence/uow.py`` (the domain does not import persistence)
Provider = Callable[[Any, int], Awaitable[list[DossierEntry]]]

PROVIDERS: dict[str, Provider] = {}


def provider(name: str) -> Callable[[Provider], Provider]:
    """Register a provider of file entries under ``name`` (one per owning module)."""

    def register(fn: Provider) -> Provider:
        PROVIDERS[name] = fn
        return fn

    return register
