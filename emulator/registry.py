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

from collections.abc import Iterator
from typing import Generic, TypeVar

from emulator.algorithm import AlgorithmFactory
from streams.errors import ConfigError

__all__ = ["Registry", "available_algorithms", "get_algorithm", "register_algorithm"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries, case-insensitive; a duplicate raises unless replaced on purpose.

    >>> r: Registry[int] = Registry("widget")
    >>> r.register("One", 1)
    >>> r.get("ONE"), r.names()
    (1, ['one'])
    >>> r.get("two")
    Traceback (most recent call last):
    ...
    streams.errors.ConfigError: unknown widget 'two'; known: ['one']
    """

    def __init__(self, what: str, *, unknown: str | None = None) -> None:
        self.what = what
        self.unknown = unknown or what  # how an unknown name is called in the error
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T, *, replace: bool = False) -> None:
        key = name.lower()
        if key in self._items and not replace:
            msg = f"{self.what} {name!r} is already registered"
            raise ConfigError(msg)
        self._items[key] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name.lower()]
        except KeyError:
            msg = f"unknown {self.unknown} {name!r}; known: {self.names()}"
            raise ConfigError(msg) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> Iterator[T]:
        return iter(self._items.values())


_ALGORITHMS: Registry[AlgorithmFactory] = Registry("algorithm type")


def register_algorithm(name: str, factory: AlgorithmFactory, *, replace: bool = False) -> None:
    """Register ``factory`` under ``name``; a duplicate raises unless ``replace``."""
    _ALGORITHMS.register(name, factory, replace=replace)


def get_algorithm(name: str) -> AlgorithmFactory:
    """The factory registered under ``name`` (case-insensitive)."""
    return _ALGORITHMS.get(name)


def available_algorithms() -> list[str]:
    return _ALGORITHMS.names()
