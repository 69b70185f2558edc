"""Settings: one object, built at start-up from a TOML file and ``KORTELIJN_<SECTION>__<KEY>``
environment variables (the environment wins). No other module reads ``os.environ``.

Every option is explained in ``deploy/kortelijn.example.toml``.
"""

from __future__ import annotations

import os
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.domain.calendar import Span


def parse_duration(value: Any) -> timedelta:
    """'48h', '4h', '90m', '1h30m', '10s', '3d', '2w', a number of seconds, or a timedelta.

    The one duration parser is :meth:`Span.parse` (``bot/domain/calendar.py``): a duration is
    a span of real time, or of whole calendar days and weeks taken as that many days of 24
    hours ("2w" is fourteen days, as a window of "2w" is); months, years and working days have
    no fixed length and are no duration."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    accepted = "write e.g. '48h', '4h', '90m', '1h30m', '10s', '3d', '2w'"
    try:
        span = Span.parse(str(value))
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"not a duration: {value!r}; {accepted}") from None
    if span.kind == "real":
        return span.duration
    if span.kind == "calendar" and span.months == 0:
        return timedelta(days=span.days)
    raise ValueError(f"not a duration: {value!r} has no fixed length; {accepted}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class BotSettings(BaseModel):
    #: ``production`` refuses unsafe settings at start-up
    mode: Literal["development", "production"] = "development"
    default_language: Literal["nl", "en"] = "nl"
    #: local time of every moment shown, working day, quiet hour and digest (IANA name)
    timezone: str = "Europe/Amsterdam"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"not a time zone: {value!r}; write e.g. 'Europe/Amsterdam'") \
                from None
        return value
    #: chat identities with the coordinator's rights, as ``transport:id``
    #: (``telegram:123456``, ``matrix:@coco:example.org``, ``console:Coordinator``)
    coordinators: list[str] = Field(default_factory=list)


class DatabaseSettings(BaseModel):
    #: an SQLAlchemy URL; SQLite (embedded, the default) or PostgreSQL
    url: str = "sqlite:///var/kortelijn.db"
    #: SQLite only: ``full`` (a commit is on disk when it returns; survives power loss) or
    #: ``normal`` (survives a crash of the bot, may lose the last commits on power loss)
    sqlite_synchronous: Literal["full", "normal"] = "full"


def parse_span(value: Any) -> Span:
    """A norm's length: real time ('48h'), working days ('1wd'), calendar time ('4w', '3mo')."""
    if isinstance(value, Span):
        return value
    if isinstance(value, timedelta):
        return Span.real(value)
    return Span.parse(str(value))


#: NoDecode: from the environment a span is text ("48h"), not JSON
NormSpan = Annotated[Span, PlainValidator(parse_span), PlainSerializer(str), NoDecode]


def parse_clock_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"not a time of day: {value!r}; write e.g. '09:00'")
    return time(int(match.group(1)), int(match.group(2)))


ClockTime = Annotated[time, PlainValidator(parse_clock_time),
                      PlainSerializer(lambda t: t.strftime("%H:%M"))]


class NormSettings(BaseModel):
    """The guideline's windows. Every length is configurable; tests use seconds."""

    #: N1: the addressee acknowledges a signal within this time of its posting
    signal_follow_up: NormSpan = Span.real(timedelta(hours=48))
    #: N1: remind the addressee this long before the window lapses
    signal_follow_up_reminder: Duration = timedelta(hours=4)
    #: N2: the team has the landlord's information within this time of the complaint
    complaint_information: NormSpan = Span.real(timedelta(hours=24))
    complaint_information_reminder: Duration = timedelta(hours=4)
    #: N3: the team starts on the complaint and tells the landlord how, within this time
    complaint_start: NormSpan = Span.working(1)
    complaint_start_reminder: Duration = timedelta(hours=2)
    #: N5: about four weeks after a complaint the coach checks for new reports
    four_week_check: NormSpan = Span.calendar(weeks=4)
    four_week_check_reminder: Duration = timedelta(days=2)
    #: N6: six weeks after an unconscious, justified complaint the coach asks the landlord
    six_week_check: NormSpan = Span.calendar(weeks=6)
    six_week_check_reminder: Duration = timedelta(days=2)
    #: N7: the nuisance is resolved within this time of the first complaint
    resolution: NormSpan = Span.calendar(months=3)
    #: N7: warn this long before (the default warns at two months)
    resolution_warning: NormSpan = Span.calendar(months=1)
    #: while a complaint is open, the landlord is reminded this often to let the complainant
    #: know that work is being done (KORTELIJN_NORMS__COMPLAINANT_CONTACT)
    complainant_contact: NormSpan = Span.calendar(weeks=2)
    #: no reminder before: the lapse of each interval is the reminder
    complainant_contact_reminder: Duration = timedelta(0)
    #: a task with a clock: the span when a task gives none (its own due moment rules), and
    #: no reminder before: its owner is nudged when it is due
    task_due: NormSpan = Span.calendar(weeks=6)
    task_due_reminder: Duration = timedelta(0)
    #: N10: a last-chance trajectory is evaluated this often
    trajectory_evaluation: NormSpan = Span.calendar(months=3)
    trajectory_evaluation_reminder: Duration = timedelta(days=14)
    #: N10: a last-chance trajectory lasts at least this long
    trajectory_minimum: NormSpan = Span.calendar(years=2)
    trajectory_minimum_reminder: NormSpan = Span.calendar(months=1)
    #: N12: partners evaluate their cooperation this often
    yearly_evaluation: NormSpan = Span.calendar(years=1)
    yearly_evaluation_reminder: NormSpan = Span.calendar(weeks=4)
    #: an invitation code is valid this long
    invitation_validity: Duration = timedelta(hours=72)
    #: a message sent more than this after its moment says that it is late
    late_after: Duration = timedelta(minutes=2)

    @field_validator("invitation_validity")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("signal_follow_up", "complaint_information", "complaint_start",
                     "four_week_check", "six_week_check", "resolution", "complainant_contact",
                     "task_due", "trajectory_evaluation", "trajectory_minimum",
                     "yearly_evaluation")
    @classmethod
    def _nonzero(cls, value: Span) -> Span:
        if str(value) in ("0s", "0w", "0wd"):
            raise ValueError("must be longer than zero")
        return value


class ComplaintSettings(BaseModel):
    """The complaint procedure (``bot/services/complaints.py``)."""

    #: a new, similar (same kind) and justified complaint within this time of an earlier
    #: justified one proposes action 3, the warning letter (KORTELIJN_COMPLAINTS__LADDER_PERIOD)
    ladder_period: Duration = timedelta(days=183)
    #: longest description, handling or note of the procedure
    text_limit: int = Field(default=2000, ge=100, le=10000)


class PatternSettings(BaseModel):
    #: signals of at least ``kinds`` different kinds within ``period`` make a household
    #: pattern: the team lead is asked to consider a case meeting
    period: Duration = timedelta(weeks=4)
    kinds: int = Field(default=3, ge=2)


class PrivacySettings(BaseModel):
    """Tighten who sees what (never loosen): classes per role to hide or to redact.
    Classes: facts, free_text, care, finance, police, complaint, complainant,
    tenant_report, tenant_identity."""

    hide: dict[str, list[str]] = Field(default_factory=dict)
    redact: dict[str, list[str]] = Field(default_factory=dict)


class DigestSettings(BaseModel):
    #: the care team's daily digest, at this local time unless a person sets their own
    daily_at: ClockTime = time(8, 0)
    #: the partners' weekly digest (landlord, police, municipality): day (1 = Monday) and time
    weekly_day: int = Field(default=1, ge=1, le=7)
    weekly_at: ClockTime = time(9, 0)


class CalendarSettings(BaseModel):
    #: working-day clocks skip weekends, Dutch public holidays and these local dates
    closed_days: list[date] = Field(default_factory=list)
    #: a working-day clock started outside a working day starts at this local time
    opens_at: ClockTime = time(9, 0)
    #: count Liberation Day (5 May) as a holiday every year, not only every fifth
    liberation_day_every_year: bool = False
    #: count Good Friday as a holiday
    good_friday_closed: bool = False


class ChainStepSettings(BaseModel):
    #: relative to the lapse: '-4h' before, '0s' at, '+24h' after
    at: str
    #: who is told: responsible, waiting, team_lead, coordinator
    notify: list[Literal["responsible", "waiting", "team_lead", "coordinator"]]
    #: may be delivered inside the recipient's quiet hours
    urgent: bool = False

    @field_validator("at")
    @classmethod
    def _offset(cls, value: str) -> str:
        parse_offset(value)
        return value


def parse_offset(text: str) -> tuple[int, Span]:
    """'-4h' → (-1, 4h); '+24h' or '24h' → (1, 24h); '0s' → (0, 0s)."""
    stripped = text.strip()
    sign = -1 if stripped.startswith("-") else 1
    span = Span.parse(stripped.lstrip("+-"))
    if span.kind == "working_days" and sign < 0:
        raise ValueError(f"{text!r}: a reminder before the lapse is given in hours or days")
    if str(span) in ("0s", "0w"):
        sign = 0
    return sign, span


class EscalationSettings(BaseModel):
    """After a lapse: tell the team lead after one wait, the coordinator after another.
    A norm may have a chain of its own under ``chains``."""

    team_lead_after: Duration = timedelta(hours=24)
    coordinator_after: Duration = timedelta(hours=72)
    #: norms whose lapse may be delivered inside quiet hours
    urgent_lapses: list[str] = Field(default_factory=lambda: ["N2", "N3"])
    #: a norm's own chain, replacing the default one: {"N3": [{at, notify, urgent}, ...]}
    chains: dict[str, list[ChainStepSettings]] = Field(default_factory=dict)


class QuietHoursSettings(BaseModel):
    #: nudges that fall in these local hours wait until their end; a person may set theirs
    start: ClockTime = time(22, 0)
    end: ClockTime = time(7, 30)


class DeliverySettings(BaseModel):
    #: attempts before a message is given up and reported to the coordinator
    max_attempts: int = Field(default=8, ge=1)
    #: first retry after this long; doubled each attempt up to ``max_backoff``
    first_backoff: Duration = timedelta(seconds=2)
    max_backoff: Duration = timedelta(minutes=10)
    #: messages in flight at once, each to another chat (one at a time per chat, in order)
    concurrency: int = Field(default=8, ge=1, le=256)
    #: several instances: a message one instance has claimed is its own for this long; a
    #: dead instance's claimed messages are sent by another after it (longer than a request)
    lease: Duration = timedelta(seconds=60)


class ConsoleSettings(BaseModel):
    #: run the console transport even when a chat account is configured
    enabled: bool = False
    #: the console's first person, who is the deployment's coordinator
    coordinator: str = "Coordinator"


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    #: the Bot API's base URL; a self-hosted Bot API server (or a test stand-in) otherwise
    base_url: str = "https://api.telegram.org/bot"
    #: ``polling`` (long polling, the default) or ``webhook`` (Telegram posts to us)
    mode: Literal["polling", "webhook"] = "polling"
    #: webhook mode: the public HTTPS URL Telegram posts updates to (its path is served)
    webhook_url: str | None = None
    #: webhook mode: the local address and port the webhook server listens on
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    #: webhook mode: the secret Telegram sends along in a header; random per start if unset
    webhook_secret: SecretStr | None = None
    #: the bot's username for invitation links; asked of Telegram (getMe) when unset
    username: str | None = None
    #: how long to wait for Telegram on an ordinary request
    request_timeout: Duration = timedelta(seconds=10)
    #: how long one long poll may wait for updates
    poll_timeout: Duration = timedelta(seconds=30)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}",
                                                   value.get_secret_value()):
            raise ValueError("1-256 characters: letters, digits, '_' and '-'")
        return value


class MatrixSettings(BaseModel):
    #: the homeserver's client API URL (``https://matrix.example.org``)
    homeserver: str | None = None
    #: the bot's account, ``@kortelijn:example.org``
    user_id: str | None = None
    #: log in with the password once; the device id and access token are then kept (in the
    #: database, encrypted), so every later start is the same device with the same keys
    password: SecretStr | None = None
    #: or an access token of an existing login (its device is asked of the homeserver)
    access_token: SecretStr | None = None
    #: the device to be; with a password, the first login creates it under this id
    device_id: str | None = None
    #: how the device is named in the account's session list
    device_name: str = "KorteLijn"
    #: the end-to-end crypto store (keys and sessions of this device): keep it, back it up
    store_path: Path = Path("var/matrix")
    #: end-to-end encryption: the bot reads and writes encrypted rooms, and opens its own
    #: direct rooms encrypted
    encryption: bool = True
    #: a direct room where nobody has redeemed an invitation code this long after the bot
    #: joined it is left
    unredeemed_room_after: Duration = timedelta(days=7)
    #: how long one sync request may wait for news (long poll)
    sync_timeout: Duration = timedelta(seconds=30)
    #: how long to wait for the homeserver on an ordinary request
    request_timeout: Duration = timedelta(seconds=30)
    #: sync failures back off from ``first_backoff``, doubling, up to ``max_backoff``, each
    #: wait drawn between its half and its whole (jitter)
    first_backoff: Duration = timedelta(seconds=1)
    max_backoff: Duration = timedelta(minutes=2)

    @field_validator("unredeemed_room_after", "sync_timeout", "request_timeout",
                     "first_backoff", "max_backoff")
    @classmethod
    def _positive_span(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value


class SecuritySettings(BaseModel):
    """Encryption at rest of free text and identities (see ``bot/crypto.py``)."""

    #: 32 random bytes in base64 (``kortelijn genkey``); required in production mode
    key: SecretStr | None = None
    #: earlier keys, still read after a rotation; new values are written with ``key``
    old_keys: list[SecretStr] = Field(default_factory=list)
    #: development without ``key``: the key is kept in this file, made on first start
    key_file: Path = Path("var/kortelijn.key")


class RetentionSettings(BaseModel):
    #: a closed case's content is erased this long after closing (its code and dates stay)
    closed_case_after: Duration = timedelta(days=365)
    #: rows of the access log are kept this long
    access_log_after: Duration = timedelta(days=5 * 365)
    #: messages that belong to no case (answers to strangers, previews, digests, errors) are
    #: deleted this long after they were written, once delivered or given up
    caseless_messages_after: Duration = timedelta(days=30)
    #: the daily purge runs at this local time
    run_at: ClockTime = time(3, 30)
    #: the record that an incoming update was handled is kept this long (Telegram keeps an
    #: update it could not deliver for 24 hours, so at least a day)
    processed_updates_after: Duration = timedelta(days=7)

    @field_validator("processed_updates_after")
    @classmethod
    def _a_day_at_least(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError("at least '1d': Telegram may deliver an update again for 24 hours")
        return value


def parse_address(value: Any) -> str:
    """'127.0.0.1:9464', '[::1]:9464', 'host:port'; '' for none."""
    text = str(value).strip()
    if text and split_address(text) is None:
        raise ValueError(f"not an address: {value!r}; write host:port, e.g. '127.0.0.1:9464'")
    return text


def split_address(text: str) -> tuple[str, int] | None:
    """``host:port`` as its parts; ``None`` when it is not one."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\s\[\]]+):(\d{1,5})", text)
    if match is None:
        return None
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    return (host, port) if port <= 65535 else None


def parse_size(value: Any) -> int:
    """A number of bytes: 20000000, '20MB', '500kB', '2MiB'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.fullmatch(r"\s*(\d{1,12})\s*([kKmMgG]i?[bB]|[bB])?\s*", str(value))
    if match is None:
        raise ValueError(f"not a size: {value!r}; write e.g. '20MB', '500kB', 2000000")
    unit = (match.group(2) or "b").lower()
    factor = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024,
              "mib": 1024**2, "gib": 1024**3}[unit]
    return int(match.group(1)) * factor


class DossierSettings(BaseModel):
    """The nuisance file: attachments and exports (``bot/services/dossier.py``)."""

    #: the largest attachment accepted (env ``KORTELIJN_DOSSIER__ATTACHMENT_LIMIT``); 20 MB
    #: is also the most a Telegram bot may download
    attachment_limit: Annotated[int, BeforeValidator(parse_size), Field(ge=1)] = 20_000_000
    #: where the console writes an exported file (a document sent to a console person)
    console_dir: Path = Path("var/exports")


class MetricsSettings(BaseModel):
    #: where /healthz, /readyz and /metrics are served (``host:port``); '' serves nothing
    address: Annotated[str, BeforeValidator(parse_address)] = "127.0.0.1:9464"


class ReportSettings(BaseModel):
    """The evaluation report of the cooperation (N12; bot/services/evaluation_report.py)."""

    #: the report's PDF and CSV are sent to the coordinators as documents; when this is
    #: set, a copy of both is also written into this directory ('' or unset: no copy)
    directory: Path | None = None
    #: the daily check for the yearly reminder runs at this local time
    yearly_check_at: ClockTime = time(8, 0)

    @field_validator("directory", mode="before")
    @classmethod
    def _no_copy(cls, value: object) -> object:
        return None if value == "" else value


class ClusterSettings(BaseModel):
    """Several instances on one PostgreSQL database (docs/OPERATIONS.md); SQLite: one."""

    #: when the leader (the timed work) or the instance receiving a chat account's updates
    #: dies or loses its database connection, another instance takes over within this long
    takeover: Duration = timedelta(seconds=15)
    #: this instance's name in the database (its claimed messages); '' is host name and
    #: process id. A stable name (one per instance) lets a restarted instance resend what
    #: it had in flight at once instead of after the lease
    instance: str = Field(default="", max_length=64)

    @field_validator("takeover")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("takeover must be longer than 0s; write e.g. '15s'")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KORTELIJN_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    bot: BotSettings = Field(default_factory=BotSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    norms: NormSettings = Field(default_factory=NormSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    quiet_hours: QuietHoursSettings = Field(default_factory=QuietHoursSettings)
    patterns: PatternSettings = Field(default_factory=PatternSettings)
    complaints: ComplaintSettings = Field(default_factory=ComplaintSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    digests: DigestSettings = Field(default_factory=DigestSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    dossier: DossierSettings = Field(default_factory=DossierSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _CONFIG_FILE.get("path")
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def chat_accounts(self) -> list[str]:
        """The chat networks this deployment has an account for."""
        accounts = []
        if self.telegram.token is not None:
            accounts.append("telegram")
        if self.matrix.homeserver and self.matrix.user_id:
            accounts.append("matrix")
        return accounts


_CONFIG_FILE: dict[str, Path | None] = {"path": None}


class ConfigError(Exception):
    """The configuration cannot be used; the message says why, without secrets."""


def config_path(config_file: str | Path | None = None) -> Path | None:
    """The configuration file named, or ``$KORTELIJN_CONFIG``, if either."""
    path = config_file or os.environ.get("KORTELIJN_CONFIG") or None
    return Path(path) if path else None


def unknown_options(data: dict[str, Any]) -> list[str]:
    """The options in a configuration file's ``data`` (or sections) that no setting has, as
    ``[section] key``: a section's unknown keys would otherwise go unnoticed."""
    found = []
    for section, values in data.items():
        field = Settings.model_fields.get(section)
        if field is None:
            found.append(f"[{section}]")
            continue
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(values, dict):
            found.extend(f"[{section}] {key}" for key in values if key not in model.model_fields)
    return found


def unknown_environment() -> list[str]:
    """The ``KORTELIJN_<SECTION>__<KEY>`` variables that name no setting."""
    found = []
    for name in sorted(os.environ):
        if name.startswith("KORTELIJN_") and "__" in name:
            section, _, key = name[len("KORTELIJN_"):].lower().partition("__")
            if unknown_options({section: {key.split("__", 1)[0]: None}}):
                found.append(name)
    return found


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from ``config_file`` (or ``$KORTELIJN_CONFIG``) and the environment."""
    resolved = config_path(config_file)
    if resolved is not None and not resolved.is_file():
        raise ConfigError(f"configuration file not found: {resolved}")
    _CONFIG_FILE["path"] = resolved
    try:
        return Settings(**overrides)
    finally:
        _CONFIG_FILE["path"] = None
