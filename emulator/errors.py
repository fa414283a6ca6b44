"""Errors raised by trigger logic: a re-export of part of :mod:`streams.errors` (the one tree)."""

from __future__ import annotations

from streams.errors import BudgetError as BudgetError
from streams.errors import ConfigError as ConfigError
from streams.errors import L1EmuError as L1EmuError
from streams.errors import MenuError as MenuError
from streams.errors import StageError as StageError

__all__ = ["BudgetError", "ConfigError", "L1EmuError", "MenuError", "StageError"]
