"""Settings: one object, built at start-up from a TOML file and ``KORTELIJN_<SECTION>__<KEY>``
environment variables (the environment wins). No other module reads ``os.environ``.

Every option is explained in ``deploy/kortelijn.example.toml``.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")


def parse_duration(value: Any) -> timedelta:
    """'48h', '4h', '90m', '1h30m', '10s', '3d', '2w', a number of seconds, or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip().lower().replace(" ", "")
    if not text or _PART.sub("", text):
        raise ValueError(
            f"not a duration: {value!r}; write e.g. '48h', '4h', '90m', '1h30m', '10s', '3d', '2w'"
        )
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _PART.findall(text)))


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class BotSettings(BaseModel):
    #: ``production`` refuses unsafe settings at start-up
    mode: Literal["development", "production"] = "development"
    default_language: Literal["nl", "en"] = "nl"
    timezone: str = "Europe/Amsterdam"
    #: chat identities with the coordinator's rights, as ``transport:id``
    #: (``telegram:123456``, ``matrix:@coco:example.org``, ``console:Coordinator``)
    coordinators: list[str] = Field(default_factory=list)


class DatabaseSettings(BaseModel):
    #: an SQLAlchemy URL; SQLite (embedded, the default) or PostgreSQL
    url: str = "sqlite+aiosqlite:///var/kortelijn.db"


class NormSettings(BaseModel):
    #: N1: the addressee acknowledges a signal within this time of its posting
    signal_follow_up: Duration = timedelta(hours=48)
    #: N1: remind the addressee this long before the window lapses
    signal_follow_up_reminder: Duration = timedelta(hours=4)
    #: an invitation code is valid this long
    invitation_validity: Duration = timedelta(hours=72)
    #: a message sent more than this after its moment says that it is late
    late_after: Duration = timedelta(minutes=2)

    @field_validator("signal_follow_up", "invitation_validity")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value


class DeliverySettings(BaseModel):
    #: attempts before a message is given up and reported to the coordinator
    max_attempts: int = Field(default=8, ge=1)
    #: first retry after this long; doubled each attempt up to ``max_backoff``
    first_backoff: Duration = timedelta(seconds=2)
    max_backoff: Duration = timedelta(minutes=10)


class ConsoleSettings(BaseModel):
    #: run the console transport even when a chat account is configured
    enabled: bool = False
    #: the console's first person, who is the deployment's coordinator
    coordinator: str = "Coordinator"


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    #: the Bot API's base URL; a self-hosted Bot API server (or a test stand-in) otherwise
    base_url: str = "https://api.telegram.org/bot"


class MatrixSettings(BaseModel):
    homeserver: str | None = None
    user_id: str | None = None
    password: SecretStr | None = None
    access_token: SecretStr | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KORTELIJN_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    bot: BotSettings = Field(default_factory=BotSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    norms: NormSettings = Field(default_factory=NormSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)

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


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from ``config_file`` (or ``$KORTELIJN_CONFIG``) and the environment."""
    path = config_file or os.environ.get("KORTELIJN_CONFIG") or None
    resolved = Path(path) if path else None
    if resolved is not None and not resolved.is_file():
        raise ConfigError(f"configuration file not found: {resolved}")
    _CONFIG_FILE["path"] = resolved
    try:
        return Settings(**overrides)
    finally:
        _CONFIG_FILE["path"] = None
