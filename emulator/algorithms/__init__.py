"""Built-in algorithm types (one per module), registered beside the registry, not inside it.

:func:`load_algorithms` registers the built-ins (:func:`_register_builtin_algorithms`), then
the plugins of the ``l1emu.algorithms`` entry-point group (:func:`load_algorithm_plugins`),
once. Chain building looks types up through :func:`get_algorithm`, which loads them first.

A plugin package declares a callable taking no argument that registers its types::

    # pyproject.toml of the plugin
    [project.entry-points."l1emu.algorithms"]
    my_trigger = "my_trigger.l1emu:register"

    # my_trigger/l1emu.py
    from emulator.registry import register_algorithm

    def register() -> None:
        register_algorithm("my_score", MyScore.build)

>>> from emulator.algorithms import available_algorithms
>>> {"menu", "axol1tl", "tagger"} <= set(available_algorithms())
True
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from emulator import registry
from emulator.algorithm import AlgorithmFactory
from emulator.registry import register_algorithm

__all__ = [
    "available_algorithms",
    "get_algorithm",
    "load_algorithm_plugins",
    "load_algorithms",
    "register_algorithm",
]

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "l1emu.algorithms"
_LOADED = False


def _register_builtin_algorithms() -> None:
    """Register every built-in algorithm type (the one place they are named)."""
    from emulator.algorithms.anomaly import Axol1tl, Cicada
    from emulator.algorithms.delay import Delay
    from emulator.algorithms.imported import ImportedModel
    from emulator.algorithms.jet_calibration import JetCalibration
    from emulator.algorithms.jet_sums import JetSums
    from emulator.algorithms.region_calibration import RegionCalibration
    from emulator.algorithms.region_sums import RegionSums
    from emulator.algorithms.tagger import TauTagger
    from emulator.menu.algorithm import MenuAlgorithm

    registry.register_algorithm("region_calibration", RegionCalibration.build)
    registry.register_algorithm("region_sums", RegionSums.build)
    registry.register_algorithm("jet_calibration", JetCalibration.build)
    registry.register_algorithm("jet_sums", JetSums.build)
    registry.register_algorithm("menu", MenuAlgorithm.build)
    registry.register_algorithm("delay", Delay.build)
    registry.register_algorithm("axol1tl", Axol1tl.build)
    registry.register_algorithm("cicada", Cicada.build)
    registry.register_algorithm("tagger", TauTagger.build)
    registry.register_algorithm("model", ImportedModel.build)


def load_algorithm_plugins() -> None:
    """Call every ``l1emu.algorithms`` entry point (each registers its types)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        log.info("loading algorithm plugin %s (%s)", ep.name, ep.value)
        ep.load()()


def load_algorithms() -> None:
    """Register the built-ins, then the plugins (once)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    _register_builtin_algorithms()
    load_algorithm_plugins()


def get_algorithm(name: str) -> AlgorithmFactory:
    """The factory of algorithm type ``name`` (case-insensitive), built-ins and plugins loaded."""
    load_algorithms()
    return registry.get_algorithm(name)


def available_algorithms() -> list[str]:
    """Every registered algorithm type, built-ins and plugins loaded."""
    load_algorithms()
    return registry.available_algorithms()
