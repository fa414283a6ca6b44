"""The trigger menu: seeds in l1emu YAML or uGT XML, evaluated in hardware units with integer arithmetic.

>>> from emulator.menu import load_menu
>>> menu = load_menu("configs/menus/cms2024.yaml")
>>> "L1_ZeroBias" in menu.seed_names
True
"""

from __future__ import annotations

from emulator.menu._config import (
    AlwaysCondition,
    Condition,
    CorrelationConfig,
    ExternalCondition,
    LegConfig,
    MenuConfig,
    ObjectCondition,
    ScoreCondition,
    SeedConfig,
    SignalCondition,
    SumCondition,
)
from emulator.menu._evaluate import BatchEvaluator
from emulator.menu.menu import Menu, load_menu

__all__ = [
    "AlwaysCondition",
    "BatchEvaluator",
    "Condition",
    "CorrelationConfig",
    "ExternalCondition",
    "LegConfig",
    "Menu",
    "MenuConfig",
    "ObjectCondition",
    "ScoreCondition",
    "SeedConfig",
    "SignalCondition",
    "SumCondition",
    "load_menu",
]
