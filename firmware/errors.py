"""Errors of firmware generation (all derive from :class:`streams.errors.L1EmuError`)."""

from __future__ import annotations

from emulator.errors import BudgetError
from streams.errors import L1EmuError

__all__ = ["BitExactError", "BudgetError", "FirmwareError", "UnsupportedError"]


class FirmwareError(L1EmuError):
    """A firmware project cannot be generated, compiled or checked."""


class UnsupportedError(FirmwareError):
    """A menu condition or model feature has no HLS implementation here."""


class BitExactError(FirmwareError):
    """The C simulation differs from the emulator (the message lists the first events)."""
