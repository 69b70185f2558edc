"""How many examples the property tests run: a few minutes for the whole suite by default;
``HYPOTHESIS_PROFILE=thorough`` runs ten times as many, ``quick`` a fifth (a smoke run)."""

from __future__ import annotations

import os

from hypothesis import Phase

FACTORS = {"default": 1.0, "ci": 1.0, "quick": 0.2, "thorough": 10.0}


def examples(n: int) -> int:
    """``n`` examples, scaled by the profile named in ``HYPOTHESIS_PROFILE``."""
    factor = FACTORS.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), 1.0)
    return max(1, round(n * factor))


def phases() -> tuple[Phase, ...]:
    """Hypothesis's phases; ``HYPOTHESIS_NO_SHRINK=1`` reports the first failing example as
    found (a hunt for a known bug need not wait for the smallest one)."""
    if os.environ.get("HYPOTHESIS_NO_SHRINK"):
        return (Phase.explicit, Phase.reuse, Phase.generate)
    return tuple(Phase)
