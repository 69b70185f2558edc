"""Evidence in the nuisance file (guideline action 6: what a judge weighs), as pure rules.

Each kind of evidence has one information class (what its text is, for the policy), the roles
that may supply it, and Dutch words to type it by. docs/PRIVACY.md has the same table:

================================  ==============  ============================================
kind                              class           supplied by
================================  ==============  ============================================
neighbour_statement               complaint       landlord (the neighbour's identity: class
                                                  complainant; anonymous: none stored)
phone_note, visit_note            complaint       landlord
photo, video, sound, measurement  complaint       landlord, police
police_report, atmosphere_report  police          police (the wijkagent)
behaviour_directive               letter          municipality (the mayor's directive)
================================  ==============  ============================================

A file entry's ref names it without content (``evidence:3``); an attachment belongs to a ref.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import errors
from bot.domain.dossier import EntryKind
from bot.domain.model import Role, normalise_word
from bot.privacy import Info

#: the evidence kinds, their class and who may supply them
EVIDENCE: dict[EntryKind, tuple[Info, frozenset[Role]]] = {
    EntryKind.NEIGHBOUR_STATEMENT: (Info.COMPLAINT, frozenset({Role.LANDLORD})),
    EntryKind.PHONE_NOTE: (Info.COMPLAINT, frozenset({Role.LANDLORD})),
    EntryKind.VISIT_NOTE: (Info.COMPLAINT, frozenset({Role.LANDLORD})),
    EntryKind.PHOTO: (Info.COMPLAINT, frozenset({Role.LANDLORD, Role.POLICE})),
    EntryKind.VIDEO: (Info.COMPLAINT, frozenset({Role.LANDLORD, Role.POLICE})),
    EntryKind.SOUND: (Info.COMPLAINT, frozenset({Role.LANDLORD, Role.POLICE})),
    EntryKind.MEASUREMENT: (Info.COMPLAINT, frozenset({Role.LANDLORD, Role.POLICE})),
    EntryKind.POLICE_REPORT: (Info.POLICE, frozenset({Role.POLICE})),
    EntryKind.ATMOSPHERE_REPORT: (Info.POLICE, frozenset({Role.POLICE})),
    EntryKind.BEHAVIOUR_DIRECTIVE: (Info.LETTER, frozenset({Role.MUNICIPALITY})),
}

_WORDS: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.NEIGHBOUR_STATEMENT: ("verklaring", "klacht", "buurverklaring", "statement"),
    EntryKind.PHONE_NOTE: ("telefoon", "telefoonnotitie", "telefoongesprek", "phone"),
    EntryKind.VISIT_NOTE: ("bezoek", "bezoeknotitie", "huisbezoek", "visit"),
    EntryKind.PHOTO: ("foto", "photo", "afbeelding"),
    EntryKind.VIDEO: ("video", "film", "filmpje"),
    EntryKind.SOUND: ("geluid", "geluidsopname", "opname", "audio", "sound"),
    EntryKind.MEASUREMENT: ("meting", "geluidsmeting", "measurement"),
    EntryKind.POLICE_REPORT: ("politierapport", "procesverbaal", "proces_verbaal", "pv",
                              "police_report", "police"),
    EntryKind.ATMOSPHERE_REPORT: ("sfeerrapportage", "sfeerrapport", "sfeer",
                                  "atmosphere_report", "atmosphere"),
    EntryKind.BEHAVIOUR_DIRECTIVE: ("gedragsaanwijzing", "aanwijzing", "directive",
                                    "behaviour_directive"),
}
_BY_WORD: dict[str, EntryKind] = {}
for _kind, _aliases in _WORDS.items():
    for _word in (_kind.value, *_aliases):
        _BY_WORD[normalise_word(_word)] = _kind
        _BY_WORD[normalise_word(_word).replace("_", "")] = _kind

#: the longest text kept with one item of evidence
TEXT_LIMIT = 4000
#: how far back an item of evidence may be dated
OLDEST_DAYS = 366 * 10

#: "… bron: buurvrouw nr. 12" at the end names who made the statement (landlord only)
_SOURCE = re.compile(r"(?i)\b(bron|source|klager|melder|van)\s*:\s*(.+)$")
_ANONYMOUS = ("anoniem", "anonymous", "anon")
_DAY = re.compile(r"(\d{1,2})-(\d{1,2})(?:-(\d{4}))?")


class UnknownEvidenceKind(errors.DomainError):
    """Arguments: ``given``, ``choices`` (the words accepted)."""

    key = "error.unknown_evidence_kind"


class EvidenceNotAllowed(errors.DomainError):
    """Arguments: ``kind`` (a catalogue key), ``roles`` (who may supply it)."""

    key = "error.evidence_not_allowed"


class BadEvidenceDate(errors.DomainError):
    """Arguments: ``given``, ``examples``."""

    key = "error.bad_evidence_date"


def parse_kind(given: str) -> EntryKind | None:
    return _BY_WORD.get(normalise_word(given))


def kind_words(english: bool = False) -> str:
    """The word of every kind, as an answer lists them: the first Dutch word, or for an
    English reader the kind's own name (both are accepted)."""
    return ", ".join(kind.value if english else words[0] for kind, words in _WORDS.items())


def may_supply(kind: EntryKind, roles: list[Role]) -> Role | None:
    """The role in which a person with ``roles`` supplies evidence of ``kind``, if any."""
    allowed = EVIDENCE[kind][1]
    return next((r for r in roles if r in allowed), None)


def looks_like_date(given: str) -> bool:
    cleaned = "".join(str(unicodedata.decimal(c)) if not c.isascii() and
                      unicodedata.decimal(c, None) is not None else c for c in given)
    return bool(_DAY.fullmatch(cleaned.replace("/", "-")) or re.fullmatch(
        r"\d{4}-\d{1,2}-\d{1,2}", cleaned))


def occurred_on(given: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The day an item of evidence is about: '28-11', '28-11-2026', '2026-11-28', today or
    earlier (a year left out means the last such day), at most ten years back; noon local
    time, so the day is the same in every zone that reads it."""
    today = now.astimezone(tz).date()
    examples = f"{today.day}-{today.month}, {today.isoformat()}"
    cleaned = "".join(str(unicodedata.decimal(c)) if not c.isascii() and
                      unicodedata.decimal(c, None) is not None else c for c in given)
    cleaned = cleaned.strip().replace("/", "-")
    day: date | None = None
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        match = _DAY.fullmatch(cleaned)
        if match:
            try:
                day = date(int(match.group(3) or today.year), int(match.group(2)),
                           int(match.group(1)))
                if match.group(3) is None and day > today:
                    day = day.replace(year=day.year - 1)
            except (ValueError, OverflowError):
                day = None
    if day is None or day > today or day < today - timedelta(days=OLDEST_DAYS):
        raise BadEvidenceDate(given=given, examples=examples)
    return datetime.combine(day, time(12, 0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Described:
    """What was typed after the kind: the text, and who made the statement (or nobody)."""

    text: str
    source: str | None


def split_source(text: str) -> Described:
    """'… bron: buurvrouw nr 12' names the source; 'anoniem' (or nothing) names nobody."""
    found = _SOURCE.search(text)
    if not found:
        return Described(text.strip(), None)
    source = found.group(2).strip()
    rest = text[:found.start()].strip()
    if normalise_word(source) in _ANONYMOUS:
        return Described(rest, None)
    return Described(rest, source[:200] or None)


# --- commands ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RecordEvidence:
    person_id: int
    case_code: str
    kind: EntryKind
    text: str
    #: the day it happened, if not today
    occurred_at: datetime | None = None
    #: who made a neighbour's statement; ``None``: anonymous (no identity stored at all)
    source: str | None = None


@dataclass(frozen=True, slots=True)
class AttachFile:
    person_id: int
    case_code: str
    #: the entry it belongs to: ``evidence:3``, ``letter:12``
    ref: str
    filename: str
    data: bytes
    #: the type the network said it is (checked against the content)
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class ReleaseForJudge:
    person_id: int
    case_code: str
    ref: str
