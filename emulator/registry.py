"""The algorithm registry: explicit registration, case-insensitive, no scanning.

Built-ins are registered by :func:`register_builtins`; third-party packages add
theirs through the ``l1emu.algorithms`` entry-point group (each entry point is a
callable taking no argument that calls :func:`register_algorithm`).

>>> from emulator.registry import get_algorithm, register_builtins
>>> register_builtins()
>>> callable(get_algorithm("MENU"))
True
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from emulator.algorithm import AlgorithmFactory
from streams.errors import ConfigError

__all__ = [
    "available_algorithms",
    "get_algorithm",
    "register_algorithm",
    "register_builtins",
]

log = logging.getLogger(__name__)
_REGISTRY: dict[str, AlgorithmFactory] = {}
_BUILTINS_DONE = False


def register_algorithm(name: str, factory: AlgorithmFactory, *, replace: bool = False) -> None:
    """Register ``factory`` under ``name``; a duplicate raises unless ``replace``."""
    key = name.lower()
    if key in _REGISTRY and not replace:
        msg = f"algorithm type {name!r} is already registered"
        raise ConfigError(msg)
    _REGISTRY[key] = factory


def get_algorithm(name: str) -> AlgorithmFactory:
    """The factory registered under ``name`` (case-insensitive)."""
    register_builtins()
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        msg = f"unknown algorithm type {name!r}; known: {available_algorithms()}"
        raise ConfigError(msg) from None


def available_algorithms() -> list[str]:
    return sorted(_REGISTRY)


def register_builtins() -> None:
    """Register the built-in algorithms and entry-point plugins (once)."""
    global _BUILTINS_DONE
    if _BUILTINS_DONE:
        return
    _BUILTINS_DONE = True
    from emulator import builtins

    builtins.register(register_algorithm)
    for ep in entry_points(group="l1emu.algorithms"):
        log.info("loading algorithm plugin %s", ep.name)
        ep.load()()
