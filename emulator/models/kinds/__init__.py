"""The built-in model kinds (one module each), registered beside the registry, not inside it.

:func:`load_model_kinds` registers the built-ins (:func:`_register_builtin_model_kinds`), then
the plugins of the ``l1emu.model_kinds`` entry-point group (each a callable taking no argument
that calls :func:`~emulator.models.kind.register_model_kind`), once. The lookups here load first.

>>> from emulator.models.kinds import get_model_kind, model_kinds
>>> model_kinds()
('axol1tl', 'cicada', 'tagger')
>>> get_model_kind("Tagger").needs_signal
True
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from emulator.models import kind as registry
from emulator.models.kind import ModelKind

__all__ = ["get_model_kind", "load_model_kind_plugins", "load_model_kinds", "model_kind_for_algorithm", "model_kinds"]

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "l1emu.model_kinds"
_LOADED = False


def _register_builtin_model_kinds() -> None:
    """Register every built-in model kind (the one place they are named)."""
    from emulator.models.kinds import axol1tl, cicada, tagger

    registry.register_model_kind(axol1tl.KIND)
    registry.register_model_kind(cicada.KIND)
    registry.register_model_kind(tagger.KIND)


def load_model_kind_plugins() -> None:
    """Call every ``l1emu.model_kinds`` entry point (each registers its kinds)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        log.info("loading model-kind plugin %s (%s)", ep.name, ep.value)
        ep.load()()


def load_model_kinds() -> None:
    """Register the built-ins, then the plugins (once)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    _register_builtin_model_kinds()
    load_model_kind_plugins()


def get_model_kind(name: str) -> ModelKind:
    """The kind ``name`` (case-insensitive), built-ins and plugins loaded."""
    load_model_kinds()
    return registry.get_model_kind(name)


def model_kinds() -> tuple[str, ...]:
    """Every registered kind name, built-ins and plugins loaded."""
    load_model_kinds()
    return registry.model_kinds()


def model_kind_for_algorithm(algorithm: str) -> ModelKind | None:
    """The kind run by chain algorithm type ``algorithm``, built-ins and plugins loaded."""
    load_model_kinds()
    return registry.model_kind_for_algorithm(algorithm)
