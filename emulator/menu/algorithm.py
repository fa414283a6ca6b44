"""The global-trigger menu algorithm: appends ``seeds_raw`` (bool, N × seeds)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from emulator.algorithm import BuildContext
from emulator.errors import MenuError
from emulator.menu.hardware import pipeline_depth
from emulator.menu.menu import Menu, load_menu
from emulator.params import from_mapping
from streams.event import EventBatch

__all__ = ["MenuAlgorithm", "MenuParams"]


@dataclass(frozen=True, slots=True)
class MenuParams:
    menu: str = ""  # overrides the chain's menu; relative to the chain file


class MenuAlgorithm:
    """Evaluates every seed of a menu; seed order in ``seeds_raw`` is menu order.

    >>> from pathlib import Path
    >>> ctx = BuildContext(config_dir=Path("configs"), menu_path=Path("configs/menus/cms2024.yaml"))
    >>> algo = MenuAlgorithm.build("menu", {}, ctx)
    >>> import numpy as np
    >>> scores = {"score_axol1tl": np.zeros(2, np.float32), "score_cicada": np.zeros(2, np.float32)}
    >>> batch = EventBatch.empty(2).with_columns(**scores)  # the anomaly seeds read these
    >>> algo.process(batch)["seeds_raw"].shape == (2, len(algo.menu.seed_names))
    True
    """

    outputs: tuple[str, ...] = ("seeds_raw",)

    def __init__(self, name: str, menu: Menu) -> None:
        self.name = name
        self.menu = menu

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> MenuAlgorithm:
        cfg = from_mapping(MenuParams, params, where="params")
        if cfg.menu:
            path = ctx.resolve(cfg.menu)
        elif ctx.menu_path is not None:
            path = ctx.menu_path
        else:
            msg = "no menu: set the chain's 'menu' field or this algorithm's params.menu"
            raise MenuError(msg)
        return cls(name, load_menu(path))

    def latency_cycles(self, clock_mhz: float) -> int:
        """Object compares (1), the deepest seed's pair logic, AND of conditions (1), final-OR tree.

        Each step is one LUT/DSP level, so the count holds at any clock up to ~480 MHz.
        """
        pairs = max((pipeline_depth(s) for s in self.menu.hw_seeds), default=0)
        or_tree = max(1, math.ceil(math.log(max(2, len(self.menu.seed_names)), 6)))  # 6-input LUTs
        return 1 + pairs + 1 + or_tree

    def process(self, batch: EventBatch) -> EventBatch:
        return batch.with_columns(seeds_raw=self.menu.evaluate(batch))
