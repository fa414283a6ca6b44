"""l1emu: a streaming Level-1 trigger emulator. The CLI lives in :mod:`l1emu.cli`."""

__version__ = "0.1.0"
