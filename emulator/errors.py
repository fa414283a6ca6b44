"""Errors raised by trigger logic (all derive from :class:`streams.errors.L1EmuError`)."""

from __future__ import annotations

from streams.errors import ConfigError, L1EmuError

__all__ = ["BudgetError", "ConfigError", "L1EmuError", "MenuError", "StageError"]


class StageError(L1EmuError):
    """An algorithm could not process a batch (bad content, e.g. NaN inputs)."""


class MenuError(ConfigError):
    """A trigger menu is invalid (names file, seed and field)."""


class BudgetError(ConfigError):
    """An algorithm's latency estimate exceeds its stage's budget."""
