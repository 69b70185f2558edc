"""The norms as deadlines. Their shape and configured form live in the domain
(:mod:`bot.domain.norms`: ``NormPolicy``, ``Policies``, ``ChainStep``) and are built from the
configuration in :mod:`bot.services.policies`; this name stays for code written against the
old place."""

from bot.domain.norms import ChainStep, NormPolicy, Policies
from bot.services.policies import build_policies

__all__ = ["ChainStep", "NormPolicy", "Policies", "build_policies"]
