"""The example configuration documents every option, and loads as it stands."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

from bot.config import Settings, load_settings

EXAMPLE = Path(__file__).parents[2] / "deploy" / "kortelijn.example.toml"


def test_example_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert str(settings.norms.signal_follow_up) == "48h"
    assert str(settings.norms.complaint_start) == "1wd"


def test_every_option_is_explained() -> None:
    text = EXAMPLE.read_text()
    tomllib.loads(text)
    for section, field in Settings.model_fields.items():
        assert f"[{section}]" in text, section
        model = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        assert isinstance(model, BaseModel)
        for option in type(model).model_fields:
            assert f"{option} =" in text or f"# {option} =" in text, f"{section}.{option}"
