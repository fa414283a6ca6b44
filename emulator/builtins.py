"""The one place built-in algorithm types are registered."""

from __future__ import annotations

from collections.abc import Callable

from emulator.algorithm import AlgorithmFactory

__all__ = ["register"]


def register(reg: Callable[[str, AlgorithmFactory], None]) -> None:
    """Register every built-in algorithm type with ``reg``."""
    from emulator.algorithms.anomaly import Axol1tl, Cicada
    from emulator.algorithms.delay import Delay
    from emulator.algorithms.jet_calibration import JetCalibration
    from emulator.algorithms.jet_sums import JetSums
    from emulator.algorithms.region_calibration import RegionCalibration
    from emulator.algorithms.region_sums import RegionSums
    from emulator.algorithms.tagger import TauTagger
    from emulator.menu.algorithm import MenuAlgorithm

    reg("region_calibration", RegionCalibration.build)
    reg("region_sums", RegionSums.build)
    reg("jet_calibration", JetCalibration.build)
    reg("jet_sums", JetSums.build)
    reg("menu", MenuAlgorithm.build)
    reg("delay", Delay.build)
    reg("axol1tl", Axol1tl.build)
    reg("cicada", Cicada.build)
    reg("tagger", TauTagger.build)
