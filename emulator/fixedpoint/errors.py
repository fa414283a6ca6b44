"""Errors of the fixed-point engine: a re-export of part of :mod:`streams.errors` (the one tree)."""

from __future__ import annotations

from streams.errors import FixedPointError as FixedPointError
from streams.errors import UnsupportedLayerError as UnsupportedLayerError

__all__ = ["FixedPointError", "UnsupportedLayerError"]
