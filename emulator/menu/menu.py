"""The trigger menu: validated seeds, prescale columns, batch evaluation.

>>> menu = load_menu("configs/menus/cms2024.yaml")
>>> len(menu.seed_names) >= 15, menu.default_column in menu.columns
(True, True)
>>> import numpy as np
>>> from streams.event import EventBatch
>>> zero = np.zeros(3, np.float32)
>>> batch = EventBatch.empty(3).with_columns(score_axol1tl=zero, score_cicada=zero)
>>> menu.evaluate(batch).shape == (3, len(menu.seed_names))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.errors import MenuError, StageError
from emulator.menu._config import MenuConfig, parse_menu
from emulator.menu._evaluate import BatchEvaluator, condition_label
from emulator.menu._program import MenuProgram
from emulator.menu.hardware import HwSeed, compile_seed
from emulator.params import load_yaml
from streams.errors import ConfigError
from streams.event import EventBatch

__all__ = ["Menu", "load_menu"]


@dataclass(frozen=True, eq=False)
class Menu:
    """A validated menu; ``hw_seeds`` holds every cut in hardware units."""

    config: MenuConfig
    hw_seeds: tuple[HwSeed, ...] = field(init=False)
    _prescales: np.ndarray = field(init=False, repr=False)
    _program: MenuProgram = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hw_seeds", tuple(compile_seed(s) for s in self.config.seeds))
        seeds = self.config.seeds
        table = np.array([s.prescales for s in seeds], np.int64).reshape(len(seeds), -1)
        table.flags.writeable = False
        object.__setattr__(self, "_prescales", table)
        object.__setattr__(self, "_program", MenuProgram(self.hw_seeds))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<menu>") -> Menu:
        """Build a menu from an already-loaded mapping (``source`` names it in errors).

        >>> m = Menu.from_dict({"name": "t", "columns": ["a"], "default_column": "a",
        ...     "seeds": [{"name": "ZeroBias", "prescale": 3, "conditions": [{"always": True}]}]})
        >>> m.seed_names, m.prescales().tolist()
        (('ZeroBias',), [3])
        """
        return cls(parse_menu(data, where=source))

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def seed_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.config.seeds)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.config.columns

    @property
    def default_column(self) -> str:
        return self.config.default_column

    def prescales(self, column: str | None = None) -> np.ndarray:
        """Prescales (int64, one per seed, menu order) of a column; 0 = disabled."""
        col = self.default_column if column is None else column
        if col not in self.columns:
            msg = f"{self.config.path}: no prescale column {col!r}; columns: {list(self.columns)}"
            raise MenuError(msg)
        return self._prescales[:, self.columns.index(col)].copy()

    def evaluate(self, batch: EventBatch) -> np.ndarray:
        """Pre-prescale decisions, bool (N, S) in menu order (AND of each seed's conditions)."""
        return self._program.evaluate(batch, self.name)

    def evaluate_reference(self, batch: EventBatch) -> np.ndarray:
        """:meth:`evaluate` condition by condition with :class:`BatchEvaluator` (numpy, no kernel
        call per event): the cross-check of the compiled program, same decisions and errors."""
        ev = BatchEvaluator(batch)
        out = np.empty((len(batch), len(self.hw_seeds)), bool)
        for s, seed in enumerate(self.hw_seeds):
            decision = np.ones(len(batch), bool)
            for j, cond in enumerate(seed.conditions):
                try:
                    decision &= ev.condition(cond)
                except StageError as exc:
                    msg = f"menu {self.name!r}: {condition_label(self.hw_seeds, s, j)}: {exc}"
                    raise StageError(msg) from exc
            out[:, s] = decision
        return out

    def hardware(self) -> dict[str, Any]:
        """Every seed's integer cuts and the prescale table as plain Python data."""
        return {
            "name": self.name,
            "columns": list(self.columns),
            "default_column": self.default_column,
            "seeds": [s.as_dict() for s in self.hw_seeds],
            "prescales": {c: self.prescales(c).tolist() for c in self.columns},
        }


def load_menu(path: str | Path) -> Menu:
    """Load and validate a menu YAML file; any problem raises :class:`MenuError`."""
    try:
        raw = load_yaml(path)
    except ConfigError as exc:
        raise MenuError(str(exc)) from exc
    return Menu.from_dict(raw, source=str(path))
