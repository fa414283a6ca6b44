"""The algorithm registry: explicit registration, case-insensitive, no scanning.

The registry knows nothing of what registers into it: the built-ins and the
``l1emu.algorithms`` entry-point plugins are registered by :mod:`emulator.algorithms`
(:func:`~emulator.algorithms.load_algorithms`), so no import circle can form.

>>> from emulator.registry import get_algorithm, register_algorithm
>>> register_algorithm("doc_identity", lambda name, params, ctx: None)
>>> callable(get_algorithm("DOC_IDENTITY"))
True
"""

from __future__ import annotations

from emulator.algorithm import AlgorithmFactory
from streams.errors import ConfigError

__all__ = ["available_algorithms", "get_algorithm", "register_algorithm"]

_REGISTRY: dict[str, AlgorithmFactory] = {}


def register_algorithm(name: str, factory: AlgorithmFactory, *, replace: bool = False) -> None:
    """Register ``factory`` under ``name``; a duplicate raises unless ``replace``."""
    key = name.lower()
    if key in _REGISTRY and not replace:
        msg = f"algorithm type {name!r} is already registered"
        raise ConfigError(msg)
    _REGISTRY[key] = factory


def get_algorithm(name: str) -> AlgorithmFactory:
    """The factory registered under ``name`` (case-insensitive)."""
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        msg = f"unknown algorithm type {name!r}; known: {available_algorithms()}"
        raise ConfigError(msg) from None


def available_algorithms() -> list[str]:
    return sorted(_REGISTRY)
