"""Errors of firmware generation: a re-export of part of :mod:`streams.errors` (the one tree)."""

from __future__ import annotations

from streams.errors import BitExactError as BitExactError
from streams.errors import BudgetError as BudgetError
from streams.errors import FirmwareError as FirmwareError
from streams.errors import UnsupportedError as UnsupportedError

__all__ = ["BitExactError", "BudgetError", "FirmwareError", "UnsupportedError"]
