"""The trigger menu: validated seeds, prescale columns, masks, batch evaluation.

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

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from emulator.errors import MenuError, StageError
from emulator.menu._config import MenuConfig, parse_menu
from emulator.menu._evaluate import BatchEvaluator, condition_label, missing_inputs
from emulator.menu._program import MenuProgram
from emulator.menu._xml import read_tmxsd
from emulator.menu.hardware import HwSeed, compile_seed
from emulator.menu.prescales import PrescaleTable, RunSettings, SeedMask, load_run_settings
from emulator.params import load_yaml
from streams.errors import ConfigError
from streams.event import EventBatch

__all__ = ["Menu", "load_menu"]

log = logging.getLogger(__name__)
_warned: set[str] = set()  # menus whose unsupported seeds were logged (the chain loads a menu more than once)


@dataclass(frozen=True, eq=False)
class Menu:
    """A validated menu; ``hw_seeds`` holds every cut in hardware units.

    ``finor_mask`` (bool per seed, True = enters the final OR) and ``veto_mask`` (True =
    the seed vetoes the event) come from run settings; by default every seed is in the
    final OR and none vetoes.
    """

    config: MenuConfig
    finor_mask: np.ndarray | None = None
    veto_mask: np.ndarray | None = None
    hw_seeds: tuple[HwSeed, ...] = field(init=False)
    _prescales: np.ndarray = field(init=False, repr=False)
    _program: MenuProgram = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hw_seeds", tuple(compile_seed(s) for s in self.config.seeds))
        seeds = self.config.seeds
        table = np.array([s.prescales for s in seeds], np.float64).reshape(len(seeds), -1)
        table.flags.writeable = False
        object.__setattr__(self, "_prescales", table)
        object.__setattr__(self, "_program", MenuProgram(self.hw_seeds))
        for name, default in (("finor_mask", True), ("veto_mask", False)):
            mask = getattr(self, name)
            mask = np.full(len(seeds), default) if mask is None else np.array(mask, bool)
            if mask.shape != (len(seeds),):
                msg = f"{self.config.path}: {name} has {mask.shape} entries for {len(seeds)} seeds"
                raise MenuError(msg)
            mask.flags.writeable = False
            object.__setattr__(self, name, mask)

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

    @property
    def unsupported(self) -> dict[str, str]:
        """Seed name -> why the event model cannot evaluate it (those seeds never fire)."""
        return {s.name: s.unsupported for s in self.config.seeds if s.unsupported}

    def prescale_values(self, column: str | None = None) -> np.ndarray:
        """Prescales (float64, one per seed, menu order) of a column, fractions included; 0 = disabled."""
        col = self.default_column if column is None else column
        if col not in self.columns:
            msg = f"{self.config.path}: no prescale column {col!r}; columns: {list(self.columns)}"
            raise MenuError(msg)
        return self._prescales[:, self.columns.index(col)].copy()

    def prescales(self, column: str | None = None) -> np.ndarray:
        """Prescales (int64, one per seed, menu order) of a column; 0 = disabled.

        Fractional prescales raise :class:`MenuError` (use :meth:`prescale_values` and
        :func:`emulator.menu.prescales.ugt_prescale`, which counts them as the uGT does).
        """
        values = self.prescale_values(column)
        frac = np.flatnonzero(values != np.round(values))
        if frac.size:
            names = [f"{self.seed_names[i]}: {values[i]:g}" for i in frac[:5]]
            msg = f"{self.config.path}: column {column or self.default_column!r} has fractional prescales ({names})"
            raise MenuError(msg)
        return values.astype(np.int64)

    def enabled(self, column: str | None = None) -> tuple[str, ...]:
        """Names of the seeds with a non-zero prescale in ``column``."""
        values = self.prescale_values(column)
        return tuple(n for n, p in zip(self.seed_names, values, strict=True) if p != 0)

    def evaluate(self, batch: EventBatch) -> np.ndarray:
        """Pre-prescale decisions, bool (N, S) in menu order (unsupported seeds: False)."""
        return self._program.evaluate(batch, self.name)

    def evaluate_reference(self, batch: EventBatch) -> np.ndarray:
        """:meth:`evaluate` condition by condition with :class:`BatchEvaluator` (numpy, no kernel
        call per event): the cross-check of the compiled program, same decisions and errors."""
        ev = BatchEvaluator(batch)
        out = np.zeros((len(batch), len(self.hw_seeds)), bool)
        for s, seed in enumerate(self.hw_seeds):
            if seed.unsupported:
                continue
            values = []
            for j, cond in enumerate(seed.conditions):
                try:
                    values.append(ev.condition(cond))
                except StageError as exc:
                    msg = f"menu {self.name!r}: {condition_label(self.hw_seeds, s, j)}: {exc}"
                    raise StageError(msg) from exc
            out[:, s] = _run_logic(self.config.seeds[s].program, values)
        for s in missing_inputs(self.hw_seeds, self._program.offset_needs, batch, self.name):
            out[:, s] = False
        return out

    def missing_inputs(self, batch: EventBatch) -> dict[str, str]:
        """Seeds that read columns ``batch`` lacks (another crossing's muons) and so do not fire on it."""
        found = missing_inputs(self.hw_seeds, self._program.offset_needs, batch, self.name)
        return {self.hw_seeds[s].name: why for s, why in found.items()}

    def hardware(self) -> dict[str, Any]:
        """Every seed's integer cuts and the prescale table as plain Python data."""
        return {
            "name": self.name,
            "columns": list(self.columns),
            "default_column": self.default_column,
            "seeds": [s.as_dict() for s in self.hw_seeds],
            "prescales": {c: [_plain(p) for p in self.prescale_values(c)] for c in self.columns},
        }

    def with_run_settings(self, settings: RunSettings, *, column: str | None = None) -> Menu:
        """This menu with the prescales (all columns of the table) and masks of ``settings``."""
        config = self.config
        if settings.prescales is not None:
            config = _with_prescales(config, settings.prescales, column)
        elif column is not None:
            if column not in config.columns:
                msg = f"{config.path}: no prescale column {column!r}; columns: {list(config.columns)}"
                raise MenuError(msg)
            config = replace(config, default_column=column)
        finor = self.finor_mask if settings.finor is None else _by_seed(config, settings.finor, True)
        veto = self.veto_mask if settings.veto is None else _by_seed(config, settings.veto, False)
        return Menu(config, finor, veto)


def _plain(p: float) -> float | int:
    return int(p) if p == int(p) else float(p)


def _run_logic(code: tuple[int, ...], values: list[np.ndarray]) -> np.ndarray:
    stack: list[np.ndarray] = []
    for op in code:
        if op >= 0:
            stack.append(values[op])
        elif op == -3:
            stack.append(~stack.pop())
        else:
            b, a = stack.pop(), stack.pop()
            stack.append(a & b if op == -1 else a | b)
    return stack[0]


def _rows(config: MenuConfig, keys: tuple[Any, ...], by_name: bool, source: str) -> list[int]:
    """Table row of each seed (by name, or by algorithm index); anything unmatched is an error."""
    row = {k: i for i, k in enumerate(keys)}
    if by_name:
        seed_keys: list[Any] = [s.name for s in config.seeds]
    else:
        lacking = [s.name for s in config.seeds if s.utm is None or s.utm.index is None]
        if lacking:
            msg = f"{source}: rows are keyed by algorithm index, but seeds {lacking[:5]} have none"
            raise MenuError(msg)
        seed_keys = [s.utm.index for s in config.seeds if s.utm is not None]
    missing = [k for k in seed_keys if k not in row]
    extra = sorted(set(row) - set(seed_keys), key=str)
    if missing or extra:
        what = "seeds" if by_name else "algorithm indices"
        msg = f"{source}: no row for menu {what} {missing[:10]}; rows for {what} not in the menu: {extra[:10]}"
        raise MenuError(msg)
    return [row[k] for k in seed_keys]


def _with_prescales(config: MenuConfig, table: PrescaleTable, column: str | None) -> MenuConfig:
    by_name = table.names is not None
    rows = _rows(config, table.names if table.names is not None else table.index, by_name, table.source)
    default = column or table.default_column or ("2p0E34" if "2p0E34" in table.columns else table.columns[0])
    if default not in table.columns:
        msg = f"{table.source}: no prescale column {default!r}; columns: {list(table.columns)}"
        raise MenuError(msg)
    if by_name and table.names is not None:
        for seed, r in zip(config.seeds, rows, strict=True):
            if seed.utm is not None and seed.utm.index is not None and seed.utm.index != table.index[r]:
                log.warning("%s: %s has index %d in the table, %d in the menu", table.source, seed.name,
                            table.index[r], seed.utm.index)  # fmt: skip
    seeds = tuple(replace(s, prescales=tuple(float(v) for v in table.values[r]))
                  for s, r in zip(config.seeds, rows, strict=True))  # fmt: skip
    return replace(config, columns=table.columns, default_column=default, seeds=seeds)


def _by_seed(config: MenuConfig, mask: SeedMask, default: bool) -> np.ndarray:
    rows = {k: i for i, k in enumerate(mask.index)}
    out = np.full(len(config.seeds), default)
    for i, s in enumerate(config.seeds):
        if s.utm is None or s.utm.index is None:
            msg = f"{mask.source}: the {mask.kind} mask is keyed by algorithm index; seed {s.name} has none"
            raise MenuError(msg)
        if s.utm.index in rows:
            out[i] = mask.values[rows[s.utm.index]]
    return out


def _read_xml(path: Path) -> MenuConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read menu ({exc.strerror or exc})"
        raise MenuError(msg) from exc
    return parse_menu(read_tmxsd(text, source=str(path)), where=str(path))


def _reference(path: Path, raw: dict[str, Any]) -> Menu:
    """A YAML file naming a menu and its run settings: ``{menu: F.xml, prescales: F.csv, column: C}``."""
    unknown = sorted(set(raw) - {"menu", "prescales", "masks", "column", "description"})
    if unknown:
        msg = f"{path}: a menu reference takes menu, prescales, masks, column; unknown: {unknown}"
        raise MenuError(msg)
    files = [raw.get(k) for k in ("prescales", "masks")]
    return load_menu(path.parent / str(raw["menu"]),
                     prescales=[path.parent / str(f) for f in files if f], column=raw.get("column"))  # fmt: skip


def load_menu(path: str | Path, *, prescales: str | Path | list[Path] | None = None, column: str | None = None) -> Menu:
    """Load and validate a menu: l1emu YAML, uGT XML (``.xml``), or a YAML menu reference.

    ``prescales``: a prescale CSV or run-settings XML (or several: prescales, masks) whose
    columns replace the menu's; ``column`` the default column. Any problem raises
    :class:`MenuError`; seeds the event model cannot evaluate are listed in
    :attr:`Menu.unsupported` (and logged) and never fire.
    """
    p = Path(path)
    if p.suffix.lower() == ".xml":
        config = _read_xml(p)
    else:
        try:
            raw = load_yaml(p)
        except ConfigError as exc:
            raise MenuError(str(exc)) from exc
        if isinstance(raw, dict) and isinstance(raw.get("menu"), str):
            return _apply(_reference(p, raw), prescales, column)
        config = parse_menu(raw, where=str(p))
    menu = Menu(config)
    if menu.unsupported and str(p) not in _warned:
        _warned.add(str(p))
        log.warning("%s: %d of %d seeds need event columns the event model lacks and never fire "
                    "(l1emu menu inspect lists why)", p, len(menu.unsupported), len(menu.seed_names))  # fmt: skip
    return _apply(menu, prescales, column)


def _apply(menu: Menu, prescales: str | Path | list[Path] | None, column: str | None) -> Menu:
    files = [] if prescales is None else [Path(prescales)] if isinstance(prescales, str | Path) else prescales
    for f in files:
        menu = menu.with_run_settings(load_run_settings(f), column=column)
    if column is not None and not files:
        menu = menu.with_run_settings(RunSettings(), column=column)
    return menu
