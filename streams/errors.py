"""The l1emu exception tree.

Every error l1emu raises on purpose derives from :class:`L1EmuError`, so callers can
catch the whole family; the subclasses say which part of the system was unhappy.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "L1EmuError",
    "SourceError",
    "TransportError",
    "WireFormatError",
]


class L1EmuError(Exception):
    """Base class of every error l1emu raises on purpose."""


class ConfigError(L1EmuError):
    """A configuration file or value is invalid (names the file and field)."""


class WireFormatError(L1EmuError):
    """A message on the wire is malformed.

    ``kind`` is a short machine-readable category (``truncated``, ``version``,
    ``dtype`` …) used to count bad messages by kind.
    """

    def __init__(self, message: str, *, kind: str = "malformed") -> None:
        super().__init__(message)
        self.kind = kind


class SourceError(L1EmuError):
    """An event source (file, generator) cannot deliver events."""


class TransportError(L1EmuError):
    """A socket or node failed in a way that is not one bad message."""
