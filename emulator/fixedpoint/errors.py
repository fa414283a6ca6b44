"""Errors of the fixed-point engine (all derive from :class:`streams.errors.L1EmuError`)."""

from __future__ import annotations

from streams.errors import L1EmuError

__all__ = ["FixedPointError", "UnsupportedLayerError"]


class FixedPointError(L1EmuError):
    """A fixed-point model or type is invalid, too wide for int64, or fed bad input."""


class UnsupportedLayerError(FixedPointError):
    """An hls4ml layer, type or setting the engine does not reproduce (names layer and class)."""
