"""The l1emu exception tree, in one module.

Every error l1emu raises on purpose derives from :class:`L1EmuError`, so callers can
catch the whole family; the subclasses say which part of the system was unhappy. The
tree lives here, in the lowest package, so every package may import it; ``emulator.errors``,
``firmware.errors`` and ``emulator.fixedpoint.errors`` re-export their part of it::

    L1EmuError
    ├── ConfigError              a configuration file or value is invalid
    │   ├── MenuError            a trigger menu is invalid
    │   └── BudgetError          a latency estimate exceeds its stage's budget
    ├── WireFormatError          a message on the wire is malformed
    ├── SourceError              an event source cannot deliver events
    ├── TransportError           a socket or node failed
    ├── StageError               an algorithm could not process a batch
    ├── FirmwareError            a firmware project cannot be generated or checked
    │   ├── UnsupportedError     no HLS implementation for a menu condition or model feature
    │   └── BitExactError        the C simulation differs from the emulator
    └── FixedPointError          a fixed-point model or type is invalid
        └── UnsupportedLayerError  an hls4ml layer the engine does not reproduce

>>> issubclass(BudgetError, ConfigError) and issubclass(UnsupportedLayerError, L1EmuError)
True
"""

from __future__ import annotations

__all__ = [
    "BitExactError",
    "BudgetError",
    "ConfigError",
    "FirmwareError",
    "FixedPointError",
    "L1EmuError",
    "MenuError",
    "SourceError",
    "StageError",
    "TransportError",
    "UnsupportedError",
    "UnsupportedLayerError",
    "WireFormatError",
]


class L1EmuError(Exception):
    """Base class of every error l1emu raises on purpose."""


class ConfigError(L1EmuError):
    """A configuration file or value is invalid (names the file and field)."""


class MenuError(ConfigError):
    """A trigger menu is invalid (names file, seed and field)."""


class BudgetError(ConfigError):
    """An algorithm's latency estimate exceeds its stage's budget."""


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


class StageError(L1EmuError):
    """An algorithm could not process a batch (bad content, e.g. NaN inputs)."""


class FirmwareError(L1EmuError):
    """A firmware project cannot be generated, compiled or checked."""


class UnsupportedError(FirmwareError):
    """A menu condition or model feature has no HLS implementation here."""


class BitExactError(FirmwareError):
    """The C simulation differs from the emulator (the message lists the first events)."""


class FixedPointError(L1EmuError):
    """A fixed-point model or type is invalid, too wide for int64, or fed bad input."""


class UnsupportedLayerError(FixedPointError):
    """An hls4ml layer, type or setting the engine does not reproduce (names layer and class)."""
